"""The uop table: every uop is defined once, here.

The interpreter, the verifier, the printer/parser, the passes' metadata queries and
the stencil generator all read this table, as CPython generates its interpreter,
tier-2 executor and JIT templates from ``Python/bytecodes.c``.

A uop consumes SSA values (``inputs``), produces at most one (``output``), carries
immediates of fixed kinds (a local's name, a constant, an operator, ...), and a
terminator names its successor blocks.  One ``UopDef`` holds everything about a uop:

* signature and ``flags`` (what passes may do with it);
* its Python semantics: ``impl``/``make_impl`` for uops that compute a value, or
  ``runtime`` for frame and call uops (``_LOAD_GLOBAL``, ``_CALL_METHOD``, ...): the one
  definition that tier 1 (backends/interp) and the runtime helpers compiled code calls
  (backends/native/helpers) both run; control uops (``_JUMP``, ...) are executed by each
  executor itself, keyed on their ``Effect``;
* its typeprop transfer rule: ``result`` (a fixed type) or ``result_rule``;
* its place in a specialization family: a generic uop's ``family`` (which operand
  types the profile keys on), a specialized uop's ``generic`` and ``when`` (for which
  operand types and operators ``specialize`` picks it, and how it guards them);
* ``guard_type`` for a guard;
* its C body (``stencil``; ``stencil_slow`` for a generic uop's C-API slow path) and
  the reference-count effect of that body, which is the same for every uop: inputs are
  borrowed, an object output is a new reference (see backends/copy_and_patch/ownership).

Code names uops through ``U`` (``U._LOAD_FAST == "_LOAD_FAST"``; a name that is not in
the table raises AttributeError), and ``define`` checks each definition against the
rest of the table (``validate``, as CPython's cases generator validates each uop).
"""

from __future__ import annotations

import builtins
import enum
import operator
import re
from dataclasses import dataclass
from typing import Callable

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


def fits_int64(x: int) -> bool:
    return INT64_MIN <= x <= INT64_MAX


class Flag(enum.Flag):
    NONE = 0
    PURE = enum.auto()        # no observable effect: removable when unused
    GUARD = enum.auto()       # checks a fact and leaves through its side exit if false
    DEOPT = enum.auto()       # may leave through a side exit (guards, overflow checks)
    ESCAPES = enum.auto()     # runs arbitrary Python (a runtime helper in compiled code)
    BRANCH = enum.auto()      # conditional control transfer
    TERMINATOR = enum.auto()  # ends a block
    PROFILE = enum.auto()     # tier 1 records the operand types seen at this site
    EXIT_MAY_RAISE = enum.auto()  # its exit may be where tier 1 raises (a zero divisor,
                                  # an index out of range): it is never dead code


class Imm(enum.Enum):
    """Kinds of immediates; each has its own spelling in the text form."""

    LOCAL = "local"      # frame slot name: total, $seq0
    GLOBAL = "global"    # module global name
    CONST = "const"      # Python literal: 3, 2.5, 'x', None, True
    BINOP = "binop"      # + - * / // % ** << >> & | ^ and in-place +=, ...
    CMPOP = "cmpop"      # < <= > >= == != is is_not in not_in
    UNOP = "unop"        # neg pos invert
    FUNC = "func"        # @name of a module function
    NAME = "name"        # builtin or method name
    INT = "int"          # small integer count


class Effect(enum.Enum):
    """What the interpreter must do beyond calling ``impl``."""

    VALUE = "value"              # output = impl(*inputs)
    GUARD = "guard"              # exit unless impl(*inputs)
    CHECKED = "checked"          # output = impl(*inputs), or exit if it returns DEOPT
    LOAD_CONST = "load_const"
    LOAD_FAST = "load_fast"
    LOAD_FAST_CHECK = "load_fast_check"
    STORE_FAST = "store_fast"
    LOAD_GLOBAL = "load_global"
    STORE_GLOBAL = "store_global"
    CALL_FUNCTION = "call_function"
    CALL_BUILTIN = "call_builtin"
    CALL_METHOD = "call_method"
    JUMP = "jump"
    BRANCH = "branch"
    RETURN = "return"
    ENTRY = "entry"              # dispatch to the entry point the runtime asks for
    COPY = "copy"                # output = input (a register move or a reload)
    SPILL = "spill"              # no value semantics: the allocator's bookkeeping
    NOP = "nop"


