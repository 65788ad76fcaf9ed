"""dse: store-to-load forwarding and dead-store elimination of frame locals."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_promote import (GROW, KERNEL_STEMS, Tier2Run, check_kernel,  # noqa: E402
                          kernel_expected, kernel_source, names, optimized, parse_fn,
                          profiled, run_optimized_program, run_passes)

from helpers import run_cpython  # noqa: E402
from ir.frontend import compile_source  # noqa: E402
from ir.printer import print_function  # noqa: E402
from passes.base import PassContext  # noqa: E402


def stores(fn, local=None):
    return [u for b in fn.blocks for u in b.uops
            if u.name == "_STORE_FAST" and (local is None or u.imms[0] == local)]


def test_forwarding_store_and_load():
    fn = parse_fn("""
func @f(a) locals(x, y) {
bb0:
  %0 = _LOAD_FAST a
  _STORE_FAST x %0
  %1 = _LOAD_FAST x
  %2 = _LOAD_FAST y
  %3 = _LOAD_FAST_CHECK y
  %4 = _BINARY_OP + %1, %2
  %5 = _BINARY_OP + %4, %3
  _STORE_FAST y %5
  %6 = _LOAD_FAST_CHECK y
  _RETURN %6
}
""")
    run_passes(fn, "dse")
    assert names(fn).count("_LOAD_FAST") == 2          # a and the first y
    assert "_LOAD_FAST_CHECK" not in names(fn)         # both reuse a known value
    b = fn.entry
    assert b.uops[-1].inputs == [5]
    add1 = next(u for u in b.uops if u.output == 4)
    assert add1.inputs == [0, 2]
    add2 = next(u for u in b.uops if u.output == 5)
    assert add2.inputs == [4, 2]
    assert stores(fn) == []                            # nothing reads x or y afterwards


def test_load_after_store_to_another_local_stays():
    fn = parse_fn("""
func @f(a) locals(x, y) {
bb0:
  %0 = _LOAD_FAST a
  _STORE_FAST x %0
  %1 = _LOAD_FAST y
  %2 = _BINARY_OP + %1, %0
  _STORE_FAST y %2
  _JUMP ^bb1
bb1:
  %3 = _LOAD_FAST x
  %4 = _LOAD_FAST y
  %5 = _BINARY_OP + %3, %4
  _RETURN %5
}
""")
    before = print_function(fn)
    changed = run_passes(fn, "dse").transformations
    assert changed == 0
    assert print_function(fn) == before


def test_dead_store_across_exit_adds_exit_local():
    fn = parse_fn("""
func @g(a) locals(x) {
bb0:
  %0 = _LOAD_FAST a
  %1 = _LOAD_CONST 1
  _STORE_FAST x %1
  _GUARD_TOS_INT %0 exit(bb0:3, %0)
  %2 = _LOAD_CONST 2
  _STORE_FAST x %2
  _JUMP ^bb1
bb1:
  %3 = _LOAD_FAST x
  _RETURN %3
}
""")
    run_passes(fn, "dse")
    assert [u.inputs for u in stores(fn, "x")] == [[2]]
    guard = fn.entry.uops[2]
    assert guard.name == "_GUARD_TOS_INT" and guard.exit.locals == [("x", 1)]


def test_store_reaching_exit_with_another_definition_stays():
    """Two stores of x reach the exit: no single value describes x there."""
    fn = parse_fn("""
func @h(a, b) locals(x) {
bb0:
  %0 = _LOAD_FAST a
  _STORE_FAST x %0
  _JUMP ^bb1
bb1:
  %2 = _LOAD_FAST b
  _GUARD_TOS_INT %2 exit(bb1:1, %2)
  %3 = _TO_BOOL_INT %2
  _BRANCH %3, ^bb2, ^bb3
bb2:
  %4 = _LOAD_CONST 1
  _STORE_FAST x %4
  _JUMP ^bb1
bb3:
  _RETURN %2
}
""")
    run_passes(fn, "dse")
    assert len(stores(fn, "x")) == 2


def test_store_read_in_later_block_stays():
    fn = parse_fn("""
