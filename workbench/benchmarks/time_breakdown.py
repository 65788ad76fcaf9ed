"""Where a whole-process ``workbench run`` spends its time, by part of the workbench.

    python -m workbench.benchmarks.time_breakdown [--backend native] [--passes P]
        (--bench NAME [--small] | FILE)

Runs the program in this process under cProfile (``--bench``: a pyperformance benchmark,
with the suite's shim and options, as ``pyperformance_suite`` runs it) and sums each
function's own time by where its code lives: the frontend, the passes, the emitter and
stencils, the Python-level interpreter (its loop, the generated block code), the calls
between compiled functions (the runtime's callers, the generated invokers with the machine
code they enter), the helpers machine code calls back (site functions, word conversion),
the uops' Python semantics, and the rest (the program's own builtins, startup). Also the
cyclic collector's time (``gc.callbacks``) and the runtime's counts: functions optimized,
re-optimizations, side exits. cProfile slows Python-level code more than native code, so
the shares are a guide to where to look, not a measurement to quote.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import os
import pstats
import re
import sys
import time
from collections import defaultdict

from workbench.runtime import tiered
from workbench.runtime.session import run_file

from . import pyperformance_suite as suite_run
from .pyperformance_discovery import suite

CATEGORIES = (
    ("frontend", r"ir/frontend/|runtime/loader\.py|/ast\.py|ir/parser"),
    ("passes", r"/passes/|ir/cfg\.py|ir/verifier\.py|ir/core\.py|runtime/tiering\.py|"
               r"ir/uop_model\.py"),
    ("emission and stencils", r"copy_and_patch/|elf_reader|subprocess\.py|selectors\.py|"
                              r"elftools|native/execmem\.py|pickle"),
    ("interpreter", r"backends/interp/interpreter\.py|backends/interp/generators\.py|"
                    r"backends/interp/blockcode\.py|backends/interp/profile\.py|<block "),
    ("calls between compiled functions", r"<invoke |native/runner\.py|native/direct\.py|"
                                         r"runtime/tiered\.py"),
    ("helpers called by machine code", r"<helpers of |native/helpers\.py|PyObj_FromPtr|"
                                       r"Py_INCREF|Py_DECREF|\{built-in method builtins\.id\}"),
    ("uop semantics", r"ir/semantics\.py|ir/constructs\.py|ir/scope_semantics\.py|ir/uops\.py|"
                      r"function_objects\.py|<workbench function "),
)
OTHER = "other (the program's builtins, startup)"


def categorize(stats: pstats.Stats) -> tuple[float, dict[str, float]]:
    """(total own time, category -> own time) of a profile."""
    by: dict[str, float] = defaultdict(float)
    total = 0.0
    for (path, line, name), (_, _, own, _, _) in stats.stats.items():
        key = f"{path}:{line}({name})"
        total += own
        for cat, pattern in CATEGORIES:
            if re.search(pattern, key):
                by[cat] += own
                break
        else:
            by[OTHER] += own
    return total, dict(by)


def breakdown(path: str, backend: str = "native", passes: str = "default") -> dict:
    """Profile one in-process run of ``path``; the figures as a dict."""
    runtimes = []
    original = tiered.Runtime.__init__

    def remember(self, *args, **kwargs):
        original(self, *args, **kwargs)
        runtimes.append(self)

    spent = {"gc": 0.0, "collections": 0}
    started = [0.0]

    def on_gc(phase, info):
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent["gc"] += time.perf_counter() - started[0]
            spent["collections"] += 1

    profiler = cProfile.Profile()
    gc.callbacks.append(on_gc)
    tiered.Runtime.__init__ = remember
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            profiler.runcall(run_file, path, backend=backend, passes=passes)
    finally:
        tiered.Runtime.__init__ = original
        gc.callbacks.remove(on_gc)
    wall = time.perf_counter() - t0
    total, by = categorize(pstats.Stats(profiler))
    rt = runtimes[-1] if runtimes else None
    counts = {}
    if rt is not None:
        versions = rt.versions()
        counts = {"versions": len(versions),
                  "functions optimized": len({v["function"] for v in versions}),
                  "side exits": rt.trace.side_exits,
                  "re-optimizations": sum(rt.reoptimized.values()) + sum(rt.warmed.values())}
    return {"wall_s": wall, "profiled_s": total, "by": by, **spent, "counts": counts}


def report(name: str, figures: dict) -> str:
    lines = [f"{name}: {figures['wall_s']:.2f} s under cProfile, "
             f"{figures['profiled_s']:.2f} s profiled"]
    total = figures["profiled_s"] or 1.0
    for cat, t in sorted(figures["by"].items(), key=lambda kv: -kv[1]):
        lines.append(f"  {100 * t / total:5.1f}%  {t:7.2f} s  {cat}")
    lines.append(f"  cyclic gc: {figures['collections']} collections, {figures['gc']:.2f} s")
    if figures["counts"]:
        lines.append("  " + ", ".join(f"{k} {v}" for k, v in figures["counts"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m workbench.benchmarks.time_breakdown",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("file", nargs="?", help="a program to run")
    p.add_argument("--bench", help="a pyperformance benchmark of the suite instead")
    p.add_argument("--small", action="store_true", help="the benchmark's small size")
    p.add_argument("--backend", default="native")
    p.add_argument("--passes", default="default")
    args = p.parse_args(argv)
    if (args.file is None) == (args.bench is None):
        p.error("give a FILE or --bench NAME")
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))   # as `workbench run`
    if args.bench is not None:
        found = [b for b in suite() if b.name == args.bench]
        if not found:
            p.error(f"--bench: not in the suite: {args.bench}")
        bench = found[0]
        env = suite_run.environment(bench, args.small)
        os.environ[suite_run.ARGS_ENV] = env[suite_run.ARGS_ENV]
        sys.path.insert(0, str(suite_run.SHIM_DIR))
        path, name = str(bench.script), bench.name
    else:
        path, name = args.file, args.file
    print(report(name, breakdown(path, args.backend, args.passes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