class Deopt:
    """Returned by a CHECKED uop's ``impl`` when its fast path does not apply."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DEOPT"


DEOPT = Deopt()

VARIADIC = "*"


@dataclass(frozen=True)
class Family:
    """A generic uop that ``specialize`` may replace: the profile keys on the types of
    its first ``arity`` inputs. ``sites(imms, ninputs)``: which sites are candidates at
    all (default: those that some member's ``When`` could match)."""

    arity: int
    sites: Callable[[tuple, int], bool] | None = None


@dataclass(frozen=True)
class When:
    """When ``specialize`` picks a uop for a site of its generic one.

    ``types``: the operand types (profile or static) it applies to, exactly, or a
    predicate of them; ``ops``: the operator immediates (``base_binop`` form) it applies
    to (empty: any). ``guards``: how the operands are made safe first: a position
    ("TOS"/"NOS") per guarded operand, guarded to its type; ``"pair"``: both operands of
    the one type (``_GUARD_BOTH_*``); ``"floats"``: int and float operands guarded and the
    ints converted (``_INT_TO_FLOAT``). A ``When`` in a generic uop's ``guards_only``
    emits its guards alone (the generic's result is then its input)."""

    types: tuple[str, ...] | Callable[[tuple[str, ...]], bool]
    guards: str | tuple[str, ...] = ()
    ops: tuple[str, ...] = ()

    def matches(self, types: tuple[str, ...], imms: tuple) -> bool:
        if self.ops and base_binop(imms[0]) not in self.ops:
            return False
        if isinstance(self.types, tuple):
            return types == self.types
        return bool(self.types(types))


@dataclass(frozen=True)
class UopDef:
    name: str
    inputs: tuple[str, ...] = ()           # names; a trailing "*" entry means variadic
    output: bool = False
    imms: tuple[Imm, ...] = ()
    targets: int = 0                       # successor blocks; -1: one or more
    flags: Flag = Flag.NONE
    effect: Effect = Effect.VALUE
    impl: Callable | None = None           # reference semantics (see Effect)
    make_impl: Callable | None = None      # impl built from the immediates
    result: str | None = None              # type of the output, when the uop fixes it
    requires: tuple[str | None, ...] = ()  # input types a specialized uop relies on
    guard_type: str | None = None          # a guard proves all its inputs have this type
    doc: str = ""
    stencil: str = ""                      # C body for the copy-and-patch backend
    stencil_slow: str = ""                 # a generic uop's C-API slow path (cold part)
    generic: str | None = None             # the generic uop this one specializes
    # typeprop's rule when the output type is not fixed: (input types, imms) -> a type,
    # or None for "unknown"
    result_rule: Callable[[tuple[str, ...], tuple], str | None] | None = None
    family: Family | None = None           # a generic uop: what the profile keys on
    when: When | None = None               # a specialized uop: when specialize picks it
    guards_only: tuple[When, ...] = ()     # a generic uop: guards that replace it alone
    # frame and call semantics: runtime(env, unbound, *imms) -> f(*inputs); ``env`` has
    # ``globals`` and ``call(name, args)`` (or is None), ``unbound`` is the caller's
    # marker of an unbound local
    runtime: Callable | None = None

    @property
    def variadic(self) -> bool:
        return bool(self.inputs) and self.inputs[-1] == VARIADIC

    @property
    def fixed_inputs(self) -> int:
        return len(self.inputs) - (1 if self.variadic else 0)

    def takes_targets(self, n: int) -> bool:
        return n >= 1 if self.targets == -1 else n == self.targets

    def has(self, flag: Flag) -> bool:
        # On the members' plain ``_value_`` ints: ``Flag.__and__`` builds a new
        # member through Python-level enum code, and passes ask this ~20 times
        # per uop.
        return bool(self.flags._value_ & flag._value_)

    @property
    def is_terminator(self) -> bool:
        return self.has(Flag.TERMINATOR)

    @property
    def is_guard(self) -> bool:
        return self.has(Flag.GUARD)

    @property
    def can_exit(self) -> bool:
        return self.has(Flag.DEOPT)

    def implementation(self, imms: tuple) -> Callable | None:
        if self.make_impl is not None:
            return self.make_impl(*imms)
        return self.impl

    def output_type(self, input_types: tuple[str, ...], imms: tuple) -> str | None:
        """typeprop's transfer rule: the output's type from the inputs' (None: unknown)."""
        if self.result_rule is not None:
            return self.result_rule(input_types, imms)
        return self.result


UOPS: dict[str, UopDef] = {}


class UopNames:
    """Checked uop names: ``U._LOAD_FAST`` is the string ``"_LOAD_FAST"``; a name the
    table does not define raises AttributeError (``U["_GUARD_TOS_INT"]`` for a computed
    name: KeyError). Filled by ``define``."""

    def __getattr__(self, name: str) -> str:
        raise AttributeError(f"no uop {name!r} in the uop table (ir/uops.py)")

    def __getitem__(self, name: str) -> str:
        if name in UOPS:
            return name
        raise KeyError(f"no uop {name!r} in the uop table (ir/uops.py)")

    def __setattr__(self, name, value):
        raise AttributeError("uop names are defined by ir.uops.define")

    def __iter__(self):
        return iter(UOPS)

    def __dir__(self):
        return list(UOPS)


U = UopNames()
_loaded = False   # the built-in table is complete (define then validates at once)


def define(d: UopDef) -> UopDef:
    """Add ``d`` to the table: the one step of adding a uop. Once the built-in table has
    loaded, ``d`` is validated against it at once (``validate``)."""
    if d.name in UOPS:
        raise ValueError(f"uop {d.name} is already defined")
    UOPS[d.name] = d
    U.__dict__[d.name] = d.name
    _families.clear()
    if _loaded:
        try:
            validate([d])
        except Exception:
            undefine(d.name)
            raise
    return d


def undefine(name: str) -> None:
    """Remove a uop that ``define`` added (a test's fixture uop)."""
    del UOPS[name]
    U.__dict__.pop(name, None)
    _families.clear()


_define = define


def lookup(name: str) -> UopDef | None:
    return UOPS.get(name)


def family(generic: str) -> tuple[tuple[str | None, When], ...]:
    """The specializations of a generic uop, in the order ``specialize`` tries them:
    (uop, when) for each specialized uop naming it as ``generic``, then (None, when) for
    its ``guards_only``."""
    found = _families.get(generic)
    if found is None:
        members = [(n, d.when) for n, d in UOPS.items() if d.generic == generic and d.when]
        found = _families[generic] = tuple(
            members + [(None, w) for w in UOPS[generic].guards_only])
    return found


_families: dict[str, tuple] = {}


# --------------------------------------------------------------------------- operators

BINOPS: dict[str, Callable] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
    "<<": operator.lshift, ">>": operator.rshift, "&": operator.and_,
    "|": operator.or_, "^": operator.xor,
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul,
    "/=": operator.itruediv, "//=": operator.ifloordiv, "%=": operator.imod,
    "**=": operator.ipow, "<<=": operator.ilshift, ">>=": operator.irshift,
    "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
}

CMPOPS: dict[str, Callable] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne, "is": operator.is_, "is_not": operator.is_not,
    "in": lambda a, b: a in b, "not_in": lambda a, b: a not in b,
}

UNOPS: dict[str, Callable] = {"neg": operator.neg, "pos": operator.pos, "invert": operator.invert}


def base_binop(op: str) -> str:
    """``+=`` and ``+`` specialize alike for immutable numbers."""
    return op[:-1] if op.endswith("=") and op not in CMPOPS else op


def _unpack(n: int):
    def unpack(v):
        try:
            items = tuple(v)
        except TypeError:
            raise TypeError(f"cannot unpack non-iterable {type(v).__name__} object") from None
        if len(items) > n:
            raise ValueError(f"too many values to unpack (expected {n})")
        if len(items) < n:
            raise ValueError(f"not enough values to unpack (expected {n}, got {len(items)})")
        return items
    return unpack


def _iter_seq(v):
    """The sequence a lowered ``for`` loop indexes: lists and tuples as they are."""
    if type(v) in (list, tuple, str, range):
        return v
    try:
        return tuple(iter(v))
    except TypeError:
        raise TypeError(f"'{type(v).__name__}' object is not iterable") from None


def _range_arg(v):
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(
            f"'{type(v).__name__}' object cannot be interpreted as an integer") from None


def _range_step(v):
    v = _range_arg(v)
    if v == 0:
        raise ValueError("range() arg 3 must not be zero")
    return v


def _range_has_next(cur, stop, step):
    return cur < stop if step > 0 else cur > stop


