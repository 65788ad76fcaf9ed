"""typeprop: type facts by abstract interpretation, and the ``typefacts`` analysis."""

from __future__ import annotations

import contextlib
import copy
import io

import pytest

from backends.interp.interpreter import Interpreter, SideExit
from backends.interp.profile import Profile
from helpers import KERNELS_DIR, compile_program, reduced_source, run_cpython
from ir.core import Exit, Uop
from ir.parser import parse_module
from ir.printer import print_function
from passes.base import PassContext
from passes.manager import Instrumentation, PassManager
from passes.pipeline import parse_pipeline
from passes.typefacts import BOTTOM, TOP, const_type, join, meet
from passes.typeprop import ENTRY, TypeProp, analyze

CONSTS = {"MOD": 1_000_000_007}


def profiled(source: str):
    module = compile_program(source)
    prof = Profile()
    with contextlib.redirect_stdout(io.StringIO()):
        Interpreter(module, prof).run_main()
    return module, prof


def optimize(module, name, pipeline, prof=None, consts=None, ctx=None):
    fn = copy.deepcopy(module.function(name))
    ctx = ctx or PassContext(module=module, profile=prof, constant_globals=consts or {})
    PassManager(parse_pipeline(pipeline), Instrumentation(verify_each=True)).run_function(fn, ctx)
    return fn


def parse_fn(text: str):
    return parse_module(text).functions[0]


# --------------------------------------------------------------------------- lattice

def test_lattice():
    assert join("int", "int") == "int"
    assert join(BOTTOM, "float") == "float"
    assert join("int", "float") == TOP and join("int", "bool") == TOP
    assert meet(TOP, "list") == "list" and meet("int", "float") == BOTTOM
    assert const_type(2**63 - 1) == "int" and const_type(2**63) == TOP
    assert const_type(True) == "bool" and const_type(None) == "none"
    assert const_type(1.5) == "float" and const_type("s") == "str"


# --------------------------------------------------------------------------- kernels

def test_sum_loop_facts_and_changed_flag():
    src = reduced_source(KERNELS_DIR / "sum_loop.py")
    module, prof = profiled(src)
    fn = optimize(module, "sum_loop", "specialize", prof)
    ctx = PassContext(module=module)
    assert TypeProp().run(fn, ctx) is True
    t = fn.types
    loads = {u.imms[0]: u.output for u in fn.block("bb1").uops if u.name == "_LOAD_FAST"}
    assert t[loads["$cur0"]] == "int" and t[loads["$stop1"]] == "int"
    assert all(t.get(u.output) == "int" for u in fn.block("bb2").uops
               if u.name in ("_LOAD_FAST", "_BINARY_OP_ADD_INT"))
    n_load = fn.block("bb0").uops[2]
    assert n_load.imms == ("n",) and n_load.output not in t     # a parameter: unknown
    ctx2 = PassContext(module=module)
    assert TypeProp().run(fn, ctx2) is False                      # nothing new


def test_only_facts_change():
    src = reduced_source(KERNELS_DIR / "mandelbrot.py")
    module, prof = profiled(src)
    fn = optimize(module, "mandelbrot", "specialize", prof)
    before = copy.deepcopy(fn)
    stale = max(fn.types, default=0) + 1000
    fn.types[stale] = "int"                 # a stale fact is cleared
    TypeProp().run(fn, PassContext(module=module))
    assert stale not in fn.types
    fn.types.clear()
    assert print_function(fn) == print_function(before)
    assert TypeProp.preserves == "all"


def test_typefacts_analysis_explains_redundant_guards():
    src = reduced_source(KERNELS_DIR / "sum_loop.py")
    module, prof = profiled(src)
    fn = optimize(module, "sum_loop", "specialize", prof)
    ctx = PassContext(module=module)
    facts = ctx.get("typefacts", fn)
    assert ctx.get("typefacts", fn) is facts            # cached
    red = facts.redundant
    assert list(red) == [("bb1", 2), ("bb2", 2), ("bb2", 8)]
    assert red[("bb1", 2)].startswith(
        "%4:int (stored to $cur0 by _LOAD_CONST 0 in bb0 and _BINARY_OP_ADD_INT in bb2, "
        "joined at bb1), %5:int (stored to $stop1 by _LOAD_FAST n guarded at bb0:3")
    assert "%8:int (constant 1)" in red[("bb2", 2)]
    g = facts.guards[("bb0", 3)]
    assert g.name == "_GUARD_TOS_INT" and not g.redundant and g.inputs[0].type == TOP
    assert g.inputs[0].locals == ("n",)
    assert facts.locals_in["bb1"]["total"].type == "int"


@pytest.mark.parametrize("kernel", ["sum_loop", "fib_mod", "mandelbrot", "sieve",
                                    "spectral_norm", "collatz", "gcd_sum", "fib_big"])
