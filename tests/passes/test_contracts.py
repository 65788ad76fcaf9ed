"""Pass contracts: ``requires`` / ``preserves`` drive the analysis manager.

A pass gets cfg, dominators, loops, liveness and typefacts from the cache; the
pass manager drops what a pass that changed the function does not preserve;
``--verify-each`` names a pass that claims to preserve an analysis it changed;
a pipeline that breaks a requirement stops with a one-line error."""

from __future__ import annotations

import ast
import contextlib
import copy
import io
from pathlib import Path

import pytest

from helpers import KERNELS_DIR, SUM_LOOP_PARAMS, compile_program, reduced_source
from backends.interp.interpreter import Interpreter
from backends.interp.profile import Profile
from ir.core import Target, Uop
from ir.parser import parse_module
from ir.printer import print_function
from ir.verifier import VerifyError
from passes.analysis import CFG, AnalysisManager
from passes.base import ALL, Pass, PassContext, PassError
from passes.manager import Instrumentation, PassManager
from passes.pipeline import parse_pipeline

KERNEL = KERNELS_DIR / "sum_loop.py"


def fn_of(text: str = SUM_LOOP_PARAMS):
    return parse_module(text).functions[0]


def branch_to_jump(fn) -> None:
    """Turn the first _BRANCH into a jump to its first target: a new CFG."""
    for b in fn.blocks:
        t = b.uops[-1]
        if t.name == "_BRANCH":
            taken = t.targets[0]
            b.uops[-1] = Uop("_JUMP", [], None, (), [Target(taken.block, list(taken.args))],
                             line=t.line)
            return
    raise AssertionError("no branch")


class LyingPass(Pass):
    """Changes the CFG, yet declares that the CFG analyses stay valid."""

    name = "lying"
    preserves = ("cfg", "dominators", "loops")

    def run(self, fn, ctx) -> bool:
        branch_to_jump(fn)
        return True


class HonestPass(LyingPass):
    name = "honest"
    preserves = ()


class SilentPass(Pass):
    """Asks for the dominators, then changes the CFG and reports no change."""

    name = "silent"
    preserves = ALL

    def run(self, fn, ctx) -> bool:
        ctx.get("dominators", fn)
        branch_to_jump(fn)
        return False


def run(passes, fn, verify=True, ctx=None):
    ctx = ctx or PassContext()
    PassManager(passes, Instrumentation(verify_each=verify)).run_function(fn, ctx)
    return ctx


# --------------------------------------------------------------------------- verify-each

def test_verify_each_names_a_pass_that_claims_to_preserve_what_it_changed():
    with pytest.raises(VerifyError) as e:
        run([LyingPass()], fn_of())
    assert str(e.value) == ("verifier: after pass 'lying': @sum_loop: "
                            "pass lying claims to preserve cfg but changed it")
    assert "\n" not in str(e.value)


def test_an_honest_pass_and_an_unverified_run_pass():
    run([HonestPass()], fn_of())
    run([LyingPass()], fn_of(), verify=False)      # only --verify-each looks


def test_a_pass_reporting_no_change_must_leave_the_cache_valid():
    with pytest.raises(VerifyError, match="pass silent claims to preserve "
                                          "(cfg|dominators) but changed it"):
        run([SilentPass()], fn_of())


def test_the_next_pass_sees_the_new_cfg_after_an_honest_pass():
    fn = fn_of()
    ctx = PassContext()
    before = ctx.get("cfg", fn)
    run([HonestPass()], fn, ctx=ctx)
    after = ctx.get("cfg", fn)
    assert after is not before and after == CFG.of(fn) != before


def test_builtin_passes_keep_their_claims_on_the_standard_pipeline():
    module, prof = profiled()
    fn = copy.deepcopy(module.function("sum_loop"))
    ctx = PassContext(module=module, profile=prof)
    run(parse_pipeline("default,liveness,regalloc"), fn, ctx=ctx)


# --------------------------------------------------------------------------- the cache

def profiled():
    module = compile_program(reduced_source(KERNEL))
    prof = Profile()
    with contextlib.redirect_stdout(io.StringIO()):
        Interpreter(module, prof).run_main()
    return module, prof


def counted(pipeline: str, forget: bool):
    """The IR after ``pipeline`` on sum_loop, and the analyses computed; ``forget``:
    every pass preserves nothing (the same passes, without their claims)."""
    module, prof = profiled()
    fn = copy.deepcopy(module.function("sum_loop"))
    passes = parse_pipeline(pipeline)
    if forget:
        for p in passes:
            p.preserves = ()
    ctx = PassContext(module=module, profile=prof)
    run(passes, fn, verify=False, ctx=ctx)
    return print_function(fn), ctx.analyses.counts