# --------------------------------------------------------------------------- frame and calls
#
# The Python semantics of the frame and call uops, bound to an executor's ``env`` (its
# globals and its ``call``) and its marker of an unbound local: tier 1 runs them, and so
# do the runtime helpers that compiled code calls for these uops.

_NO_GLOBALS: dict = {}


def _load_fast_check(env, unbound, name):
    def load_fast_check(value):
        if value is unbound:
            raise UnboundLocalError(
                f"cannot access local variable '{name}' where it is not associated "
                f"with a value")
        return value
    return load_fast_check


def _load_global(env, unbound, name):
    bi = builtins.__dict__

    def load_global():
        g = env.globals if env is not None else _NO_GLOBALS
        try:
            return g[name]
        except KeyError:
            try:
                return bi[name]
            except KeyError:
                raise NameError(f"name '{name}' is not defined") from None
    return load_global


def _store_global(env, unbound, name):
    def store_global(value):
        if env is None:
            raise RuntimeError("native code has no globals (NativeCode env)")
        env.globals[name] = value
    return store_global


def _call_function(env, unbound, callee):
    def call_function(*args):
        if env is None:
            raise RuntimeError("native code cannot call functions without an env")
        return env.call(callee, list(args))
    return call_function


def _call_builtin(env, unbound, name):
    return getattr(builtins, name)


def _call_method(env, unbound, name):
    return lambda obj, *args: getattr(obj, name)(*args)


def missing_arguments(name: str, missing: list[str]) -> str:
    """CPython's message: ``f() missing 2 required positional arguments: 'b' and 'c'``."""
    quoted = [f"'{p}'" for p in missing]
    if len(quoted) == 1:
        listed = quoted[0]
    elif len(quoted) == 2:
        listed = " and ".join(quoted)
    else:
        listed = ", ".join(quoted[:-1]) + ", and " + quoted[-1]
    n = len(missing)
    return f"{name}() missing {n} required positional argument{'s' * (n != 1)}: {listed}"


# --------------------------------------------------------------------------- type rules

def _index_result(types, imms):
    # operator.index gives a Python int, which need not fit in int64
    return "int" if types[0] in ("int", "bool") else None


_ITER_SEQ_RESULT = {"list": "list", "tuple": "tuple", "str": "str"}
_BUILTIN_RESULT = {"len": "int"}

# --------------------------------------------------------------------------- generic uops

P, G, D, E = Flag.PURE, Flag.GUARD, Flag.DEOPT, Flag.ESCAPES
ANY_SITE = lambda imms, n: True  # noqa: E731  (every site of the generic uop is a candidate)

_define(UopDef("_LOAD_CONST", output=True, imms=(Imm.CONST,), flags=P,
               effect=Effect.LOAD_CONST, doc="a Python constant",
               stencil="OUT = OPERAND;"))
_define(UopDef("_LOAD_FAST", output=True, imms=(Imm.LOCAL,), flags=P,
               effect=Effect.LOAD_FAST, doc="read a frame local known to be bound"))
_define(UopDef("_LOAD_FAST_CHECK", output=True, imms=(Imm.LOCAL,),
               effect=Effect.LOAD_FAST_CHECK, runtime=_load_fast_check,
               doc="read a frame local that may be unbound (raises UnboundLocalError)"))
_define(UopDef("_STORE_FAST", inputs=("value",), imms=(Imm.LOCAL,),
               effect=Effect.STORE_FAST, doc="write a frame local"))
_define(UopDef("_LOAD_GLOBAL", output=True, imms=(Imm.GLOBAL,), flags=E,
               effect=Effect.LOAD_GLOBAL, runtime=_load_global,
               doc="module global, then builtin"))
_define(UopDef("_STORE_GLOBAL", inputs=("value",), imms=(Imm.GLOBAL,), flags=E,
               effect=Effect.STORE_GLOBAL, runtime=_store_global,
               doc="write a module global"))
# Generic uops: an inline fast path (the stencil's hot part) for the cases CPython
# specializes (one-digit ints, floats, True/False/None), SLOW() for the rest, which the
# cold part (`stencil_slow`) does through the C API, exactly CPython's semantics and
# errors. "{op}" is the operator: an enum name in the fast path, the C-API call in the
# slow one ({call}). BOOLW(c) is the bool result word and OBJ_RESULT(r) stores a result
# object: boxed as it is, or its truth for a raw bool output.
_define(UopDef("_BINARY_OP", inputs=("lhs", "rhs"), output=True, imms=(Imm.BINOP,),
               flags=E | Flag.PROFILE, make_impl=lambda op: BINOPS[op],
               family=Family(2, sites=ANY_SITE),
               doc="any binary operator on any objects",
               stencil="""
        enum { ADD, SUB, MUL, TDIV, OTHER };
        const int opc = {op};
        PyObject *a = OA, *b = OB;
        if (opc <= MUL && Py_IS_TYPE(a, &PyLong_Type) && Py_IS_TYPE(b, &PyLong_Type)
                && ONE_DIGIT(a) && ONE_DIGIT(b)) {
            int64_t x = DIGIT_VALUE(a), y = DIGIT_VALUE(b);   /* |x|, |y| < 2**30 */
            PyObject *r = PyLong_FromLongLong(opc == ADD ? x + y : opc == SUB ? x - y : x * y);
            ERROR_IF(r == NULL);
            OUT = WORD(r);
        } else if (opc <= TDIV && Py_IS_TYPE(a, &PyFloat_Type) && Py_IS_TYPE(b, &PyFloat_Type)) {
            double x = PyFloat_AS_DOUBLE(a), y = PyFloat_AS_DOUBLE(b);
            if (opc == TDIV && y == 0.0) SLOW();
            PyObject *r = PyFloat_FromDouble(opc == ADD ? x + y : opc == SUB ? x - y
                                             : opc == MUL ? x * y : x / y);
            ERROR_IF(r == NULL);
            OUT = WORD(r);
        } else
            SLOW();""",
               stencil_slow="PyObject *r = {call}; ERROR_IF(r == NULL); OUT = WORD(r);"))
