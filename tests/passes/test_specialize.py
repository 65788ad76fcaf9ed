"""specialize: generic uops -> guarded specialized uops, from the profile or static types."""

from __future__ import annotations

import contextlib
import copy
import io

import pytest

from backends.interp.interpreter import Interpreter
from backends.interp.profile import Profile
from helpers import KERNELS_DIR, compile_program, reduced_source, run_cpython
from ir.parser import parse_module
from ir.printer import print_function
from ir.uops import Flag
from passes.base import PassContext
from passes.manager import Instrumentation, PassManager
from passes.pipeline import parse_pipeline
from passes.specialize import Specialize


def profiled(source: str):
    module = compile_program(source)
    prof = Profile()
    with contextlib.redirect_stdout(io.StringIO()):
        Interpreter(module, prof).run_main()
    return module, prof


def optimize(module, name, pipeline, prof=None, consts=None, explain=None, limit=None):
    fn = copy.deepcopy(module.function(name))
    ctx = PassContext(module=module, profile=prof, constant_globals=consts or {},
                      explain=explain, bisect_limit=limit)
    PassManager(parse_pipeline(pipeline), Instrumentation(verify_each=True)).run_function(fn, ctx)
    return fn


def run_replaced(module, name, fn) -> tuple[str, Interpreter]:
    """Run the module with ``name`` replaced by ``fn``; a side exit fails the test."""
    m2 = copy.copy(module)
    m2.functions = [fn if f.name == name else f for f in module.functions]
    interp = Interpreter(m2)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        interp.run_main()
    return buf.getvalue(), interp


def names(fn, label):
    return [u.name for u in fn.block(label).uops]


# --------------------------------------------------------------------------- shapes

def test_sum_loop_is_specialized_cpython_style():
    src = reduced_source(KERNELS_DIR / "sum_loop.py")
    module, prof = profiled(src)
    fn = optimize(module, "sum_loop", "specialize", prof)
    assert names(fn, "bb1")[:4] == ["_LOAD_FAST", "_LOAD_FAST", "_GUARD_BOTH_INT",
                                    "_COMPARE_OP_INT"]
    assert "_GUARD_BOTH_INT" in names(fn, "bb2")
    assert names(fn, "bb2").count("_BINARY_OP_ADD_INT") == 2   # + and +=
    assert "_RANGE_ARG" not in names(fn, "bb0")              # guarded identity
    assert "_GUARD_TOS_INT" in names(fn, "bb0")
    assert not any(u.name in ("_BINARY_OP", "_COMPARE_OP") for _, _, u in fn.uops())


def tier1_live(block, index):
    """Tier-1 values defined before ``index`` and used at/after it, in definition order."""
    defined = [u.output for u in block.uops[:index] if u.output is not None]
    used = {v for u in block.uops[index:] for v in u.uses()}
    return [v for v in defined if v in used]


@pytest.mark.parametrize("kernel", ["sum_loop", "fib_mod", "mandelbrot", "sieve",
                                    "spectral_norm", "collatz"])
def test_exits_name_tier1_positions_and_live_values(kernel):
    src = reduced_source(KERNELS_DIR / f"{kernel}.py")
    module, prof = profiled(src)
    for tier1 in module.functions:
        fn = optimize(module, tier1.name, "specialize", prof,
                      consts={"MOD": 1_000_000_007})
        for b, _, u in fn.uops():
            assert (u.exit is not None) == u.defn.can_exit
            if u.exit is None:
                continue
            t1 = tier1.block(u.exit.block)
            generic = t1.uops[u.exit.index]
            assert generic.defn.has(Flag.PROFILE), (u.name, generic.name)
            assert u.exit.block == b.label
            assert [k for k, _ in u.exit.values] == tier1_live(t1, u.exit.index)
            assert u.exit.locals == []


def test_specialized_kernels_match_cpython():
    for kernel, consts in [("sum_loop", {}), ("fib_mod", {"MOD": 1_000_000_007}),
                           ("mandelbrot", {}), ("sieve", {}), ("collatz", {})]:
        src = reduced_source(KERNELS_DIR / f"{kernel}.py")
        module, prof = profiled(src)
        m2 = copy.copy(module)
        m2.functions = [f if f.name == "<module>" else
                        optimize(module, f.name, "specialize", prof, consts)
                        for f in module.functions]
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            Interpreter(m2).run_main()   # a side exit here would fail the test
        assert buf.getvalue() == run_cpython(src).stdout, kernel


# --------------------------------------------------------------------------- must not fire

