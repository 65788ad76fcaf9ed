"""Compiled code on CPython's objects, end to end: C-API errors are CPython's exceptions
(message, exit status, last traceback line), `--boxed` keeps every value a `PyObject *`
and still prints CPython's output, Unicorn counts the C-API calls per uop, and a machine
without the interpreter's headers gets a one-line error naming what to install."""

import json

import pytest

from helpers import last_line, run_cli, run_python

ERRORS = {
    # a generic `+` on objects of types that do not add: PyNumber_Add's TypeError
    "type_error": """
def f(xs, n):
    t = 0
    for i in range(n):
        t = t + xs[i % len(xs)]
    return t

print(f([1, 2, 3], 300))
print(f([1, 2, "x"], 300))
""",
    # an index past the end of a list in a hot loop (the specialized subscript exits,
    # tier 1 raises the IndexError)
    "index_error": """
def g(xs, n):
    t = 0.0
    for i in range(n):
        t = t + xs[i]
    return t

XS = []
for i in range(200):
    XS.append(i * 0.5)
print(g(XS, 200))
print(g(XS, 201))
""",
    # a division by zero in generic code (PyNumber_FloorDivide raises)
    "zero_division": """
def h(n, k):
    t = 0
    for i in range(n):
        t = t + 1000 // (i - k)
    return t

print(h(100, -1))
print(h(100, 50))
""",
}


@pytest.mark.parametrize("extra", [[], ["--boxed"]], ids=["unboxed", "boxed"])
@pytest.mark.parametrize("passes", ["", "default", "default,regalloc"])
@pytest.mark.parametrize("backend", ["native", "unicorn"])
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_are_cpythons(tmp_path, name, backend, passes, extra):
    path = tmp_path / f"{name}.py"
    path.write_text(ERRORS[name])
    want = run_python(path)
    got = run_cli("run", "--backend", backend, "--passes", passes, *extra, path)
    assert (got.returncode, got.stdout) == (want.returncode, want.stdout) == (1, got.stdout)
    assert last_line(got.stderr) == last_line(want.stderr)
    # the traceback names the same line of the program as CPython's
    assert [ln for ln in got.stderr.splitlines() if "line " in ln][-1:] == \
        [ln for ln in want.stderr.splitlines() if "line " in ln][-1:]


SUM_LOOP = """
def sum_loop(n):
    total = 0
    for i in range(n):
        total += i
    return total

print(sum_loop(3000))
"""


def test_boxed_keeps_objects_and_unicorn_counts_the_calls(tmp_path):
    path = tmp_path / "sum_loop.py"
    path.write_text(SUM_LOOP)
    reports = {}
    for extra in ([], ["--boxed"]):
        r = run_cli("trace", "--backend", "unicorn", "--json", "--passes",
                    "default,regalloc", *extra, path)
        assert r.returncode == 0, r.stderr
        reports[bool(extra)] = json.loads(r.stdout)
    unboxed, boxed = reports[False], reports[True]
    assert unboxed["stdout"] == boxed["stdout"] == f"{sum(range(3000))}\n"
    # unboxed: the loop is raw int64 arithmetic, no call at all; boxed: every add makes
    # an int object (PyLong_FromLongLong) and frees the one it replaces
    assert unboxed["totals"]["calls"] == 0
    assert boxed["totals"]["calls"] >= 3000
    adds = [r for r in boxed["per_uop"] if r["uop"] == "_BINARY_OP_ADD_INT"]
    assert adds and sum(r["calls"] for r in adds) >= 3000
    assert sum(r["calls"] for r in boxed["per_uop"]) == boxed["totals"]["calls"]


def test_asm_boxed_calls_the_c_api(tmp_path):
    path = tmp_path / "sum_loop.py"
    path.write_text(SUM_LOOP)
    plain = run_cli("asm", "--passes", "default,regalloc", path)
    boxed = run_cli("asm", "--passes", "default,regalloc", "--boxed", path)
    assert plain.returncode == boxed.returncode == 0
    assert "call PyLong_FromLongLong" in boxed.stdout
    assert "call PyLong_FromLongLong" not in plain.stdout


def test_missing_python_headers_is_one_line(monkeypatch, tmp_path):
    import sysconfig

    from backends.copy_and_patch import compiler

    compiler.include_flags.cache_clear()
    real = sysconfig.get_paths
    monkeypatch.setattr(sysconfig, "get_paths",
                        lambda *a, **k: {**real(*a, **k), "include": str(tmp_path)})
    try:
        with pytest.raises(compiler.StencilBuildError) as e:
            compiler.include_flags()
    finally:
        compiler.include_flags.cache_clear()
    msg = str(e.value)
    assert "\n" not in msg and "Python.h" in msg and "python3-dev" in msg
