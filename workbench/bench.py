"""``workbench bench``: whole-process timings of scripts under every configuration.

Each script runs as its own process (``python f.py``, ``python -m workbench run ...``,
``pypy3 f.py``), ``--repeat`` times; the table gives the median wall time and the ratio
to CPython's median (the baseline, measured in the same run).  A configuration whose
backend is not available here (``workbench run --backend native`` rejected with status
2) is skipped with a note, as is a run that fails, times out or prints something other
than CPython's output.

Each configuration first runs ``--warmups`` times (not timed in the table; default 1:
caches, stencils and the page cache warm up), then ``--repeat`` times.  ``-o FILE``
writes the same runs as a pyperf benchmark suite (``to_pyperf_suite``): one benchmark
per (program, configuration), named ``fib_mod[native+default]``, whose values are the
whole-process wall seconds (one loop each) and whose warmups are the warmup runs, so
``python -m pyperf show FILE`` and ``python -m pyperf compare_to A.json B.json`` read it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ir.errors import WorkbenchError

from .benchmarks import all_programs
from .cluster import connect, parse_spec
from .render import console, use_color


REGALLOC_ALGOS = ("tos", "linear-scan", "graph-coloring")


def default_files() -> list[str]:
    """The project's own programs, shipped in the package: the reference kernels
    (``workbench/benchmarks/programs/kernels/*.py``), then the larger programs
    (``workbench/benchmarks/programs/*.py``).  Raises ``WorkbenchError`` if one is
    missing (an incomplete install), rather than timing fewer programs."""

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
              warmups: int = 0, pool=None) -> dict:
    """``{"results": [{file, config, median_s, ratio_vs_cpython, values_s, warmups_s}],
    "notes": [...]}``: per script and configuration, ``warmups`` untimed runs then
    ``repeat`` timed ones (``values_s``, whole-process wall seconds; ``median_s`` is their
    median).  Every run's output must be CPython's (its first run is the reference).

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
            rows, more = bench_file(f, cfgs, repeat, timeout, progress, warmups=warmups)
            results += rows
            notes += more
        return {"results": results, "notes": notes}
    names = [n for n, _ in cfgs]
    work = [(f, Path(f).read_text(encoding="utf-8")) for f in files]
    for rows, more in pool.map(bench_task, work, names, repeat, timeout, boxed, warmups):
        if progress:
            progress(None, skip=len(names) * (repeat + warmups))
        results += rows
        notes += more
    return {"results": results, "notes": notes}


def bench_file(f: str, cfgs: list[tuple[str, list[str]]], repeat: int, timeout: float,
               progress=None, run_as: str | None = None,
               warmups: int = 0) -> tuple[list[dict], list[str]]:
    """The rows and notes of script ``f`` (``run_as``: the copy of it to run)."""
    runs = warmups + repeat
    results: list[dict] = []
    notes: list[str] = []
    base = None
    expected = None
    for name, argv in cfgs:
        times = []
        failed = None
        for _ in range(runs):
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
            if progress and len(times) < runs:
                progress(None, skip=runs - len(times) - 1)
            continue
        values = times[warmups:]
        med = statistics.median(values)
        if name == "cpython":
            base = med
        results.append({"file": f, "config": name, "median_s": round(med, 4),
                        "ratio_vs_cpython": round(med / base, 3) if base else None,
                        "values_s": [round(t, 6) for t in values],
                        "warmups_s": [round(t, 6) for t in times[:warmups]]})
    return results, notes


def bench_task(work: tuple[str, str], names: list[str], repeat: int, timeout: float,
               boxed: bool, warmups: int = 0) -> tuple[list[dict], list[str]]:
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
        return bench_file(f, cfgs, repeat, timeout, warmups=warmups)
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as d:
        copy = Path(d) / Path(f).name
        copy.write_text(source, encoding="utf-8")
        return bench_file(f, cfgs, repeat, timeout, run_as=str(copy), warmups=warmups)


# -- pyperf ------------------------------------------------------------------------------
def workbench_commit() -> str:
    """``git rev-parse HEAD`` of the checkout this workbench runs from (the folder that
    holds the ``workbench`` package, when it is a git work tree's top level), else
    ``"unknown"`` (an installed copy, no git)."""
    root = Path(__file__).resolve().parent.parent
    try:
        r = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel", "HEAD"],
                           capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    lines = r.stdout.split()
    if r.returncode != 0 or len(lines) != 2 or Path(lines[0]).resolve() != root:
        return "unknown"
    return lines[1]


def _python_metadata(executable: str) -> dict:
    """pyperf's ``python_implementation``/``python_version``/``python_executable`` of
    another interpreter (pypy3)."""
    code = ("import platform,struct,sys;print(platform.python_implementation().lower());"
            "print('%s (%s-bit)' % (platform.python_version(), struct.calcsize('P') * 8));"
            "print(sys.executable)")
    try:
        r = subprocess.run([executable, "-c", code], capture_output=True, text=True,
                           timeout=60)
        impl, version, exe = r.stdout.split("\n")[:3]
    except (OSError, subprocess.SubprocessError, ValueError):
        return {"python_executable": executable}
    return {"python_implementation": impl, "python_version": version,
            "python_executable": exe}


def config_metadata(argv: list[str]) -> dict:
    """``backend``, ``pipeline`` (the ``--passes`` string; ``none`` for no passes, ``-``
    when no workbench runs) and ``boxed`` of one configuration's command line."""
    if "--backend" in argv:
        backend = argv[argv.index("--backend") + 1]
        passes = argv[argv.index("--passes") + 1] if "--passes" in argv else "default"
        return {"backend": backend, "pipeline": passes or "none",
                "boxed": "true" if "--boxed" in argv else "false"}
    return {"backend": Path(argv[0]).name if argv[0] != sys.executable else "cpython",
            "pipeline": "-", "boxed": "false"}


def benchmark_names(report: dict) -> dict[tuple[str, str], str]:
    """(file, config) -> the pyperf benchmark name, ``STEM[CONFIG]`` (the path instead of
    the stem when two files share a stem)."""
    files = list(dict.fromkeys(r["file"] for r in report["results"]))
    stems = [Path(f).stem for f in files]
    label = {f: (s if stems.count(s) == 1 else f) for f, s in zip(files, stems)}
    return {(r["file"], r["config"]): f"{label[r['file']]}[{r['config']}]"
            for r in report["results"]}


def to_pyperf_suite(report: dict, boxed: bool = False):
    """``run_bench``'s report as a ``pyperf.BenchmarkSuite``: per (file, configuration) one
    benchmark with one run, whose values are the timed runs and whose warmups the warmup
    runs (seconds, one loop each), and metadata: pyperf's own (python, cpu, system,
    date) plus ``backend``, ``pipeline``, ``commit``, ``boxed``, ``command``."""

    # lazy: pyperf is slow to import; only this path needs it
    import pyperf

    argvs = dict(configs(boxed))
    common = dict(pyperf.Run([1.0]).get_metadata())  # pyperf's system/cpu/python metadata
    for k in ("mem_max_rss", "duration", "name", "loops"):
        common.pop(k, None)
    common["commit"] = workbench_commit()
    others: dict[str, dict] = {}
    names = benchmark_names(report)
    benchmarks = []
    for r in report["results"]:
        argv = argvs[r["config"]]
        meta = dict(common)
        if argv[0] != sys.executable:  # pypy3: its own python_* metadata, not ours
            if argv[0] not in others:
                others[argv[0]] = _python_metadata(argv[0])
            meta = {k: v for k, v in meta.items() if not k.startswith("python_")}
            meta.update(others[argv[0]])
        meta.update(config_metadata(argv))
        meta.update(name=names[r["file"], r["config"]], loops=1, unit="second",
                    command=shlex.join(argv + [r["file"]]))
        run = pyperf.Run([float(v) for v in r["values_s"]],
                         warmups=[(1, float(w)) for w in r["warmups_s"]] or None,
                         metadata=meta, collect_metadata=False)
        benchmarks.append(pyperf.Benchmark([run]))
    return pyperf.BenchmarkSuite(benchmarks)


def check_writable(path: str) -> None:
    """Raise ``WorkbenchError`` (``PATH: cannot write: WHY``) now, before minutes of
    timing, when ``path`` cannot be created or replaced."""

    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    why = None
    if p.is_dir():
        why = errno.EISDIR
    elif not parent.is_dir():
        why = errno.ENOENT if not parent.exists() else errno.ENOTDIR
    elif not os.access(parent, os.W_OK | os.X_OK) or (p.exists() and not os.access(p, os.W_OK)):
        why = errno.EACCES
    if why is not None:
        raise WorkbenchError(f"{path}: cannot write: {os.strerror(why)}")


def write_pyperf(report: dict, path: str, boxed: bool = False) -> None:
    if not report["results"]:
        raise WorkbenchError(f"{path}: not written: no configuration ran (see the notes)")
    suite = to_pyperf_suite(report, boxed)
    try:
        suite.dump(path, replace=True)
    except OSError as e:
        raise WorkbenchError(f"{path}: cannot write: {e.strerror}") from None


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
        # lazy: rich is slow to import; only this path needs it
        from rich.table import Table

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
    files = args.files or default_files()
    for f in files:
        if not Path(f).is_file():
            raise WorkbenchError(f"{f}: no such file")
    if args.repeat < 1:
        raise WorkbenchError("--repeat must be >= 1")
    warmups = getattr(args, "warmups", 0)
    if warmups < 0:
        raise WorkbenchError("--warmups must be >= 0")
    output = getattr(args, "output", None)
    if output:
        check_writable(output)
    only = [c.strip() for c in args.configs.split(",")] if args.configs else None
    if only:
        known = [n for n, _ in configs(args.boxed)]
        bad = [c for c in only if c not in known]
        if bad:
            raise WorkbenchError(f"--configs: unknown {', '.join(bad)}; known: {', '.join(known)}")
    ncfg = len([c for c in configs(args.boxed) if not only or c[0] == "cpython" or c[0] in only])
    total = len(files) * ncfg * (args.repeat + warmups)
    cluster = None
    if args.cluster is not None:

        cluster = parse_spec(args.cluster)
    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(connect(cluster)) if cluster else None
        report = _run(args, files, only, total, warmups, pool)
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        print_report(report, args.repeat, use_color())
    if output:  # after the table: a failure to write still shows the timings
        sys.stdout.flush()
        write_pyperf(report, output, args.boxed)
    return 0


def _run(args, files: list[str], only: list[str] | None, total: int, warmups: int,
         pool) -> dict:

    if use_color(sys.stderr) and not os.environ.get("CI"):
        # lazy: rich is slow to import; only this path needs it
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
                             warmups, pool)
    return run_bench(files, args.repeat, args.timeout, only, boxed=args.boxed,
                     warmups=warmups, pool=pool)


def _stderr_console():
    # lazy: rich is slow to import; only this path needs it
    from rich.console import Console

    return Console(stderr=True)