POLY = """
def add(a, b):
    return a + b

if __name__ == "__main__":
    for k in range(10):
        add(k, 1)
        add(k * 0.5, 1.0)
    print(add(2, 3))
"""


def test_polymorphic_site_stays_generic():
    module, prof = profiled(POLY)
    explain: list[str] = []
    fn = optimize(module, "add", "specialize", prof, explain=explain)
    assert "_BINARY_OP" in names(fn, "bb0")
    assert not any(u.defn.is_guard for _, _, u in fn.uops())
    assert any("polymorphic: float, float | int, int" in line for line in explain)


def test_site_whose_guards_kept_exiting_stays_generic():
    src = reduced_source(KERNELS_DIR / "sum_loop.py")
    module, prof = profiled(src)
    site = ("sum_loop", "bb2", 7)          # total += i
    assert module.function("sum_loop").block("bb2").uops[7].name == "_BINARY_OP"
    prof.exits[site] = 7
    fn = optimize(module, "sum_loop", "specialize", prof)
    assert names(fn, "bb2").count("_BINARY_OP_ADD_INT") == 2
    prof.exits[site] = 8
    explain: list[str] = []
    fn = optimize(module, "sum_loop", "specialize", prof, explain=explain)
    assert names(fn, "bb2").count("_BINARY_OP_ADD_INT") == 1
    assert "_BINARY_OP" in names(fn, "bb2")
    assert any("exited 8 times" in line for line in explain)
    out, _ = run_replaced(module, "sum_loop", fn)
    assert out == run_cpython(src).stdout


def test_no_profile_no_types_nothing_happens():
    src = reduced_source(KERNELS_DIR / "sum_loop.py")
    module = compile_program(src)
    before = print_function(module.function("sum_loop"))
    fn = optimize(module, "sum_loop", "specialize", None)
    assert print_function(fn) == before


def test_constant_global_only_when_watched():
    src = reduced_source(KERNELS_DIR / "fib_mod.py")
    module, prof = profiled(src)
    plain = optimize(module, "fib_mod", "specialize", prof)
    assert "_LOAD_GLOBAL" in names(plain, "bb2")
    watched = optimize(module, "fib_mod", "specialize", prof, consts={"MOD": 1_000_000_007})
    consts = [u.imms[0] for u in watched.block("bb2").uops if u.name == "_LOAD_CONST"]
    assert 1_000_000_007 in consts and "_LOAD_GLOBAL" not in names(watched, "bb2")
    assert "_BINARY_OP_MODULO_INT" in names(watched, "bb2")
    out, _ = run_replaced(module, "fib_mod", watched)
    assert out == run_cpython(src).stdout


def test_second_run_changes_nothing():
    src = reduced_source(KERNELS_DIR / "mandelbrot.py")
    module, prof = profiled(src)
    once = optimize(module, "mandelbrot", "specialize", prof)
    twice = optimize(module, "mandelbrot", "specialize,specialize", prof)
    assert print_function(once) == print_function(twice)


def test_bisect_limit_counts_each_specialization():
    src = reduced_source(KERNELS_DIR / "sum_loop.py")
    module, prof = profiled(src)
    fn = optimize(module, "sum_loop", "specialize", prof, limit=2)
    assert sum(1 for _, _, u in fn.uops() if u.defn.is_guard) == 2   # _RANGE_ARG, <
    assert names(fn, "bb2").count("_BINARY_OP") == 2
    out, _ = run_replaced(module, "sum_loop", fn)
    assert out == run_cpython(src).stdout


def test_deterministic_output():
    src = reduced_source(KERNELS_DIR / "spectral_norm.py")
    outs = set()
    for _ in range(2):
        module, prof = profiled(src)
        outs.add("".join(print_function(optimize(module, f.name, "specialize", prof))
                         for f in module.functions))
    assert len(outs) == 1


# --------------------------------------------------------------------------- rewrites

def specialize_text(text: str) -> str:
    m = parse_module(text)
    fn = m.functions[0]
    ctx = PassContext(module=m)
    PassManager([Specialize()], Instrumentation(verify_each=True)).run_function(fn, ctx)
    return print_function(fn)


