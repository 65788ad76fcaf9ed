"""A fuzz campaign: generate programs, run each everywhere, compare, reduce, report.

The parent hands program seeds to ``jobs`` worker processes.  A worker generates
the program (``generator.generate(seed)``), runs it under CPython (``oracle.CPython``)
and then under every backend x pipeline in-process, and reports the mismatches.
Before each run it tells the parent which one it starts, so that a worker killed by
a signal (a native-code crash) or stuck past the hard timeout is reported as a
mismatch of that configuration, and replaced.

Of each program's mismatches the simplest configuration (interp first, fewest
passes) is reduced (``reducer``), once per kind (backend, pipeline, how they differ)
and at most ``max_reductions`` times, by a worker; the result is saved in the output
folder as a reproducer whose header says how to replay it.  ``--seconds`` bounds the
time spent starting new programs; programs and reductions under way finish (each
reduction within ``reduce_seconds``).  A worker whose memory grows past
``RETIRE_MB`` (the emulator is hungry) is replaced between programs.

With ``--cluster`` (``cluster.run_cluster_campaign``) each program and each reduction is a
task on a Dask cluster (``workbench.cluster``), run by the same worker loop forked in
the Dask worker (``cluster_task``); a reduction goes to the Dask worker that found the
mismatch and returns the reproducer's text, which the campaign writes into the output
folder.  Program k is seed S+k either way, so a campaign of ``--programs N`` finds the
same mismatches; the report lists them by program.  Which program of a kind of
mismatch gets reduced is the first to finish, with ``--jobs`` as with ``--cluster``.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ir.errors import WorkbenchError
from ir.frontend import compile_source
from passes.registry import load_plugin_file

from .generator import generate
from .oracle import (CPython, Outcome, agree, backend_args, first_difference, last_line,
                     run_workbench, run_workbench_forked, signal_name, signature)
from .reducer import reduce


@dataclass(frozen=True)
class Settings:
    backends: tuple[str, ...]
    pipelines: tuple[str, ...]
    loads: tuple[str, ...] = ()
    timeout: float = 30.0               # per run
    reduce_seconds: float = 60.0        # per reduction
    exclude: frozenset[str] = frozenset()  # generator features left out
    verify: bool = False


@dataclass
class Mismatch:
    seed: int
    backend: str
    passes: str
    ref: Outcome
    got: Outcome
    program: str = ""

    @property
    def key(self) -> tuple:
        return (self.backend, self.passes, signature(self.ref, self.got))

    def summary(self) -> str:
        return (f"seed {self.seed}: --backend {self.backend} --passes {self.passes!r}: "
                f"{first_difference(self.ref, self.got)}")


@dataclass
class Report:
    seed: int
    programs: int = 0
    runs: int = 0
    skipped: int = 0                     # CPython itself timed out
    abandoned: int = 0                   # still running well past the deadline
    mismatches: list[Mismatch] = field(default_factory=list)
    reproducers: list[str] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    def to_json(self) -> dict:
        return {"programs": self.programs, "runs": self.runs,
                "mismatches": len(self.mismatches), "reproducers": self.reproducers,
                "seed": self.seed, "seconds": round(self.seconds, 1),
                "interrupted": self.interrupted, "abandoned": self.abandoned,
                "details": [{"seed": m.seed, "backend": m.backend, "passes": m.passes,
                             "difference": first_difference(m.ref, m.got)}
                            for m in self.mismatches]}


# --------------------------------------------------------------------------- one program

def check_program(seed: int, settings: Settings, cpython: CPython, workdir: str,
                 note=lambda *a: None) -> tuple[int, list[Mismatch], bool]:
    """Run program ``seed`` everywhere: (runs, mismatches, skipped)."""
    source = generate(seed, settings.exclude)
    path = os.path.join(workdir, f"fuzz_{seed}.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(source)
    ref = cpython.run(path, timeout=settings.timeout)
    if ref.timeout:
        return 0, [], True
    runs = 0
    found = []
    for backend in settings.backends:
        for passes in settings.pipelines:
            note(seed, backend, passes)
            got = run_workbench(path, backend, passes, settings.loads, settings.timeout,
                                settings.verify)
            runs += 1
            if not agree(ref, got):
                found.append(Mismatch(seed, backend, passes, ref, got, source))
    return runs, found, False


# --------------------------------------------------------------------------- reduction

def make_test(m: Mismatch, settings: Settings, cpython: CPython, workdir: str):
    """The reducer's question: does this text fail the way ``m`` did?

    Same configuration, same signature (which of stdout / status / last stderr line
    differ, and the exception type; or the same signal, or a timeout), CPython itself
    finishing; and when the unoptimized interpreter agreed with CPython on the
    original, it must agree on the candidate too (the bug stays the pipeline's)."""
    want = signature(m.ref, m.got)
    forked = want[:1] in (("signal",), ("timeout",))
    path = os.path.join(workdir, f"reduce_{m.seed}.py")
    limit = [settings.timeout]

    def run(backend: str, passes: str) -> Outcome:
        runner = run_workbench_forked if forked else run_workbench
        return runner(path, backend, passes, settings.loads, limit[0], settings.verify)

    def write(text: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    write(m.program)
    ref0 = cpython.run(path, timeout=settings.timeout)
    baseline = (m.backend, m.passes) != ("interp", "") and agree(ref0, run("interp", ""))
    if want != ("timeout",):  # candidates that loop forever are cut short
        t0 = time.monotonic()
        run(m.backend, m.passes)
        limit[0] = min(settings.timeout, max(3.0, 10 * (time.monotonic() - t0) + 1.0))

    def interesting(text: str) -> bool:
        try:
            compile_source(text, path)
        except WorkbenchError:
            return False
        write(text)
        ref = cpython.run(path, timeout=limit[0])
        if ref.timeout or ref.status < 0:
            return False
        if signature(ref, run(m.backend, m.passes)) != want:
            return False
        if baseline and not agree(ref, run("interp", "")):
            return False
        return True

    return interesting


def reduce_mismatch(m: Mismatch, settings: Settings, cpython: CPython,
                    workdir: str) -> tuple[str, str]:

    test = make_test(m, settings, cpython, workdir)
    deadline = time.monotonic() + settings.reduce_seconds
    small, tests = reduce(m.program, test, deadline)
    # Replay the reduced program for the header.
    path = os.path.join(workdir, f"final_{m.seed}.py")
    Path(path).write_text(small, encoding="utf-8")
    ref = cpython.run(path, timeout=settings.timeout)
    runner = run_workbench_forked if signature(m.ref, m.got)[:1] in (("signal",), ("timeout",)) \
        else run_workbench
    got = runner(path, m.backend, m.passes, settings.loads, settings.timeout, settings.verify)
    return reproducer(m, small, ref, got, tests, settings)


def reproducer(m: Mismatch, text: str, ref: Outcome, got: Outcome, tests: int,
               settings: Settings, note: str | None = None) -> tuple[str, str]:
    """(file name, contents) of the reproducer of ``m``: made where the reduction ran,
    written into the output folder by the campaign's parent (``write_reproducer``), so
    that a worker on another machine (``--cluster``) writes nothing."""
    safe = "".join(c if c.isalnum() else "-" for c in (m.passes or "none"))[:40]
    name = f"mismatch-{m.seed}-{m.backend}-{safe}.py"
    loads = "".join(f" --load {f}" for f in settings.loads)
    how = f"reduced with {tests} tests" if note is None else f"NOT reduced: {note}"
    header = [
        f"# workbench fuzz reproducer (program seed {m.seed}, {how})",
        f"# replay: workbench run {' '.join(backend_args(m.backend))} --passes "
        f"'{m.passes}'{loads} {name}",
        f"#         python3 {name}",
        f"# CPython:   {_one_line(ref.describe())}",
        f"# workbench: {_one_line(got.describe())}",
        f"# {_one_line(first_difference(ref, got))}",
    ]
    return name, "\n".join(header) + "\n" + text


def write_reproducer(out_dir: str, name: str, text: str) -> str:
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    Path(path).write_text(text, encoding="utf-8")
    return path


def _one_line(s: str) -> str:
    return s.replace("\n", "\\n")[:300]


# --------------------------------------------------------------------------- workers

RETIRE_MB = 1500  # a worker whose resident memory grows past this is replaced


def _rss_mb() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // (1 << 20)
    except (OSError, ValueError, IndexError):
        return 0


def worker_loop(conn, settings: Settings) -> None:
    """Serve tasks from the parent until told to stop."""

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C

    for f in settings.loads:
        load_plugin_file(f)
    cpython = CPython()
    workdir = tempfile.mkdtemp(prefix="wb-fuzz-")
    try:
        while True:
            try:
                task = conn.recv()
            except EOFError:
                break
            if task is None:
                break
            if task[0] == "program":
                seed = task[1]
                runs, found, skipped = check_program(
                    seed, settings, cpython, workdir,
                    note=lambda s, b, p: conn.send(("at", s, b, p)))
                retire = _rss_mb() > RETIRE_MB  # emulators hold a lot: start afresh
                conn.send(("done", seed, runs, found, skipped, retire))
                if retire:
                    break
            elif task[0] == "reduce":
                m = task[1]
                try:
                    name, text = reduce_mismatch(m, settings, cpython, workdir)
                except Exception as e:  # never lose the program itself
                    name, text = reproducer(m, m.program, m.ref, m.got, 0, settings,
                                            note=f"{type(e).__name__}: {e}")
                conn.send(("reduced", m.seed, name, text))
    finally:
        cpython.close()


class _Worker:
    def __init__(self, ctx, settings: Settings):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker_loop, args=(child, settings), daemon=True)
        self.proc.start()
        child.close()
        self.task: tuple | None = None
        self.started = 0
        self.retiring = False
        self.at: tuple | None = None     # (seed, backend, passes) of the run under way
        self.since = time.monotonic()    # when the current run started

    def send(self, task: tuple) -> None:
        self.task = task
        self.at = None
        self.started = 0                 # runs of this program begun so far
        self.since = time.monotonic()
        self.conn.send(task)

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)


