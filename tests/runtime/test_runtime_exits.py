"""Leaving machine code: exceptions end the program as CPython would, side exits resume
tier 1 exactly, refused frames run in the interpreter, recursion re-enters compiled code."""

import pytest

from runtime_util import cli, cpython_stderr, expected, frames, trace_json, write

BACKENDS = ["interp", "native", "unicorn"]

ZERO_DIVISION = """\
def f(n, z):
    t = 0
    for i in range(n):
        t += 100000 // (z - i)
    return t


def g(k):
    return f(k, k - 1)


print(f(10, 1000))
print(g(300))
"""


@pytest.mark.parametrize("passes", ["default", ""])
@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_division_in_compiled_code_ends_as_cpython(tmp_path, backend, passes):
    """`//` by zero in a hot loop (OSR-entered): the specialized uop exits to tier 1,
    which raises; with '' the generic uop's runtime helper raises inside machine code.
    The traceback has CPython's frames (one per call, the faulting line) and last line."""
    path = write(tmp_path, "prog", ZERO_DIVISION)
    status, out, err = cli("run", "--backend", backend, "--passes", passes, path)
    want = cpython_stderr(path)
    assert status == 1
    assert out == expected(ZERO_DIVISION.replace("print(g(300))\n", ""))
    assert err.splitlines()[-1] == want.splitlines()[-1]
    assert frames(err) == frames(want) == [(13, "<module>"), (9, "g"), (4, "f")]


INDEX = """\
def get(xs, n):
    s = 0
    for i in range(n):
        s += xs[i]
    return s


xs = [1, 2, 3] * 40
print(get(xs, 100))
print(get(xs, 130))
"""


@pytest.mark.parametrize("backend", ["native", "unicorn"])
def test_index_error_in_compiled_code(tmp_path, backend):
    path = write(tmp_path, "prog", INDEX)
    status, out, err = cli("run", "--backend", backend, path)
    want = cpython_stderr(path)
    assert status == 1 and out == expected(INDEX.replace("print(get(xs, 130))\n", ""))
    assert err.splitlines()[-1] == want.splitlines()[-1]
    assert frames(err) == frames(want)


OVERFLOW = """\
def acc(n):
    t = 2 ** 62
    for i in range(n):
        t += i * 10 ** 14
    return t


def mul(n):
    x = 1
    for i in range(n):
        x = x * 3
    return x


for k in range(3):
    print(acc(600))
print(mul(100), mul(30))
"""


@pytest.mark.parametrize("passes", ["default", "default,regalloc{algo=graph-coloring}"])
@pytest.mark.parametrize("backend", ["native", "unicorn"])
def test_int64_overflow_exits_and_resumes_exactly(tmp_path, backend, passes):
    path = write(tmp_path, "prog", OVERFLOW)
    report = trace_json(path, "--backend", backend, "--passes", passes)
    assert report["stdout"] == expected(OVERFLOW)
    assert report["totals"]["side_exits"] > 0


REFUSED = """\
def f(x):
    return x + 1


for i in range(40):
    f(i)
print(f(2 ** 70), f(1.5), f(True))
"""


@pytest.mark.parametrize("backend", ["native", "unicorn"])
def test_values_native_words_cannot_hold(tmp_path, backend):
    """After f is compiled for small ints, a big int, a float and a bool arrive: refused
    by the runner or sent back by a guard, the answer is CPython's."""
    path = write(tmp_path, "prog", REFUSED)
    report = trace_json(path, "--backend", backend)
    assert report["stdout"] == expected(REFUSED)
    version = report["functions"][0]
    assert version["tier2"] == backend and version["runs"] > 0
    assert version["refused"] + version["exits"] + version["interp_runs"] >= 1


RECURSION = """\
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


print(fib(16))
"""


@pytest.mark.parametrize("backend", ["native", "unicorn"])
def test_recursion_reenters_compiled_code(tmp_path, backend):
    """A runtime helper (the call) re-enters the same function's machine code; Unicorn
    gives each activation depth its own emulator."""
    path = write(tmp_path, "prog", RECURSION)
    report = trace_json(path, "--backend", backend)
    assert report["stdout"] == expected(RECURSION)
    (version,) = report["functions"]
    assert version["tier2"] == backend and version["runs"] > 100


UNBOUND = """\
def f(n):
    for i in range(n):
        if i == 200:
            y = i
    return y


print(f(300))
print(f(100))
"""


@pytest.mark.parametrize("backend", ["native", "unicorn"])
def test_unbound_local_after_compiled_loop(tmp_path, backend):
    path = write(tmp_path, "prog", UNBOUND)
    status, out, err = cli("run", "--backend", backend, path)
    want = cpython_stderr(path)
    assert status == 1 and out == "200\n"
    assert err.splitlines()[-1] == want.splitlines()[-1]
    assert frames(err) == frames(want)