def test_identity_rewrites_forward_uses_including_exits():
    out = specialize_text("""module 'm'
func @f(a, n) {
bb0:
  %0:bool = _LOAD_FAST a
  %1 = _TO_BOOL %0
  %2:int = _LOAD_FAST n
  %3 = _RANGE_ARG %2
  %4 = _LOAD_CONST 1
  %5 = _BINARY_OP + %3, %4
  %6 = _BUILD_TUPLE %1, %5
  _RETURN %6
}
""")
    assert "_GUARD_TOS_BOOL %0 exit(bb0:1, %0)" in out
    assert "_GUARD_TOS_INT %2 exit(bb0:3, %1=%0, %2)" in out
    # %3 was forwarded to %2: the add reads %2 and its exit restores tier-1 %3 from %2
    assert "%5 = _BINARY_OP_ADD_INT %2, %4 exit(bb0:5, %1=%0, %3=%2, %4)" in out
    assert "%6 = _BUILD_TUPLE %0, %5" in out


@pytest.mark.parametrize("op,types,expect", [
    ("-", ("int", "int"), "_BINARY_OP_SUBTRACT_INT"),
    ("<<=", ("int", "int"), "_BINARY_OP_LSHIFT_INT"),
    ("^", ("int", "int"), "_BINARY_OP_XOR_INT"),
    ("*", ("float", "float"), "_BINARY_OP_MULTIPLY_FLOAT"),
    ("-", ("int", "float"), "_BINARY_OP_SUBTRACT_FLOAT"),
    ("/", ("int", "int"), "_BINARY_OP_TRUEDIV_FLOAT"),
    ("**", ("int", "int"), None),
    ("//", ("float", "float"), None),
    ("+", ("str", "str"), None),
    ("+", ("bool", "int"), None),
])
def test_binary_operator_table(op, types, expect):
    out = specialize_text(f"""module 'm'
func @f(a, b) {{
bb0:
  %0:{types[0]} = _LOAD_FAST a
  %1:{types[1]} = _LOAD_FAST b
  %2 = _BINARY_OP {op} %0, %1
  _RETURN %2
}}
""")
    if expect is None:
        assert f"_BINARY_OP {op} %0, %1" in out and "_GUARD" not in out
    else:
        assert f"%2 = {expect} " in out


def test_unary_and_compare():
    out = specialize_text("""module 'm'
func @f(a, x) {
bb0:
  %0:int = _LOAD_FAST a
  %1:float = _LOAD_FAST x
  %2 = _UNARY_OP neg %0
  %3 = _UNARY_OP invert %0
  %4 = _UNARY_OP neg %1
  %5 = _UNARY_OP invert %1
  %6 = _COMPARE_OP >= %1, %1
  %7 = _COMPARE_OP is %0, %0
  %8 = _BUILD_TUPLE %2, %3, %4, %5, %6, %7
  _RETURN %8
}
""")
    assert "%2 = _UNARY_NEGATIVE_INT %0 exit(bb0:2" in out
    assert "%3 = _UNARY_INVERT_INT %0\n" in out
    assert "%4 = _UNARY_NEGATIVE_FLOAT %1\n" in out
    assert "%5 = _UNARY_OP invert %1" in out
    assert "_GUARD_TOS_FLOAT %1 exit(bb0:6" in out and "%6 = _COMPARE_OP_FLOAT >= %1, %1" in out
    assert "%7 = _COMPARE_OP is %0, %0" in out


LISTS = """
def f(n):
    xs = []
    for i in range(n):
        xs.append(i)
    t = 0
    for j in range(len(xs)):
        xs[j] = xs[j] * 2
        t += xs[j]
    if xs:
        t += 1
    return t

if __name__ == "__main__":
    print(f(50))
"""


def test_list_uops_run_like_cpython():
    module, prof = profiled(LISTS)
    fn = optimize(module, "f", "specialize", prof)
    used = {u.name for _, _, u in fn.uops()}
    assert {"_LIST_APPEND", "_LIST_LEN", "_BINARY_SUBSCR_LIST_INT", "_STORE_SUBSCR_LIST_INT",
            "_TO_BOOL_LIST", "_GUARD_NOS_LIST", "_GUARD_TOS_LIST"} <= used
    out, _ = run_replaced(module, "f", fn)
    assert out == run_cpython(LISTS).stdout


def test_type_changes_after_warm_up_resume_tier1_exactly():
    """The tiered runtime: guards fail (ints outgrow 64 bits, then floats arrive),
    side exits resume tier 1 with exact values, output is CPython's."""
    from workbench.runtime import Runtime

    src = """
def acc(n, x):
    t = x
    for i in range(n):
        t = t * 3 + i
    return t

if __name__ == "__main__":
    for k in range(40):
        print(acc(30, k))
    for k in range(40):
        print(acc(50, 1))
    print(acc(10, 0.5))
"""
    module = compile_program(src)
    rt = Runtime(module, passes="specialize")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rt.run()
    assert buf.getvalue() == run_cpython(src).stdout
    assert rt.trace.side_exits > 0
