"""Inline fast paths of the generic uops (_BINARY_OP, _COMPARE_OP, _TO_BOOL, _UNARY_OP)
on objects: every result must be CPython's, on the edge values where the inline path and
the C-API slow path split (0, -1, one-digit ints at 2**30, negative floor division and
modulo, bools mixed with ints, shifts, floats mixed with ints, NaN, -0.0), natively and
in Unicorn, with no optimization (values in frame words) and with register allocation
(register inputs reach the cold part in their registers)."""

import json
import subprocess
import sys

import pytest

PROGRAM = '''
def binops(xs, ys):
    n = 0
    for x in xs:
        for y in ys:
            print(x + y, x - y, x * y, x < y, x <= y, x > y, x >= y, x == y, x != y)
            if y != 0:
                print(x / y, x // y, x % y)
            n += 1
    return n


def intops(xs, ys):
    for x in xs:
        for y in ys:
            print(x & y, x | y, x ^ y)
            x &= y
            if 0 <= y:
                if y < 64:
                    print(x << y, x >> y)
            print(-x, +x, ~x, not x)


def truth(xs):
    k = 0
    for x in xs:
        if x:
            k += 1
        print(x == None, x != None, None == x)
    return k


def grow(x, n):
    for i in range(n):
        x = x * 2 + 1
        print(x, x // 3, -x % 7, x > 2 ** 47, x - x)
    while x:
        x = x // -5
        print(x)
    return x


P = 2 ** 47
INTS = [0, 1, -1, 2, -2, 3, -3, 7, -7, 47, 48, P - 1, -P, P, -P - 1, P // 2, -(P // 2) - 1,
        2 ** 24 + 1, -(2 ** 24) - 3, 2 ** 62, 2 ** 30 - 1, 2 ** 30, -(2 ** 30) + 1,
        -(2 ** 30), True, False]
NUMS = INTS + [0.0, -0.0, 0.5, -2.5, 3.0, 1e308, -1e308, 1e-310, float("inf"), float("nan")]
print(binops(NUMS, NUMS))
intops(INTS, INTS)
print(truth(NUMS + [None]))
print(grow(P // 4 - 3, 60), grow(-5, 70))
for v in NUMS:
    print(-v, +v)
'''

PASSES = ["", "default", "default,regalloc{algo=linear-scan}"]


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    path = tmp_path_factory.mktemp("generic") / "edges.py"
    path.write_text(PROGRAM)
    expected = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                              check=True).stdout
    return path, expected


def workbench(*args):
    return subprocess.run([sys.executable, "-m", "workbench", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("backend", ["native", "unicorn"])
@pytest.mark.parametrize("passes", PASSES)
def test_generic_edges_equal_cpython(program, backend, passes):
    path, expected = program
    done = workbench("run", "--backend", backend, "--passes", passes, path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected


@pytest.mark.parametrize("backend", ["native", "unicorn"])
@pytest.mark.parametrize("op", ["//", "%", "/"])
def test_division_by_zero_raises_in_compiled_code(tmp_path, backend, op):
    path = tmp_path / "zero.py"
    path.write_text(f"def f(n):\n    t = 0\n    for i in range(n):\n"
                    f"        t = t + 100 {op} (50 - i)\n        print(t)\n    return t\n\n"
                    f"print(f(100))\n")
    expected = subprocess.run([sys.executable, str(path)], capture_output=True, text=True)
    done = workbench("run", "--backend", backend, "--passes", "", path)
    assert done.returncode == expected.returncode == 1
    assert done.stdout == expected.stdout
    assert done.stderr.strip().splitlines()[-1] == expected.stderr.strip().splitlines()[-1]


def test_int_fast_path_calls_no_helper(tmp_path):
    """Small ints stay on the inline path (boxed words are PyObject *): in Unicorn a
    generic `_COMPARE_OP` of two small ints makes no call at all, a `_BINARY_OP` of two
    only the C API's allocator of its result and deallocator of the int it replaces --
    never its C-API slow path, never a Python helper (`calls` counts every call)."""
    path = tmp_path / "loop.py"
    path.write_text("def f(n):\n    t = 0\n    i = 0\n    while i < n:\n"
                    "        t = t + i * 3 - i\n        i = i + 1\n    return t\n\n"
                    "print(f(3000))\n")
    done = workbench("trace", "--backend", "unicorn", "--json", "--passes", "", path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["stdout"].strip() == str(sum(i * 3 - i for i in range(3000)))
    rows = {r["uop"]: r for r in data["per_uop"] if r["function"] == "f"}
    assert rows["_COMPARE_OP"]["calls"] == 0, rows["_COMPARE_OP"]
    r = rows["_BINARY_OP"]
    assert r["calls"] <= 2 * r["count"] + 50, r