_define(UopDef("_COMPARE_OP", inputs=("lhs", "rhs"), output=True, imms=(Imm.CMPOP,),
               flags=E | Flag.PROFILE, make_impl=lambda op: CMPOPS[op],
               # no user classes in the subset: comparisons give bools
               result_rule=lambda types, imms: "bool",
               family=Family(2), doc="any comparison on any objects",
               stencil="""
        enum { LT = Py_LT, LE = Py_LE, EQ = Py_EQ, NE = Py_NE, GT = Py_GT, GE = Py_GE,
               IS, IS_NOT, IN, NOT_IN };
        const int opc = {op};
        PyObject *a = OA, *b = OB;
        int c;
        if (opc == IS || opc == IS_NOT)
            c = (a == b) == (opc == IS);
        else if (opc <= GE && Py_IS_TYPE(a, &PyLong_Type) && Py_IS_TYPE(b, &PyLong_Type)
                 && ONE_DIGIT(a) && ONE_DIGIT(b)) {
            int64_t x = DIGIT_VALUE(a), y = DIGIT_VALUE(b);
            c = opc == LT ? x < y : opc == LE ? x <= y : opc == EQ ? x == y
              : opc == NE ? x != y : opc == GT ? x > y : x >= y;
        } else if (opc <= GE && Py_IS_TYPE(a, &PyFloat_Type) && Py_IS_TYPE(b, &PyFloat_Type)) {
            double x = PyFloat_AS_DOUBLE(a), y = PyFloat_AS_DOUBLE(b);
            c = opc == LT ? x < y : opc == LE ? x <= y : opc == EQ ? x == y
              : opc == NE ? x != y : opc == GT ? x > y : x >= y;
        } else
            SLOW();
        OUT = BOOLW(c);""",
               stencil_slow="""
        enum { IS = Py_GE + 1, IS_NOT, IN, NOT_IN };
        const int opc = {op};
        if (opc == IN || opc == NOT_IN) {
            int c = PySequence_Contains(OB, OA);
            ERROR_IF(c < 0);
            OUT = BOOLW(c == (opc == IN));
        } else {
            PyObject *r = PyObject_RichCompare(OA, OB, opc);
            ERROR_IF(r == NULL);
            OBJ_RESULT(r);
        }"""))
_define(UopDef("_UNARY_OP", inputs=("value",), output=True, imms=(Imm.UNOP,),
               flags=E | Flag.PROFILE, make_impl=lambda op: UNOPS[op],
               family=Family(1, sites=ANY_SITE), doc="- + ~",
               stencil="""
        enum { NEG, POS, INVERT };
        const int opc = {op};
        PyObject *a = OA;
        if (opc == NEG && Py_IS_TYPE(a, &PyFloat_Type)) {
            PyObject *r = PyFloat_FromDouble(-PyFloat_AS_DOUBLE(a));
            ERROR_IF(r == NULL);
            OUT = WORD(r);
        } else if (opc != POS && Py_IS_TYPE(a, &PyLong_Type) && ONE_DIGIT(a)) {
            int64_t x = DIGIT_VALUE(a);
            PyObject *r = PyLong_FromLongLong(opc == NEG ? -x : ~x);
            ERROR_IF(r == NULL);
            OUT = WORD(r);
        } else
            SLOW();""",
               stencil_slow="PyObject *r = {call}; ERROR_IF(r == NULL); OUT = WORD(r);"))
_define(UopDef("_UNARY_NOT", inputs=("value",), output=True, flags=P, result="bool",
               requires=("bool",), impl=operator.not_, doc="not of a bool",
               stencil="OUT = A ^ 1;"))
_define(UopDef("_TO_BOOL", inputs=("value",), output=True, flags=E | Flag.PROFILE,
               result="bool", impl=bool, family=Family(1),
               guards_only=(When(("bool",), ("TOS",)),),
               doc="truth value of any object",
               stencil="""
        PyObject *a = OA;
        int c;
        if (a == Py_True) c = 1;
        else if (a == Py_False || a == Py_None) c = 0;
        else if (Py_IS_TYPE(a, &PyLong_Type)) c = Py_SIZE(a) != 0;
        else if (Py_IS_TYPE(a, &PyList_Type)) c = PyList_GET_SIZE(a) != 0;
        else SLOW();
        OUT = BOOLW(c);""",
               stencil_slow="int c = PyObject_IsTrue(OA); ERROR_IF(c < 0); OUT = BOOLW(c);"))
_define(UopDef("_BINARY_SUBSCR", inputs=("container", "index"), output=True,
               flags=E | Flag.PROFILE, impl=operator.getitem, family=Family(2),
               doc="container[index]",
               stencil="""
        PyObject *a = OA, *b = OB;
        if ((Py_IS_TYPE(a, &PyList_Type) || Py_IS_TYPE(a, &PyTuple_Type))
                && Py_IS_TYPE(b, &PyLong_Type) && ONE_DIGIT(b)) {
            /* a list's and a tuple's items are both at ob_item, their length ob_size */
            int64_t i = DIGIT_VALUE(b), n = Py_SIZE(a);
            if (i < 0) i += n;
            if ((uint64_t)i >= (uint64_t)n) SLOW();
            PyObject *r = Py_IS_TYPE(a, &PyList_Type) ? PyList_GET_ITEM(a, i)
                                                      : PyTuple_GET_ITEM(a, i);
            Py_INCREF(r);
            OUT = WORD(r);
        } else
            SLOW();""",
               stencil_slow="PyObject *r = PyObject_GetItem(OA, OB); ERROR_IF(r == NULL); "
                            "OUT = WORD(r);"))
_define(UopDef("_STORE_SUBSCR", inputs=("container", "index", "value"),
               flags=E | Flag.PROFILE, impl=operator.setitem, family=Family(2),
               doc="container[index] = value",
               stencil="""
        PyObject *a = OA, *b = OB, *v = OC;
        if (Py_IS_TYPE(a, &PyList_Type) && Py_IS_TYPE(b, &PyLong_Type) && ONE_DIGIT(b)) {
            int64_t i = DIGIT_VALUE(b), n = PyList_GET_SIZE(a);
            if (i < 0) i += n;
            if ((uint64_t)i >= (uint64_t)n) SLOW();
            PyObject *old = PyList_GET_ITEM(a, i);
            Py_INCREF(v);
            PyList_SET_ITEM(a, i, v);
            Py_DECREF(old);
        } else
            SLOW();""",
               stencil_slow="ERROR_IF(PyObject_SetItem(OA, OB, OC) < 0);"))
_define(UopDef("_BUILD_LIST", inputs=(VARIADIC,), output=True, flags=P, result="list",
               impl=lambda *xs: list(xs), doc="[a, b, ...]"))
_define(UopDef("_BUILD_TUPLE", inputs=(VARIADIC,), output=True, flags=P, result="tuple",
               impl=lambda *xs: xs, doc="(a, b, ...)"))
