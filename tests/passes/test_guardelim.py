"""guardelim: proven guards removed; acceptance: guards executed on the kernels."""

from __future__ import annotations

import contextlib
import copy
import io

import pytest

from backends.interp.interpreter import Interpreter
from backends.interp.profile import Profile
from helpers import KERNELS, KERNELS_DIR, compile_program, reduced_source, run_cpython
from ir.parser import parse_module
from ir.printer import print_function
from ir.uops import Flag
from passes.base import PassContext
from passes.guardelim import GuardElim
from passes.manager import Instrumentation, PassManager
from passes.pipeline import parse_pipeline

FULL = "specialize,typeprop,guardelim"


def profiled(source: str):
    module = compile_program(source)
    prof = Profile()
    with contextlib.redirect_stdout(io.StringIO()):
        Interpreter(module, prof).run_main()
    return module, prof


def optimize(module, name, pipeline, prof=None, consts=None, explain=None, limit=None,
             **ctx_args):
    fn = copy.deepcopy(module.function(name))
    ctx = PassContext(module=module, profile=prof, constant_globals=consts or {},
                      explain=explain, bisect_limit=limit, **ctx_args)
    PassManager(parse_pipeline(pipeline), Instrumentation(verify_each=True)).run_function(fn, ctx)
    return fn


def run_replaced(module, name, fn) -> tuple[str, int]:
    """Run the module with ``name`` replaced by ``fn``: (stdout, guards executed in it).
    The profile matches the run, so a side exit (SideExit) fails the test."""
    m2 = copy.copy(module)
    m2.functions = [fn if f.name == name else f for f in module.functions]
    interp = Interpreter(m2)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        interp.run_main()
    blocks = interp.compiled[name].blocks.values()
    guards = sum(b.count * sum(1 for u in b.uops if u.defn.has(Flag.GUARD)) for b in blocks)
    return buf.getvalue(), guards


def guard_names(fn):
    return [u.name for _, _, u in fn.uops() if u.defn.is_guard]


# --------------------------------------------------------------------------- acceptance

ACCEPTANCE = [("sum_loop", {}), ("fib_mod", {"MOD": 1_000_000_007}), ("mandelbrot", {})]
RATIOS: dict[str, tuple[int, int]] = {}


@pytest.mark.parametrize("kernel,consts", ACCEPTANCE, ids=[k for k, _ in ACCEPTANCE])
def test_guards_executed_at_most_20_percent(kernel, consts):
    src = reduced_source(KERNELS_DIR / f"{kernel}.py")
    expected = run_cpython(src).stdout
    module, prof = profiled(src)
    counts = {}
    for pipeline in ("specialize", FULL):
        fn = optimize(module, kernel, pipeline, prof, consts)
        out, counts[pipeline] = run_replaced(module, kernel, fn)
        assert out == expected, pipeline
    base, full = counts["specialize"], counts[FULL]
    RATIOS[kernel] = (base, full)
    print(f"\n{kernel}: guards executed {base} with specialize, {full} with {FULL} "
          f"({100 * full / base:.3f}%)")
    assert base > 1000
    assert full <= 0.2 * base


def test_fib_mod_needs_the_constant_global():
    # without the watched constant MOD is a generic global: its guard stays in the loop
    src = reduced_source(KERNELS_DIR / "fib_mod.py")
    module, prof = profiled(src)
    fn = optimize(module, "fib_mod", FULL, prof)
    out, guards = run_replaced(module, "fib_mod", fn)
    assert out == run_cpython(src).stdout
    assert "_GUARD_TOS_INT" in [u.name for u in fn.block("bb2").uops]
    assert guards > 1000


@pytest.mark.parametrize("path", KERNELS, ids=[p.stem for p in KERNELS])
def test_tiered_runtime_matches_cpython_and_runs_fewer_guards(path):
    """The real runtime (dispatcher, OSR, side exits, re-optimization) on every kernel."""
    from workbench.runtime import Runtime

    src = reduced_source(path)
    expected = run_cpython(src).stdout
    executed = {}
    for pipeline in ("specialize", FULL):
        rt = Runtime(compile_program(src), passes=pipeline, verify=True)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rt.run()
        assert buf.getvalue() == expected, pipeline
        executed[pipeline] = sum(n for (_, name), n in rt.executed().items()
                                 if name.startswith("_GUARD"))
    assert executed[FULL] <= executed["specialize"]
    if path.stem in ("sum_loop", "fib_mod", "mandelbrot", "collatz"):
        assert executed[FULL] <= 0.01 * executed["specialize"]
    elif path.stem == "sieve":  # flags[k] is read from a list: its element type stays guarded
        assert executed[FULL] <= 0.2 * executed["specialize"]


# --------------------------------------------------------------------------- explain

