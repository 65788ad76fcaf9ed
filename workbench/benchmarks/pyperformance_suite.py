"""pyperformance's pure-Python benchmarks on the workbench: how each one runs, and the
table of what it costs.

    python -m workbench.benchmarks.pyperformance_suite [--repeat N] [--loops N]
        [--small] [--only NAME,...] [--json]

Each benchmark of the suite (``pyperformance_discovery.suite()``) runs as its own
script, unchanged, from where pyperformance installed it; its ``import pyperf`` finds
our shim (``pyperf_shim/pyperf.py``, first on ``PYTHONPATH``), so CPython and the
workbench run the same program and print the same deterministic lines.  The table
gives, per benchmark: CPython's whole-process time (best of ``--repeat``), the native
backend's with the default pipeline and with ``--passes ''`` (as ratios to CPython's,
measured in the same run), and the guards and side exits per loop that
``workbench trace --json`` counts on the interp backend (the default pipeline).  A
benchmark the workbench does not run yet shows its one error line instead.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .pyperformance_discovery import Benchmark, benchmarks_dir, suite

SHIM_DIR = Path(__file__).resolve().parent / "pyperf_shim"
ROOT = Path(__file__).resolve().parents[2]      # the checkout the workbench runs from
ARGS_ENV = "PYPERF_SHIM_ARGS"                    # the shim's options (pyperf_shim/pyperf.py)

# The options of a small run (unicorn, the fast tests): the benchmark's own size
# options, else the shim's ``--args NAME={index: value}`` (the workload's own argument
# made small), else ``--global NAME=VALUE`` (a size constant of the script).  Not named
# here: sizes the script fixes and checks, or builds inline (generators,
# meteor_contest, richards, richards_super: small is the full size).
SMALL_ARGS = {
    "barnes_hut": ["--iterations", "1", "--particles", "8"],
    "chaos": ["--width", "8", "--height", "8", "--iterations", "20"],
    "deltablue": ["--args", "deltablue={0: 5}"],
    "fannkuch": ["--args", "fannkuch={0: 5}"],
    "float": ["--args", "float={0: 100}"],
    "go": ["--global", "GAMES=2"],
    "hexiom": ["--level", "2"],
    "nbody": ["--iterations", "10"],
    "nqueens": ["--args", "nqueens={0: 4}"],
    "pidigits": ["--digits", "20"],
    "pprint": ["--args", "pprint_safe_repr={0: [{'a': (1, 2.5)}, 'xyz']}",
               "--args", "pprint_pformat={0: [{'a': (1, 2.5)}, 'xyz', [1, 2, 3]]}"],
    "raytrace": ["--width", "4", "--height", "4"],
    "spectral_norm": ["--global", "DEFAULT_N=8"],
    "scimark": ["--args", "scimark_sor={0: 6, 1: 1}", "--args", "scimark_lu={0: 6}",
                "--args", "scimark_fft={0: 16, 1: 1}", "--args", "scimark_monte_carlo={0: 100}",
                "--args", "scimark_sparse_mat_mult={0: 20, 1: 60}"],
}

# name, the workbench's argv after ``python -m workbench`` (None: CPython)
CONFIGS = (("cpython", None),
           ("native", ["run", "--backend", "native"]),
           ("native --passes ''", ["run", "--backend", "native", "--passes", ""]))


@dataclass
class Outcome:
    status: int
    stdout: str
    stderr: str
    seconds: float

    def error_line(self, bench: Benchmark) -> str:
        """The last stderr line (a one-line unsupported error, or the traceback's
        last line), with the benchmarks folder left out of the script's path."""
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        line = lines[-1] if lines else f"exit status {self.status}"
        return line.replace(str(bench.directory.parent) + os.sep, "")


def shim_args(bench: Benchmark, small: bool = False, loops: int = 1) -> list[str]:
    """The shim's options: the variant's ``extra_opts``, the small sizes, ``--loops``."""
    args = list(bench.extra_opts)
    if small:
        args = SMALL_ARGS.get(bench.name, []) + args
    return ["--loops", str(loops)] + args


def environment(bench: Benchmark, small: bool = False, loops: int = 1) -> dict[str, str]:
    """The process environment: the shim first on ``PYTHONPATH``, then this checkout (so
    ``-m workbench`` is this workbench), and the shim's options."""
    env = dict(os.environ)
    path = [str(SHIM_DIR), str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    env["PYTHONPATH"] = os.pathsep.join(path)
    env[ARGS_ENV] = shlex.join(shim_args(bench, small, loops))
    return env


def argv(bench: Benchmark, workbench: list[str] | None) -> list[str]:
    """CPython's command line (``workbench`` None), else the workbench's."""
    if workbench is None:
        return [sys.executable, str(bench.script)]
    return [sys.executable, "-m", "workbench", *workbench, str(bench.script)]


def run(bench: Benchmark, workbench: list[str] | None = None, small: bool = False,
        loops: int = 1, timeout: float = 1800.0) -> Outcome:
    """One run of the benchmark's script, as a process."""
    cmd = argv(bench, workbench)
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env=environment(bench, small, loops))
    except subprocess.TimeoutExpired:
        return Outcome(-1, "", f"timed out after {timeout:g} s", timeout)
    return Outcome(r.returncode, r.stdout, r.stderr, time.perf_counter() - t0)


