"""Direct calls from machine code to machine code (backends.native.direct): a compiled
caller's `_CALL_DIRECT_{n}` stencil enters a qualifying callee's code through its cell on
the native frame stack, without Python. The path must be taken (counted by the stack
header) and must behave exactly as the helper path it replaces: CPython's results and
tracebacks, callee side exits resumed in tier 1 (never re-running the call), the depth
limit, cells following the callee's code as it is dropped and re-optimized. Every program
also runs with direct calls switched off (Runtime(direct_calls=False))."""

import contextlib
import io
import sys

import pytest

from call_programs import GLOBALS, TYPES
from runtime_util import cli, cpython_stderr, expected, frames, write

PASSES = ["default", "", "default,regalloc{algo=linear-scan}",
          "default,regalloc{algo=graph-coloring}"]

LEAVES = """\
def sq(x):
    return x * x


def half(a):
    return a / 2


def even(n):
    return n % 2 == 0


def pick(i):
    if i % 4 == 3:
        return [i]
    if i % 4 == 1:
        return 0.5 * i
    return i


def gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def drive(n, big):
    t = 0
    f = 0.0
    c = 0
    m = 0
    g = 0
    for i in range(n):
        t += sq(i + big)
        f += half(i)
        if even(i):
            c += 1
        v = pick(i)
        if i % 4 == 3:
            m += v[0]
        else:
            f += v
        g += gcd(i, 36)
    print(t, f, c, m, g)


drive(300, 0)
drive(300, 3_000_000_000)
drive(50, 2 ** 70)
print(sq(2 ** 40), half(7), pick(3), gcd(2 ** 80, 2 ** 70))
"""


def _runtime(source: str, passes: str = "default", direct: bool = True):
    """The program run in-process natively: (runtime, stdout, exception or None)."""
    from ir.frontend import compile_source
    from workbench.runtime import Runtime

    rt = Runtime(compile_source(source, "prog.py"), backend="native", passes=passes,
                 direct_calls=direct)
    out = io.StringIO()
    error = None
    with contextlib.redirect_stdout(out), _deep_python_stack():
        try:
            rt.run()
        except Exception as e:  # noqa: BLE001 - compared with CPython's by the tests
            error = e
    return rt, out.getvalue(), error


def _cpython_stdout(path) -> str:
    """CPython's stdout of the script (as a script: its recursion limit is exact)."""
    import subprocess

    from helpers import PYTHON, plain_env

    return subprocess.run([PYTHON, str(path)], capture_output=True, text=True,
                          env=plain_env(), cwd=path.parent).stdout


@contextlib.contextmanager
def _deep_python_stack():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("passes", PASSES)
def test_direct_calls_are_taken_and_give_cpythons_results(passes):
    """Ints (up to and past 64 bits: the callee's overflow exits), floats, bools, a
    callee returning a list (an object: finished in Python) through direct calls."""
    want = expected(LEAVES)
    rt, out, error = _runtime(LEAVES, passes)
    assert error is None and out == want
    assert rt.direct is not None
    if passes:   # with '' every callee calls generic helpers: none qualifies
        assert rt.direct.calls > 500
        assert {"half", "even", "gcd"} <= set(rt.direct.installed)  # sq: re-optimized
    assert rt.interp.depth == 0
    rt2, out2, error2 = _runtime(LEAVES, passes, direct=False)
    assert error2 is None and out2 == want and rt2.direct is None


def test_direct_calls_skip_the_call_helper():
    """A direct call does not run the site's helper: the helper path's count of calls
    into the callee (Runtime.calls, counted by fast_caller / on_call) stays at the
    warm-up while the callee ran hundreds of times."""
    rt, out, _ = _runtime(LEAVES)
    half = rt.tier2["half"]
    rt.direct.sync()
    assert half.info.runs > 500
    assert rt.calls["half"] < 100


RAISES = """\
def inv(x, k):
    return 1000 // (x - k)


def at(xs, i):
    return xs[i]


def outer(n, k):
    t = 0
    for i in range(n):
        t += inv(i, k)
    return t


def index(xs, n):
    t = 0
    for i in range(n):
        t += at(xs, i)
    return t


print(outer(100, 500))
print(index([1, 2, 3] * 40, 100))
MODE
"""


@pytest.mark.parametrize("passes", ["default", "", "default,regalloc{algo=linear-scan}"])
@pytest.mark.parametrize("mode,where", [("print(outer(100, 50))", (2, "inv")),
                                        ("print(index([1, 2], 100))", (6, "at"))])
def test_exception_in_directly_called_callee_has_cpythons_traceback(tmp_path, passes, mode,
                                                                      where):
    """ZeroDivisionError (the callee's `//` exits; tier 1 raises under the finishing
    helper) and IndexError: CPython's frames and last line."""
    src = RAISES.replace("MODE", mode)
    path = write(tmp_path, "prog", src)
    status, out, err = cli("run", "--backend", "native", "--passes", passes, path)
    want = cpython_stderr(path)
    assert status == 1
    assert out == expected(src.replace(mode + "\n", ""))
    assert err.splitlines()[-1] == want.splitlines()[-1]
    assert frames(err) == frames(want)
    assert frames(err)[-1] == where
    rt, out, error = _runtime(src, passes)
    assert type(error) is (ZeroDivisionError if "outer" in mode else IndexError)
    assert rt.interp.depth == 0
    if passes == "default" and "outer" in mode:
        assert rt.direct.calls > 0


DEEP = """\
def leaf(x):
    return x + 1


def down(n):
    if n == 0:
        return leaf(1)
    return 1 + down(n - 1)


t = 0
for i in range(60):
    t += down(i)
print(t, down(997))
print(down(998))
"""