def test_explain_names_the_fact():
    src = reduced_source(KERNELS_DIR / "sum_loop.py")
    module, prof = profiled(src)
    explain: list[str] = []
    optimize(module, "sum_loop", FULL, prof, explain=explain)
    lines = [line for line in explain if line.startswith("guardelim:")]
    assert lines[0] == (
        "guardelim: @sum_loop bb1:2 _GUARD_BOTH_INT %4, %5 removed: "
        "%4:int (stored to $cur0 by _LOAD_CONST 0 in bb0 and _BINARY_OP_ADD_INT in bb2, "
        "joined at bb1), %5:int (stored to $stop1 by _LOAD_FAST n guarded at bb0:3 in bb0)")
    assert len(lines) == 3


# --------------------------------------------------------------------------- from text

def elim(text: str, pipeline: str = "guardelim", explain=None):
    m = parse_module(text)
    fn = m.functions[0]
    ctx = PassContext(module=m, explain=explain)
    PassManager(parse_pipeline(pipeline), Instrumentation(verify_each=True)).run_function(fn, ctx)
    return fn


ANNOTATED = """module 'm'
func @f(a, b, c) {
bb0:
  %0:int = _LOAD_FAST a
  %1 = _LOAD_FAST b
  _GUARD_BOTH_INT %0, %1 exit(bb0:2, %0, %1)
  %2:int = _BINARY_OP_ADD_INT %0, %1 exit(bb0:2, %0, %1)
  _GUARD_BOTH_INT %2, %1 exit(bb0:3, %1, %2)
  %3 = _BINARY_OP_MULTIPLY_INT %2, %1 exit(bb0:3, %1, %2)
  %4 = _LOAD_FAST c
  _GUARD_TOS_FLOAT %4 exit(bb0:5, %3, %4)
  _GUARD_TOS_FLOAT %4 exit(bb0:5, %3, %4)
  _RETURN %3
}
"""


def test_works_from_annotations_alone():
    explain: list[str] = []
    fn = elim(ANNOTATED, explain=explain)
    text = print_function(fn)
    assert "_GUARD_TOS_INT %1 exit(bb0:2, %0, %1)" in text        # narrowed, exit kept
    assert "_GUARD_BOTH_INT" not in text                          # second one proven
    assert text.count("_GUARD_TOS_FLOAT %4") == 1                 # dominated duplicate
    assert guard_names(fn) == ["_GUARD_TOS_INT", "_GUARD_TOS_FLOAT"]
    assert explain[0].startswith("guardelim: @f bb0:2 _GUARD_BOTH_INT %0, %1 -> "
                                 "_GUARD_TOS_INT %1: %0:int (")
    assert explain[-1].startswith("guardelim: @f bb0:8 _GUARD_TOS_FLOAT %4 removed: "
                                  "%4:float (guarded by _GUARD_TOS_FLOAT at bb0:7)")


def test_recorded_fact_alone_suffices():
    # the analysis cannot see why %0 is an int; the recorded fact says so
    fn = elim("""module 'm'
func @f(a) {
bb0:
  %9 = _LOAD_FAST a
  %0:int = _CALL_BUILTIN abs %9
  _GUARD_TOS_INT %0 exit(bb0:1, %0)
  _RETURN %0
}
""")
    assert guard_names(fn) == []


MERGE = """module 'm'
func @m(c) locals(x, y) {
bb0:
  %0 = _LOAD_FAST c
  _BRANCH %0, ^bb1, ^bb2
bb1:
  %1 = _LOAD_CONST 1
  _STORE_FAST x %1
  _STORE_FAST y %1
  _JUMP ^bb3
bb2:
  %2 = _LOAD_CONST 7
  _STORE_FAST y %2
  %3 = _LOAD_CONST 2.5
  _STORE_FAST x %3
  _JUMP ^bb3
bb3:
  %5 = _LOAD_FAST x
  %6 = _LOAD_FAST y
  _GUARD_BOTH_INT %5, %6 exit(bb3:2, %5, %6)
  %7 = _BINARY_OP_ADD_INT %5, %6 exit(bb3:2, %5, %6)
  _GUARD_TOS_INT %0 exit(bb3:2, %5, %6)
  _RETURN %7
}
"""


def test_must_not_fire_after_int_float_merge_or_on_unknown():
    fn = elim(MERGE, "typeprop,guardelim")
    assert [(u.name, u.inputs) for u in fn.block("bb3").uops if u.defn.is_guard] == [
        ("_GUARD_NOS_INT", [5]), ("_GUARD_TOS_INT", [0])]


def test_bisect_limit_stops_removals():
    src = reduced_source(KERNELS_DIR / "sum_loop.py")
    module, prof = profiled(src)
    # specialize makes 4 transformations, typeprop 1: the 6th is the first removal
    fn = optimize(module, "sum_loop", FULL, prof, limit=6)
    assert len(guard_names(fn)) == 3
    out, _ = run_replaced(module, "sum_loop", fn)
    assert out == run_cpython(src).stdout


# --------------------------------------------------------------------------- speculation

GCD = """
def gcd(a, b):
    while b:
        a, b = b, a % b
    return a

def once(x):
    return x + 1

if __name__ == "__main__":
    t = 0
    for i in range(1, 30):
        for j in range(1, 30):
            t += gcd(i, j) + once(j)
    print(t)
"""


