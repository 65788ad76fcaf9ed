"""``workbench bisect``: which pass, and which of its transformations, breaks a program.

1. Run the script under CPython and under the workbench with the whole pipeline;
   if they agree (stdout, exit status, last stderr line) there is nothing to find.
2. Run growing prefixes of the pipeline: the first prefix that disagrees ends with
   the guilty pass (every shorter prefix agreed).
3. With that prefix, binary-search ``Runtime(bisect_limit=N)``: every pass asks
   ``PassContext.allow`` before each transformation, and the runtime counts them with
   ONE counter across every function it optimizes during the run, in the order it
   optimizes them (a re-optimization continues the count).  Limit 0 agrees, the full
   count disagrees; the search ends at N where limit N-1 agrees and N disagrees:
   transformation N is the culprit (LLVM's ``-opt-bisect-limit`` method).  Because
   the first N allowed transformations are the same in every run whose limit is at
   least N, "transformation N" is well defined.
4. Rerun N-1 and N recording the IR after each pass of each compilation; the pass
   during which the counter reached N shows its function's IR without and with
   transformation N, printed as a diff.

Every trial runs in a forked child with a timeout, so a run that crashes (native
code) or hangs is just "disagrees".  Exit status: 0 found, 1 no difference, 2 bad
input.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import subprocess
import sys
from dataclasses import dataclass, field

from ir.errors import WorkbenchError
from ir.printer import print_function
from passes.base import Pass
from passes.pipeline import parse_pipeline

from .fuzz.oracle import Outcome, agree, first_difference, last_line, run_forked
from .runtime import Runtime, exit_status, load_module, run_guarded

UNLIMITED = 1 << 62


@dataclass
class Snapshot:
    compile: int         # 1 for the first function the runtime optimized, ...
    function: str
    index: int           # the pass's position in the pipeline
    spec: str
    before: int          # transformations counted before the pass ran
    after: int           # and after
    ir: str              # the function's IR after the pass


@dataclass
class Trial:
    outcome: Outcome
    log: list[tuple[int, str, str]] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)


def _observed(passes: list, snaps: list[Snapshot]):
    """The pipeline with each pass wrapped to record the IR after it."""
    state = {"compile": 0}

    class Observed(Pass):
        def __init__(self, inner, index):
            self.inner, self.index = inner, index
            self.name = inner.name
            self.options, self.opts = inner.options, inner.opts
            self.requires, self.preserves = inner.requires, inner.preserves

        def spec(self) -> str:
            return self.inner.spec()

        def run(self, fn, ctx) -> bool:
            if self.index == 0:
                state["compile"] += 1
            before = ctx.transformations
            changed = self.inner.run(fn, ctx)
            snaps.append(Snapshot(state["compile"], fn.name, self.index, self.inner.spec(),
                                  before, ctx.transformations, print_function(fn)))
            return changed

    return [Observed(p, i) for i, p in enumerate(passes)]


def trial(path: str, backend: str, passes: str, limit: int | None, record: bool = False,
          verify: bool = False) -> Trial:
    """One run of ``path`` (in this process; callers fork): what it printed, the
    transformations it allowed, and with ``record`` the IR after every pass."""
    out, err = io.StringIO(), io.StringIO()
    snaps: list[Snapshot] = []
    rt = None

    def run() -> int:
        nonlocal rt
        module = load_module(path)
        rt = Runtime(module, backend=backend, passes=passes, bisect_limit=limit,
                     verify=verify)
        if record:
            rt.pipeline = _observed(rt.pipeline, snaps)
        return run_guarded(rt.run, path)

    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = exit_status(run)
    log = list(rt.bisect_log) if rt is not None else []
    return Trial(Outcome(out.getvalue(), status, last_line(err.getvalue())), log, snaps)


class Bisector:
    def __init__(self, path: str, backend: str, timeout: float, verify: bool = False,
                 say=None):
        self.path, self.backend, self.timeout, self.verify = path, backend, timeout, verify
        self.say = say or (lambda line: None)
        self.trials = 0

    def run(self, passes: str, limit: int | None = None, record: bool = False) -> Trial:
        self.trials += 1
        result, failure = run_forked(trial, (self.path, self.backend, passes, limit, record,
                                             self.verify), self.timeout)
        return result if failure is None else Trial(failure)

    def cpython(self) -> Outcome:
        try:
            r = subprocess.run([sys.executable, self.path], capture_output=True,
                               timeout=self.timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return Outcome("", 0, "", timeout=True)
        return Outcome(r.stdout.decode("utf-8", "backslashreplace"), r.returncode,
                       last_line(r.stderr.decode("utf-8", "backslashreplace")))


def bisect(path: str, pipeline: str, backend: str = "interp", timeout: float = 60.0,
           verify: bool = False, out=sys.stdout) -> int:
    if path.endswith(".uop"):
        raise WorkbenchError(f"{path}: bisect needs a Python script (CPython runs it too)")
    load_module(path)  # bad input is a one-line error before anything runs
    passes = parse_pipeline(pipeline or "")
    if not passes:
        raise WorkbenchError("bisect: the pipeline is empty; give --passes")
    specs = [p.spec() for p in passes]
    write = lambda line="": out.write(line + "\n")  # noqa: E731
    b = Bisector(path, backend, timeout, verify)

    ref = b.cpython()
    if ref.timeout:
        raise WorkbenchError(f"{path}: CPython did not finish within {timeout:g} s")
    full = b.run(",".join(specs))
    if agree(ref, full.outcome):
        write(f"bisect: no difference: CPython and --backend {backend} --passes "
              f"'{','.join(specs)}' agree ({ref.describe()})")
        return 1
    write(f"bisect: {path}: {first_difference(ref, full.outcome)}")

    base = b.run("")
    if not agree(ref, base.outcome):
        write("bisect: the run without optimization already differs: the cause is tier 1 "
              f"(frontend or interpreter), not a pass: {first_difference(ref, base.outcome)}")
        return 0

    k = None
    for i in range(1, len(specs) + 1):
        t = full if i == len(specs) else b.run(",".join(specs[:i]))
        if not agree(ref, t.outcome):
            k = i
            break
    if k is None:  # a flaky difference: the full pipeline disagreed once
        write("bisect: no prefix of the pipeline reproduces the difference (flaky?)")
        return 1
    prefix = ",".join(specs[:k])
    write(f"bisect: first failing prefix: '{prefix}' (pass {k} of {len(specs)}: "
          f"'{specs[k - 1]}'; '{','.join(specs[:k - 1])}' agrees)")

    counted = b.run(prefix, UNLIMITED)
    total = len(counted.log)
    if agree(ref, counted.outcome):
        write("bisect: counting transformations hides the difference (the run is not "
              "deterministic?)")
        return 1
    zero = b.run(prefix, 0)
    if not agree(ref, zero.outcome):
        write(f"bisect: the difference remains with --opt-bisect-limit 0: a pass in "
              f"'{prefix}' changes the IR without asking ctx.allow (most likely "
              f"'{specs[k - 1]}')")
        return 0
    lo, hi = 0, total  # lo agrees, hi disagrees
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if agree(ref, b.run(prefix, mid).outcome):
            lo = mid
        else:
            hi = mid
    n = hi
    good = b.run(prefix, n - 1, record=True)
    bad = b.run(prefix, n, record=True)
    entry = next((e for e in bad.log if e[0] == n), None)
    who, what = (entry[1], entry[2]) if entry else ("?", "?")
    write(f"bisect: first bad transformation: {n} of {total} (limit {n - 1} agrees, "
          f"{n} differs; {b.trials} runs)")
    snap = next((s for s in bad.snapshots if s.before < n <= s.after), None)
    where = f" on @{snap.function} (compilation {snap.compile})" if snap else ""
    write(f"bisect: pass '{who}'{where}: transformation {n}: {what}")
    write(f"bisect: with it: {first_difference(ref, bad.outcome)}")
    if snap is not None:
        old = next((s for s in good.snapshots
                    if (s.compile, s.index, s.function) == (snap.compile, snap.index,
                                                            snap.function)), None)
        before = old.ir if old is not None else ""
        diff = difflib.unified_diff(
            before.splitlines(True), snap.ir.splitlines(True),
            f"@{snap.function} after {snap.spec}, transformations 1..{n - 1}",
            f"@{snap.function} after {snap.spec}, transformations 1..{n}", n=3)
        text = "".join(diff)
        write(text.rstrip("\n") if text else "(the IR text did not change)")
    return 0