@pytest.mark.parametrize("passes", ["default", ""])
def test_depth_limit_counts_direct_calls(tmp_path, passes):
    """A directly called leaf at the bottom of a deep recursion: at CPython's limit
    exactly (down(997) fits, down(998) raises RecursionError in the leaf's call)."""
    path = write(tmp_path, "prog", DEEP)
    status, out, err = cli("run", "--backend", "native", "--passes", passes, path)
    want = cpython_stderr(path)
    assert status == 1
    assert out == _cpython_stdout(path)
    assert err.splitlines()[-1] == want.splitlines()[-1]
    assert frames(err)[:2] == frames(want)[:2]
    assert frames(err)[-1] == frames(want)[-1] == (7, "down")
    rt, _, error = _runtime(DEEP, passes)
    assert type(error) is RecursionError and rt.interp.depth == 0
    assert rt.direct.calls > 0 or not passes
    assert rt.direct.header[2] <= 1000    # uop_stencils.STK_DEPTH


MUTUAL = """\
def is_even(n):
    if n == 0:
        return True
    return is_odd(n - 1)


def is_odd(n):
    if n == 0:
        return False
    return is_even(n - 1)


def sq(x):
    return x * x


def count(n):
    c = 0
    for i in range(n):
        if is_even(i % 50):
            c += sq(i)
    return c


print(count(400), is_even(801), is_odd(900))
print(is_even(5000))
"""


def test_mutual_recursion(tmp_path):
    """Mutually recursive compiled functions (the helper path: they are not leaves)
    under a caller whose leaf calls are direct; the limit as CPython's."""
    path = write(tmp_path, "prog", MUTUAL)
    status, out, err = cli("run", "--backend", "native", path)
    want = cpython_stderr(path)
    assert status == 1
    assert out == expected(MUTUAL.replace("print(is_even(5000))\n", ""))
    assert err.splitlines()[-1] == want.splitlines()[-1]
    assert frames(err)[:2] == frames(want)[:2]
    rt, _, error = _runtime(MUTUAL)
    assert type(error) is RecursionError and rt.direct.calls > 0


@pytest.mark.parametrize("passes", ["default", "default,regalloc{algo=linear-scan}"])
def test_cell_follows_invalidation_and_reoptimization(passes):
    """The callee folded K; writing K drops its code and empties its cell, the caller
    (still compiled) takes the helper path, and once the callee is hot again its new
    code is in the cell: every total is CPython's."""
    from backends.copy_and_patch import uop_stencils as S

    rt, out, error = _runtime(GLOBALS, passes)
    assert error is None and out == expected(GLOBALS)
    versions = [t2 for name, t2 in rt.all_tier2() if name == "addk"]
    assert len(versions) >= 2
    cell = rt.direct.cells["addk"]
    live = rt.tier2.get("addk")
    if "addk" in rt.direct.installed:
        assert rt.direct.installed["addk"] is live
        assert cell[S.CELL_ENTRY] == live.jit.entry_addresses[0]
    else:
        assert cell[S.CELL_ENTRY] == 0
    rt.direct.sync()
    assert sum(t2.info.runs for t2 in versions) >= 600
    rt.invalidate("addk")
    assert cell[S.CELL_ENTRY] == 0 and "addk" not in rt.direct.installed


@pytest.mark.parametrize("passes", PASSES)
def test_callee_exits_and_reoptimization_under_direct_calls(passes):
    """Floats, ints past 64 bits and strings reach a callee specialized for ints: its
    exits resume in tier 1 under the finishing helper, it is re-optimized while the
    caller stays compiled."""
    rt, out, error = _runtime(TYPES, passes)
    assert error is None and out == expected(TYPES)
    assert rt.direct.calls > 0 or not passes


ARITY = """\
def add(a, b):
    return a + b


def loop(n):
    t = 0
    for i in range(n):
        if i < n - 1:
            t += add(i, 1)
        else:
            t += add(i)
    return t


print(loop(10))
"""


def test_wrong_number_of_arguments(tmp_path):
    """A direct call site with the wrong argument count takes the helper path, which
    raises CPython's TypeError."""
    src = ARITY.replace("print(loop(10))", "print(loop(5) if False else 0)\n"
                        "for _ in range(40):\n    add(1, 2)\nprint(loop(300))")
    path = write(tmp_path, "prog", src)
    status, out, err = cli("run", "--backend", "native", path)
    want = cpython_stderr(path)
    assert status == 1
    assert out == "0\n"
    assert err.splitlines()[-1] == want.splitlines()[-1]
    assert frames(err) == frames(want)


def test_switch_off_and_other_backends(tmp_path, monkeypatch):
    """Runtime(direct_calls=False) keeps the helper path, as do the CLI's
    --no-direct-calls and WORKBENCH_DIRECT_CALLS=0 (read at the CLI's edge only);
    Unicorn never has cells."""
    from ir.frontend import compile_source
    from workbench.runtime import Runtime

    rt = Runtime(compile_source(LEAVES, "prog.py"), backend="native", direct_calls=False)
    assert rt.direct is None and rt.interp.direct is None
    monkeypatch.setenv("WORKBENCH_DIRECT_CALLS", "0")
    assert Runtime(compile_source(LEAVES, "prog.py"), backend="native").direct is not None
    path = write(tmp_path, "prog", GLOBALS)
    assert cli("run", "--backend", "native", path)[:2] == (0, expected(GLOBALS))
    monkeypatch.delenv("WORKBENCH_DIRECT_CALLS")
    assert cli("run", "--backend", "native", "--no-direct-calls", path)[:2] == \
        (0, expected(GLOBALS))
    assert cli("run", "--backend", "unicorn", path)[:2] == (0, expected(GLOBALS))
    rt = Runtime(compile_source(LEAVES, "prog.py"), backend="unicorn")
    assert rt.direct is None
