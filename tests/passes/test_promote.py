"""promote (mem2reg): frame locals become SSA values carried in block parameters.

This file also holds the small tier-2 harness the constfold/dce/dse/promote tests
share (``from test_promote import ...``): profile a program in tier 1, optimize a
deep copy of its functions with a pipeline (verifier after every pass), and run the
program with the optimized copies — entered at the function entry, or through an
``_ENTRY`` dispatcher at a loop header (OSR) — resuming tier 1 at every side exit
with the values and locals the exit names.  Its stdout is compared with CPython's.
"""

from __future__ import annotations

import contextlib
import copy
import io
import sys
from functools import lru_cache

import pytest

from backends.interp.interpreter import UNBOUND, Interpreter, SideExit, compile_function
from backends.interp.profile import Profile
from helpers import KERNELS, KERNELS_DIR, reduced_source, run_cpython
from ir.cfg import natural_loops
from ir.core import Block, Function, Module, Target, Uop
from ir.frontend import compile_source
from ir.parser import parse_module
from ir.printer import print_function
from ir.verifier import verify_function
from passes.base import PassContext
from passes.manager import Instrumentation, PassManager
from passes.pipeline import parse_pipeline

MINE = ("constfold", "dce", "dse", "promote")
ALL_MINE = "constfold,dce,dse,promote,dce"
FULL = "specialize,typeprop,guardelim,constfold,dce,dse,promote,typeprop,guardelim,dce"
CONSTANT_GLOBALS = {"fib_mod": {"MOD": 1_000_000_007}}


# --------------------------------------------------------------------------- harness

def profiled(source: str) -> tuple[Module, Profile]:
    """The module of ``source`` and the type profile of one tier-1 run."""
    module = compile_source(source, "prog.py")
    profile = Profile()
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            Interpreter(module, profile).run_main()
        except Exception:
            pass  # the program's own error: profile what ran
    return module, profile


def add_dispatcher(fn: Function) -> list[str]:
    """Prepend ``_ENTRY ^entry, ^header...`` (as the runtime does); the loop headers."""
    heads = [loop.header for loop in natural_loops(fn)]
    label = fn.new_label("entry")
    targets = [Target(fn.entry.label)] + [Target(h) for h in heads]
    fn.blocks.insert(0, Block(label, [Uop("_ENTRY", targets=targets, line=fn.line)]))
    return heads


def run_passes(fn: Function, pipeline: str, ctx: PassContext | None = None) -> PassContext:
    """Run ``pipeline`` on ``fn`` in place, verifying after every pass."""
    ctx = ctx or PassContext()
    PassManager(parse_pipeline(pipeline), Instrumentation(verify_each=True)).run_function(fn, ctx)
    return ctx


def optimized(module: Module, profile: Profile | None, name: str, pipeline: str, *,
              constant_globals: dict | None = None, dispatcher: bool = False,
              tier1: bool = True, bisect_limit: int | None = None
              ) -> tuple[Function, list[str], PassContext]:
    """A deep copy of ``name`` run through ``pipeline``.  ``tier1=False`` hides the
    tier-1 module from the passes (they must then assume exits read every local)."""
    fn = copy.deepcopy(module.function(name))
    heads = add_dispatcher(fn) if dispatcher else []
    ctx = PassContext(module=module if tier1 else None, profile=profile,
                      constant_globals=dict(constant_globals or {}),
                      bisect_limit=bisect_limit)
    run_passes(fn, pipeline, ctx)
    return fn, heads, ctx


