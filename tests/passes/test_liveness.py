"""liveness: live-in/live-out sets and live ranges, checked on hand-written IR
against expected sets, and on every kernel against a naive per-point fixpoint."""

from __future__ import annotations

import pytest

from helpers import KERNELS, SUM_LOOP_PARAMS, reduced_source
from ir.frontend import compile_source
from ir.parser import parse_module
from ir.printer import print_function
from passes.analysis import AnalysisManager
from passes.base import PassContext
from passes.liveness import Liveness, LivenessInfo, compute, layout_order
from passes.manager import Instrumentation, PassManager
from passes.pipeline import parse_pipeline

LOOP = SUM_LOOP_PARAMS

# %1 is read only by a side exit two blocks later; %9 is a dead block parameter;
# bb4 is unreachable.
EXITS = """\
module 't'

func @f(a, b) {
bb0:
  %0 = _LOAD_FAST a
  %1 = _LOAD_FAST b
  %2 = _TO_BOOL %0
  _BRANCH %2, ^bb1, ^bb2(%0)
bb1:
  %3 = _LOAD_CONST 1
  _JUMP ^bb2(%3)
bb2(%4):
  _GUARD_TOS_INT %4 exit(bb0:0, %1, b=%1)
  %5 = _LOAD_CONST None
  _JUMP ^bb3(%5)
bb3(%9):
  _RETURN %0
bb4:
  %6 = _LOAD_CONST 2
  _RETURN %6
}
"""

STRAIGHT = """\
module 't'

func @g(x) {
bb0:
  %0 = _LOAD_FAST x
  %1 = _LOAD_CONST 1
  %2 = _BINARY_OP + %0, %1
  _STORE_FAST x %2
  _JUMP ^bb1
bb1:
  %3 = _LOAD_FAST x
  _RETURN %3
}
"""


def fn_of(text: str):
    return parse_module(text).functions[0]


def sets(info: LivenessInfo, label: str) -> tuple[set, set]:
    return set(info.live_in[label]), set(info.live_out[label])


def test_loop_sets_and_ranges():
    info = compute(fn_of(LOOP))
    assert info.order == ["bb0", "bb1", "bb2", "bb3"]   # the loop body right after its test
    assert sets(info, "bb0") == (set(), {0, 1})
    assert sets(info, "bb1") == ({0}, {0, 2, 3})
    assert sets(info, "bb2") == ({0, 2, 3}, {0, 6, 7})
    assert sets(info, "bb3") == ({3}, set())
    assert info.block_range == {"bb0": (0, 4), "bb1": (4, 7), "bb2": (7, 12), "bb3": (12, 14)}
    assert info.ranges[0] == [(1, 12)]              # live through the loop, dead in bb3
    assert info.ranges[3] == [(4, 10), (12, 13)]    # a hole over the rest of bb2
    assert info.ranges[2] == [(4, 10)]
    assert info.ranges[4] == [(5, 6)]               # read by the branch at 6
    assert info.ranges[6] == [(9, 12)]              # argument: live to the end of bb2
    assert info.use_pos[2] == [5, 9, 10]
    assert info.def_pos[2] == 4 and info.def_pos[7] == 10
    assert info.covers(3, 12) and not info.covers(3, 11)


def test_exit_values_args_dead_params_and_unreachable_blocks():
    info = compute(fn_of(EXITS))
    assert sets(info, "bb0") == (set(), {0, 1})
    assert sets(info, "bb1") == ({0, 1}, {0, 1, 3})
    assert sets(info, "bb2") == ({0, 1}, {0, 5})
    assert sets(info, "bb3") == ({0}, set())
    assert info.order[-1] == "bb4" and sets(info, "bb4") == (set(), set())
    s2, _ = info.block_range["bb2"]
    assert info.ranges[1] == [(2, s2 + 1)]           # up to its exit read at s2 + 1
    s3, _ = info.block_range["bb3"]
    assert info.ranges[9] == [(s3, s3 + 1)]          # dead parameter: one position
    assert info.ranges[5] == [(s2 + 2, s2 + 4)]
    # %0 is an argument on one edge out of bb0 and live-through on the other
    assert 0 in info.live_in["bb1"] and 0 in info.live_in["bb2"]


def test_values_local_to_blocks_never_enter_the_sets():
    info = compute(fn_of(STRAIGHT))
    assert all(not s for s in info.live_in.values())
    assert all(not s for s in info.live_out.values())
    assert info.ranges[2] == [(3, 4)]
    assert info.ranges[3] == [(7, 8)]


def test_dead_output_occupies_its_position():
    fn = fn_of("""\
module 't'

func @h() {
bb0:
  %0 = _LOAD_CONST 1
  %1 = _LOAD_CONST 2
  _RETURN %0
}
""")
    info = compute(fn)
    assert info.ranges[1] == [(2, 3)]
    assert info.ranges[0] == [(1, 3)]