_define(UopDef("_UNPACK_SEQUENCE", inputs=("seq",), output=True, imms=(Imm.INT,),
               flags=E, result="tuple", make_impl=_unpack,
               doc="tuple(seq), checked to have exactly n items"))
_define(UopDef("_ITER_SEQ", inputs=("iterable",), output=True, flags=E, impl=_iter_seq,
               result_rule=lambda types, imms: _ITER_SEQ_RESULT.get(types[0]),
               doc="the indexable sequence a lowered for-loop walks"))
# No ``result``: operator.index may return an int past 64 bits, and "int" means int64.
_define(UopDef("_RANGE_ARG", inputs=("value",), output=True, flags=E | Flag.PROFILE,
               impl=_range_arg, result_rule=_index_result, family=Family(1),
               guards_only=(When(("int",), ("TOS",)),),
               doc="operator.index for range() bounds"))
_define(UopDef("_RANGE_STEP", inputs=("value",), output=True, flags=E,
               impl=_range_step, result_rule=_index_result,
               doc="range() step: an int, never zero"))
_define(UopDef("_RANGE_HAS_NEXT", inputs=("cur", "stop", "step"), output=True, flags=P,
               result="bool", requires=("int", "int", "int"), impl=_range_has_next,
               doc="loop test of a range with a step whose sign is not known statically"))
_define(UopDef("_CALL_FUNCTION", inputs=(VARIADIC,), output=True, imms=(Imm.FUNC,),
               flags=E, effect=Effect.CALL_FUNCTION, runtime=_call_function,
               doc="call a module function"))
_define(UopDef("_CALL_BUILTIN", inputs=(VARIADIC,), output=True, imms=(Imm.NAME,),
               flags=E | Flag.PROFILE, effect=Effect.CALL_BUILTIN, runtime=_call_builtin,
               result_rule=lambda types, imms: _BUILTIN_RESULT.get(imms[0]),
               family=Family(1), doc="call a builtin"))
_define(UopDef("_CALL_METHOD", inputs=("self", VARIADIC), output=True, imms=(Imm.NAME,),
               flags=E | Flag.PROFILE, effect=Effect.CALL_METHOD, runtime=_call_method,
               family=Family(1), doc="obj.name(args)"))
_define(UopDef("_JUMP", targets=1, flags=Flag.TERMINATOR, effect=Effect.JUMP))
_define(UopDef("_BRANCH", inputs=("cond",), targets=2, requires=("bool",),
               flags=Flag.TERMINATOR | Flag.BRANCH, effect=Effect.BRANCH,
               doc="to the first target if cond is True, else the second"))
_define(UopDef("_RETURN", inputs=("value",), flags=Flag.TERMINATOR, effect=Effect.RETURN))
_define(UopDef("_NOP", flags=P, effect=Effect.NOP))


# --------------------------------------------------------------------------- entry

_define(UopDef("_ENTRY", targets=-1, flags=Flag.TERMINATOR, effect=Effect.ENTRY,
               doc="optimized code's entry dispatcher: function entry or a loop header "
                   "(OSR), as the runtime asks; state is in the frame at every target"))

# --------------------------------------------------------------------------- specialized
#
# ``int`` in a specialized uop means a Python int that fits in 64 bits (a raw int64
# in machine code); results that would not fit leave through the side exit so that
# tier 1 recomputes them exactly.
#
# C bodies (``stencil``): the C each uop becomes in the copy-and-patch JIT;
# backends/copy_and_patch/uop_stencils.py expands a body into one stencil per
# operand-location variant.  Inputs are A, B, C (int64 words), FA, FB (doubles) or OA,
# OB, OC (objects: boxed words are PyObject *), the output OUT or FOUT, the immediate
# OPERAND; EXIT_IF(c) leaves through the uop's side exit, ERROR_IF(c) through its error
# stub (a C-API error).  "{op}" is a comparison operator.  Specialized uops on objects
# check what CPython's specializations check and leave through the side exit otherwise.
# Reference counts: inputs are borrowed; an output object is a new reference.


def _is_int(x) -> bool:
    return type(x) is int and INT64_MIN <= x <= INT64_MAX


def _checked_int(f):
    def op(a, b):
        r = f(a, b)
        return r if INT64_MIN <= r <= INT64_MAX else DEOPT
    return op


def _divmod_int(f):
    def op(a, b):
        if b == 0:
            return DEOPT  # tier 1 raises ZeroDivisionError
        r = f(a, b)
        return r if INT64_MIN <= r <= INT64_MAX else DEOPT
    return op


def _lshift(a, b):
    if not 0 <= b < 64:
        return DEOPT
    r = a << b
    return r if INT64_MIN <= r <= INT64_MAX else DEOPT


def _rshift(a, b):
    return DEOPT if b < 0 else a >> min(b, 63)


def _truediv_float(a, b):
    return DEOPT if b == 0.0 else a / b


def _int_to_float(x):
    return float(x) if -(1 << 53) <= x <= (1 << 53) else DEOPT


def _neg_int(x):
    return DEOPT if x == INT64_MIN else -x


def _subscr_list_int(lst, i):
    n = len(lst)
    if -n <= i < n:
        return lst[i]
    return DEOPT  # tier 1 raises IndexError


def _store_subscr_list_int(lst, i, v):
    n = len(lst)
    if -n <= i < n:
        lst[i] = v
        return None
    return DEOPT


_GUARD_CHECKS = {
    "INT": ("int", _is_int),
    "FLOAT": ("float", lambda x: type(x) is float),
    "BOOL": ("bool", lambda x: type(x) is bool),
    "LIST": ("list", lambda x: type(x) is list),
}
GUARD_POSITIONS = ("TOS", "NOS", "BOTH")

for _suffix, (_type, _check) in _GUARD_CHECKS.items():
    for _pos, _what in (("TOS", "the right (top-of-stack) operand"),
                        ("NOS", "the left (next-on-stack) operand")):
        _define(UopDef(f"_GUARD_{_pos}_{_suffix}", inputs=("value",), flags=G | D,
                       effect=Effect.GUARD, impl=_check, guard_type=_type,
                       doc=f"exit unless {_what} is a {_type}"))
    if _suffix in ("INT", "FLOAT"):
        _define(UopDef(f"_GUARD_BOTH_{_suffix}", inputs=("lhs", "rhs"), flags=G | D,
                       effect=Effect.GUARD, guard_type=_type,
                       impl=(lambda c: lambda a, b: c(a) and c(b))(_check),
                       doc=f"exit unless both operands are {_type}s"))