class Tally:
    """The campaign's bookkeeping, the same whichever way programs run (``--jobs``
    or ``--cluster``): counts, mismatches, and which mismatches to reduce."""

    def __init__(self, report: Report, max_reductions: int, progress, start: float,
                 deadline: float):
        self.report = report
        self.max_reductions = max_reductions
        self.progress = progress
        self.start, self.deadline = start, deadline
        self.reductions_started: set[tuple] = set()
        self.pending: list[Mismatch] = []

    def program(self, runs: int, found: list[Mismatch], skipped: bool) -> None:
        self.report.programs += 1
        self.report.runs += runs
        self.report.skipped += skipped
        self.record(found)

    def record(self, found: list[Mismatch]) -> None:
        for m in found:
            self.report.mismatches.append(m)
            if self.progress:
                self.progress(self.report, self.start, self.deadline, m.summary())
        # Reduce one mismatch per program, the simplest configuration (a bug usually
        # shows in several pipelines), and one per kind (backend, pipeline, signature).
        if found:
            m = min(found, key=lambda m: (m.backend != "interp", _size(m.passes), m.passes))
            if (m.key not in self.reductions_started
                    and len(self.reductions_started) < self.max_reductions):
                self.reductions_started.add(m.key)
                self.pending.append(m)

    def tick(self) -> None:
        if self.progress:
            self.progress(self.report, self.start, self.deadline, None)

    def finish(self) -> Report:
        # Workers finish programs in any order: report them by program.
        self.report.mismatches.sort(key=lambda m: m.seed)
        self.report.reproducers.sort()
        self.report.seconds = time.monotonic() - self.start
        return self.report