class Tier2Run:
    """Runs ``module`` with the optimized functions in ``opt`` (tier-1 IR elsewhere).

    Without ``osr``, a call to an optimized function runs its optimized code from the
    function entry.  With ``osr`` (functions that start with a dispatcher), the call
    starts in tier 1 and enters the optimized code at a loop header on its
    ``osr_after``-th arrival there, with the frame as tier 1 left it.  A side exit
    resumes tier 1 at the exact uop (and the call then stays in tier 1).
    """

    def __init__(self, module: Module, opt: dict[str, Function],
                 osr: dict[str, list[str]] | None = None, osr_after: int = 3):
        self.module, self.opt, self.osr, self.osr_after = module, opt, osr or {}, osr_after
        self.interp = Interpreter(module)
        self.interp.call_hook = self._call
        if self.osr:
            self.interp.loop_hook = self._loop
        self.code = {}
        self.exits = 0
        self.osr_entries = 0
        self.error: tuple[str, str] | None = None  # the program's exception, as helpers do
        self._deopted: set[int] = set()

    def _code(self, name: str):
        if name not in self.code:
            self.code[name] = compile_function(self.interp, self.opt[name], tier1=False)
        return self.code[name]

    def run_optimized(self, name: str, frame: list, entry: int = 0):
        cf = self._code(name)
        try:
            return self.interp.execute(cf, frame, cf.entry, entry=entry)
        except SideExit as se:
            self.exits += 1
            self._deopted.add(id(se.frame))
            ex = se.exit
            t1 = self.interp.compile(name)
            for local, v in ex.locals:
                se.frame[t1.local_index[local]] = se.vals[v]
            vals = [None] * t1.nvals
            for k, v in ex.values:
                vals[k] = se.vals[v]
            return self.interp.execute(t1, se.frame, ex.block, ex.index, vals)

    def _call(self, name: str, args: list):
        if name not in self.opt or name in self.osr:
            return self.interp.call_tier1(name, args)
        frame = list(args) + [UNBOUND] * (len(self.opt[name].locals) - len(args))
        self.interp.depth += 1
        try:
            return self.run_optimized(name, frame)
        finally:
            self.interp.depth -= 1

    def _loop(self, cf, label: str, frame: list):
        name = cf.fn.name
        heads = self.osr.get(name)
        if (heads is None or cf.fn is not self.module.function(name) or label not in heads
                or id(frame) in self._deopted or cf.blocks[label].count < self.osr_after):
            return False, None
        self.osr_entries += 1
        return True, self.run_optimized(name, frame, entry=1 + heads.index(label))

    def main(self) -> str:
        buf = io.StringIO()
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20000))
        try:
            with contextlib.redirect_stdout(buf):
                try:
                    self.interp.run_main()
                except Exception as e:
                    self.error = (type(e).__name__, str(e))
        finally:
            sys.setrecursionlimit(limit)
        return buf.getvalue()

    def executed_stores(self, name: str) -> int:
        """``_STORE_FAST``s executed in ``name``: optimized code, plus tier 1 after exits."""
        n = 0
        for cf in (self.code.get(name), self.interp.compiled.get(name)):
            if cf is not None:
                for b in cf.blocks.values():
                    n += b.count * sum(1 for u in b.uops if u.name == "_STORE_FAST")
        return n


def run_optimized_program(source: str, pipeline: str, *, osr: bool = False,
                          tier1: bool = True, constant_globals: dict | None = None,
                          profile_source: str | None = None, functions=None
                          ) -> tuple[str, Tier2Run, dict[str, Function]]:
    """Profile (``profile_source`` or ``source``), optimize every function (or those
    named), run ``source`` with the optimized code; returns its stdout, the run and
    the optimized functions."""
    pmod, prof = profiled(profile_source or source)
    module = compile_source(source, "prog.py")
    opt, heads = {}, {}
    for f in pmod.functions:
        if functions is not None and f.name not in functions:
            continue
        if profile_source is not None and f.name == "<module>":
            continue  # the two programs differ in their main code
        fn, h, _ = optimized(pmod, prof, f.name, pipeline, constant_globals=constant_globals,
                             dispatcher=osr, tier1=tier1)
        opt[f.name] = fn
        if osr and h and f.name != "<module>":
            heads[f.name] = h
    if osr:
        opt = {k: v for k, v in opt.items() if k in heads}
    run = Tier2Run(module, opt, heads if osr else None)
    return run.main(), run, opt


@lru_cache(maxsize=None)
def kernel_source(stem: str) -> str:
    return reduced_source(KERNELS_DIR / f"{stem}.py")


@lru_cache(maxsize=None)
def kernel_expected(stem: str) -> str:
    return run_cpython(kernel_source(stem)).stdout