def trace_counts(bench: Benchmark, loops: int, small: bool = False,
                 timeout: float = 1800.0) -> dict | str:
    """``{"guards": per loop, "side_exits": per loop}`` from ``workbench trace --json``
    on the interp backend (default pipeline), or the run's error line."""
    out = run(bench, ["trace", "--json", "--backend", "interp"], small, loops, timeout)
    if out.status != 0:
        return out.error_line(bench)
    totals = json.loads(out.stdout)["totals"]
    return {"guards": totals["guards"] / loops, "side_exits": totals["side_exits"] / loops}


def measure(bench: Benchmark, repeat: int = 3, loops: int = 1, small: bool = False,
            timeout: float = 1800.0) -> dict:
    """One row: per configuration the best of ``repeat`` whole-process times and its
    ratio to CPython's, or the error that stopped it (a different output is one);
    then the trace counts."""
    row: dict = {"benchmark": bench.name, "configs": {}}
    expected = None
    for name, wb in CONFIGS:
        best = None
        error = None
        for _ in range(repeat):
            out = run(bench, wb, small, loops, timeout)
            if out.status != 0:
                error = out.error_line(bench)
                break
            if expected is not None and out.stdout != expected:
                error = "output differs from CPython's"
                break
            expected = out.stdout if expected is None else expected
            best = out.seconds if best is None else min(best, out.seconds)
        if error is not None:
            row["configs"][name] = {"error": error}
            if wb is None:          # CPython itself failed: nothing to compare with
                return row
            continue
        base = row["configs"].get("cpython", {}).get("best_s", best)
        row["configs"][name] = {"best_s": round(best, 4), "ratio": round(best / base, 3)}
    if any("error" not in c for n, c in row["configs"].items() if n != "cpython"):
        row["trace"] = trace_counts(bench, loops, small, timeout)
    else:
        row["trace"] = None
    return row


HEADERS = ("benchmark", "cpython s", "native", "native --passes ''", "guards/loop",
           "exits/loop")
WIDTHS = (26, 9, 8, 18, 11, 10)


def _line(cells: list[str]) -> str:
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                     for i, (c, w) in enumerate(zip(cells, WIDTHS))).rstrip()


def header() -> str:
    return _line(list(HEADERS))


def format_row(row: dict) -> str:
    """One benchmark's line; one the workbench does not run shows its error (the first
    configuration's: they stop at the same construct) after CPython's time."""
    cfg = row["configs"]
    cp = cfg.get("cpython", {})
    cells = [row["benchmark"], f"{cp['best_s']:.3f}" if "best_s" in cp else "-"]
    if "error" in cp:
        return _line(cells[:1] + ["-"]) + f"  cpython: {cp['error']}"
    errors = [cfg[n]["error"] for n, _ in CONFIGS[1:] if "error" in cfg.get(n, {})]
    if len(errors) == len(CONFIGS) - 1:
        return _line(cells) + f"  {errors[0]}"
    for name, _ in CONFIGS[1:]:
        c = cfg.get(name, {})
        cells.append(f"{c['ratio']:.2f}x" if "ratio" in c else "error")
    trace = row.get("trace")
    if isinstance(trace, dict):
        cells += [f"{trace['guards']:.0f}", f"{trace['side_exits']:.0f}"]
    else:
        cells += ["-", "-"]
    text = _line(cells)
    if errors:
        text += f"  {errors[0]}"
    if isinstance(trace, str):
        text += f"  trace: {trace}"
    return text


def main(argv_: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m workbench.benchmarks.pyperformance_suite",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3, help="runs per configuration (best of)")
    p.add_argument("--loops", type=int, default=1, help="loops of each workload")
    p.add_argument("--small", action="store_true", help="the small sizes (SMALL_ARGS)")
    p.add_argument("--only", help="comma-separated benchmark names")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    p.add_argument("--json", action="store_true", help="the rows as JSON")
    args = p.parse_args(argv_)
    if args.repeat < 1 or args.loops < 1:
        p.error("--repeat and --loops must be >= 1")
    benches = suite()
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        known = {b.name for b in benches}
        bad = [n for n in wanted if n not in known]
        if bad:
            p.error(f"--only: not in the suite: {', '.join(bad)}")
        benches = [b for b in benches if b.name in wanted]
    rows = []
    if not args.json:
        print(f"pyperformance suite ({benchmarks_dir()}): whole-process time, best of "
              f"{args.repeat}, {args.loops} loop(s){', small sizes' if args.small else ''}; "
              f"native columns: ratio to CPython", flush=True)
        print(header(), flush=True)
    for bench in benches:
        row = measure(bench, args.repeat, args.loops, args.small, args.timeout)
        rows.append(row)
        if not args.json:
            print(format_row(row), flush=True)
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
