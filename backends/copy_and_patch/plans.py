"""What the emitter decides once per process, not once per stencil or per uop.

Emitting a function places about three stencils per uop. Everything about a stencil that
does not depend on the instance is decided here the first time and looked up after: its
`Variant`, interned by its fields, with its name, its hot/cold split and whether it can
fail (`plan`); and how each uop name is compiled, read from the uop table (`uop_kind`).
The emitter then only fills in the hole values of each stencil it places.
"""

from __future__ import annotations

from ir.uops import UOPS, U

from . import uop_stencils as S
from .uop_stencils import CMP_NAMES
from .variants import Variant


WORD_TYPES = ("int", "float", "bool")
BOX = "box"
MASK64 = (1 << 64) - 1
CONV = {"int": "i", "float": "f", "bool": "b"}
BOX_BASE = {t: f"_BOX_{t.upper()}" for t in CONV}   # the stencil boxing a raw word
TEMP_WORDS = 4  # boxed temporaries of one uop, at least (raw inputs boxed for the C API)
SHADOW_WORDS = 3  # copies of dying inputs whose register the uop's output reuses


def direct(name: str) -> bool:
    """Is ``name`` compiled by the stencil of its own name?  Asked of the uop table (a
    uop defined after this module loaded compiles too; ``uop_kind`` caches the answer)."""
    return S.uop_body(name) is not None and not name.startswith(U._COMPARE_OP) and \
        name not in (U._LOAD_CONST, "_MOVE")


# Helper effects with semantics of their own (backends.native.helpers), not the uop's impl.
HELPER_EFFECTS = frozenset({"LOAD_FAST_CHECK", "LOAD_GLOBAL", "STORE_GLOBAL", "CALL_FUNCTION",
                            "CALL_BUILTIN", "CALL_METHOD", "RUNTIME"})
GUARD_KINDS = {"INT": "int", "FLOAT": "float", "BOOL": "bool", "LIST": "list"}

# (base, inputs, output, has_output, nregs, saves, exit) -> (variant, hot part, cold part,
# can fail); hot and cold are None for a stencil that is not split.
PLANS: dict[tuple, tuple] = {}


def plan(key: tuple) -> tuple:
    """The plan of the Variant with fields `key` (made and kept the first time)."""
    v = Variant(*key)
    v.name  # noqa: B018 - computed now, kept on the interned variant
    hot = cold = None
    if v.splittable:
        hot, cold = v.split()   # slow paths out of line, after the exit stubs
        hot.name, cold.name  # noqa: B018
    entry = PLANS[key] = (v, hot, cold, S.may_error(key[0]))
    return entry


def variant(base: str, nregs: int, saves: tuple[int, ...] = ()) -> Variant:
    """The interned Variant of a stencil with no operands (jumps, stubs)."""
    key = (base, (), None, False, nregs, saves, False)
    return (PLANS.get(key) or plan(key))[0]


# How `_Emitter.uop` compiles a uop name: (kind, definition, argument). A guard's argument
# is (type proven, stencil); a comparison's its stencil per operator; `_RANGE_ARG`'s
# whether it has a stencil of its own (used when it is not a plain copy).
(NOP, EXIT_COLD, GUARD, LOAD_CONST, LOAD_FAST, STORE_FAST, COPY, RANGE_ARG, COMPARE,
 DIRECT_STENCIL, JUMP, BRANCH, RETURN, NO_STENCIL, HELPER) = (
    "nop", "exit_cold", "guard", "load_const", "load_fast", "store_fast", "copy",
    "range_arg", "compare", "direct", "jump", "branch", "return", "no_stencil", "helper")
KINDS: dict[str, tuple] = {}
_NAMED = {U._LOAD_CONST: LOAD_CONST, U._LOAD_FAST: LOAD_FAST, U._STORE_FAST: STORE_FAST,
          U._COPY: COPY, U._JUMP: JUMP, U._BRANCH: BRANCH, U._RETURN: RETURN}


def uop_kind(name: str) -> tuple:
    """`KINDS[name]`, computed the first time: the tests in the order the emitter made
    them per uop before (the first that holds decides)."""
    d = UOPS[name]
    arg = None
    if name == U._NOP:
        k = NOP
    elif name in (U._EXIT_COLD, U._EXIT_TRY, U._YIELD_EXIT, U._YIELD_FROM_EXIT):
        # always leave through the exit (a plain jump); a yield's exit hands the runner the yielded
        # value and the frame (passes/suspend), the runtime gives them to the driver
        k = EXIT_COLD
    elif name == U._RESUME_VALUE:
        # the runtime resumes a thrown-into frame in tier 1 (passes/suspend), so in
        # compiled code what was sent is a plain value: the uop is a copy of it
        k = COPY
    elif d.is_guard and d.stencil:   # a guard with a C body of its own (a type version)
        k = DIRECT_STENCIL
    elif d.is_guard:
        need = d.guard_type if d.guard_type in GUARD_KINDS.values() else None
        k, arg = (HELPER, None) if need is None else (GUARD, (need, f"_GUARD_{need.upper()}"))
    elif name in (U._LOAD_CONST, U._LOAD_FAST, U._STORE_FAST, U._COPY):
        k = _NAMED[name]
    elif name == U._RANGE_ARG:
        k, arg = RANGE_ARG, direct(name)
    elif name in (U._COMPARE_OP_INT, U._COMPARE_OP_FLOAT):
        k, arg = COMPARE, {op: f"{name}_{n}" for op, n in CMP_NAMES.items()}
    elif direct(name):
        k = DIRECT_STENCIL
    elif name in (U._JUMP, U._BRANCH, U._RETURN):
        k = _NAMED[name]
    elif name == U._ENTRY or d.is_terminator:
        k = NO_STENCIL
    else:
        k = HELPER
    entry = KINDS[name] = (k, d, arg)
    return entry
