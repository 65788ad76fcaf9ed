"""Generators as machine code: a yield leaves the compiled code with the frame saved
(passes/suspend), next/send re-enter it at the block after the yield. Objects yielded,
sent in and held by a suspended frame end with CPython's reference counts, natively and
in Unicorn, unboxed and boxed; and the generator really ran as machine code."""

from __future__ import annotations

import pytest

from test_jit_refcounts import cpython_counts, workbench_counts

PROGRAM = """
def build(n):
    data = []
    i = 0
    while i < n:
        data.append([i * 0.5 + 0.25, i * 1000003 + 7, str(i)])
        i = i + 1
    return data

def rows(data, n):
    # yields objects it reads from a list; holds data and row across each yield
    for k in range(n):
        row = data[k % len(data)]
        yield row

def fields(data, n):
    for row in rows(data, n):
        yield row[1]
        yield row[2]

def keeper(out):
    # what send passes in is stored, and a local object lives across the yields
    held = [0.5]
    while True:
        got = yield held
        out.append(got)
        held = [got, held[0]]

DATA = build(30)
OUT = []
KEPT = []
total = 0
for x in fields(DATA, 600):
    if type(x) is int:
        total = total + x
print(total)
k = keeper(KEPT)
next(k)
for i in range(400):
    last = k.send(DATA[i % 30][i % 3])
OUT.append(last)
k.close()
half = rows(DATA, 1000)
for i in range(300):
    OUT.append(next(half))
half.close()
for j in range(60):     # suspended frames dropped unfinished (their locals released)
    dropped = rows(DATA, 100)
    for i in range(j % 7 + 1):
        OUT.append(next(dropped))
dropped = None
print(len(KEPT), len(OUT))
"""
NAMES = ("DATA", "OUT", "KEPT")


@pytest.mark.parametrize("boxed", [False, True], ids=["unboxed", "boxed"])
@pytest.mark.parametrize("backend", ["native", "unicorn"])
def test_generator_refcounts_equal_cpython(backend, boxed):
    want_out, want = cpython_counts(PROGRAM, NAMES)
    got_out, got, jitted = workbench_counts(PROGRAM, NAMES, backend, "default,regalloc", boxed)
    assert got_out == want_out
    suspended = {v["function"] for v in jitted if v["yields"]}
    assert {"rows", "fields", "keeper"} <= suspended, jitted
    assert got == want