def check_kernel(stem: str, pipeline: str, *, osr: bool = False, tier1: bool = True
                 ) -> Tier2Run:
    out, run, _ = run_optimized_program(kernel_source(stem), pipeline, osr=osr, tier1=tier1,
                                        constant_globals=CONSTANT_GLOBALS.get(stem))
    assert out == kernel_expected(stem), f"{stem} with {pipeline!r} (osr={osr})"
    assert run.error is None
    if osr:
        assert run.osr_entries > 0
    return run


def parse_fn(text: str) -> Function:
    module = parse_module(text, "t.uop", header=False)
    assert len(module.functions) == 1
    verify_function(module.functions[0])
    return module.functions[0]


def names(fn: Function) -> list[str]:
    return [u.name for b in fn.blocks for u in b.uops]


KERNEL_STEMS = [k.stem for k in KERNELS]


# --------------------------------------------------------------------------- promote

def test_kernels_have_loops_to_promote():
    assert {"sum_loop", "fib_mod"} <= set(KERNEL_STEMS)


@pytest.mark.parametrize("stem", ["sum_loop", "fib_mod"])
def test_promotion_pays(stem):
    """Executed frame stores drop to at most 10% of the specialized code's."""
    stores = {}
    for pipeline in ("specialize", "specialize,typeprop,guardelim,dse,promote"):
        out, run, _ = run_optimized_program(kernel_source(stem), pipeline,
                                            constant_globals=CONSTANT_GLOBALS.get(stem),
                                            functions={stem})
        assert out == kernel_expected(stem)
        assert run.exits == 0
        stores[pipeline] = run.executed_stores(stem)
    base = stores["specialize"]
    assert base > 1000
    assert stores["specialize,typeprop,guardelim,dse,promote"] <= base // 10


@pytest.mark.parametrize("stem", ["sum_loop", "fib_mod"])
def test_promoted_loop_has_no_frame_traffic(stem):
    module, prof = profiled(kernel_source(stem))
    fn, _, _ = optimized(module, prof, stem, "specialize,typeprop,guardelim,dse,promote",
                         constant_globals=CONSTANT_GLOBALS.get(stem))
    loops = natural_loops(fn)
    assert loops
    for loop in loops:
        for label in loop.blocks:
            for u in fn.block(label).uops:
                assert u.name not in ("_LOAD_FAST", "_STORE_FAST"), print_function(fn)
    assert any(b.params for b in fn.blocks)


@pytest.mark.parametrize("stem", KERNEL_STEMS)
@pytest.mark.parametrize("pipeline", ["promote", "dse,promote", ALL_MINE, FULL])
def test_kernels_keep_semantics(stem, pipeline):
    check_kernel(stem, pipeline)


@pytest.mark.parametrize("stem", KERNEL_STEMS)
@pytest.mark.parametrize("pipeline", ["promote", FULL])
def test_kernels_entered_at_loop_headers(stem, pipeline):
    """OSR: the dispatcher's entry blocks load what the loop header needs."""
    check_kernel(stem, pipeline, osr=True)


@pytest.mark.parametrize("stem", ["fib_big", "gcd_sum", "spectral_norm", "sieve"])
def test_kernels_without_tier1_liveness(stem):
    """Without the tier-1 function, exits name every definitely assigned local."""
    check_kernel(stem, FULL, tier1=False)
    check_kernel(stem, FULL, osr=True, tier1=False)


GROW = '''
def grow(n, x):
    total = 1
    k = 0
    for i in range(n):
        total = total * x + i
        k += 1
    return total + k
'''


@pytest.mark.parametrize("osr", [False, True])
@pytest.mark.parametrize("tier1", [True, False])
def test_side_exits_find_promoted_locals(osr, tier1):
    """Overflow past int64 (and a float where ints were profiled) leave the promoted
    loop mid-way; tier 1 must find total, k and the loop counter where exits say."""
    profile_src = GROW + "for _ in range(5):\n    print(grow(20, 3))\n"
    src = GROW + ("for _ in range(5):\n    print(grow(20, 3))\n"
                  "print(grow(60, 3))\nprint(grow(30, 2.5))\nprint(grow(0, 3))\n")
    for pipeline in ("dse,promote", FULL):
        out, run, _ = run_optimized_program(src, pipeline, osr=osr, tier1=tier1,
                                            profile_source=profile_src)
        assert out == run_cpython(src).stdout
        if pipeline == FULL:
            assert run.exits >= 1


