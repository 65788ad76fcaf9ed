"""Calls between compiled functions: a hot callee's machine code is entered straight
from the call helper of a compiled caller (Runtime.fast_caller) and must behave exactly
as the generic path: CPython's results, exceptions with CPython's traceback frames,
recursion and its limit, side exits of the callee resuming in tier 1, and the callee's
code dropped (and re-entered once re-optimized) when its globals or types change."""

import contextlib
import io
import sys

import pytest

from call_programs import GLOBALS, TYPES
from runtime_util import cli, cpython_stderr, expected, frames, trace_json, write

PASSES = ["default", "", "default,regalloc{algo=linear-scan}"]

VALUES = """\
def sq(x):
    return x * x


def half(a):
    return a / 2


def even(n):
    return n % 2 == 0


def first(xs):
    return xs[0]


def mix(i):
    if i % 3 == 0:
        return i
    if i % 3 == 1:
        return 0.5 * i
    return [i]


def drive(n, xs):
    t = 0
    f = 0.0
    c = 0
    m = 0
    for i in range(n):
        t += sq(i) + first(xs)
        f += half(i)
        if even(i):
            c += 1
        v = mix(i)
        if i % 3 == 2:
            m += v[0]
        else:
            f += v
    print(t, f, c, m)


drive(300, [4, 5])
drive(300, [7])
print(sq(3_000_000_000), sq(2 ** 40), half(7), mix(5))
"""


@pytest.mark.parametrize("passes", PASSES)
def test_calls_between_compiled_functions_give_cpythons_results(tmp_path, passes):
    """Ints (up to and past 64 bits), floats, bools, lists and mixed return types
    through compiled caller -> compiled callee."""
    path = write(tmp_path, "prog", VALUES)
    report = trace_json(path, "--backend", "native", "--passes", passes)
    assert report["stdout"] == expected(VALUES)
    ran = {v["function"]: v for v in report["functions"]}
    assert ran["sq"]["tier2"] == "native" and ran["sq"]["runs"] > 100


def _runtime(source: str, passes: str = "default"):
    """The program run in-process with the native backend: (runtime, stdout)."""
    from ir.frontend import compile_source
    from workbench.runtime import Runtime

    rt = Runtime(compile_source(source, "prog.py"), backend="native", passes=passes)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), _deep_python_stack():
        rt.run()
    return rt, out.getvalue()


@contextlib.contextmanager
def _deep_python_stack():
    """Python's recursion limit as `workbench run` sets it (several Python frames per
    call of the program)."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def test_hot_callee_is_entered_directly():
    """Once hot, the callee's code is in Interpreter.fast_calls, and the call depth is
    back to zero when the program ends."""
    rt, out = _runtime(VALUES)
    assert out == expected(VALUES)
    assert {"sq", "half", "even", "first", "mix"} <= set(rt.interp.fast_calls)
    assert rt.interp.depth == 0


RAISES = """\
def inv(x, k):
    return 1000 // (x - k)


def outer(n, k):
    t = 0
    for i in range(n):
        t += inv(i, k)
    return t


print(outer(100, 500))
print(outer(100, 50))
"""


@pytest.mark.parametrize("passes", PASSES)
def test_exception_in_compiled_callee_has_cpythons_traceback(tmp_path, passes):
    """ZeroDivisionError in the directly-called callee (its specialized `//` exits to
    tier 1, which raises; with '' the generic helper raises in machine code): one frame
    per call, the faulting lines, CPython's last line."""
    path = write(tmp_path, "prog", RAISES)
    status, out, err = cli("run", "--backend", "native", "--passes", passes, path)
    want = cpython_stderr(path)
    assert status == 1
    assert out == expected(RAISES.replace("print(outer(100, 50))\n", ""))
    assert err.splitlines()[-1] == want.splitlines()[-1]
    assert frames(err) == frames(want) == [(13, "<module>"), (8, "outer"), (2, "inv")]


DEEP = """\
def down(n):
    if n == 0:
        return 0
    return 1 + down(n - 1)


t = 0
for i in range(40):
    t += down(i)
print(t, down(900))
print(down(5000))
"""


@pytest.mark.parametrize("passes", ["default", ""])
def test_recursion_through_direct_calls_and_its_limit(tmp_path, passes):
    """Compiled code calling itself directly: deep recursion works, and past the limit
    the RecursionError ends the program as CPython's does."""
    path = write(tmp_path, "prog", DEEP)
    status, out, err = cli("run", "--backend", "native", "--passes", passes, path)
    want = cpython_stderr(path)
    assert status == 1
    assert out == expected(DEEP.replace("print(down(5000))\n", ""))
    assert err.splitlines()[-1] == want.splitlines()[-1]
    assert frames(err)[:2] == frames(want)[:2] == [(11, "<module>"), (4, "down")]


def test_depth_is_restored_after_errors():
    """An exception out of a direct call leaves the runtime's call depth balanced."""
    src = DEEP.replace("print(down(5000))\n", "")
    rt, out = _runtime(src)
    assert out == expected(src) and "down" in rt.interp.fast_calls
    with pytest.raises(RecursionError), _deep_python_stack():
        rt.interp.call("down", [5000])
    assert rt.interp.depth == 0
    assert rt.interp.call("down", [10]) == 10


@pytest.mark.parametrize("passes", ["default", "default,regalloc{algo=linear-scan}"])
def test_callee_globals_change_while_caller_is_compiled(tmp_path, passes):
    """The callee folded K; writing K drops its code (and its direct entry), the next
    calls re-optimize it with the new value, the compiled caller keeps calling it."""
    path = write(tmp_path, "prog", GLOBALS)
    report = trace_json(path, "--backend", "native", "--passes", passes)
    assert report["stdout"] == expected(GLOBALS)
    versions = [v for v in report["functions"] if v["function"] == "addk"]
    assert len(versions) >= 2 and all(v["tier2"] == "native" for v in versions)


@pytest.mark.parametrize("passes", PASSES)
def test_callee_exits_and_reoptimization_under_a_compiled_caller(tmp_path, passes):
    """The callee's guards fail (floats, ints past 64 bits, strings): its side exits
    resume tier 1 exactly, repeated exits re-optimize it while the caller stays
    compiled, and every line is CPython's."""
    path = write(tmp_path, "prog", TYPES)
    report = trace_json(path, "--backend", "native", "--passes", passes)
    assert report["stdout"] == expected(TYPES)


def test_reoptimized_callee_replaces_the_direct_entry():
    """After the callee is re-optimized the direct entry runs the new code."""
    rt, out = _runtime(TYPES)
    assert out == expected(TYPES)
    scale = [t2 for name, t2 in rt.all_tier2() if name == "scale"]
    assert len(scale) >= 2
    live = rt.tier2.get("scale")
    if live is not None and "scale" in rt.interp.fast_calls:
        before = live.info.runs
        assert rt.interp.call("scale", [7]) == 21 or live.info.exits
        assert live.info.runs == before + 1
    for name, _ in rt.retired:
        assert rt.interp.fast_calls.get(name) is None or rt.tier2.get(name) is not None


@pytest.mark.parametrize("backend", ["unicorn", "interp"])
def test_other_backends_keep_the_generic_path(tmp_path, backend):
    path = write(tmp_path, "prog", RAISES)
    status, out, err = cli("run", "--backend", backend, path)
    assert status == 1 and frames(err) == frames(cpython_stderr(path))
    path = write(tmp_path, "prog2", GLOBALS)
    status, out, err = cli("run", "--backend", backend, path)
    assert (status, out) == (0, expected(GLOBALS))
