"""constfold: uops on constants become constants; branches on constants become jumps."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_promote import (FULL, KERNEL_STEMS, check_kernel, names, optimized,  # noqa: E402
                          parse_fn, profiled, run_optimized_program, run_passes)

from helpers import run_cpython  # noqa: E402
from ir.core import Uop  # noqa: E402
from passes.base import PassContext  # noqa: E402
from passes.constfold import evaluate  # noqa: E402
from ir.uops import DEOPT  # noqa: E402


def fold_one(name: str, imms: tuple, *args):
    """What constfold makes of ``name`` applied to constant ``args`` (DEOPT: kept)."""
    return evaluate(Uop(name, list(range(len(args))), 99, imms), list(args))


def const_of(fn, v):
    for _, _, u in fn.uops():
        if u.output == v:
            assert u.name == "_LOAD_CONST", u
            return u.imms[0]
    raise KeyError(v)


@pytest.mark.parametrize("name,imms,args,want", [
    ("_BINARY_OP", ("*",), (2, 3), 6),
    ("_BINARY_OP", ("+=",), (2, True), 3),
    ("_BINARY_OP", ("/",), (1, 4), 0.25),
    ("_BINARY_OP", ("**",), (2, 64), 2 ** 64),
    ("_BINARY_OP", ("<<",), (1, 10), 1024),
    ("_BINARY_OP", ("-",), (0.5, 2), -1.5),
    ("_COMPARE_OP", ("<",), (1, 2.5), True),
    ("_UNARY_OP", ("neg",), (7,), -7),
    ("_TO_BOOL", (), ("",), False),
    ("_BINARY_OP_ADD_INT", (), (2, 3), 5),
    ("_BINARY_OP_MODULO_INT", (), (-7, 3), 2),
    ("_BINARY_OP_TRUEDIV_FLOAT", (), (1.0, 8.0), 0.125),
    ("_COMPARE_OP_INT", ("==",), (4, 4), True),
    ("_UNARY_NOT", (), (False,), True),
    ("_INT_TO_FLOAT", (), (3,), 3.0),
    ("_RANGE_HAS_NEXT", (), (0, 10, -1), False),
])
def test_folds(name, imms, args, want):
    got = fold_one(name, imms, *args)
    assert got == want and type(got) is type(want)


@pytest.mark.parametrize("name,imms,args", [
    ("_BINARY_OP", ("//",), (1, 0)),             # raises: tier 1 raises it
    ("_BINARY_OP", ("%",), (1.0, 0.0)),
    ("_BINARY_OP", ("**",), (2, 10000)),         # too big to carry
    ("_BINARY_OP", ("**",), (10, 10 ** 12)),     # and not even computed
    ("_BINARY_OP", ("<<",), (1, 100)),
    ("_BINARY_OP", ("*",), ("ab", 3)),           # not numbers: may run any code
    ("_BINARY_OP", ("**",), (2.0, 5000.0)),      # OverflowError
    ("_BINARY_OP", ("-",), (0.0, math.nan)),     # nan: text form would not round-trip
    ("_COMPARE_OP", ("is",), (1, 1)),            # identity of constants: not ours
    ("_COMPARE_OP", ("<",), (1, "a")),
    ("_UNARY_OP", ("invert",), (1.5,)),
    ("_BINARY_OP_ADD_INT", (), (2 ** 62, 2 ** 62)),   # overflow: keeps its exit
    ("_BINARY_OP_FLOOR_DIVIDE_INT", (), (1, 0)),      # DEOPT
    ("_BINARY_OP_ADD_INT", (), (1.5, 2)),             # not what it requires
    ("_BINARY_OP_ADD_INT", (), (True, 2)),
    ("_BUILD_LIST", (), (1, 2)),                      # mutable
    ("_BUILD_TUPLE", (), (1, 2)),                     # not a scalar
    ("_LOAD_FAST", ("x",), ()),
])
def test_does_not_fold(name, imms, args):
    assert fold_one(name, imms, *args) is DEOPT


def test_fold_chain_and_copies():
    fn = parse_fn("""
func @f() {
bb0:
  %0 = _LOAD_CONST 2
  %1 = _COPY %0
  %2 = _BINARY_OP_ADD_INT %0, %1 exit(bb0:2, %0, %1)
  %3 = _BINARY_OP_MULTIPLY_INT %2, %0 exit(bb0:3, %2, %0)
  %4 = _COMPARE_OP_INT < %0, %3
  _RETURN %4
}
""")
    run_passes(fn, "constfold")
    assert const_of(fn, 2) == 4 and const_of(fn, 3) == 8 and const_of(fn, 4) is True
    assert fn.types[3] == "int" and fn.types[4] == "bool"
    assert all(u.exit is None for _, _, u in fn.uops())


def test_generic_ops_on_strings_are_left():
    fn = parse_fn("""