def test_load_fast_check_local_is_not_promoted():
    fn = parse_fn("""
func @f(a) locals(x, y) {
bb0:
  %0 = _LOAD_FAST a
  _STORE_FAST x %0
  %1 = _TO_BOOL_INT %0
  _BRANCH %1, ^bb1, ^bb2
bb1:
  _STORE_FAST y %0
  _JUMP ^bb2
bb2:
  %3 = _LOAD_FAST_CHECK y
  %4 = _LOAD_FAST x
  %5 = _BINARY_OP + %4, %3
  _RETURN %5
}
""")
    run_passes(fn, "promote")
    text = print_function(fn)
    assert "_STORE_FAST y %0" in text and "_LOAD_FAST_CHECK y" in text
    assert " x " not in text.replace("locals(x, y)", "")


def test_source_with_maybe_unbound_local_keeps_semantics():
    src = """
def f(n):
    for i in range(n):
        if i > 2:
            last = i
    return last

for _ in range(3):
    print(f(5))
print(f(1))
"""
    expected = run_cpython(src)
    assert expected.error[0] == "UnboundLocalError"
    out, run, opt = run_optimized_program(src, FULL)
    assert (out, run.error) == (expected.stdout, expected.error)
    assert "_LOAD_FAST_CHECK last" in print_function(opt["f"])


DISPATCH = """
func @count(n) locals(i, s) {
entry0:
  _ENTRY ^bb0, ^bb1
bb0:
  %0 = _LOAD_FAST n
  %1 = _LOAD_CONST 0
  _STORE_FAST i %1
  _STORE_FAST s %1
  _JUMP ^bb1
bb1:
  %2 = _LOAD_FAST i
  %3 = _LOAD_FAST n
  %4 = _COMPARE_OP_INT < %2, %3
  _BRANCH %4, ^bb2, ^bb3
bb2:
  %5 = _LOAD_FAST i
  %6 = _LOAD_CONST 1
  %7 = _BINARY_OP_ADD_INT %5, %6 exit(bb2:2, %5, %6)
  _STORE_FAST i %7
  %8 = _LOAD_FAST s
  %9 = _BINARY_OP_ADD_INT %8, %5 exit(bb2:5, %8, %5)
  _STORE_FAST s %9
  _JUMP ^bb1
bb3:
  %10 = _LOAD_FAST s
  _RETURN %10
}
"""


def test_dispatcher_targets_get_entry_blocks():
    fn = parse_fn(DISPATCH)
    run_passes(fn, "promote")
    disp = fn.entry.uops[-1]
    assert disp.name == "_ENTRY" and disp.targets[0].block == "bb0"
    osr = fn.block(disp.targets[1].block)
    assert [u.name for u in osr.uops] == ["_LOAD_FAST"] * 3 + ["_JUMP"]
    assert [u.imms[0] for u in osr.uops[:3]] == ["n", "i", "s"]
    assert osr.uops[-1].targets[0].block == "bb1"
    assert len(fn.block("bb1").params) == 3
    assert "_STORE_FAST" not in names(fn)
    # n is never stored: the frame always has it, so no exit names it.
    for b in fn.blocks:
        for u in b.uops:
            if u.exit is not None:
                assert "n" not in dict(u.exit.locals)


def test_dispatcher_entry_runs_like_tier1():
    """Enter the promoted DISPATCH code at the loop header with a frame mid-loop."""
    fn = parse_fn(DISPATCH)
    run_passes(fn, "promote")
    module = Module("m", [fn])
    interp = Interpreter(module)
    cf = compile_function(interp, fn, tier1=False)
    # n=10, i=4, s=0+1+2+3=6: entering at bb1 must finish the loop.
    assert interp.execute(cf, [10, 4, 6], cf.entry, entry=1) == 45
    assert interp.execute(cf, [10, UNBOUND, UNBOUND], cf.entry, entry=0) == 45


