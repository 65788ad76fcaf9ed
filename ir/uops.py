"""The uop table: every uop is defined once, here.

The interpreter, the verifier, the printer/parser, the passes' metadata queries and
the stencil generator all read this table, as CPython generates its interpreter,
tier-2 executor and JIT templates from ``Python/bytecodes.c``.

A uop consumes SSA values (``inputs``), produces at most one (``output``), carries
immediates of fixed kinds (a local's name, a constant, an operator, ...), and a
terminator names its successor blocks.  ``impl`` is the reference semantics for
uops that compute a value; frame and control uops (``_LOAD_FAST``, ``_JUMP``, ...)
are executed by the interpreter itself, keyed on their ``Effect``.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
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


UOPS: dict[str, UopDef] = {}


def _define(d: UopDef) -> UopDef:
    assert d.name not in UOPS, d.name
    UOPS[d.name] = d
    return d


def lookup(name: str) -> UopDef | None:
    return UOPS.get(name)


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


# --------------------------------------------------------------------------- generic uops

P, G, D, E = Flag.PURE, Flag.GUARD, Flag.DEOPT, Flag.ESCAPES

_define(UopDef("_LOAD_CONST", output=True, imms=(Imm.CONST,), flags=P,
               effect=Effect.LOAD_CONST, doc="a Python constant"))
_define(UopDef("_LOAD_FAST", output=True, imms=(Imm.LOCAL,), flags=P,
               effect=Effect.LOAD_FAST, doc="read a frame local known to be bound"))
_define(UopDef("_LOAD_FAST_CHECK", output=True, imms=(Imm.LOCAL,),
               effect=Effect.LOAD_FAST_CHECK,
               doc="read a frame local that may be unbound (raises UnboundLocalError)"))
_define(UopDef("_STORE_FAST", inputs=("value",), imms=(Imm.LOCAL,),
               effect=Effect.STORE_FAST, doc="write a frame local"))
_define(UopDef("_LOAD_GLOBAL", output=True, imms=(Imm.GLOBAL,), flags=E,
               effect=Effect.LOAD_GLOBAL, doc="module global, then builtin"))
_define(UopDef("_STORE_GLOBAL", inputs=("value",), imms=(Imm.GLOBAL,), flags=E,
               effect=Effect.STORE_GLOBAL, doc="write a module global"))
_define(UopDef("_BINARY_OP", inputs=("lhs", "rhs"), output=True, imms=(Imm.BINOP,),
               flags=E | Flag.PROFILE, make_impl=lambda op: BINOPS[op],
               doc="any binary operator on any objects"))
_define(UopDef("_COMPARE_OP", inputs=("lhs", "rhs"), output=True, imms=(Imm.CMPOP,),
               flags=E | Flag.PROFILE, make_impl=lambda op: CMPOPS[op],
               doc="any comparison on any objects"))
_define(UopDef("_UNARY_OP", inputs=("value",), output=True, imms=(Imm.UNOP,),
               flags=E | Flag.PROFILE, make_impl=lambda op: UNOPS[op], doc="- + ~"))
_define(UopDef("_UNARY_NOT", inputs=("value",), output=True, flags=P, result="bool",
               requires=("bool",), impl=operator.not_, doc="not of a bool"))
_define(UopDef("_TO_BOOL", inputs=("value",), output=True, flags=E | Flag.PROFILE,
               result="bool", impl=bool, doc="truth value of any object"))
_define(UopDef("_BINARY_SUBSCR", inputs=("container", "index"), output=True,
               flags=E | Flag.PROFILE, impl=operator.getitem, doc="container[index]"))
_define(UopDef("_STORE_SUBSCR", inputs=("container", "index", "value"),
               flags=E | Flag.PROFILE, impl=operator.setitem,
               doc="container[index] = value"))
_define(UopDef("_BUILD_LIST", inputs=(VARIADIC,), output=True, flags=P, result="list",
               impl=lambda *xs: list(xs), doc="[a, b, ...]"))
_define(UopDef("_BUILD_TUPLE", inputs=(VARIADIC,), output=True, flags=P, result="tuple",
               impl=lambda *xs: xs, doc="(a, b, ...)"))
_define(UopDef("_UNPACK_SEQUENCE", inputs=("seq",), output=True, imms=(Imm.INT,),
               flags=E, result="tuple", make_impl=_unpack,
               doc="tuple(seq), checked to have exactly n items"))
_define(UopDef("_ITER_SEQ", inputs=("iterable",), output=True, flags=E, impl=_iter_seq,
               doc="the indexable sequence a lowered for-loop walks"))
# No ``result``: operator.index may return an int past 64 bits, and "int" means int64.
_define(UopDef("_RANGE_ARG", inputs=("value",), output=True, flags=E | Flag.PROFILE,
               impl=_range_arg, doc="operator.index for range() bounds"))
_define(UopDef("_RANGE_STEP", inputs=("value",), output=True, flags=E,
               impl=_range_step, doc="range() step: an int, never zero"))
_define(UopDef("_RANGE_HAS_NEXT", inputs=("cur", "stop", "step"), output=True, flags=P,
               result="bool", requires=("int", "int", "int"), impl=_range_has_next,
               doc="loop test of a range with a step whose sign is not known statically"))
_define(UopDef("_CALL_FUNCTION", inputs=(VARIADIC,), output=True, imms=(Imm.FUNC,),
               flags=E, effect=Effect.CALL_FUNCTION, doc="call a module function"))
_define(UopDef("_CALL_BUILTIN", inputs=(VARIADIC,), output=True, imms=(Imm.NAME,),
               flags=E | Flag.PROFILE, effect=Effect.CALL_BUILTIN, doc="call a builtin"))
_define(UopDef("_CALL_METHOD", inputs=("self", VARIADIC), output=True, imms=(Imm.NAME,),
               flags=E | Flag.PROFILE, effect=Effect.CALL_METHOD, doc="obj.name(args)"))
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

_define(UopDef("_EXIT_COLD", flags=G | D, effect=Effect.GUARD, impl=lambda: False,
               doc="always exit: tier 1 never ran this code, so nothing is known to "
                   "specialize it for (CPython's cold exit); tier 1 profiles it and "
                   "the runtime re-optimizes"))

# name, generic operator, semantics, checked (may exit)
R = Flag.EXIT_MAY_RAISE
_INT_BINOPS = [
    ("ADD", "+", _checked_int(operator.add), True),
    ("SUBTRACT", "-", _checked_int(operator.sub), True),
    ("MULTIPLY", "*", _checked_int(operator.mul), True),
    ("FLOOR_DIVIDE", "//", _divmod_int(operator.floordiv), R),
    ("MODULO", "%", _divmod_int(operator.mod), R),
    ("LSHIFT", "<<", _lshift, R),
    ("RSHIFT", ">>", _rshift, R),
    ("AND", "&", operator.and_, False),
    ("OR", "|", operator.or_, False),
    ("XOR", "^", operator.xor, False),
]
_FLOAT_BINOPS = [
    ("ADD", "+", operator.add, False),
    ("SUBTRACT", "-", operator.sub, False),
    ("MULTIPLY", "*", operator.mul, False),
    ("TRUEDIV", "/", _truediv_float, R),
]

SPECIALIZED_BINOPS: dict[tuple[str, str], str] = {}  # (operator, type) -> uop name

for _type, _table in (("int", _INT_BINOPS), ("float", _FLOAT_BINOPS)):
    for _name, _op, _f, _checked in _table:
        _uop = f"_BINARY_OP_{_name}_{_type.upper()}"
        SPECIALIZED_BINOPS[(_op, _type)] = _uop
        _define(UopDef(_uop, inputs=("lhs", "rhs"), output=True,
                       flags=P | (D if _checked else Flag.NONE)
                       | (_checked if isinstance(_checked, Flag) else Flag.NONE),
                       effect=Effect.CHECKED if _checked else Effect.VALUE, impl=_f,
                       result=_type, requires=(_type, _type), generic="_BINARY_OP",
                       doc=f"{_type} {_op} {_type}"
                           + (", exits when the fast path does not apply" if _checked else "")))

_define(UopDef("_COMPARE_OP_INT", inputs=("lhs", "rhs"), output=True, imms=(Imm.CMPOP,),
               flags=P, make_impl=lambda op: CMPOPS[op], result="bool",
               requires=("int", "int"), generic="_COMPARE_OP", doc="int comparison"))
_define(UopDef("_COMPARE_OP_FLOAT", inputs=("lhs", "rhs"), output=True, imms=(Imm.CMPOP,),
               flags=P, make_impl=lambda op: CMPOPS[op], result="bool",
               requires=("float", "float"), generic="_COMPARE_OP", doc="float comparison"))
_define(UopDef("_TO_BOOL_INT", inputs=("value",), output=True, flags=P, result="bool",
               impl=bool, requires=("int",), generic="_TO_BOOL", doc="x != 0"))
_define(UopDef("_TO_BOOL_FLOAT", inputs=("value",), output=True, flags=P, result="bool",
               impl=bool, requires=("float",), generic="_TO_BOOL", doc="x != 0.0"))
_define(UopDef("_TO_BOOL_LIST", inputs=("value",), output=True, flags=P, result="bool",
               impl=bool, requires=("list",), generic="_TO_BOOL", doc="len(x) != 0"))
_define(UopDef("_UNARY_NEGATIVE_INT", inputs=("value",), output=True, flags=P | D,
               effect=Effect.CHECKED, impl=_neg_int, result="int", requires=("int",),
               generic="_UNARY_OP", doc="-x, exits on -(2**63)"))
_define(UopDef("_UNARY_NEGATIVE_FLOAT", inputs=("value",), output=True, flags=P,
               impl=operator.neg, result="float", requires=("float",), generic="_UNARY_OP"))
_define(UopDef("_UNARY_INVERT_INT", inputs=("value",), output=True, flags=P,
               impl=operator.invert, result="int", requires=("int",), generic="_UNARY_OP"))
_define(UopDef("_INT_TO_FLOAT", inputs=("value",), output=True, flags=P | D,
               effect=Effect.CHECKED, impl=_int_to_float, result="float", requires=("int",),
               doc="exact int to float for mixed arithmetic; exits past 2**53"))
_define(UopDef("_BINARY_SUBSCR_LIST_INT", inputs=("list", "index"), output=True,
               flags=P | D | R, effect=Effect.CHECKED, impl=_subscr_list_int,
               requires=("list", "int"), generic="_BINARY_SUBSCR",
               doc="list[int]; exits when out of range"))
_define(UopDef("_STORE_SUBSCR_LIST_INT", inputs=("list", "index", "value"), flags=D | R,
               effect=Effect.CHECKED, impl=_store_subscr_list_int,
               requires=("list", "int", None), generic="_STORE_SUBSCR",
               doc="list[int] = value; exits when out of range"))
_define(UopDef("_LIST_LEN", inputs=("list",), output=True, flags=P, impl=len, result="int",
               requires=("list",), generic="_CALL_BUILTIN", doc="len(list)"))
_define(UopDef("_LIST_APPEND", inputs=("list", "value"), output=True, flags=Flag.NONE,
               impl=lambda l, v: l.append(v), result="none", requires=("list", None),
               generic="_CALL_METHOD", doc="list.append(value)"))

# --------------------------------------------------------------------------- allocator

_define(UopDef("_COPY", inputs=("value",), output=True, flags=P, effect=Effect.COPY,
               doc="a register-to-register move, a reload or a spill (by the locations)"))


# --------------------------------------------------------------------------- stencil bodies
#
# The C each uop becomes in the copy-and-patch JIT; backends/copy_and_patch/uop_stencils.py
# expands a body into one stencil per operand-location variant.  Inputs are A, B (int64
# words) or FA, FB (doubles), the output OUT or FOUT, the immediate OPERAND;
# EXIT_IF(c) leaves through the uop's side exit.  "{op}" is a comparison operator.

_STENCILS: dict[str, str] = {
    "_LOAD_CONST": "OUT = OPERAND;",
    "_BINARY_OP_ADD_INT": "int64_t r; EXIT_IF(__builtin_add_overflow(A, B, &r)); OUT = r;",
    "_BINARY_OP_SUBTRACT_INT":
        "int64_t r; EXIT_IF(__builtin_sub_overflow(A, B, &r)); OUT = r;",
    "_BINARY_OP_MULTIPLY_INT":
        "int64_t r; EXIT_IF(__builtin_mul_overflow(A, B, &r)); OUT = r;",
    "_BINARY_OP_FLOOR_DIVIDE_INT": """
        int64_t a = A, b = B;
        EXIT_IF(b == 0 || (a == INT64_MIN && b == -1));
        int64_t q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
        OUT = q;""",
    "_BINARY_OP_MODULO_INT": """
        int64_t a = A, b = B;
        EXIT_IF(b == 0 || (a == INT64_MIN && b == -1));
        int64_t r = a % b;
        if (r != 0 && ((r < 0) != (b < 0))) r += b;
        OUT = r;""",
    "_BINARY_OP_LSHIFT_INT": """
        int64_t a = A, b = B;
        EXIT_IF((uint64_t)b >= 64);
        int64_t r = (int64_t)((uint64_t)a << b);
        EXIT_IF((r >> b) != a);
        OUT = r;""",
    "_BINARY_OP_RSHIFT_INT": """
        int64_t a = A, b = B;
        EXIT_IF(b < 0);
        OUT = a >> (b > 63 ? 63 : b);""",
    "_BINARY_OP_AND_INT": "OUT = A & B;",
    "_BINARY_OP_OR_INT": "OUT = A | B;",
    "_BINARY_OP_XOR_INT": "OUT = A ^ B;",
    "_BINARY_OP_ADD_FLOAT": "FOUT = FA + FB;",
    "_BINARY_OP_SUBTRACT_FLOAT": "FOUT = FA - FB;",
    "_BINARY_OP_MULTIPLY_FLOAT": "FOUT = FA * FB;",
    "_BINARY_OP_TRUEDIV_FLOAT": "double b = FB; EXIT_IF(b == 0.0); FOUT = FA / b;",
    "_TO_BOOL_INT": "OUT = A != 0;",
    "_TO_BOOL_FLOAT": "OUT = FA != 0.0;",
    "_UNARY_NOT": "OUT = A ^ 1;",
    "_UNARY_NEGATIVE_INT": "int64_t a = A; EXIT_IF(a == INT64_MIN); OUT = -a;",
    "_UNARY_NEGATIVE_FLOAT": "FOUT = -FA;",
    "_UNARY_INVERT_INT": "OUT = ~A;",
    "_INT_TO_FLOAT": """
        int64_t a = A;
        EXIT_IF(a < -(INT64_C(1) << 53) || a > (INT64_C(1) << 53));
        FOUT = (double)a;""",
    "_COMPARE_OP_INT": "OUT = A {op} B;",
    "_COMPARE_OP_FLOAT": "OUT = FA {op} FB;",
}

# Stencils of the uops on objects (boxed words are PyObject *, uop_stencils): OA, OB, OC
# are the inputs as objects. Specialized uops check what CPython's specializations check
# and leave through the side exit otherwise; an output object is a new reference.
_STENCILS.update({
    "_BINARY_SUBSCR_LIST_INT": """
        PyObject *l = OA;
        int64_t i = B, n = PyList_GET_SIZE(l);
        if (i < 0) i += n;
        EXIT_IF((uint64_t)i >= (uint64_t)n);   /* tier 1 raises IndexError */
        PyObject *r = PyList_GET_ITEM(l, i);
        Py_INCREF(r);
        OUT = WORD(r);""",
    "_STORE_SUBSCR_LIST_INT": """
        PyObject *l = OA, *v = OC;
        int64_t i = B, n = PyList_GET_SIZE(l);
        if (i < 0) i += n;
        EXIT_IF((uint64_t)i >= (uint64_t)n);
        PyObject *old = PyList_GET_ITEM(l, i);
        Py_INCREF(v);
        PyList_SET_ITEM(l, i, v);
        Py_DECREF(old);""",
    "_LIST_LEN": "OUT = PyList_GET_SIZE(OA);",
    "_TO_BOOL_LIST": "OUT = PyList_GET_SIZE(OA) != 0;",
    "_LIST_APPEND": """
        ERROR_IF(PyList_Append(OA, OB) < 0);
        Py_INCREF(Py_None);
        OUT = WORD(Py_None);""",
})

# Generic uops: an inline fast path (the stencil's hot part) for the cases CPython
# specializes (one-digit ints, floats, True/False/None), SLOW() for the rest, which the
# cold part (`stencil_slow`) does through the C API, exactly CPython's semantics and
# errors. "{op}" is the operator: an enum name in the fast path, the C-API call in the
# slow one ({call}). BOOLW(c) is the bool result word and OBJ_RESULT(r) stores a result
# object: boxed as it is, or its truth for a raw bool output.
_STENCILS.update({
    "_BINARY_OP": """
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
    "_COMPARE_OP": """
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
    "_TO_BOOL": """
        PyObject *a = OA;
        int c;
        if (a == Py_True) c = 1;
        else if (a == Py_False || a == Py_None) c = 0;
        else if (Py_IS_TYPE(a, &PyLong_Type)) c = Py_SIZE(a) != 0;
        else if (Py_IS_TYPE(a, &PyList_Type)) c = PyList_GET_SIZE(a) != 0;
        else SLOW();
        OUT = BOOLW(c);""",
    "_UNARY_OP": """
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
    "_BINARY_SUBSCR": """
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
    "_STORE_SUBSCR": """
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
})

# The slow paths (cold parts) of the generic uops: CPython's own C API.
_STENCILS_SLOW: dict[str, str] = {
    "_BINARY_OP": "PyObject *r = {call}; ERROR_IF(r == NULL); OUT = WORD(r);",
    "_COMPARE_OP": """
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
        }""",
    "_TO_BOOL": "int c = PyObject_IsTrue(OA); ERROR_IF(c < 0); OUT = BOOLW(c);",
    "_UNARY_OP": "PyObject *r = {call}; ERROR_IF(r == NULL); OUT = WORD(r);",
    "_BINARY_SUBSCR": "PyObject *r = PyObject_GetItem(OA, OB); ERROR_IF(r == NULL); "
                      "OUT = WORD(r);",
    "_STORE_SUBSCR": "ERROR_IF(PyObject_SetItem(OA, OB, OC) < 0);",
}

for _name, _body in _STENCILS.items():
    UOPS[_name] = dataclasses.replace(UOPS[_name], stencil=_body,
                                      stencil_slow=_STENCILS_SLOW.get(_name, ""))
