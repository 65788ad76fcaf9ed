"""Reference counts stay exact: objects that flow through compiled code (loads and stores
of list items, side exits, re-optimization, errors, exceptions caught in a compiled loop,
calls and returns) end with the
counts CPython gives them, natively and in Unicorn, with values unboxed and `boxed`.

Each program builds its objects at run time (no constants, which the IR holds too) and
leaves them in globals; after the run, `sys.getrefcount` of every object reachable from
those globals must equal CPython's for the same program. A leak shows as a larger count
(an object read in a hot loop leaks once per iteration), a missing reference as a smaller
one or a crash.
"""

from __future__ import annotations

import contextlib
import gc
import io
import sys

import pytest

from helpers import compile_program

BUILD = """
def build(n):
    data = []
    i = 0
    while i < n:
        data.append([i * 0.5 + 0.25, i * 1000003 + 7, -(i * 0.5)])
        i = i + 1
    return data
"""

PROGRAMS = {
    # list items read, replaced and appended in hot loops; floats made and dropped
    "items": BUILD + """
def churn(data, n):
    total = 0.0
    for k in range(n):
        row = data[k % len(data)]
        x = row[0]
        row[0] = x * 1.0
        row[2] = row[2] - 0.0
        total = total + x
    return total

def grow(out, data, n):
    for k in range(n):
        out.append(data[k % len(data)][1])
    return len(out)

DATA = build(40)
OUT = []
print(churn(DATA, 4000))
print(grow(OUT, DATA, 3000))
""",
    # calls returning objects, results kept and dropped
    "calls": BUILD + """
def pick(data, i):
    return data[i]

def second(row):
    return row[1]

def calls(data, n):
    acc = 0
    keep = []
    for k in range(n):
        r = pick(data, k % len(data))
        acc = acc + second(r)
        if k % 7 == 0:
            keep.append(r)
    return len(keep) + acc

DATA = build(30)
print(calls(DATA, 4000))
""",
    # a loop over ints, then floats, then ints past 64 bits: side exits, re-optimization
    "exits": """
def total(xs):
    t = 0
    for x in xs:
        t = t + x
    return t

XS = []
for i in range(200):
    XS.append(i * 1000003)
for i in range(200):
    XS.append(i * 0.5 + 0.125)
for i in range(50):
    XS.append(2 ** 70 + i)
for r in range(40):
    T = total(XS)
print(T)
""",
    # an error in a hot loop (an index past the end) after many iterations
    "error": BUILD + """
def boom(data, n):
    t = 0.0
    for k in range(n):
        t = t + data[k][0]
    return t

DATA = build(300)
print(boom(DATA, 300))
print(boom(DATA, 301))
""",
    # exceptions caught inside a compiled loop: an index past the end exits to tier 1,
    # which raises it into the handler; the loop goes on in machine code (OSR)
    "caught": BUILD + """
def caught(data, n):
    t = 0.0
    misses = 0
    for k in range(n):
        try:
            row = data[k % 53]
            t = t + row[0]
        except IndexError:
            misses = misses + 1
    return t + misses

DATA = build(50)
print(caught(DATA, 3000))
""",
}


def _measure(value, seen: set, out: list) -> None:
    """getrefcount of every object reachable from `value` (lists, tuples), in order;
    small ints, bools and None are shared singletons and are skipped."""
    if id(value) in seen:
        return
    seen.add(id(value))
    if not (type(value) is int and -5 <= value <= 256) and value is not None \
            and type(value) is not bool:
        out.append((type(value).__name__, sys.getrefcount(value) - 1))
    if type(value) in (list, tuple):
        for item in value:
            _measure(item, seen, out)


def _counts(g: dict, names) -> dict:
    gc.collect()
    out = {}
    for name in names:
        rows: list = []
        _measure(g[name], set(), rows)
        out[name] = rows
    return out


def cpython_counts(source: str, names) -> tuple[str, dict]:
    g = {"__name__": "__main__"}
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            exec(compile(source, "prog.py", "exec"), g)
        except IndexError:
            pass
    return buf.getvalue(), _counts(g, names)


def workbench_counts(source: str, names, backend: str, passes: str, boxed: bool):
    from workbench.runtime import Runtime

    rt = Runtime(compile_program(source), backend=backend, passes=passes, boxed=boxed,
                 unicorn_mode="none")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            rt.run()
        except IndexError as e:
            e.__traceback__ = None
            del e
    jitted = [v for v in rt.versions() if v["tier2"] == backend]
    return buf.getvalue(), _counts(rt.interp.globals, names), jitted


NAMES = {"items": ("DATA", "OUT"), "calls": ("DATA",), "exits": ("XS", "T"),
         "error": ("DATA",), "caught": ("DATA",)}


@pytest.mark.parametrize("boxed", [False, True], ids=["unboxed", "boxed"])
@pytest.mark.parametrize("passes", ["", "default", "default,regalloc"])
@pytest.mark.parametrize("backend", ["native", "unicorn"])
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_refcounts_equal_cpython(program, backend, passes, boxed):
    source, names = PROGRAMS[program], NAMES[program]
    want_out, want = cpython_counts(source, names)
    got_out, got, jitted = workbench_counts(source, names, backend, passes, boxed)
    assert got_out == want_out
    assert jitted, "nothing ran as machine code"
    assert got == want


ALLOC = """
def alloc(n):
    acc = 0
    for i in range(n):
        items = [i, i + 1, 2.5]
        pair = (i, items[2])
        f = i * 0.5 + 0.25
        big = 2 ** 70 + i * 7
        acc = acc + items[1] + len(items) + big % 5
    return acc

print(alloc(N))
"""


@pytest.mark.parametrize("boxed", [False, True], ids=["unboxed", "boxed"])
@pytest.mark.parametrize("backend", ["native", "unicorn"])
def test_allocation_loop_runs_in_constant_memory(backend, boxed):
    """What an allocation loop leaves allocated does not grow with its iterations (an
    object leaked per iteration would leave thousands of blocks more at 4x the size)."""
    from workbench.runtime import Runtime

    left = {}
    for n in (2_000, 8_000):
        source = ALLOC.replace("N", str(n))
        rt = Runtime(compile_program(source), backend=backend, passes="default,regalloc",
                     boxed=boxed, unicorn_mode="none")
        gc.collect()
        before = sys.getallocatedblocks()
        with contextlib.redirect_stdout(io.StringIO()) as out:
            rt.run()
        assert [v for v in rt.versions() if v["tier2"] == backend], "nothing compiled"
        gc.collect()
        left[n] = sys.getallocatedblocks() - before
        assert out.getvalue() == f"{sum(i + 1 + 3 + (2 ** 70 + i * 7) % 5 for i in range(n))}\n"
    assert left[8_000] - left[2_000] < 500, left