def guard_name(pos: str, t: str) -> str:
    """The guard that ``pos`` ("TOS", "NOS", "BOTH") has type ``t`` (KeyError: none)."""
    return U[f"_GUARD_{pos}_{t.upper()}"]


_define(UopDef("_EXIT_COLD", flags=G | D, effect=Effect.GUARD, impl=lambda: False,
               doc="always exit: tier 1 never ran this code, so nothing is known to "
                   "specialize it for (CPython's cold exit); tier 1 profiles it and "
                   "the runtime re-optimizes"))

# name, generic operator, semantics, checked (may exit), C body
R = Flag.EXIT_MAY_RAISE
_INT_BINOPS = [
    ("ADD", "+", _checked_int(operator.add), True,
     "int64_t r; EXIT_IF(__builtin_add_overflow(A, B, &r)); OUT = r;"),
    ("SUBTRACT", "-", _checked_int(operator.sub), True,
     "int64_t r; EXIT_IF(__builtin_sub_overflow(A, B, &r)); OUT = r;"),
    ("MULTIPLY", "*", _checked_int(operator.mul), True,
     "int64_t r; EXIT_IF(__builtin_mul_overflow(A, B, &r)); OUT = r;"),
    ("FLOOR_DIVIDE", "//", _divmod_int(operator.floordiv), R, """
        int64_t a = A, b = B;
        EXIT_IF(b == 0 || (a == INT64_MIN && b == -1));
        int64_t q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
        OUT = q;"""),
    ("MODULO", "%", _divmod_int(operator.mod), R, """
        int64_t a = A, b = B;
        EXIT_IF(b == 0 || (a == INT64_MIN && b == -1));
        int64_t r = a % b;
        if (r != 0 && ((r < 0) != (b < 0))) r += b;
        OUT = r;"""),
    ("LSHIFT", "<<", _lshift, R, """
        int64_t a = A, b = B;
        EXIT_IF((uint64_t)b >= 64);
        int64_t r = (int64_t)((uint64_t)a << b);
        EXIT_IF((r >> b) != a);
        OUT = r;"""),
    ("RSHIFT", ">>", _rshift, R, """
        int64_t a = A, b = B;
        EXIT_IF(b < 0);
        OUT = a >> (b > 63 ? 63 : b);"""),
    ("AND", "&", operator.and_, False, "OUT = A & B;"),
    ("OR", "|", operator.or_, False, "OUT = A | B;"),
    ("XOR", "^", operator.xor, False, "OUT = A ^ B;"),
]
_FLOAT_BINOPS = [
    ("ADD", "+", operator.add, False, "FOUT = FA + FB;"),
    ("SUBTRACT", "-", operator.sub, False, "FOUT = FA - FB;"),
    ("MULTIPLY", "*", operator.mul, False, "FOUT = FA * FB;"),
    ("TRUEDIV", "/", _truediv_float, R, "double b = FB; EXIT_IF(b == 0.0); FOUT = FA / b;"),
]


def _numbers(op: str):
    """Operand types of a float binop: int and float mixed (the int converted), or two
    ints for ``/`` (true division of ints gives a float)."""
    if op == "/":
        return lambda t: set(t) <= {"int", "float"}
    return lambda t: set(t) <= {"int", "float"} and "float" in t


SPECIALIZED_BINOPS: dict[tuple[str, str], str] = {}  # (operator, type) -> uop name

for _type, _table in (("int", _INT_BINOPS), ("float", _FLOAT_BINOPS)):
    for _name, _op, _f, _checked, _body in _table:
        _uop = f"_BINARY_OP_{_name}_{_type.upper()}"
        SPECIALIZED_BINOPS[(_op, _type)] = _uop
        _define(UopDef(_uop, inputs=("lhs", "rhs"), output=True,
                       flags=P | (D if _checked else Flag.NONE)
                       | (_checked if isinstance(_checked, Flag) else Flag.NONE),
                       effect=Effect.CHECKED if _checked else Effect.VALUE, impl=_f,
                       result=_type, requires=(_type, _type), generic="_BINARY_OP",
                       when=(When(("int", "int"), "pair", (_op,)) if _type == "int"
                             else When(_numbers(_op), "floats", (_op,))),
                       doc=f"{_type} {_op} {_type}"
                           + (", exits when the fast path does not apply" if _checked else ""),
                       stencil=_body))

COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")

_define(UopDef("_COMPARE_OP_INT", inputs=("lhs", "rhs"), output=True, imms=(Imm.CMPOP,),
               flags=P, make_impl=lambda op: CMPOPS[op], result="bool",
               requires=("int", "int"), generic="_COMPARE_OP",
               when=When(("int", "int"), "pair", COMPARISONS), doc="int comparison",
               stencil="OUT = A {op} B;"))
_define(UopDef("_COMPARE_OP_FLOAT", inputs=("lhs", "rhs"), output=True, imms=(Imm.CMPOP,),
               flags=P, make_impl=lambda op: CMPOPS[op], result="bool",
               requires=("float", "float"), generic="_COMPARE_OP",
               when=When(lambda t: set(t) <= {"int", "float"} and "float" in t, "floats",
                         COMPARISONS),
               doc="float comparison", stencil="OUT = FA {op} FB;"))
_define(UopDef("_TO_BOOL_INT", inputs=("value",), output=True, flags=P, result="bool",
               impl=bool, requires=("int",), generic="_TO_BOOL",
               when=When(("int",), ("TOS",)), doc="x != 0", stencil="OUT = A != 0;"))
_define(UopDef("_TO_BOOL_FLOAT", inputs=("value",), output=True, flags=P, result="bool",
               impl=bool, requires=("float",), generic="_TO_BOOL",
               when=When(("float",), ("TOS",)), doc="x != 0.0", stencil="OUT = FA != 0.0;"))
_define(UopDef("_TO_BOOL_LIST", inputs=("value",), output=True, flags=P, result="bool",
               impl=bool, requires=("list",), generic="_TO_BOOL",
               when=When(("list",), ("TOS",)), doc="len(x) != 0",
               stencil="OUT = PyList_GET_SIZE(OA) != 0;"))
_define(UopDef("_UNARY_NEGATIVE_INT", inputs=("value",), output=True, flags=P | D,
               effect=Effect.CHECKED, impl=_neg_int, result="int", requires=("int",),
               generic="_UNARY_OP", when=When(("int",), ("TOS",), ("neg",)),
               doc="-x, exits on -(2**63)",
               stencil="int64_t a = A; EXIT_IF(a == INT64_MIN); OUT = -a;"))