func @k(a) locals(x) {
bb0:
  %0 = _LOAD_FAST a
  _STORE_FAST x %0
  %1 = _TO_BOOL_INT %0
  _BRANCH %1, ^bb1, ^bb2
bb1:
  %2 = _LOAD_FAST x
  _RETURN %2
bb2:
  _RETURN %0
}
""")
    run_passes(fn, "dse")
    assert len(stores(fn, "x")) == 1


def test_tier1_liveness_makes_exits_precise():
    """sum_loop's `i` is stored in the loop body and read right after; tier 1 never
    reads it at the loop header, so with the tier-1 function at hand its store goes
    even though exits in the loop could otherwise observe the frame."""
    module, prof = profiled(kernel_source("sum_loop"))
    pipeline = "specialize,typeprop,guardelim,dse"
    precise, _, _ = optimized(module, prof, "sum_loop", pipeline)
    blind, _, _ = optimized(module, prof, "sum_loop", pipeline, tier1=False)
    assert stores(precise, "i") == []
    assert len(stores(blind)) >= len(stores(precise))
    for fn in (precise, blind):
        run = Tier2Run(compile_source(kernel_source("sum_loop"), "prog.py"), {"sum_loop": fn})
        assert run.main() == kernel_expected("sum_loop")


@pytest.mark.parametrize("stem", KERNEL_STEMS)
@pytest.mark.parametrize("pipeline", ["dse", "specialize,typeprop,guardelim,dse"])
def test_kernels_keep_semantics(stem, pipeline):
    check_kernel(stem, pipeline)


@pytest.mark.parametrize("stem", ["fib_big", "mandelbrot", "sieve"])
def test_kernels_osr_and_blind(stem):
    check_kernel(stem, "specialize,typeprop,guardelim,dse", osr=True)
    check_kernel(stem, "specialize,typeprop,guardelim,dse", tier1=False)


@pytest.mark.parametrize("tier1", [True, False])
def test_exits_taken_after_stores_removed(tier1):
    profile_src = GROW + "for _ in range(5):\n    print(grow(20, 3))\n"
    src = GROW + ("for _ in range(5):\n    print(grow(20, 3))\n"
                  "print(grow(60, 3))\nprint(grow(30, 2.5))\n")
    out, run, _ = run_optimized_program(src, "specialize,typeprop,guardelim,dse",
                                        tier1=tier1, profile_source=profile_src)
    assert out == run_cpython(src).stdout
    assert run.exits >= 2


def test_module_globals_are_never_touched():
    src = "t = 0\nfor i in range(20):\n    t = t + i\n    t = t + 1\nprint(t)\n"
    out, _, opt = run_optimized_program(src, "dse")
    assert out == run_cpython(src).stdout
    assert names(opt["<module>"]).count("_STORE_GLOBAL") == 4
    assert names(opt["<module>"]).count("_LOAD_GLOBAL") >= 4


@pytest.mark.parametrize("stem", ["fib_mod", "gcd_sum"])
def test_every_bisect_prefix_is_valid(stem):
    src = kernel_source(stem)
    module, prof = profiled(src)
    pipeline = "specialize,dse"
    _, _, ctx = optimized(module, prof, stem, pipeline)
    base = optimized(module, prof, stem, "specialize")[2].transformations
    assert ctx.transformations > base
    for limit in range(base, ctx.transformations + 1):
        fn, _, _ = optimized(module, prof, stem, pipeline, bisect_limit=limit)
        run = Tier2Run(compile_source(src, "prog.py"), {stem: fn})
        assert run.main() == kernel_expected(stem), limit


def test_no_stores_no_change():
    fn = parse_fn("""
func @f(a) {
bb0:
  %0 = _LOAD_FAST a
  _RETURN %0
}
""")
    ctx = PassContext()
    assert run_passes(fn, "dse", ctx).transformations == 0