def test_recorded_facts_hold_at_run_time(kernel):
    """Every %v:T recorded is checked by a guard inserted after its definition; the
    program must run to CPython's output without any of them failing."""
    src = reduced_source(KERNELS_DIR / f"{kernel}.py")
    module, prof = profiled(src)
    m2 = copy.copy(module)
    m2.functions = []
    checked = 0
    for f in module.functions:
        fn = optimize(module, f.name, "specialize,typeprop", prof, CONSTS)
        checked += instrument(fn)
        m2.functions.append(fn)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            Interpreter(m2).run_main()
        except SideExit as e:
            assert e.exit.block != "check", "a recorded fact is false"
            assert kernel == "fib_big", f"unexpected side exit {e.exit}"
            return  # fib_big's int outgrew int64: a real exit, the facts held so far
    assert checked > 0
    assert buf.getvalue() == run_cpython(src).stdout


def instrument(fn) -> int:
    """After each value with a guardable fact, a guard checking it (exits to a fake
    position: only tests read it)."""
    n = 0
    for b in fn.blocks:
        new = []
        for p in b.params:
            if fn.types.get(p) in ("int", "float", "bool", "list"):
                new.append(Uop(f"_GUARD_TOS_{fn.types[p].upper()}", [p], exit=Exit("check", 0)))
                n += 1
        for u in b.uops:
            new.append(u)
            t = fn.types.get(u.output) if u.output is not None else None
            if t in ("int", "float", "bool", "list") and not u.defn.is_terminator:
                new.append(Uop(f"_GUARD_TOS_{t.upper()}", [u.output],
                               exit=Exit("check", 0)))
                n += 1
        if new[-1] is not b.uops[-1]:
            new.remove(b.uops[-1])
            new.append(b.uops[-1])
        b.uops = new
    return n


# --------------------------------------------------------------------------- shapes

MERGE = """module 'm'
func @m(c) locals(x, y, z) {
bb0:
  %0 = _LOAD_FAST c
  _BRANCH %0, ^bb1, ^bb2
bb1:
  %1 = _LOAD_CONST 1
  _STORE_FAST x %1
  _STORE_FAST y %1
  _JUMP ^bb3
bb2:
  %2 = _LOAD_CONST 2.5
  _STORE_FAST x %2
  %3 = _LOAD_CONST 4
  _STORE_FAST y %3
  _JUMP ^bb3
bb3:
  %4 = _LOAD_FAST x
  %5 = _LOAD_FAST y
  %6 = _LOAD_FAST_CHECK z
  %7 = _BUILD_LIST %4, %5
  %8 = _COMPARE_OP in %4, %7
  %9 = _UNARY_NOT %8
  _RETURN %9
}
"""


def test_merge_of_int_and_float_is_unknown():
    fn = parse_fn(MERGE)
    facts = analyze(fn)
    assert facts.values[4] == TOP                     # int | float
    assert facts.values[5] == "int"                   # int | int
    assert facts.values[6] == BOTTOM                  # never bound: unreachable value
    assert facts.values[7] == "list" and facts.values[8] == "bool"
    assert facts.values[9] == "bool"
    TypeProp().run(fn, PassContext())
    assert 4 not in fn.types and 6 not in fn.types and fn.types[5] == "int"


def test_loop_iterates_to_fixed_point():
    # x starts int; the loop turns it float on the back edge: unknown at the header
    fn = parse_fn("""module 'm'
func @f(n) locals(x) {
bb0:
  %0 = _LOAD_CONST 0
  _STORE_FAST x %0
  _JUMP ^bb1
bb1:
  %1 = _LOAD_FAST x
  %2 = _LOAD_FAST n
  %3 = _COMPARE_OP < %1, %2
  _BRANCH %3, ^bb2, ^bb3
bb2:
  %4 = _LOAD_FAST x
  %5 = _LOAD_CONST 0.5
  %6 = _BINARY_OP_ADD_FLOAT %5, %5
  _STORE_FAST x %6
  _JUMP ^bb1
bb3:
  _RETURN %1
}
""")
    facts = analyze(fn)
    assert facts.values[1] == TOP and facts.values[4] == TOP and facts.values[6] == "float"
    assert facts.locals_in["bb3"]["x"].type == TOP


def test_block_params_join_incoming_arguments():
    fn = parse_fn("""module 'm'
func @f(a) {
bb0:
  %0 = _LOAD_CONST 1
  %1 = _LOAD_CONST 2.0
  %2 = _LOAD_FAST a
  _GUARD_TOS_LIST %2 exit(bb0:3, %2)
  _BRANCH %0, ^bb1(%0, %1, %2), ^bb1(%0, %0, %2)
bb1(%3, %4, %5):
  %6 = _LIST_LEN %5
  _RETURN %6
}
""")
    facts = analyze(fn)
    assert facts.values[3] == "int" and facts.values[4] == TOP
    assert facts.values[5] == "list"                 # the guarded argument, not its def
    assert facts.values[2] == TOP
    assert facts.values[6] == "int"