_define(UopDef("_UNARY_NEGATIVE_FLOAT", inputs=("value",), output=True, flags=P,
               impl=operator.neg, result="float", requires=("float",), generic="_UNARY_OP",
               when=When(("float",), ("TOS",), ("neg",)), stencil="FOUT = -FA;"))
_define(UopDef("_UNARY_INVERT_INT", inputs=("value",), output=True, flags=P,
               impl=operator.invert, result="int", requires=("int",), generic="_UNARY_OP",
               when=When(("int",), ("TOS",), ("invert",)), stencil="OUT = ~A;"))
_define(UopDef("_INT_TO_FLOAT", inputs=("value",), output=True, flags=P | D,
               effect=Effect.CHECKED, impl=_int_to_float, result="float", requires=("int",),
               doc="exact int to float for mixed arithmetic; exits past 2**53",
               stencil="""
        int64_t a = A;
        EXIT_IF(a < -(INT64_C(1) << 53) || a > (INT64_C(1) << 53));
        FOUT = (double)a;"""))
_define(UopDef("_BINARY_SUBSCR_LIST_INT", inputs=("list", "index"), output=True,
               flags=P | D | R, effect=Effect.CHECKED, impl=_subscr_list_int,
               requires=("list", "int"), generic="_BINARY_SUBSCR",
               when=When(("list", "int"), ("NOS", "TOS")),
               doc="list[int]; exits when out of range",
               stencil="""
        PyObject *l = OA;
        int64_t i = B, n = PyList_GET_SIZE(l);
        if (i < 0) i += n;
        EXIT_IF((uint64_t)i >= (uint64_t)n);   /* tier 1 raises IndexError */
        PyObject *r = PyList_GET_ITEM(l, i);
        Py_INCREF(r);
        OUT = WORD(r);"""))
_define(UopDef("_STORE_SUBSCR_LIST_INT", inputs=("list", "index", "value"), flags=D | R,
               effect=Effect.CHECKED, impl=_store_subscr_list_int,
               requires=("list", "int", None), generic="_STORE_SUBSCR",
               when=When(("list", "int"), ("NOS", "TOS")),
               doc="list[int] = value; exits when out of range",
               stencil="""
        PyObject *l = OA, *v = OC;
        int64_t i = B, n = PyList_GET_SIZE(l);
        if (i < 0) i += n;
        EXIT_IF((uint64_t)i >= (uint64_t)n);
        PyObject *old = PyList_GET_ITEM(l, i);
        Py_INCREF(v);
        PyList_SET_ITEM(l, i, v);
        Py_DECREF(old);"""))
_define(UopDef("_LIST_LEN", inputs=("list",), output=True, flags=P, impl=len, result="int",
               requires=("list",), generic="_CALL_BUILTIN",
               when=When(("list",), ("TOS",), ("len",)), doc="len(list)",
               stencil="OUT = PyList_GET_SIZE(OA);"))
_define(UopDef("_LIST_APPEND", inputs=("list", "value"), output=True, flags=Flag.NONE,
               impl=lambda l, v: l.append(v), result="none", requires=("list", None),
               generic="_CALL_METHOD", when=When(("list",), ("NOS",), ("append",)),
               doc="list.append(value)",
               stencil="""
        ERROR_IF(PyList_Append(OA, OB) < 0);
        Py_INCREF(Py_None);
        OUT = WORD(Py_None);"""))

# --------------------------------------------------------------------------- allocator

_define(UopDef("_COPY", inputs=("value",), output=True, flags=P, effect=Effect.COPY,
               doc="a register-to-register move, a reload or a spill (by the locations)"))


# --------------------------------------------------------------------------- validation
#
# What every definition must satisfy, checked when the table loads and for each uop
# ``define`` adds later (as CPython's cases generator validates each uop): the flags,
# effect and semantics agree; type rules, families and guards name what exists; a C body
# uses only the inputs, the output and the side exit its signature has.

TYPES = ("int", "float", "bool", "none", "list", "tuple", "str")
WORD_TYPES = ("int", "float", "bool")       # raw machine words in compiled code
_STENCIL_EFFECTS = (Effect.VALUE, Effect.CHECKED, Effect.LOAD_CONST)
_RUNTIME_EFFECTS = (Effect.LOAD_FAST_CHECK, Effect.LOAD_GLOBAL, Effect.STORE_GLOBAL,
                    Effect.CALL_FUNCTION, Effect.CALL_BUILTIN, Effect.CALL_METHOD)
_CONTROL_EFFECTS = (Effect.JUMP, Effect.BRANCH, Effect.RETURN, Effect.ENTRY)
_C_OPERAND = re.compile(r"\b([FO]?)([ABC])\b")


def _when_problems(d: UopDef, g: UopDef, w: When, uop: UopDef | None) -> list[str]:
    out = []
    fam = g.family
    where = f"{d.name}" + ("" if uop is not None else " guards_only")
    if fam is None:
        return [f"{where}: generic {g.name} has no family"]
    if w.ops and not g.imms:
        out.append(f"{where}: ops {w.ops} but {g.name} has no operator immediate")
    if isinstance(w.guards, str):
        if w.guards not in ("pair", "floats"):
            out.append(f"{where}: unknown guard plan {w.guards!r}")
        elif fam.arity != 2 or (uop is not None and uop.fixed_inputs != 2):
            out.append(f"{where}: guards {w.guards!r} need two operands")
        elif w.guards == "pair" and isinstance(w.types, tuple) and (
                len(set(w.types)) != 1 or not ({f"_GUARD_{p}_{w.types[0].upper()}"
                                                for p in ("TOS", "NOS")} <= UOPS.keys())):
            out.append(f"{where}: no guards for the pair {w.types}")
    else:
        if len(w.guards) > fam.arity:
            out.append(f"{where}: {len(w.guards)} guards, but {g.name}'s profile has "
                       f"{fam.arity} operand types")
        if not isinstance(w.types, tuple):
            out.append(f"{where}: per-operand guards need exact types")
        else:
            for pos, t in zip(w.guards, w.types):
                if pos not in GUARD_POSITIONS or f"_GUARD_{pos}_{t.upper()}" not in UOPS:
                    out.append(f"{where}: no guard {pos} {t}")
    if isinstance(w.types, tuple):
        if len(w.types) != fam.arity:
            out.append(f"{where}: types {w.types} but {g.name}'s profile has "
                       f"{fam.arity} operand types")
        if any(t not in TYPES for t in w.types):
            out.append(f"{where}: unknown type in {w.types}")
    if uop is not None:
        if g.variadic:
            if uop.variadic or uop.fixed_inputs < fam.arity:
                out.append(f"{where}: takes {len(uop.inputs)} inputs for variadic {g.name}")
        elif len(uop.inputs) != len(g.inputs):
            out.append(f"{where}: {len(uop.inputs)} inputs, generic {g.name} has "
                       f"{len(g.inputs)}")
        if uop.imms and uop.imms != g.imms:
            out.append(f"{where}: immediates {uop.imms} are not {g.name}'s")
        if uop.output != g.output:
            out.append(f"{where}: output differs from {g.name}'s")
        if isinstance(w.types, tuple) and w.guards not in ("floats",) \
                and tuple(uop.requires[:len(w.types)]) != w.types:
            out.append(f"{where}: requires {uop.requires} but is picked for {w.types}")
    return out


