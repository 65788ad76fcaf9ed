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
What a definition is and the checks live in ``ir/uop_model.py``; the Python semantics
the definitions share (operators, frame and call behaviour) in ``ir/semantics.py``.
"""

from __future__ import annotations

import operator

# ir.uops is where code imports the table and its model from (re-exported: noqa F401)
from . import constructs as C
from . import exception_semantics as X
from .semantics import (BINOPS, BUILTIN_RESULT, CMPOPS, ITER_SEQ_RESULT, UNOPS, base_binop,
                        call_builtin, call_function, call_method, index_result,
                        load_fast_check, load_global, missing_arguments, range_arg,
                        range_has_next, range_step, store_global)  # noqa: F401
from .uop_model import (DEOPT, GUARD_POSITIONS, INT64_MAX, INT64_MIN, TYPES, UOPS, VARIADIC,
                        WORD_TYPES, Deopt, Effect, Family, Flag, Imm, U, UopDef, UopNames,
                        When, define, family, fits_int64, lookup, table_loaded, undefine,
                        validate)  # noqa: F401


# --------------------------------------------------------------------------- generic uops

P, G, D, E = Flag.PURE, Flag.GUARD, Flag.DEOPT, Flag.ESCAPES
ANY_SITE = lambda imms, n: True  # noqa: E731  (every site of the generic uop is a candidate)

define(UopDef("_LOAD_CONST", output=True, imms=(Imm.CONST,), flags=P,
               effect=Effect.LOAD_CONST, doc="a Python constant",
               stencil="OUT = OPERAND;"))
define(UopDef("_LOAD_FAST", output=True, imms=(Imm.LOCAL,), flags=P,
               effect=Effect.LOAD_FAST, doc="read a frame local known to be bound"))
define(UopDef("_LOAD_FAST_CHECK", output=True, imms=(Imm.LOCAL,),
               effect=Effect.LOAD_FAST_CHECK, runtime=load_fast_check,
               doc="read a frame local that may be unbound (raises UnboundLocalError)"))
define(UopDef("_STORE_FAST", inputs=("value",), imms=(Imm.LOCAL,),
               effect=Effect.STORE_FAST, doc="write a frame local"))
define(UopDef("_LOAD_GLOBAL", output=True, imms=(Imm.GLOBAL,), flags=E,
               effect=Effect.LOAD_GLOBAL, runtime=load_global,
               doc="module global, then builtin"))
define(UopDef("_STORE_GLOBAL", inputs=("value",), imms=(Imm.GLOBAL,), flags=E,
               effect=Effect.STORE_GLOBAL, runtime=store_global,
               doc="write a module global"))
# Generic uops: an inline fast path (the stencil's hot part) for the cases CPython
# specializes (one-digit ints, floats, True/False/None), SLOW() for the rest, which the
# cold part (`stencil_slow`) does through the C API, exactly CPython's semantics and
# errors. "{op}" is the operator: an enum name in the fast path, the C-API call in the
# slow one ({call}). BOOLW(c) is the bool result word and OBJ_RESULT(r) stores a result
# object: boxed as it is, or its truth for a raw bool output.
define(UopDef("_BINARY_OP", inputs=("lhs", "rhs"), output=True, imms=(Imm.BINOP,),
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
define(UopDef("_COMPARE_OP", inputs=("lhs", "rhs"), output=True, imms=(Imm.CMPOP,),
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
define(UopDef("_UNARY_OP", inputs=("value",), output=True, imms=(Imm.UNOP,),
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
define(UopDef("_UNARY_NOT", inputs=("value",), output=True, flags=P, result="bool",
               requires=("bool",), impl=operator.not_, doc="not of a bool",
               stencil="OUT = A ^ 1;"))
define(UopDef("_TO_BOOL", inputs=("value",), output=True, flags=E | Flag.PROFILE,
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
define(UopDef("_BINARY_SUBSCR", inputs=("container", "index"), output=True,
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
define(UopDef("_STORE_SUBSCR", inputs=("container", "index", "value"),
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
define(UopDef("_BUILD_LIST", inputs=(VARIADIC,), output=True, flags=P, result="list",
               impl=lambda *xs: list(xs), doc="[a, b, ...]"))
define(UopDef("_BUILD_TUPLE", inputs=(VARIADIC,), output=True, flags=P, result="tuple",
               impl=lambda *xs: xs, doc="(a, b, ...)"))
define(UopDef("_UNPACK_SEQUENCE", inputs=("seq",), output=True, imms=(Imm.INT,),
               flags=E, result="tuple", make_impl=C.unpack,
               doc="tuple(seq), checked to have exactly n items"))
# profiled: over a list it is the list itself, so a guard replaces it (and nothing that
# runs arbitrary Python stands before the loop: type version facts survive it)
define(UopDef("_ITER_SEQ", inputs=("iterable",), output=True, flags=E | Flag.PROFILE,
               impl=C.iter_seq, result_rule=lambda types, imms: ITER_SEQ_RESULT.get(types[0]),
               family=Family(1), guards_only=(When(("list",), ("TOS",)),),
               doc="the indexable sequence a lowered for-loop walks"))
# No ``result``: operator.index may return an int past 64 bits, and "int" means int64.
define(UopDef("_RANGE_ARG", inputs=("value",), output=True, flags=E | Flag.PROFILE,
               impl=range_arg, result_rule=index_result, family=Family(1),
               guards_only=(When(("int",), ("TOS",)),),
               doc="operator.index for range() bounds"))
define(UopDef("_RANGE_STEP", inputs=("value",), output=True, flags=E,
               impl=range_step, result_rule=index_result,
               doc="range() step: an int, never zero"))
define(UopDef("_RANGE_HAS_NEXT", inputs=("cur", "stop", "step"), output=True, flags=P,
               result="bool", requires=("int", "int", "int"), impl=range_has_next,
               doc="loop test of a range with a step whose sign is not known statically"))
define(UopDef("_CALL_FUNCTION", inputs=(VARIADIC,), output=True, imms=(Imm.FUNC,),
               flags=E, effect=Effect.CALL_FUNCTION, runtime=call_function,
               doc="call a function of the script with all its positional arguments (a "
                   "module function, or a method with its receiver first)"))
define(UopDef("_CALL_BUILTIN", inputs=(VARIADIC,), output=True, imms=(Imm.NAME,),
               flags=E | Flag.PROFILE, effect=Effect.CALL_BUILTIN, runtime=call_builtin,
               result_rule=lambda types, imms: BUILTIN_RESULT.get(imms[0]),
               family=Family(1), doc="call a builtin"))
define(UopDef("_CALL_METHOD", inputs=("self", VARIADIC), output=True, imms=(Imm.NAME,),
               flags=E | Flag.PROFILE, effect=Effect.CALL_METHOD, runtime=call_method,
               family=Family(1), doc="obj.name(args)"))
define(UopDef("_JUMP", targets=1, flags=Flag.TERMINATOR, effect=Effect.JUMP))
define(UopDef("_BRANCH", inputs=("cond",), targets=2, requires=("bool",),
               flags=Flag.TERMINATOR | Flag.BRANCH, effect=Effect.BRANCH,
               doc="to the first target if cond is True, else the second"))
define(UopDef("_RETURN", inputs=("value",), flags=Flag.TERMINATOR, effect=Effect.RETURN))
define(UopDef("_NOP", flags=P, effect=Effect.NOP))


# --------------------------------------------------------------------------- entry

define(UopDef("_ENTRY", targets=-1, flags=Flag.TERMINATOR, effect=Effect.ENTRY,
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

for _suffix, (_type, _check) in _GUARD_CHECKS.items():
    for _pos, _what in (("TOS", "the right (top-of-stack) operand"),
                        ("NOS", "the left (next-on-stack) operand")):
        define(UopDef(f"_GUARD_{_pos}_{_suffix}", inputs=("value",), flags=G | D,
                       effect=Effect.GUARD, impl=_check, guard_type=_type,
                       doc=f"exit unless {_what} is a {_type}"))
    if _suffix in ("INT", "FLOAT"):
        define(UopDef(f"_GUARD_BOTH_{_suffix}", inputs=("lhs", "rhs"), flags=G | D,
                       effect=Effect.GUARD, guard_type=_type,
                       impl=(lambda c: lambda a, b: c(a) and c(b))(_check),
                       doc=f"exit unless both operands are {_type}s"))


def guard_name(pos: str, t: str) -> str:
    """The guard that ``pos`` ("TOS", "NOS", "BOTH") has type ``t`` (KeyError: none)."""
    return U[f"_GUARD_{pos}_{t.upper()}"]


define(UopDef("_EXIT_COLD", flags=G | D, effect=Effect.GUARD, impl=lambda: False,
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
        define(UopDef(_uop, inputs=("lhs", "rhs"), output=True,
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

define(UopDef("_COMPARE_OP_INT", inputs=("lhs", "rhs"), output=True, imms=(Imm.CMPOP,),
               flags=P, make_impl=lambda op: CMPOPS[op], result="bool",
               requires=("int", "int"), generic="_COMPARE_OP",
               when=When(("int", "int"), "pair", COMPARISONS), doc="int comparison",
               stencil="OUT = A {op} B;"))
define(UopDef("_COMPARE_OP_FLOAT", inputs=("lhs", "rhs"), output=True, imms=(Imm.CMPOP,),
               flags=P, make_impl=lambda op: CMPOPS[op], result="bool",
               requires=("float", "float"), generic="_COMPARE_OP",
               when=When(lambda t: set(t) <= {"int", "float"} and "float" in t, "floats",
                         COMPARISONS),
               doc="float comparison", stencil="OUT = FA {op} FB;"))
define(UopDef("_TO_BOOL_INT", inputs=("value",), output=True, flags=P, result="bool",
               impl=bool, requires=("int",), generic="_TO_BOOL",
               when=When(("int",), ("TOS",)), doc="x != 0", stencil="OUT = A != 0;"))
define(UopDef("_TO_BOOL_FLOAT", inputs=("value",), output=True, flags=P, result="bool",
               impl=bool, requires=("float",), generic="_TO_BOOL",
               when=When(("float",), ("TOS",)), doc="x != 0.0", stencil="OUT = FA != 0.0;"))
define(UopDef("_TO_BOOL_LIST", inputs=("value",), output=True, flags=P, result="bool",
               impl=bool, requires=("list",), generic="_TO_BOOL",
               when=When(("list",), ("TOS",)), doc="len(x) != 0",
               stencil="OUT = PyList_GET_SIZE(OA) != 0;"))
define(UopDef("_UNARY_NEGATIVE_INT", inputs=("value",), output=True, flags=P | D,
               effect=Effect.CHECKED, impl=_neg_int, result="int", requires=("int",),
               generic="_UNARY_OP", when=When(("int",), ("TOS",), ("neg",)),
               doc="-x, exits on -(2**63)",
               stencil="int64_t a = A; EXIT_IF(a == INT64_MIN); OUT = -a;"))
define(UopDef("_UNARY_NEGATIVE_FLOAT", inputs=("value",), output=True, flags=P,
               impl=operator.neg, result="float", requires=("float",), generic="_UNARY_OP",
               when=When(("float",), ("TOS",), ("neg",)), stencil="FOUT = -FA;"))
define(UopDef("_UNARY_INVERT_INT", inputs=("value",), output=True, flags=P,
               impl=operator.invert, result="int", requires=("int",), generic="_UNARY_OP",
               when=When(("int",), ("TOS",), ("invert",)), stencil="OUT = ~A;"))
define(UopDef("_INT_TO_FLOAT", inputs=("value",), output=True, flags=P | D,
               effect=Effect.CHECKED, impl=_int_to_float, result="float", requires=("int",),
               doc="exact int to float for mixed arithmetic; exits past 2**53",
               stencil="""
        int64_t a = A;
        EXIT_IF(a < -(INT64_C(1) << 53) || a > (INT64_C(1) << 53));
        FOUT = (double)a;"""))
define(UopDef("_BINARY_SUBSCR_LIST_INT", inputs=("list", "index"), output=True,
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
define(UopDef("_STORE_SUBSCR_LIST_INT", inputs=("list", "index", "value"), flags=D | R,
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
define(UopDef("_LIST_LEN", inputs=("list",), output=True, flags=P, impl=len, result="int",
               requires=("list",), generic="_CALL_BUILTIN",
               when=When(("list",), ("TOS",), ("len",)), doc="len(list)",
               stencil="OUT = PyList_GET_SIZE(OA);"))
define(UopDef("_LIST_APPEND", inputs=("list", "value"), output=True, flags=Flag.NONE,
               impl=lambda l, v: l.append(v), result="none", requires=("list", None),
               generic="_CALL_METHOD", when=When(("list",), ("NOS",), ("append",)),
               doc="list.append(value)",
               stencil="""
        ERROR_IF(PyList_Append(OA, OB) < 0);
        Py_INCREF(Py_None);
        OUT = WORD(Py_None);"""))

# --------------------------------------------------------------------------- language
# functions, cells, classes, generators, the allocator, constructs: in ir/uops_language.py
# (imported here, where its definitions stand in the table's order)
from . import uops_language  # noqa: E402,F401

from . import attr_uops  # noqa: E402,F401  (the specialized attribute uops: their own module)

# --------------------------------------------------------------------------- exceptions
#
# try/except/finally and with (ir/exception_semantics.py): a block names its handler
# (Block.handler), which receives the exception as its one parameter.

define(UopDef("_PUSH_EXC_INFO", inputs=("exc",), output=True, flags=E,
               impl=X.push_exc_info,
               doc="a handler starts: exc is being handled; the previous one comes out"))
define(UopDef("_POP_EXCEPT", inputs=("prev",), flags=E, impl=X.pop_except,
               doc="a handler ends: prev is being handled again"))
define(UopDef("_CHECK_EXC_MATCH", inputs=("exc", "types"), output=True, flags=E,
               result="bool", impl=X.check_exc_match,
               doc="except types: does the clause catch exc?"))
define(UopDef("_RERAISE", inputs=("exc",), flags=E, impl=X.reraise,
               doc="raise exc again, its context and traceback untouched"))
define(UopDef("_ACTIVE_EXCEPTION", output=True, flags=E, impl=X.active_exception,
               doc="bare raise: the exception being handled (RuntimeError if none)"))
define(UopDef("_BEFORE_WITH", inputs=("mgr",), output=True, flags=E, result="tuple",
               impl=X.before_with,
               doc="with mgr: (bound __exit__, the result of __enter__)"))
define(UopDef("_BEFORE_ASYNC_WITH", inputs=("mgr",), output=True, flags=E,
               result="tuple", impl=X.before_async_with,
               doc="async with mgr: (bound __aexit__, __aenter__() to await)"))
define(UopDef("_WITH_EXCEPT_START", inputs=("exit", "exc"), output=True, flags=E,
               impl=X.with_except_start,
               doc="exit(type(exc), exc, exc.__traceback__): true suppresses exc"))
define(UopDef("_EXIT_TRY", flags=G | D, effect=Effect.GUARD, impl=lambda: False,
               doc="always exit: a block with an exception handler runs in tier 1 "
                   "(tiering puts it in place of the block; not a failed speculation)"))


table_loaded()
