"""``workbench bench``: whole-process timings of scripts under every configuration.

Each script runs as its own process (``python f.py``, ``python -m workbench run ...``,
``pypy3 f.py``), ``--repeat`` times; the table gives the median wall time and the ratio
to CPython's median (the baseline, measured in the same run).  A configuration whose
backend is not available here (``workbench run --backend native`` rejected with status
2) is skipped with a note, as is a run that fails, times out or prints something other
than CPython's output.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REGALLOC_ALGOS = ("tos", "linear-scan", "graph-coloring")


def default_files() -> list[str]:
    """The project's own programs, shipped in the package: the reference kernels
    (``workbench/benchmarks/programs/kernels/*.py``), then the larger programs
    (``workbench/benchmarks/programs/*.py``).  Raises ``WorkbenchError`` if one is
    missing (an incomplete install), rather than timing fewer programs."""
    from ir.errors import WorkbenchError

    from .benchmarks import all_programs

    try:
        return [str(p) for p in all_programs()]
    except FileNotFoundError as e:
        raise WorkbenchError(f"the default programs are incomplete: {e}") from None


def configs(boxed: bool = False) -> list[tuple[str, list[str]]]:
    """(name, argv prefix; the script path is appended); `boxed`: the native
    configurations run with `--boxed` (and are named `...+boxed`)."""
    wb = [sys.executable, "-m", "workbench", "run"]
    out = [("cpython", [sys.executable]),
           ("interp", wb + ["--backend", "interp", "--passes", ""]),
           ("interp+default", wb + ["--backend", "interp", "--passes", "default"]),
           ("native", wb + ["--backend", "native", "--passes", ""]),
           ("native+default", wb + ["--backend", "native", "--passes", "default"])]
    for algo in REGALLOC_ALGOS:
        out.append((f"native+regalloc({algo})",
                    wb + ["--backend", "native", "--passes", f"default,regalloc{{algo={algo}}}"]))
    if boxed:
        out = [(n + "+boxed", a + ["--boxed"]) if n.startswith("native") else (n, a)
               for n, a in out]
    pypy = shutil.which("pypy3")
    if pypy:
        out.append(("pypy3", [pypy]))
    return out


def backend_available(backend: str) -> str | None:
    """None if ``workbench run --backend BACKEND`` works here, else why not."""
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "probe.py"
        p.write_text("print(1)\n")
        r = subprocess.run([sys.executable, "-m", "workbench", "run", "--backend", backend,
                            "--passes", "", str(p)], capture_output=True, text=True)
    if r.returncode == 0 and r.stdout == "1\n":
        return None
    return (r.stderr.strip().splitlines() or [f"exit status {r.returncode}"])[-1]


def time_once(argv: list[str], timeout: float) -> tuple[float, int, str, str]:
    t0 = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - t0, r.returncode, r.stdout, r.stderr


def run_bench(files: list[str], repeat: int = 3, timeout: float = 600.0,
              only: list[str] | None = None, progress=None, boxed: bool = False,
              pool=None) -> dict:
    """``{"results": [{file, config, median_s, ratio_vs_cpython}], "notes": [...]}``.

    ``progress(description)`` is called before each run (for a progress bar).  ``pool``
    (a ``workbench.cluster.Pool``): each script is one task there, its configurations
    timed one after another on one worker; the rows and notes come in the same order."""
    notes: list[str] = []
    cfgs = configs(boxed)
    if only:
        cfgs = [c for c in cfgs if c[0] == "cpython" or c[0] in only]
    unavailable: dict[str, str] = {}
    for name, argv in cfgs:
        if "--backend" in argv:
            backend = argv[argv.index("--backend") + 1]
            if backend not in unavailable:
                why = backend_available(backend)
                unavailable[backend] = why or ""
                if why:
                    notes.append(f"--backend {backend} is not available here, skipped: {why}")
    cfgs = [(n, a) for n, a in cfgs
            if "--backend" not in a or not unavailable[a[a.index("--backend") + 1]]]
    results = []
    if pool is None:
        for f in files:
            rows, more = bench_file(f, cfgs, repeat, timeout, progress)
            results += rows
            notes += more
        return {"results": results, "notes": notes}
    names = [n for n, _ in cfgs]
    work = [(f, Path(f).read_text(encoding="utf-8")) for f in files]
    for rows, more in pool.map(bench_task, work, names, repeat, timeout, boxed):
        if progress:
            progress(None, skip=len(names) * repeat)
        results += rows
        notes += more
    return {"results": results, "notes": notes}


def bench_file(f: str, cfgs: list[tuple[str, list[str]]], repeat: int, timeout: float,
               progress=None, run_as: str | None = None) -> tuple[list[dict], list[str]]:
    """The rows and notes of script ``f`` (``run_as``: the copy of it to run)."""
    results: list[dict] = []
    notes: list[str] = []
    base = None
    expected = None
    for name, argv in cfgs:
        times = []
        failed = None
        for _ in range(repeat):
            if progress:
                progress(f"{Path(f).name}: {name}")
            try:
                dt, rc, out, err = time_once(argv + [run_as or f], timeout)
            except subprocess.TimeoutExpired:
                failed = f"timed out after {timeout:g} s"
                break
            if rc != 0:
                failed = f"exit status {rc}: {(err.strip().splitlines() or [''])[-1]}"
                break
            if expected is not None and out != expected:
                failed = "output differs from CPython's"
                break
            if name == "cpython":
                expected = out
            times.append(dt)
        if failed:
            notes.append(f"{f}: {name}: {failed}")
            if progress and len(times) < repeat:
                progress(None, skip=repeat - len(times) - 1)
            continue
        med = statistics.median(times)
        if name == "cpython":
            base = med
        results.append({"file": f, "config": name, "median_s": round(med, 4),
                        "ratio_vs_cpython": round(med / base, 3) if base else None})
    return results, notes


def bench_task(work: tuple[str, str], names: list[str], repeat: int, timeout: float,
               boxed: bool) -> tuple[list[dict], list[str]]:
    """``bench_file`` as a --cluster task, on a worker that may be another machine: the
    configurations ``names`` of this worker's Python, and the script at its path if
    it is there with the same text, else a copy (same name) in a temporary folder."""
    f, source = work
    cfgs = [c for c in configs(boxed) if c[0] in names]
    try:
        same = Path(f).read_text(encoding="utf-8") == source
    except OSError:
        same = False
    if same:
        return bench_file(f, cfgs, repeat, timeout)
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as d:
        copy = Path(d) / Path(f).name
        copy.write_text(source, encoding="utf-8")
        return bench_file(f, cfgs, repeat, timeout, run_as=str(copy))


def format_table(report: dict) -> list[list[str]]:
    rows = []
    for r in report["results"]:
        ratio = r["ratio_vs_cpython"]
        rows.append([Path(r["file"]).name, r["config"], f"{r['median_s']:.3f}",
                     "-" if ratio is None else f"{ratio:.2f}x"])
    return rows


HEADERS = ["file", "config", "median s", "vs CPython"]


def print_report(report: dict, repeat: int, color: bool) -> None:
    rows = format_table(report)
    if color:
        from rich.table import Table

        from .render import console

        t = Table(title=f"whole-process wall time, median of {repeat}")
        for i, h in enumerate(HEADERS):
            t.add_column(h, justify="left" if i < 2 else "right")
        last = None
        for row in rows:
            if last is not None and row[0] != last:
                t.add_section()
            last = row[0]
            t.add_row(*row)
        c = console()
        c.print(t)
        for n in report["notes"]:
            c.print(f"note: {n}", style="yellow")
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(HEADERS)]
    out = sys.stdout
    out.write(f"whole-process wall time, median of {repeat}\n")
    out.write("  ".join(h.ljust(w) if i < 2 else h.rjust(w)
                        for i, (h, w) in enumerate(zip(HEADERS, widths))) + "\n")
    for row in rows:
        out.write("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                            for i, (c, w) in enumerate(zip(row, widths))) + "\n")
    for n in report["notes"]:
        out.write(f"note: {n}\n")


def main(args) -> int:
    from ir.errors import WorkbenchError

    from .render import use_color

    files = args.files or default_files()
    for f in files:
        if not Path(f).is_file():
            raise WorkbenchError(f"{f}: no such file")
    if args.repeat < 1:
        raise WorkbenchError("--repeat must be >= 1")
    only = [c.strip() for c in args.configs.split(",")] if args.configs else None
    if only:
        known = [n for n, _ in configs(args.boxed)]
        bad = [c for c in only if c not in known]
        if bad:
            raise WorkbenchError(f"--configs: unknown {', '.join(bad)}; known: {', '.join(known)}")
    ncfg = len([c for c in configs(args.boxed) if not only or c[0] == "cpython" or c[0] in only])
    total = len(files) * ncfg * args.repeat
    cluster = None
    if args.cluster is not None:
        from .cluster import connect, parse_spec

        cluster = parse_spec(args.cluster)
    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(connect(cluster)) if cluster else None
        report = _run(args, files, only, total, pool)
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        print_report(report, args.repeat, use_color())
    return 0


def _run(args, files: list[str], only: list[str] | None, total: int, pool) -> dict:
    from .render import use_color

    if use_color(sys.stderr) and not os.environ.get("CI"):
        from rich.progress import Progress

        with Progress(transient=True, console=_stderr_console()) as bar:
            task = bar.add_task("bench", total=total)
            state = {"first": True}

            def progress(desc, skip=0):
                if skip:
                    bar.advance(task, skip)
                    return
                if not state["first"]:
                    bar.advance(task)
                state["first"] = False
                bar.update(task, description=desc)

            return run_bench(files, args.repeat, args.timeout, only, progress, args.boxed,
                             pool)
    return run_bench(files, args.repeat, args.timeout, only, boxed=args.boxed, pool=pool)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)