def _problems(d: UopDef) -> list[str]:
    out = []
    n = d.name
    if not n.startswith("_") or not n.isupper() or not n.isidentifier():
        out.append(f"{n}: a uop name is _UPPER_CASE")
    # flags and effect
    if (d.targets != 0) and not d.is_terminator:
        out.append(f"{n}: has targets but is not a TERMINATOR")
    if d.is_terminator != (d.effect in _CONTROL_EFFECTS):
        out.append(f"{n}: TERMINATOR flag and effect {d.effect.name} disagree")
    if d.is_guard != (d.effect is Effect.GUARD):
        out.append(f"{n}: GUARD flag and effect {d.effect.name} disagree")
    if d.effect in (Effect.GUARD, Effect.CHECKED) and not d.can_exit:
        out.append(f"{n}: effect {d.effect.name} needs the DEOPT flag")
    if d.is_guard and d.inputs and d.guard_type not in TYPES:
        out.append(f"{n}: a guard needs a guard_type")
    if d.guard_type is not None and not d.is_guard:
        out.append(f"{n}: guard_type on a uop that is not a GUARD")
    # semantics
    if d.effect in (Effect.VALUE, Effect.CHECKED, Effect.GUARD) \
            and d.impl is None and d.make_impl is None:
        out.append(f"{n}: effect {d.effect.name} needs impl or make_impl")
    if d.effect in _RUNTIME_EFFECTS and d.runtime is None:
        out.append(f"{n}: effect {d.effect.name} needs its runtime semantics")
    if d.effect not in _RUNTIME_EFFECTS and d.runtime is not None:
        out.append(f"{n}: runtime semantics on effect {d.effect.name}")
    # types
    if (d.result is not None or d.result_rule is not None) and not d.output:
        out.append(f"{n}: a result type without an output")
    if d.result is not None and d.result_rule is not None:
        out.append(f"{n}: both a fixed result and a result rule")
    if d.result is not None and d.result not in TYPES:
        out.append(f"{n}: unknown result type {d.result!r}")
    if d.requires and len(d.requires) != len(d.inputs):
        out.append(f"{n}: requires {len(d.requires)} types for {len(d.inputs)} inputs")
    if any(t is not None and t not in TYPES for t in d.requires):
        out.append(f"{n}: unknown type in requires {d.requires}")
    # specialization
    if d.family is not None:
        if not d.has(Flag.PROFILE):
            out.append(f"{n}: a family needs the PROFILE flag (tier 1 records its types)")
        if d.family.arity > max(d.fixed_inputs, 1 if d.variadic else 0):
            out.append(f"{n}: profile arity {d.family.arity} exceeds its inputs")
    if d.when is not None and d.generic is None:
        out.append(f"{n}: `when` without a generic uop")
    if d.generic is not None:
        g = UOPS.get(d.generic)
        if g is None:
            out.append(f"{n}: generic {d.generic} is not defined")
        elif d.when is not None:
            out += _when_problems(d, g, d.when, d)
    for w in d.guards_only:
        out += _when_problems(d, d, w, None)
    # C body
    body = d.stencil
    if d.stencil_slow and not body:
        out.append(f"{n}: a slow path without a fast one")
    if body and d.effect not in _STENCIL_EFFECTS:
        out.append(f"{n}: a C body on effect {d.effect.name} (never compiled)")
    if body and not d.stencil_slow and d.effect is not Effect.LOAD_CONST:
        if "{op}" in body and not d.imms:
            out.append(f"{n}: C body has {{op}} but the uop has no operator")
        if "EXIT_IF" in body and not d.can_exit:
            out.append(f"{n}: C body exits (EXIT_IF) but the uop has no DEOPT flag")
        if d.can_exit and "EXIT_IF" not in body:
            out.append(f"{n}: DEOPT flag but its C body never exits (EXIT_IF)")
        writes = re.search(r"\bF?OUT\b", body) is not None
        if writes != d.output:
            out.append(f"{n}: C body {'writes' if writes else 'never writes'} OUT, "
                       f"output={d.output}")
        if re.search(r"\bFOUT\b", body) and d.result != "float":
            out.append(f"{n}: C body writes FOUT but the result is not a float")
        if re.search(r"\bOUT\b", body) and d.result == "float":
            out.append(f"{n}: a float result is written as FOUT")
        if d.inputs and len(d.requires) != len(d.inputs):
            out.append(f"{n}: a C body needs `requires` for each input")
        for kind, letter in set(_C_OPERAND.findall(body)):
            k = "ABC".index(letter)
            if k >= len(d.inputs):
                out.append(f"{n}: C body reads {kind}{letter}, the uop has "
                           f"{len(d.inputs)} inputs")
                continue
            req = d.requires[k] if k < len(d.requires) else None
            want = {"": ("int", "bool"), "F": ("float",)}.get(kind)
            if want is not None and req not in want:
                out.append(f"{n}: C body reads input {k} as {kind}{letter} (a "
                           f"{'float' if kind else 'raw int'} word) but requires {req}")
            if kind == "O" and req in WORD_TYPES:
                out.append(f"{n}: C body reads input {k} as an object but requires {req}")
    return out


def validate(defs=None) -> None:
    """Check ``defs`` (default: the whole table); ValueError lists every problem."""
    problems = [p for d in (UOPS.values() if defs is None else defs) for p in _problems(d)]
    if problems:
        raise ValueError("invalid uop table:\n  " + "\n  ".join(problems))


validate()
_loaded = True
