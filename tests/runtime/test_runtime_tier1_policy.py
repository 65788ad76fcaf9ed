"""What the tiered runtime does for code that stays in tier 1 and for global writes:
a function that can never have tier-2 code is called straight (no tier-up bookkeeping)
and its loop headers stop reporting arrivals; a generator function keeps making
generators; a global write drops only the code that assumed that global."""

import contextlib
import gc
import io
import textwrap

import pytest

from helpers import compile_program, run_cpython
from workbench.runtime.tiered import HOT_CALLS, Runtime

STAYS = """
    def stays(n):
        t = 0
        for i in range(n):
            v = i * 2
            t = t + v
            del v
        return t
    def gen(n):
        i = 0
        while i < n:
            yield i * 3
            i += 1
    def user(n):
        return sum(gen(n)) + stays(n)
    total = 0
    for k in range(60):
        total = total + user(k) + stays(k) + len(list(gen(k)))
    print(total)
"""


def _run(source: str, backend: str) -> tuple[Runtime, str]:
    rt = Runtime(compile_program(textwrap.dedent(source)), backend=backend)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rt.run()
    return rt, out.getvalue()


@pytest.mark.parametrize("backend", ["interp", "native"])
def test_code_that_stays_in_tier1(backend):
    rt, out = _run(STAYS, backend)
    assert out == run_cpython(textwrap.dedent(STAYS)).stdout
    # `del` keeps `stays` in tier 1, a generator function has no tier-2 code
    assert rt.tier2["stays"] is None and rt.tier2["gen"] is None
    assert "stays" in rt.interp.fast_calls           # called straight
    assert "gen" not in rt.interp.fast_calls         # its calls make generators
    for name in ("stays", "gen"):
        cf = rt.interp.compile(name)
        assert cf.headers and not any(cf.blocks[h].is_header for h in cf.headers)
    # the bookkeeping stopped: calls counted only until the function was found tier-1
    assert rt.calls["stays"] <= HOT_CALLS + 1


def test_global_write_drops_only_the_code_that_assumed_it():
    source = """
        A = 2
        B = 3
        def fa(n):
            t = 0
            for i in range(n):
                t = t + i * A
            return t
        def fb(n):
            t = 0
            for i in range(n):
                t = t + i * B
            return t
        def main():
            s = 0
            for k in range(40):
                s = s + fa(k) + fb(k)
            return s
        print(main())
        A = 5
        print(main())
    """
    rt, out = _run(source, "interp")
    assert out == run_cpython(textwrap.dedent(source)).stdout
    assert "A" in rt.watchers and "fa" in rt.watchers["A"]
    retired = [name for name, _ in rt.retired]
    assert "fa" in retired and "fb" not in retired
    assert rt.tier2["fb"] is not None and rt.tier2["fb"].version == 1


@pytest.mark.parametrize("switch", ["", "gc.disable()"])
def test_compiling_leaves_the_programs_collector_as_it_was(switch):
    """The runtime holds the collector off while it compiles (Runtime.get_tier2) and
    restores what the program had chosen: on, or off by the program's own gc.disable()."""
    source = f"""
        import gc
        {switch}
        def f(n):
            t = 0
            for i in range(n):
                t = t + i
            return t
        s = 0
        for k in range(40):
            s = s + f(k)
        print(s, gc.isenabled())
    """
    try:
        for backend in ("interp", "native"):
            rt, out = _run(source, backend)
            assert out == run_cpython(textwrap.dedent(source)).stdout
            assert rt.tier2.get("f") is not None   # f was compiled while the program ran
    finally:
        gc.enable()   # the program's gc.disable() ran in this process