def test_exit_entries_already_present_win():
    fn = parse_fn("""
func @f(a) locals(total) {
bb0:
  %0 = _LOAD_FAST a
  %1 = _LOAD_CONST 0
  _STORE_FAST total %1
  _GUARD_TOS_INT %0 exit(bb0:3, %0, total=%0)
  %2 = _LOAD_FAST total
  %3 = _BINARY_OP_ADD_INT %2, %0 exit(bb0:4, %2, %0)
  _STORE_FAST total %3
  _RETURN %3
}
""")
    run_passes(fn, "promote")
    guard = fn.entry.uops[2]
    assert guard.name == "_GUARD_TOS_INT"
    assert guard.exit.locals == [("total", 0)]
    add = fn.entry.uops[3]
    assert add.exit.locals == [("total", 1)]


def test_parameter_reassigned_in_loop():
    src = '''
def f(n, step):
    acc = 0
    while n > 0:
        acc += n * step
        n -= 1
        step = step + 1
    return acc, n, step

for _ in range(3):
    print(f(6, 2))
'''
    out, _, opt = run_optimized_program(src, FULL)
    assert out == run_cpython(src).stdout
    loop_blocks = {label for loop in natural_loops(opt["f"]) for label in loop.blocks}
    for label in loop_blocks:
        assert not any(u.name in ("_LOAD_FAST", "_STORE_FAST")
                       for u in opt["f"].block(label).uops)


def test_promote_is_idempotent_and_prints_back():
    module, prof = profiled(kernel_source("fib_mod"))
    fn, _, _ = optimized(module, prof, "fib_mod", "specialize,typeprop,guardelim,dse,promote",
                         constant_globals=CONSTANT_GLOBALS["fib_mod"], dispatcher=True)
    text = print_function(fn)
    again = PassManager(parse_pipeline("promote"), Instrumentation(verify_each=True))
    assert again.run_function(fn, PassContext(module=module)) is False
    assert print_function(fn) == text
    back = parse_module(text, "t.uop", header=False).functions[0]
    assert print_function(back) == text


@pytest.mark.parametrize("stem", ["fib_mod", "sum_loop"])
def test_every_bisect_prefix_is_valid(stem):
    """Stopping the pipeline after any number of transformations still verifies and
    still computes the right thing (promotion is all-or-nothing per local)."""
    src = kernel_source(stem)
    module, prof = profiled(src)
    pipeline = "dse,promote,dce"
    _, _, ctx = optimized(module, prof, stem, pipeline)
    total = ctx.transformations
    assert total > 3
    for limit in range(total + 1):
        fn, _, _ = optimized(module, prof, stem, pipeline, bisect_limit=limit)
        run = Tier2Run(compile_source(src, "prog.py"), {stem: fn})
        assert run.main() == kernel_expected(stem), limit


def test_module_level_loop_temps_are_promoted():
    """In <module>, user variables are globals (never promoted); hidden $ loop
    temps are locals."""
    src = "t = 0\nfor i in range(50):\n    t += i\nprint(t, i)\n"
    out, _, opt = run_optimized_program(src, ALL_MINE)
    assert out == run_cpython(src).stdout
    fn = opt["<module>"]
    assert "_STORE_FAST" not in names(fn)
    assert names(fn).count("_STORE_GLOBAL") == 3  # t = 0, i = ..., t += i


_GUARDED_ARM = """
func @f(a, c) locals(x) {
bb0:
  %1 = _LOAD_FAST a
  %2 = _LOAD_FAST c
  %3:int = _LOAD_CONST 7
  _BRANCH %2, ^bb1, ^bb2
bb1:
  _GUARD_TOS_INT %1 exit(bb1:0, %1)
  _STORE_FAST x ONE
  _JUMP ^bb3
bb2:
  _STORE_FAST x TWO
  _JUMP ^bb3
bb3:
  %4 = _LOAD_FAST x
  _RETURN %4
}
"""


@pytest.mark.parametrize("one, two, typed", [("%1", "%3", True), ("%3", "%1", False)])
def test_new_parameters_typed_only_from_dominating_guards(one, two, typed):
    """A guard types a parameter's argument only on edges it dominates: the guard
    on %1 in bb1 proves it an int on bb1's edge, not on bb2's."""
    fn = parse_fn(_GUARDED_ARM.replace("ONE", one).replace("TWO", two))
    run_passes(fn, "promote")
    (p,) = fn.block("bb3").params
    assert fn.types.get(p) == ("int" if typed else None)
