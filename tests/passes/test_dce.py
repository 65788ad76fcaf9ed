"""dce: unused pure uops, unused block parameters and unreachable blocks go."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_promote import (KERNEL_STEMS, Tier2Run, check_kernel, names,  # noqa: E402
                          optimized, parse_fn, profiled, run_passes)

from ir.frontend import compile_source  # noqa: E402
from ir.printer import print_function  # noqa: E402
from passes.base import PassContext  # noqa: E402


def test_unused_pure_uops_go_to_a_fixed_point():
    fn = parse_fn("""
func @f(a, b) {
bb0:
  %0 = _LOAD_FAST a
  %1 = _LOAD_FAST b
  %2 = _LOAD_CONST 7
  %3 = _BINARY_OP_ADD_INT %1, %2 exit(bb0:3, %1, %2)
  %4 = _BINARY_OP_MULTIPLY_INT %3, %3 exit(bb0:4, %3)
  %5 = _COPY %4
  %6 = _BUILD_TUPLE %0, %5
  _RETURN %0
}
""")
    fn.types[4] = "int"
    run_passes(fn, "dce")
    assert names(fn) == ["_LOAD_FAST", "_RETURN"]
    assert 4 not in fn.types


def test_effects_and_what_they_use_stay():
    text = """
func @g(a) locals(t) {
bb0:
  %0 = _LOAD_FAST a
  %1 = _LOAD_CONST 1
  %5 = _BUILD_LIST
  %7 = _LOAD_CONST 2
  _GUARD_TOS_INT %0 exit(bb0:2, %0, %7)
  %2 = _BINARY_OP + %0, %1
  _STORE_FAST t %1
  %3 = _CALL_BUILTIN print %0
  %4 = _LIST_APPEND %5, %0
  %6 = _LOAD_FAST_CHECK t
  _RETURN %1
}
"""
    fn = parse_fn(text)
    before = print_function(fn)
    assert run_passes(fn, "dce").transformations == 0
    assert print_function(fn) == before


def test_dead_loop_carried_cycle_and_unreachable_block():
    fn = parse_fn("""
func @loop(n) {
bb0:
  %0 = _LOAD_FAST n
  %1 = _LOAD_CONST 0
  _JUMP ^bb1(%1, %0)
bb1(%10, %11):
  %3 = _COMPARE_OP_INT < %10, %0
  _BRANCH %3, ^bb2, ^bb3
bb2:
  %4 = _LOAD_CONST 1
  %5 = _BINARY_OP_ADD_INT %10, %4 exit(bb1:0)
  %6 = _BINARY_OP_ADD_INT %11, %4 exit(bb1:0)
  _JUMP ^bb1(%5, %6)
bb3:
  _RETURN %10
bb9:
  %7 = _LOAD_CONST 2
  _JUMP ^bb1(%7, %7)
}
""")
    run_passes(fn, "dce")
    assert [b.label for b in fn.blocks] == ["bb0", "bb1", "bb2", "bb3"]
    assert fn.block("bb1").params == [10]
    assert fn.block("bb2").uops[-1].targets[0].args == [5]
    assert fn.entry.uops[-1].targets[0].args == [1]
    assert 6 not in [u.output for _, _, u in fn.uops()]


def test_parameter_used_by_an_exit_stays():
    fn = parse_fn("""
func @loop(n) locals(total) {
bb0:
  %0 = _LOAD_FAST n
  %1 = _LOAD_CONST 0
  _JUMP ^bb1(%1, %0)
bb1(%10, %11):
  _GUARD_TOS_INT %10 exit(bb1:0, total=%11)
  %3 = _COMPARE_OP_INT < %10, %0
  _BRANCH %3, ^bb1(%10, %11), ^bb2
bb2:
  _RETURN %10
}
""")
    run_passes(fn, "dce")
    assert fn.block("bb1").params == [10, 11]


def test_entry_targets_are_reachable():
    fn = parse_fn("""
func @h(a) {
entry0:
  _ENTRY ^bb0, ^bb2
bb0:
  %0 = _LOAD_CONST 1
  _RETURN %0
bb1:
  %1 = _LOAD_CONST 2
  _RETURN %1
bb2:
  %2 = _LOAD_FAST a
  _RETURN %2
}
""")
    run_passes(fn, "dce")
    assert [b.label for b in fn.blocks] == ["entry0", "bb0", "bb2"]


def test_refused_removals_keep_the_ir_valid():
    """With a bisect limit, whatever is not removed keeps what it uses."""
    text = """
func @f(a) {
bb0:
  %0 = _LOAD_FAST a
  %1 = _LOAD_CONST 1
  _JUMP ^bb1(%0, %1)
bb1(%2, %3):
  %4 = _BINARY_OP_ADD_INT %3, %1 exit(bb1:0)
  %5 = _BINARY_OP_ADD_INT %2, %1 exit(bb1:0)
  %7 = _LOAD_CONST 9
  %8 = _BINARY_OP_MULTIPLY_INT %4, %7 exit(bb1:0)
  %6 = _TO_BOOL_INT %2
  _BRANCH %6, ^bb1(%5, %4), ^bb2
bb2:
  _RETURN %2
}
"""
    total = run_passes(parse_fn(text), "dce").transformations
    assert total == 4  # %3 (a dead cycle with %4), %4, %7, %8
    for limit in range(total + 1):
        fn = parse_fn(text)
        run_passes(fn, "dce", PassContext(bisect_limit=limit))  # verifies


@pytest.mark.parametrize("stem", KERNEL_STEMS)
@pytest.mark.parametrize("pipeline", ["dce", "specialize,typeprop,guardelim,dse,promote,dce"])
def test_kernels_keep_semantics(stem, pipeline):
    check_kernel(stem, pipeline)


@pytest.mark.parametrize("stem", ["sieve", "spectral_norm"])
def test_kernels_osr(stem):
    check_kernel(stem, "promote,dce", osr=True)


DEAD_IN_LOOP = """
def f(n):
    t = 0
    for i in range(n):
        u = i * 2
        t += i
    return t

for _ in range(3):
    print(f(50))
"""


def test_dce_after_dse_removes_dead_arithmetic():
    """`u` is never read: dse drops its store, dce the multiply (a pure checked uop:
    dropping it can only drop a side exit)."""
    module, prof = profiled(DEAD_IN_LOOP)
    fn, _, _ = optimized(module, prof, "f", "specialize,typeprop,guardelim,dse,promote")
    assert "_BINARY_OP_MULTIPLY_INT" in names(fn)
    ctx = run_passes(fn, "dce")
    assert ctx.transformations > 0
    assert "_BINARY_OP_MULTIPLY_INT" not in names(fn)
    run = Tier2Run(compile_source(DEAD_IN_LOOP, "prog.py"), {"f": fn})
    assert run.main() == "1225\n" * 3