def test_registered_as_cached_analysis():
    fn = fn_of(LOOP)
    am = AnalysisManager()
    a = am.get("liveness", fn)
    assert isinstance(a, LivenessInfo)
    assert am.get("liveness", fn) is a and am.computed == 1
    ctx = PassContext()
    assert isinstance(ctx.get("liveness", fn), LivenessInfo)


def test_pass_prints_with_explain_and_changes_nothing():
    fn = fn_of(LOOP)
    before = print_function(fn)
    ctx = PassContext(explain=[])
    assert Liveness().run(fn, ctx) is False
    assert print_function(fn) == before
    assert "liveness @sum_loop bb1 [4, 7): in={%0} out={%0, %2, %3}" in ctx.explain
    assert "liveness @sum_loop %3: [4, 10) [12, 13)" in ctx.explain
    quiet = PassContext()
    assert Liveness().run(fn, quiet) is False and quiet.explain is None
    assert Liveness.preserves == "all"


# --------------------------------------------------------------------------- naive oracle

def naive_point_liveness(fn, info: LivenessInfo):
    """Per-block sets by a plain fixpoint over all blocks, and the set of values
    live at each numbered position (to check the ranges)."""
    blocks = fn.block_map()
    live_in = {b.label: set() for b in fn.blocks}
    live_out = {b.label: set() for b in fn.blocks}
    changed = True
    while changed:
        changed = False
        for b in fn.blocks:
            out = set()
            for t in b.uops[-1].targets:
                out |= live_in[t.block] - set(blocks[t.block].params)
                out |= set(t.args)
            live = set(out)
            for u in reversed(b.uops):
                live.discard(u.output)
                live |= set(u.uses())
            live -= set(b.params)
            if out != live_out[b.label] or live != live_in[b.label]:
                live_out[b.label], live_in[b.label] = out, live
                changed = True
    # Live at position p (strictly between definition and a later read, or the
    # read's own position for reads by a uop that has no output... simplified to
    # the "value occupies p" rule of the analysis):
    at: dict[int, set[int]] = {}
    for b in fn.blocks:
        start, end = info.block_range[b.label]
        live = set(live_out[b.label])
        for k in range(len(b.uops) - 1, -1, -1):
            u = b.uops[k]
            p = start + 1 + k
            occupied = set(live)
            if u.output is not None:
                occupied.add(u.output)
                live.discard(u.output)
            at[p] = occupied
            live |= set(u.uses())
        at[start] = live | set(b.params)
    return live_in, live_out, at


def kernel_functions():
    out = []
    for path in KERNELS:
        src = reduced_source(path)
        out.append((path.stem, "generic", compile_source(src, path.name)))
        m = compile_source(src, path.name)
        pm = PassManager(parse_pipeline("dse,promote"), Instrumentation(verify_each=True))
        pm.run_module(m, PassContext(module=m))
        out.append((path.stem, "promoted", m))
    return out


KERNEL_FUNCTIONS = kernel_functions()


@pytest.mark.parametrize("stem,form,module", KERNEL_FUNCTIONS,
                         ids=[f"{s}-{f}" for s, f, _ in KERNEL_FUNCTIONS])
def test_matches_naive_fixpoint_on_kernels(stem, form, module):
    for fn in module.functions:
        info = compute(fn)
        live_in, live_out, at = naive_point_liveness(fn, info)
        for label in layout_order(fn):
            assert set(info.live_in[label]) == live_in[label], (fn.name, label)
            assert set(info.live_out[label]) == live_out[label], (fn.name, label)
        for v, rs in info.ranges.items():
            assert rs == sorted(rs) and all(a < b for a, b in rs)
            assert all(rs[i][1] < rs[i + 1][0] for i in range(len(rs) - 1))  # merged
        # Every value occupies exactly the positions the naive walk says.
        for p, live in at.items():
            got = {v for v in info.ranges if info.covers(v, p)}
            assert got == live, (fn.name, p)


@pytest.mark.parametrize("stem,form,module", KERNEL_FUNCTIONS,
                         ids=[f"{s}-{f}" for s, f, _ in KERNEL_FUNCTIONS])
def test_flat_tables_agree_with_the_views(stem, form, module):
    """The allocators read the tables; printing and the tests read the views."""
    for fn in module.functions:
        info = compute(fn)
        assert info.values() == sorted(info.ranges)
        for v, rs in info.ranges.items():
            assert info.has_range(v)
            assert (info.start(v), info.end(v)) == (rs[0][0], rs[-1][1])
            assert [(info.rfrom[i], info.rto[i])
                    for i in range(info.rbeg[v], info.rlim[v])] == rs
        assert not info.has_range(info.nvalues) and not info.has_range(-1)
        for i, label in enumerate(info.labels):
            assert list(info.block_live_in(i)) == info.live_in[label] == sorted(info.live_in[label])
            assert list(info.block_live_out(i)) == info.live_out[label]
        values = info.values()
        assert info.by_start(values) == [v for _, v in sorted((info.start(v), v) for v in values)]
        assert info.global_values() == {v for s in info.live_in.values() for v in s}
