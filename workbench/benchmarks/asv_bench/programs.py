"""The project's programs (``workbench.benchmarks.all_programs()``) at small sizes, per
pipeline: native wall time (``time_*``) and what Unicorn counts the machine code doing
(``track_*``: instructions, loads, stores, guards, calls).

Each benchmark is parameterized by (program, pipeline), the pipelines being no passes,
``default`` and ``default`` + the linear-scan register allocator.  A timed call runs the
whole program in-process as ``workbench run --backend native`` does (a fresh module:
front end, tier-1 warm-up, passes, emission, the native run); its output is checked
against CPython's once per process.  The Unicorn counts are deterministic, computed once
per commit (``setup_cache``).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path


# program -> {full-size text in its main block: small-size text}: the sizes the tests run
# the programs at too (tests/helpers.py reads them here), small enough for Unicorn with no
# passes, large enough that the loops and calls still tier up (and that sum_squares_big
# still passes 2**63: its scale follows n).  Kept in this file, not imported from the
# package, because asv imports it against every older commit it times.
SMALL_SIZES: dict[str, dict[str, str]] = {
    "collatz": {"100_000": "3_000"},
    "fib_big": {"20_000": "2_000"},
    "fib_mod": {"5_000_000": "20_000"},
    "gcd_sum": {"600": "40"},
    "mandelbrot": {"200, 200, 200": "24, 20, 30"},
    "sieve": {"2_000_000": "30_000"},
    "spectral_norm": {"120": "12"},
    "sum_loop": {"10_000_000": "20_000"},
    "alloc_loop": {"400_000": "300"},
    "generators": {"200_000": "400"},
    "insertion_sort": {"3_500": "60"},
    "matmul": {"160": "8"},
    "nbody": {"10, 10_000": "4, 30"},
    "nbody_classes": {"10, 3_000": "4, 30"},
    "sum_squares_big": {"3_000_000": "300"},
}

PROGRAMS = tuple(SMALL_SIZES)

# asv parameter value -> the --passes string
PIPELINES: dict[str, str] = {
    "none": "",
    "default": "default",
    "default+regalloc(linear-scan)": "default,regalloc{algo=linear-scan}",
}

_MAIN_GUARD = 'if __name__ == "__main__":'


def program_path(name: str) -> Path:
    # lazy: asv imports this file on every commit it times
    from workbench.benchmarks import all_programs

    for p in all_programs():
        if p.stem == name:
            return p
    raise KeyError(f"no program {name!r}")


def small_source(name: str) -> str:
    """The program's source with its main-block sizes made small."""
    return shrink(program_path(name).read_text(), name)


def shrink(src: str, name: str) -> str:
    """``src`` (program ``name``'s text) with its main-block sizes made small; the tests
    run the programs at these sizes too (tests/helpers.py)."""
    head, guard, main = src.partition(_MAIN_GUARD)
    if not guard:
        raise ValueError(f"{name}: no main block")
    for full, small in SMALL_SIZES[name].items():
        if full not in main:
            raise ValueError(f"{name}: {full!r} not in the main block")
        main = main.replace(full, small)
    return head + guard + main


_expected: dict[str, str] = {}


def cpython_output(name: str) -> str:
    """What this CPython prints running the small program (the reference)."""
    if name not in _expected:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(small_source(name), f"{name}.py", "exec"), {"__name__": "__main__"})
        _expected[name] = out.getvalue()
    return _expected[name]


def load(name: str):
    import workbench as wb  # lazy: asv imports this file on every commit it times

    return wb.from_source(small_source(name), f"{name}.py")


def _unavailable(backend: str) -> str | None:
    """None if ``backend`` runs here, else why not (no stencils: not x86-64 Linux, ...)."""
    import workbench as wb  # lazy: asv imports this file on every commit it times
    from ir.errors import WorkbenchError  # lazy: asv imports this file on every commit it times

    try:
        wb.from_source("print(1)\n", "probe.py").run(backend=backend, passes="")
    except WorkbenchError as e:
        return str(e)
    return None


class TimeNative:
    """Wall time of one whole in-process native run of a small program."""

    params = (list(PROGRAMS), list(PIPELINES))
    param_names = ("program", "pipeline")
    number = 1              # one call is one whole program run
    repeat = (2, 5, 10.0)   # (min, max repeats, max seconds)
    warmup_time = 0.0       # setup already ran the program once
    timeout = 180.0

    def setup(self, program, pipeline):
        why = _unavailable("native")
        if why:
            raise NotImplementedError(f"--backend native is not available here: {why}")
        self.program = load(program)
        self.passes = PIPELINES[pipeline]
        out = self.program.run(backend="native", passes=self.passes)
        if out != cpython_output(program):
            raise AssertionError(f"{program} [{pipeline}]: output differs from CPython's")

    def time_run(self, program, pipeline):
        self.program.run(backend="native", passes=self.passes)


def unicorn_totals(program: str, pipeline: str) -> dict:
    """The Unicorn trace's totals (``workbench trace --backend unicorn --json``) of the
    small program; raises if its output is not CPython's."""
    t = load(program).trace(backend="unicorn", passes=PIPELINES[pipeline])
    if t.stdout != cpython_output(program):
        raise AssertionError(f"{program} [{pipeline}]: output differs from CPython's")
    return dict(t.totals)


def _track(count: str):
    """An asv track_ benchmark of one Unicorn total (``count``, also its unit)."""
    def track(self, cache, program, pipeline):
        return cache[program, pipeline][count]

    track.__name__ = f"track_{count}"
    track.unit = count
    return track


class Unicorn:
    """Counts of what the compiled code executed, under Unicorn: machine ``instructions``,
    memory ``loads`` and ``stores``, ``calls`` out of the code (C API, Python helpers), and
    executed ``guards`` (uops)."""

    params = (list(PROGRAMS), list(PIPELINES))
    param_names = ("program", "pipeline")
    timeout = 600.0

    def setup_cache(self):
        """{(program, pipeline): totals, or None where Unicorn is unavailable}."""
        if _unavailable("unicorn"):
            return {}
        return {(p, q): unicorn_totals(p, q) for p in PROGRAMS for q in PIPELINES}

    setup_cache.timeout = 600.0

    def setup(self, cache, program, pipeline):
        if (program, pipeline) not in cache:
            raise NotImplementedError("--backend unicorn is not available here")

    track_instructions = _track("instructions")
    track_loads = _track("loads")
    track_stores = _track("stores")
    track_guards = _track("guards")
    track_calls = _track("calls")