def test_osr_entries_are_unknown_unless_assumed():
    fn = parse_fn("""module 'm'
func @f(n) locals(i) {
entry0:
  _ENTRY ^bb0, ^bb1
bb0:
  %0 = _LOAD_CONST 0
  _STORE_FAST i %0
  _JUMP ^bb1
bb1:
  %1 = _LOAD_FAST i
  %2 = _LOAD_CONST 1
  %3 = _BINARY_OP_ADD_INT %1, %2 exit(bb1:2, %1, %2)
  _STORE_FAST i %3
  _JUMP ^bb1
}
""")
    assert analyze(fn).values[1] == TOP                          # sound
    assert analyze(fn, osr="ignore").values[1] == "int"          # function entry alone
    assert analyze(fn, assume={"bb1": {"i": "int"}}).values[1] == "int"
    assert analyze(fn, assume={"bb1": {"i": "float"}}).values[1] == TOP
    assert analyze(fn, assume={ENTRY: {"n": "int"}}).locals_in["bb1"]["n"].type == TOP


def test_guard_narrows_aliases_until_a_store():
    fn = parse_fn("""module 'm'
func @f(a) locals(b) {
bb0:
  %0 = _LOAD_FAST a
  _STORE_FAST b %0
  %1 = _LOAD_FAST a
  %2 = _LOAD_FAST b
  _GUARD_TOS_FLOAT %2 exit(bb0:3, %1, %2)
  %3 = _BINARY_OP_ADD_FLOAT %0, %1
  %4 = _LOAD_FAST a
  %5 = _LOAD_CONST 'x'
  _STORE_FAST a %5
  %6 = _LOAD_FAST a
  %7 = _LOAD_FAST b
  _RETURN %3
}
""")
    facts = analyze(fn)
    g = facts.guards[("bb0", 4)]
    assert g.inputs[0].locals == ("a", "b")
    assert facts.values[4] == "float"        # a still holds the guarded object
    assert facts.values[6] == "str" and facts.values[7] == "float"
    assert facts.values[0] == TOP            # facts at definitions are flow-insensitive


def test_range_arg_of_big_ints_is_not_int():
    fn = parse_fn("""module 'm'
func @f(a) {
bb0:
  %0 = _LOAD_FAST a
  %1 = _RANGE_ARG %0
  %2 = _LOAD_CONST 3
  %3 = _RANGE_ARG %2
  %4 = _BUILD_TUPLE %1, %3
  _RETURN %4
}
""")
    facts = analyze(fn)
    assert facts.values[1] == TOP and facts.values[3] == "int"


@pytest.mark.parametrize("kernel", ["sum_loop", "mandelbrot", "sieve", "spectral_norm"])
def test_forgetting_block_local_values_changes_no_fact(kernel, monkeypatch):
    """``holders``/``refined`` drop values used only in their own block when the
    block is left (what keeps the analysis linear); the facts must be those of
    tracking everything."""
    import passes.typeprop as tp

    src = reduced_source(KERNELS_DIR / f"{kernel}.py")
    module, prof = profiled(src)
    for f in module.functions:
        for pipeline in ("specialize", "specialize,typeprop,guardelim,dse,promote"):
            fn = optimize(module, f.name, pipeline, prof, CONSTS)
            pruned = analyze(fn)
            with monkeypatch.context() as m:
                m.setattr(tp._Analyzer, "block_local_values", lambda self: set())
                full = analyze(fn)
            assert pruned.values == full.values
            assert {k: [(i.type, i.proven, i.locals) for i in g.inputs]
                    for k, g in pruned.guards.items()} == \
                   {k: [(i.type, i.proven, i.locals) for i in g.inputs]
                    for k, g in full.guards.items()}
            assert pruned.redundant == full.redundant


def test_explanations_describe_the_function_as_analyzed():
    """Explanations are computed when first asked for, from a snapshot: a pass may
    remove guards after taking the facts (guardelim does) and still explain."""
    src = reduced_source(KERNELS_DIR / "sum_loop.py")
    module, prof = profiled(src)
    fn = optimize(module, "sum_loop", "specialize", prof)
    expected = analyze(fn).redundant
    facts = analyze(fn)
    assert facts._why is None                       # nothing explained yet
    for b in fn.blocks:
        b.uops = [u for u in b.uops if not u.defn.is_guard]
    assert facts.redundant == expected
    assert facts.why and all(isinstance(w, str) for w in facts.why.values())
