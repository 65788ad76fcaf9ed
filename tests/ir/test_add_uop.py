"""Adding a uop is one definition (README, "Adding a uop"): a fixture defines
`_BINARY_OP_POWER_INT` (int ** int) with `ir.uops.define` -- signature, flags, Python
semantics, type, specialization rule and C body in one `UopDef` -- and nothing else in
the workbench changes. Then `specialize` picks it for `**` on ints, typeprop knows its
result, and the same program runs on interp, native and unicorn, equal to CPython, with
its side exit taken where the result does not fit in 64 bits.

The new C body means new stencils: the emitter builds only the variants a function
needs (variants.variant_library), so the rebuild is the few stencils of this
program, into the JIT tests' private cache."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io

import pytest

from backends.copy_and_patch import cache
from helpers import compile_program, run_cpython
from ir.parser import parse_function
from ir.uops import (DEOPT, UOPS, Effect, Flag, U, UopDef, When, define, fits_int64,
                     undefine, validate)
from passes.base import PassContext
from passes.manager import Instrumentation, PassManager
from passes.pipeline import parse_pipeline


def _power_int(a: int, b: int):
    """int ** int for a non-negative exponent whose result fits in int64; else exit."""
    if b < 0 or (b >= 64 and abs(a) > 1):
        return DEOPT
    r = a ** b
    return r if fits_int64(r) else DEOPT


POWER_INT = UopDef(
    "_BINARY_OP_POWER_INT", inputs=("lhs", "rhs"), output=True,
    flags=Flag.PURE | Flag.DEOPT, effect=Effect.CHECKED, impl=_power_int,
    result="int", requires=("int", "int"),
    generic="_BINARY_OP", when=When(("int", "int"), "pair", ("**",)),
    doc="int ** int, exits on a negative exponent or a result past int64",
    stencil="""
        int64_t a = A, b = B, r = 1;
        EXIT_IF(b < 0);
        while (b) {
            if (b & 1) EXIT_IF(__builtin_mul_overflow(r, a, &r));
            b >>= 1;
            if (b) EXIT_IF(__builtin_mul_overflow(a, a, &a));
        }
        OUT = r;""")


@pytest.fixture
def power_uop(tmp_path):
    old = cache.use_cache_dir(tmp_path / "stencils")
    define(POWER_INT)
    yield POWER_INT
    undefine(POWER_INT.name)
    cache.use_cache_dir(old)


PROGRAM = """
def powers(n):
    total = 0
    for i in range(n):
        total += (i % 7) ** (i % 5) - (i % 3) ** 2
    return total


def big(n):
    x = 0
    for i in range(n):
        x = (i + 2) ** 70 if i == n - 1 else (i % 4) ** 3
    return x


print(powers(400))
print(big(300))
"""


def run(backend: str) -> tuple[str, object]:
    from workbench.runtime import Runtime

    runtime = Runtime(compile_program(PROGRAM), backend=backend)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runtime.run()
    return out.getvalue(), runtime


def test_the_name_is_checked_and_the_table_validated(power_uop):
    assert U._BINARY_OP_POWER_INT == "_BINARY_OP_POWER_INT"
    validate()
    with pytest.raises(AttributeError):
        U._BINARY_OP_POWER_INTT
    with pytest.raises(ValueError, match="already defined"):
        define(POWER_INT)
    # a definition that breaks an invariant is refused, and not left in the table
    bad = dataclasses.replace(POWER_INT, name="_BINARY_OP_POWER_INT2", flags=Flag.PURE)
    with pytest.raises(ValueError, match="DEOPT"):
        define(bad)
    assert "_BINARY_OP_POWER_INT2" not in UOPS


def test_specialize_and_typeprop_use_the_definition(power_uop):
    fn = parse_function("""
func @f(a, b) {
bb0:
  %0:int = _LOAD_FAST a
  %1:int = _LOAD_FAST b
  %2 = _BINARY_OP ** %0, %1
  _RETURN %2
}
""")
    PassManager(parse_pipeline("specialize,typeprop"), Instrumentation(verify_each=True)) \
        .run_function(fn, PassContext())
    names = [u.name for u in fn.blocks[0].uops]
    assert names == ["_LOAD_FAST", "_LOAD_FAST", "_GUARD_BOTH_INT", "_BINARY_OP_POWER_INT",
                     "_RETURN"]
    power = fn.blocks[0].uops[3]
    assert fn.types[power.output] == "int"


def test_new_uop_runs_on_interp_native_and_unicorn(power_uop):
    want = run_cpython(PROGRAM).stdout
    for backend in ("interp", "native", "unicorn"):
        out, runtime = run(backend)
        assert out == want, backend
        compiled = [t2 for _, t2 in runtime.all_tier2()]
        assert any(u.name == U._BINARY_OP_POWER_INT
                   for t2 in compiled for _, _, u in t2.opt.fn.uops()), backend
        if backend != "interp":
            assert all(t2.info.where == backend for t2 in compiled), \
                [(t2.info.where, t2.info.reason) for t2 in compiled]
            # big(): (n + 1) ** 70 does not fit: the new uop's side exit, to tier 1
            assert sum(t2.info.exits for t2 in compiled) >= 1


def test_the_fixture_leaves_the_table_as_it_was():
    assert "_BINARY_OP_POWER_INT" not in UOPS
    validate()
    unchanged = copy.copy(UOPS)
    assert unchanged.keys() == UOPS.keys()