func @f() {
bb0:
  %0 = _LOAD_CONST 'ab'
  %1 = _LOAD_CONST 3
  %2 = _BINARY_OP * %0, %1
  _RETURN %2
}
""")
    run_passes(fn, "constfold")
    assert "_BINARY_OP" in names(fn)  # a str operand: generic ops on it are not folded


def test_branch_on_constant_becomes_jump_and_dead_arm_goes():
    fn = parse_fn("""
func @h(a) {
entry0:
  _ENTRY ^bb0, ^bb3
bb0:
  %0 = _LOAD_CONST 3
  %1 = _LOAD_CONST 4
  %2 = _COMPARE_OP_INT > %0, %1
  _BRANCH %2, ^bb1, ^bb2
bb1:
  %3 = _LOAD_CONST 'yes'
  _RETURN %3
bb2:
  %4 = _LOAD_CONST 'no'
  _RETURN %4
bb3:
  %5 = _LOAD_FAST a
  _RETURN %5
}
""")
    run_passes(fn, "constfold")
    assert [b.label for b in fn.blocks] == ["entry0", "bb0", "bb2", "bb3"]
    assert fn.block("bb0").uops[-1].name == "_JUMP"
    assert fn.block("bb0").uops[-1].targets[0].block == "bb2"


def test_branch_on_non_bool_constant_is_left():
    fn = parse_fn("""
func @h() {
bb0:
  %0 = _LOAD_CONST 1
  _BRANCH %0, ^bb1, ^bb2
bb1:
  _RETURN %0
bb2:
  _RETURN %0
}
""")
    run_passes(fn, "constfold")
    assert fn.entry.uops[-1].name == "_BRANCH"


def test_constant_globals_fold_outside_module():
    text = """
func @f() {
bb0:
  %0 = _LOAD_GLOBAL MOD
  %1 = _LOAD_CONST 2
  %2 = _BINARY_OP % %1, %0
  _RETURN %2
}
"""
    fn = parse_fn(text)
    run_passes(fn, "constfold", PassContext(constant_globals={"MOD": 7}))
    assert const_of(fn, 0) == 7 and const_of(fn, 2) == 2
    fn = parse_fn(text)
    run_passes(fn, "constfold", PassContext(constant_globals={"MOD": [7]}))
    assert "_LOAD_GLOBAL" in names(fn)
    fn = parse_fn(text.replace("@f", "@<module>"))
    run_passes(fn, "constfold", PassContext(constant_globals={"MOD": 7}))
    assert "_LOAD_GLOBAL" in names(fn)


def test_bisect_limit_stops_folding():
    text = """
func @f() {
bb0:
  %0 = _LOAD_CONST 2
  %1 = _BINARY_OP * %0, %0
  %2 = _BINARY_OP * %1, %1
  _RETURN %2
}
"""
    fn = parse_fn(text)
    run_passes(fn, "constfold", PassContext(bisect_limit=1))
    assert const_of(fn, 1) == 4 and names(fn).count("_BINARY_OP") == 1


CONSTANT_PROGRAM = '''
def f(n):
    k = 2 * 3 + 1
    s = 0
    while True:
        if 1 < 2:
            s += k
        else:
            s -= 1
        n -= 1
        if n == 0:
            break
    if 10 // 3 == 3:
        s += 2 ** 10
    return s, 7 / 2, -k, not True

for _ in range(3):
    print(f(5))
'''


@pytest.mark.parametrize("pipeline", ["constfold", FULL])
def test_constant_program_keeps_semantics(pipeline):
    out, _, opt = run_optimized_program(CONSTANT_PROGRAM, pipeline)
    assert out == run_cpython(CONSTANT_PROGRAM).stdout
    assert "_LOAD_CONST 7" in " ".join(f"{u.name} {u.imms[0] if u.imms else ''}"
                                       for _, _, u in opt["f"].uops())


def test_folding_1_floordiv_0_is_left_to_raise():
    src = "def f(a):\n    return a + 1 // 0\n\nprint(f(1))\n"
    out, run, opt = run_optimized_program(src, "constfold")
    expected = run_cpython(src)
    assert (out, run.error) == (expected.stdout, expected.error)
    assert "_BINARY_OP" in names(opt["f"])


@pytest.mark.parametrize("stem", KERNEL_STEMS)
@pytest.mark.parametrize("pipeline", ["constfold", "specialize,typeprop,guardelim,constfold"])
def test_kernels_keep_semantics(stem, pipeline):
    check_kernel(stem, pipeline)


def test_fib_mod_folds_the_constant_global():
    module, prof = profiled(__import__("test_promote").kernel_source("fib_mod"))
    fn, _, _ = optimized(module, prof, "fib_mod", "constfold",
                         constant_globals={"MOD": 1_000_000_007})
    assert "_LOAD_GLOBAL" not in names(fn)