def test_passes_get_their_analyses_from_the_cache():
    pipeline = "specialize,typeprop,guardelim,dse,typeprop,guardelim"
    ir, counts = counted(pipeline, forget=False)
    ir_forget, counts_forget = counted(pipeline, forget=True)
    assert ir == ir_forget                      # a cache, not a change of meaning
    # typefacts asks for the dominators; specialize, typeprop, guardelim and dse
    # preserve them (guardelim's guard blocks start a new CFG once).
    assert counts["dominators"] < counts_forget["dominators"]
    assert counts["dominators"] <= 2
    assert counts["typefacts"] < counts_forget["typefacts"]


def test_required_analysis_is_computed_once_for_the_pipeline():
    fn = fn_of()
    ctx = run(parse_pipeline("liveness,liveness,regalloc{regs=6}"), fn, verify=False)
    assert ctx.analyses.counts["liveness"] == 1       # liveness preserves all
    assert ctx.analyses.cached(fn) == []               # regalloc preserves nothing


def test_manager_counts_and_invalidates():
    fn = fn_of()
    am = AnalysisManager()
    loops = am.get("loops", fn)
    assert [lp.header for lp in loops] == ["bb1"]
    assert am.counts == {"loops": 1, "dominators": 1, "cfg": 1}  # loops ask for both
    assert am.get("loops", fn) is loops and am.computed == 3
    am.invalidate(fn, keep=("cfg",))
    assert am.cached(fn) == ["cfg"] and am.stale(fn) == []
    branch_to_jump(fn)
    assert am.stale(fn) == ["cfg"]
    with pytest.raises(KeyError, match="unknown analysis 'nope'"):
        am.get("nope", fn)


# --------------------------------------------------------------------------- requires

def test_a_pipeline_that_breaks_a_requirement_stops_with_one_line():
    fn = fn_of()
    with pytest.raises(PassError) as e:
        run(parse_pipeline("regalloc,dse"), fn)
    assert str(e.value) == ("pass 'dse' requires unallocated IR, but @sum_loop has "
                            "register locations; run it before regalloc")


def test_an_unknown_requirement_is_named():
    class Needy(Pass):
        name = "needy"
        requires = ("frobnication",)

        def run(self, fn, ctx):
            return False

    with pytest.raises(PassError, match="pass 'needy' requires 'frobnication', which is "
                                        "neither an analysis nor a property"):
        run([Needy()], fn_of())


def test_the_generic_manager_knows_no_pass():
    import passes.manager as manager

    source = Path(manager.__file__).read_text()
    assert "passes.dse" not in _imports(Path(manager.__file__).parents[1])["passes.manager"]
    assert "Tier1Liveness" not in source and "TIER1" not in source


# --------------------------------------------------------------------------- imports

def _imports(root: Path) -> dict[str, set[str]]:
    """passes.X -> the passes modules it imports (anywhere in the file)."""
    mods = {f"passes.{p.stem}": p for p in (root / "passes").glob("*.py")
            if p.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        out = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                out.add(f"passes.{node.module}")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("passes."):
                out.add(node.module)
        graph[name] = out & set(mods)
    return graph


def test_no_import_cycle_through_the_pass_framework():
    graph = _imports(Path(__file__).resolve().parents[2])

    def reaches(a: str, b: str) -> bool:
        seen, work = set(), [a]
        while work:
            x = work.pop()
            for y in graph[x]:
                if y == b:
                    return True
                if y not in seen:
                    seen.add(y)
                    work.append(y)
        return False

    for core in ("passes.base", "passes.analysis", "passes.manager", "passes.liveness"):
        assert not reaches(core, core), core


# --------------------------------------------------------------------------- the CLI

LYING_PLUGIN = '''\
from ir.core import Target, Uop
from passes.base import Pass


class Lying(Pass):
    name = "lying-plugin"
    description = "turns a branch into a jump, and says the CFG stays as it was"
    preserves = ("cfg",)

    def run(self, fn, ctx):
        for b in fn.blocks:
            t = b.uops[-1]
            if t.name == "_BRANCH":
                b.uops[-1] = Uop("_JUMP", [], None, (), [Target(t.targets[0].block)],
                                 line=t.line)
                return True
        return False
'''


def cli(*args) -> tuple[int, str, str]:
    from workbench.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


def test_cli_verify_each_catches_a_plugin_lying_about_preserves(tmp_path):
    plugin, prog = tmp_path / "lying.py", tmp_path / "prog.py"
    plugin.write_text(LYING_PLUGIN)
    prog.write_text("def f(n):\n    if n:\n        return 1\n    return 2\n\nprint(f(3))\n")
    args = ["pipeline", "--load", plugin, "--passes", "lying-plugin", "--function", "f",
            "--no-profile", prog]
    status, _, err = cli(*args, "--verify-each")
    assert status != 0
    assert ("verifier: after pass 'lying-plugin': @f: pass lying-plugin claims to "
            "preserve cfg but changed it") in err
    status, out, _ = cli(*args)
    assert status == 0 and "_JUMP" in out
    status, _, err = cli("pipeline", "--passes", "regalloc,dse", "--function", "f",
                         "--no-profile", prog)
    assert status != 0 and ("pass 'dse' requires unallocated IR, but @f has register "
                            "locations; run it before regalloc") in err