def test_parameters_guarded_once_at_entry_when_it_pays():
    module, prof = profiled(GCD)
    explain: list[str] = []
    fn = optimize(module, "gcd", FULL, prof, explain=explain)
    entry = fn.entry
    assert entry.label == "pre0"
    assert [u.name for u in entry.uops] == ["_LOAD_FAST", "_GUARD_TOS_INT", "_LOAD_FAST",
                                            "_GUARD_TOS_INT", "_JUMP"]
    assert all(u.exit.block == "bb0" and u.exit.index == 0 and not u.exit.values
               for u in entry.uops if u.exit)
    assert guard_names(fn) == ["_GUARD_TOS_INT", "_GUARD_TOS_INT"]   # none in the loop
    assert "guardelim: @gcd entry guarded once in pre0: a:int, b:int" in explain
    out, _ = run_replaced(module, "gcd", fn)
    assert out == run_cpython(GCD).stdout
    # no loop in once(): guarding x at the entry would not save anything
    once = optimize(module, "once", FULL, prof)
    assert once.entry.label == "bb0" and guard_names(once) == ["_GUARD_NOS_INT"]
    # switched off, or after its entry guards kept failing: the loop guards stay
    off = optimize(module, "gcd", "specialize,typeprop,guardelim{entry=false}", prof)
    assert off.entry.label == "bb0" and len(guard_names(off)) == 2
    assert "_GUARD_TOS_INT" in [u.name for u in off.block("bb1").uops]
    prof.exits[("gcd", "bb0", 0)] = 8
    assert optimize(module, "gcd", FULL, prof).entry.label == "bb0"


def test_second_run_adds_no_more_entry_guards():
    module, prof = profiled(GCD)
    once = optimize(module, "gcd", FULL, prof)
    twice = optimize(module, "gcd", FULL + ",typeprop,guardelim", prof)
    assert print_function(once) == print_function(twice)


def test_osr_entry_guarded_with_dispatcher():
    from workbench.runtime.tiering import add_entry_dispatcher

    src = reduced_source(KERNELS_DIR / "sum_loop.py")
    module, prof = profiled(src)
    fn = copy.deepcopy(module.function("sum_loop"))
    add_entry_dispatcher(fn)
    explain: list[str] = []
    ctx = PassContext(module=module, profile=prof, explain=explain)
    PassManager(parse_pipeline(FULL), Instrumentation(verify_each=True)).run_function(fn, ctx)
    term = fn.entry.uops[-1]
    assert [t.block for t in term.targets] == ["bb0", "osr0"]
    osr = fn.block("osr0")
    assert [(u.name, u.imms) for u in osr.uops if u.name == "_LOAD_FAST"] == [
        ("_LOAD_FAST", ("total",)), ("_LOAD_FAST", ("$cur0",)), ("_LOAD_FAST", ("$stop1",))]
    assert all(u.exit.block == "bb1" and u.exit.index == 0 for u in osr.uops if u.exit)
    loop = [u.name for b in ("bb1", "bb2") for u in fn.block(b).uops if u.defn.is_guard]
    assert loop == []
    assert any(line.startswith("guardelim: @sum_loop OSR entry to bb1 guarded once in osr0: "
                               "total:int, $cur0:int, $stop1:int") for line in explain)
    # without OSR speculation the header knows nothing about the tier-1 frame
    fn2 = copy.deepcopy(module.function("sum_loop"))
    add_entry_dispatcher(fn2)
    ctx2 = PassContext(module=module, profile=prof)
    PassManager(parse_pipeline("specialize,typeprop,guardelim{osr=false}"),
                Instrumentation(verify_each=True)).run_function(fn2, ctx2)
    assert "_GUARD_BOTH_INT" in [u.name for u in fn2.block("bb1").uops]


def test_guard_elim_options_and_metadata():
    assert GuardElim.name == "guardelim"
    assert set(GuardElim.options) == {"osr", "entry", "max_exits"}
    assert parse_pipeline("guardelim{osr=false,entry=false}")[0].opts == {
        "osr": False, "entry": False, "max_exits": 8}


def test_no_speculation_without_a_tier1_block_to_resume_at():
    # promoted IR (block parameters) parsed on its own: the blocks may not be tier-1
    # blocks, so no entry guard is invented (an exit must name a tier-1 position)
    fn = elim("""module 'm'
func @f(n) {
bb0:
  %0 = _LOAD_FAST n
  %1 = _LOAD_CONST 0
  _JUMP ^bb1(%1)
bb1(%2):
  _GUARD_BOTH_INT %2, %0 exit(bb1:2, %2, %0)
  %3 = _COMPARE_OP_INT < %2, %0
  _BRANCH %3, ^bb2, ^bb3
bb2:
  %4 = _LOAD_CONST 1
  %5 = _BINARY_OP_ADD_INT %2, %4 exit(bb2:2, %2, %4)
  _JUMP ^bb1(%5)
bb3:
  _RETURN %2
}
""", "typeprop,guardelim")
    assert fn.entry.label == "bb0"
    assert [(u.name, u.inputs) for u in fn.block("bb1").uops if u.defn.is_guard] == [
        ("_GUARD_TOS_INT", [0])]
