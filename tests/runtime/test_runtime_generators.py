"""Generators in the tiered runtime: a hot generator's steps run in its optimized code
(entered at the resume point after each yield, as OSR enters a loop header) on every
backend; a type that changes between resumptions leaves through a side exit and gets
the function re-optimized; throw and close resume in tier 1; a yield from suspends the
frame delegating to the inner iterator (the driver's own yield from)."""

from __future__ import annotations

import contextlib
import io

import pytest

from helpers import compile_program, run_cpython

COUNTER = """
def count(n):
    i = 0
    while i < n:
        yield i
        i += 1

t = 0
for k in range(60):
    for x in count(40):
        t += x
print(t)
"""

TYPES = """
def acc():
    total = 0
    while True:
        x = yield total
        total = total + x

a = acc()
next(a)
for i in range(300):
    r = a.send(i)
for i in range(100):
    r = a.send(0.5)
print(r)
"""

THROW = """
def ticker():
    i = 0
    while True:
        got = yield i
        i += 1

g = ticker()
for _ in range(300):
    v = next(g)
print(v)
g.close()
print(list(g))
h = ticker()
for _ in range(300):
    w = h.send(None)
print(w)
h.throw(KeyError("into compiled code"))
"""

DELEGATE = """
def leaf(n):
    for i in range(n):
        yield i

def outer(n):
    yield from leaf(n)
    yield -1
    yield from leaf(2)

t = 0
for k in range(200):
    for x in outer(5):
        t += x
print(t)
"""


def run(source: str, backend: str):
    from workbench.runtime import Runtime

    rt = Runtime(compile_program(source), backend=backend, passes="default", verify=True,
                 unicorn_mode="none")
    out = io.StringIO()
    error = None
    with contextlib.redirect_stdout(out):
        try:
            rt.run()
        except Exception as e:
            error = (type(e).__name__, str(e))
            e.__traceback__ = None
    return rt, out.getvalue(), error


def versions(rt, name: str) -> list[dict]:
    return [v for v in rt.versions() if v["function"] == name]


def same_as_cpython(source: str, out: str, error) -> None:
    want = run_cpython(source)
    assert (out, error) == (want.stdout, want.error)


@pytest.mark.parametrize("backend", ["interp", "native", "unicorn"])
def test_hot_generator_steps_run_in_optimized_code(backend):
    rt, out, error = run(COUNTER, backend)
    same_as_cpython(COUNTER, out, error)
    v, = versions(rt, "count")
    assert v["tier2"] == backend
    if backend == "interp":
        assert v["interp_runs"] > 1000
    else:   # most of the 2400 steps, each ending at the yield with the frame saved
        assert v["yields"] > 2000 and v["runs"] == v["yields"] + v["returns"] + v["exits"]
        assert v["exits"] == 0


@pytest.mark.parametrize("backend", ["native", "unicorn"])
def test_types_changing_between_resumes_exit_and_reoptimize(backend):
    rt, out, error = run(TYPES, backend)
    same_as_cpython(TYPES, out, error)
    vs = versions(rt, "acc")
    assert len(vs) >= 2 and vs[0]["exits"] > 0, vs
    assert vs[-1]["yields"] > 0, vs   # the float version runs compiled too
    assert any(site[0] == "acc" for site in rt.trace.exits_by_site)


@pytest.mark.parametrize("backend", ["native", "unicorn"])
def test_throw_and_close_of_a_compiled_generator(backend):
    rt, out, error = run(THROW, backend)
    same_as_cpython(THROW, out, error)
    assert error == ("KeyError", "'into compiled code'")
    v, = versions(rt, "ticker")
    assert v["yields"] > 400 and v["exits"] == 0


def test_yield_from_delegates_and_resumes_compiled():
    """A ``yield from`` suspends the compiled frame with a Delegation: the driver's own
    ``yield from`` runs the inner generator, and the frame resumes in its optimized code
    after each delegation finishes."""
    rt, out, error = run(DELEGATE, "native")
    same_as_cpython(DELEGATE, out, error)
    t2 = rt.tier2["outer"]
    assert len(t2.delegates) == 2 and len(t2.suspends) == 3
    assert sorted(t2.resume_index) == sorted(t2.entry_index)   # entry + 3 resume points
    v, = versions(rt, "outer")
    assert v["yields"] > 400 and v["exits"] == 0
    leaf, = versions(rt, "leaf")
    assert leaf["yields"] > 500