def limits(settings: Settings, seconds: float, deadline: float) -> tuple[float, float, float]:
    """(hard limit of one run, of one reduction; when programs still running are abandoned)."""
    hard = settings.timeout + 30  # a run that outlives this killed its worker's timer
    reduce_hard = settings.reduce_seconds + 4 * settings.timeout + 60
    # Programs still running this long after the deadline are abandoned (not counted).
    grace = deadline + max(15.0, 0.1 * seconds)
    return hard, reduce_hard, grace


def run_campaign(settings: Settings, seed: int, seconds: float, jobs: int,
                 out_dir: str, programs: int | None = None, max_reductions: int = 10,
                 progress=None) -> Report:
    report = Report(seed)
    start = time.monotonic()
    deadline = start + seconds
    tally = Tally(report, max_reductions, progress, start, deadline)
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    workers = [_Worker(ctx, settings) for _ in range(max(1, jobs))]
    next_seed = seed
    hard, reduce_hard, grace = limits(settings, seconds, deadline)

    def more_programs() -> bool:
        return time.monotonic() < deadline and (programs is None or next_seed - seed < programs)

    try:
        while True:
            for i, w in enumerate(workers):
                if w.task is None:
                    if tally.pending:
                        w.send(("reduce", tally.pending.pop(0), out_dir))
                    elif more_programs():
                        w.send(("program", next_seed))
                        next_seed += 1
            busy = [w for w in workers if w.task is not None]
            if not busy:
                break
            ready = multiprocessing.connection.wait(
                [w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=0.5)
            for i, w in enumerate(workers):
                if w.task is None:
                    continue
                died = False
                try:
                    while w.task is not None and w.conn.poll():
                        msg = w.conn.recv()
                        if msg[0] == "at":  # a run starts
                            w.at, w.since = msg[1:], time.monotonic()
                            w.started += 1
                        elif msg[0] == "done":
                            _, s, runs, found, skipped, retire = msg
                            w.task = None
                            w.retiring = retire
                            tally.program(runs, found, skipped)
                        elif msg[0] == "reduced":
                            report.reproducers.append(write_reproducer(out_dir, *msg[2:]))
                            w.task = None
                    if w.task is None and w.retiring:
                        w.proc.join(10)
                        w.kill()
                        workers[i] = _Worker(ctx, settings)
                except (EOFError, OSError):
                    died = True
                if w.task is None:
                    continue
                limit = reduce_hard if w.task[0] == "reduce" else hard
                stuck = time.monotonic() - w.since > limit
                if died or stuck or not w.proc.is_alive():
                    workers[i] = _replace(ctx, settings, w, tally, out_dir, stuck)
                elif w.task[0] == "program" and time.monotonic() > grace:
                    w.kill()
                    report.abandoned += 1
                    workers[i] = _Worker(ctx, settings)
            tally.tick()
    except KeyboardInterrupt:  # ^C: stop, and report what was done
        report.interrupted = True
    finally:
        for w in workers:
            try:
                w.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        for w in workers:
            w.proc.join(2)
            w.kill()
    return tally.finish()


def _size(passes: str) -> int:
    """Roughly how many passes a pipeline runs (to reduce the simplest one)."""
    return sum(10 if p.strip() == "default" else 1 for p in passes.split(",") if p.strip())


def _cpython_once(program: str, settings: Settings) -> Outcome:
    """What CPython does with ``program`` (a plain subprocess; rare: after a crash)."""

    with tempfile.TemporaryDirectory(prefix="wb-fuzz-") as d:
        path = os.path.join(d, "program.py")
        Path(path).write_text(program, encoding="utf-8")
        try:
            r = subprocess.run([sys.executable, path], capture_output=True,
                               timeout=settings.timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return Outcome("", 0, "", timeout=True)
    return Outcome(r.stdout.decode("utf-8", "backslashreplace"), r.returncode,
                   last_line(r.stderr.decode("utf-8", "backslashreplace")))


def crashed_program(settings: Settings, at: tuple, started: int, code: int | None,
                     stuck: bool) -> tuple[int, list[Mismatch]]:
    """(runs, [the mismatch]) of a program whose worker died or hung in run ``at``."""
    seed, backend, passes = at
    got = Outcome("", 0, "", timeout=True) if stuck else \
        Outcome("", code if code and code < 0 else -9, "")
    program = generate(seed, settings.exclude)
    # ``started`` counts the last run, the one that crashed or hung.
    return started, [Mismatch(seed, backend, passes, _cpython_once(program, settings), got,
                              program)]


def failed_reduction(m: Mismatch, settings: Settings, code: int | None,
                      stuck: bool) -> tuple[str, str]:
    why = "the reduction timed out" if stuck else \
        f"the reduction died ({signal_name(-code) if code and code < 0 else code})"
    return reproducer(m, m.program, m.ref, m.got, 0, settings, note=why)


def _replace(ctx, settings, w: _Worker, tally: Tally, out_dir: str, stuck: bool) -> _Worker:
    """A worker died (a crash in native code) or hung: record it, start another."""
    w.kill()
    code = w.proc.exitcode
    task = w.task
    if task[0] == "program" and w.at is not None:
        tally.program(*crashed_program(settings, w.at, w.started, code, stuck), False)
    elif task[0] == "program":
        tally.program(0, [], False)  # died before its first run (CPython, or generating)
    elif task[0] == "reduce":
        tally.report.reproducers.append(
            write_reproducer(out_dir, *failed_reduction(task[1], settings, code, stuck)))
    return _Worker(ctx, settings)
