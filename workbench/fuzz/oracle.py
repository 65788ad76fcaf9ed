"""Running one program: under CPython (the oracle) and under the workbench, and comparing.

An ``Outcome`` is what a run of ``python f.py`` shows: stdout, exit status and the
last line of stderr (a traceback's last line is the exception; the frames above it
differ legitimately).  Two outcomes agree when all three are equal.

CPython runs in a subprocess of ``sys.executable``: a small server started once per
worker that forks a fresh child for every program (a clean interpreter, with a hard
timeout), because starting Python costs far more than running a fuzz program.
The workbench runs in-process (``workbench.runtime.run_file``, what ``workbench run``
does, with stdout and stderr captured and a timer), or in a forked child when the run might crash
(``run_forked``): a native-code crash then kills the child, not the caller.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

from ..runtime import exit_status, run_file


CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE,
                 signal.SIGABRT, signal.SIGTRAP, signal.SIGSYS}


@dataclass(frozen=True)
class Outcome:
    stdout: str
    status: int            # exit status; -N: killed by signal N
    last: str              # the last line of stderr ("" if none)
    timeout: bool = False

    def describe(self) -> str:
        if self.timeout:
            return "timed out"
        if self.status < 0:
            return f"killed by {signal_name(-self.status)}"
        tail = f", stderr: {self.last}" if self.last else ""
        return f"exit {self.status}{tail}"

    def to_json(self) -> dict:
        return asdict(self)


def signal_name(n: int) -> str:
    try:
        return f"{signal.Signals(n).name} (signal {n})"
    except ValueError:
        return f"signal {n}"


def last_line(text: str) -> str:
    lines = text.rstrip("\n").split("\n")
    return lines[-1] if lines else ""


def agree(ref: Outcome, got: Outcome) -> bool:
    return (not ref.timeout and not got.timeout and ref.stdout == got.stdout
            and ref.status == got.status and ref.last == got.last)


def signature(ref: Outcome, got: Outcome) -> tuple:
    """How ``got`` differs from ``ref``: what a reduction must keep."""
    if got.timeout:
        return ("timeout",)
    if got.status < 0:
        return ("signal", -got.status)
    diff: list[str] = []
    if ref.stdout != got.stdout:
        diff.append("stdout")
    if ref.status != got.status:
        diff.append(f"status {got.status}")
    if ref.last != got.last:
        diff.append("stderr " + got.last.split(":")[0][:60])
    return tuple(diff)


def first_difference(ref: Outcome, got: Outcome) -> str:
    """One line saying where they differ (for reports)."""
    if got.timeout or got.status < 0 or ref.status != got.status or ref.last != got.last:
        return f"CPython: {ref.describe()}; workbench: {got.describe()}"
    a, b = ref.stdout.splitlines(), got.stdout.splitlines()
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"stdout line {i + 1}: CPython {x[:80]!r}, workbench {y[:80]!r}"
    return f"stdout: CPython printed {len(a)} lines, workbench {len(b)}"


# --------------------------------------------------------------------------- CPython

_SERVER = r'''
import builtins, json, os, signal, sys, time, traceback

def child(req):
    fo = os.open(req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    fe = os.open(req["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fo, 1)
    os.dup2(fe, 2)
    fn = os.open(os.devnull, os.O_RDONLY)
    os.dup2(fn, 0)
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False, errors="backslashreplace")
    path = req["path"]
    sys.argv = [path]
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    code = 0
    try:
        with open(path, "rb") as f:
            source = f.read()
        exec(compile(source, path, "exec"), {"__name__": "__main__", "__file__": path,
                                             "__builtins__": builtins})
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
    except BaseException:
        code = 120
    sys.stderr.flush()
    os._exit(code)

def serve():
    for line in sys.stdin:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                child(req)
            finally:
                os._exit(121)
        deadline = time.monotonic() + req["timeout"]
        delay, timeout = 0.0002, False
        while True:
            wpid, status = os.waitpid(pid, os.WNOHANG)
            if wpid:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
                timeout = True
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.01)
        sys.stdout.write(json.dumps({"status": os.waitstatus_to_exitcode(status),
                                     "timeout": timeout}) + "\n")
        sys.stdout.flush()

serve()
'''


class CPython:
    """``python f.py`` with a timeout, through a fork server (see the module doc)."""

    def __init__(self, python: str = sys.executable):
        self.python = python
        self.proc: subprocess.Popen | None = None
        self.dir = tempfile.mkdtemp(prefix="wb-cpython-")

    def _start(self) -> subprocess.Popen:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen([self.python, "-c", _SERVER], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, bufsize=1)
        return self.proc

    def run(self, path: str, timeout: float = 10.0) -> Outcome:
        out, err = os.path.join(self.dir, "out"), os.path.join(self.dir, "err")
        proc = self._start()
        proc.stdin.write(json.dumps({"path": path, "out": out, "err": err,
                                     "timeout": timeout}) + "\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], timeout + 30)
        line = proc.stdout.readline() if ready else ""
        if not line:  # the server died or hung: start afresh next time
            self.close()
            return Outcome("", -9, "", timeout=True)
        reply = json.loads(line)
        stdout = _read(out)
        stderr = _read(err)
        return Outcome(stdout, reply["status"], last_line(stderr), reply["timeout"])

    def close(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(Exception):
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None

    def __del__(self):
        self.close()


def _read(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "backslashreplace")
    except OSError:
        return ""


# --------------------------------------------------------------------------- workbench

class Timeout(BaseException):
    """Raised by the interval timer in the middle of a run (not an ``Exception``, so
    neither the program's nor the CLI's handlers catch it)."""


@contextlib.contextmanager
def time_limit(seconds: float):
    if seconds is None or seconds <= 0 or not hasattr(signal, "setitimer"):
        yield
        return

    def fire(signum, frame):
        raise Timeout()

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


BOXED_SUFFIX = "+boxed"   # a fuzz backend `native+boxed`: `--backend native --boxed`


def backend_args(backend: str) -> list[str]:
    """``--backend B`` (and ``--boxed`` for a ``B+boxed`` fuzz backend)."""
    if backend.endswith(BOXED_SUFFIX):
        return ["--backend", backend[:-len(BOXED_SUFFIX)], "--boxed"]
    return ["--backend", backend]


def run_args(path: str, backend: str, passes: str, loads: tuple[str, ...] = (),
             verify: bool = False) -> list[str]:
    """The ``workbench run`` arguments for one configuration."""
    args = ["run", *backend_args(backend), "--passes", passes]
    for f in loads:
        args += ["--load", f]
    if verify:
        args.append("--verify-each")
    return args + [path]


def run_workbench(path: str, backend: str, passes: str, loads: tuple[str, ...] = (),
                  timeout: float = 30.0, verify: bool = False) -> Outcome:
    """What ``workbench run`` (with ``run_args``) does, in this process, output captured,
    with a timer."""
    boxed = backend.endswith(BOXED_SUFFIX)
    where = backend[:-len(BOXED_SUFFIX)] if boxed else backend
    out, err = io.StringIO(), io.StringIO()
    status = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            with time_limit(timeout):
                status = exit_status(lambda: run_file(path, where, passes, boxed=boxed,
                                                      verify=verify, plugins=loads))
    except Timeout:
        return Outcome(out.getvalue(), 0, "", timeout=True)
    except RecursionError:
        status = 70
        err.write("workbench: internal error: RecursionError\n")
    return Outcome(out.getvalue(), status, last_line(err.getvalue()))


def run_forked(func, args: tuple = (), timeout: float = 30.0):
    """``func(*args)`` in a forked child: ``(result, None)``, or ``(None, Outcome)`` saying
    the child timed out or died (of a signal, or without a result)."""

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(r)
        code = 0
        try:
            result = func(*args)
            data = pickle.dumps(result)
            with os.fdopen(w, "wb") as f:
                f.write(data)
        except BaseException:
            code = 121
        finally:
            os._exit(code)
    os.close(w)
    chunks = []
    deadline = time.monotonic() + timeout
    timed_out = False
    with os.fdopen(r, "rb") as f:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([f], [], [], left)
            if not ready:
                continue
            chunk = os.read(f.fileno(), 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    if timed_out:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if timed_out:
        return None, Outcome("", 0, "", timeout=True)
    if code != 0 or not chunks:
        return None, Outcome("", code if code else 121, "")
    return pickle.loads(b"".join(chunks)), None


def run_workbench_forked(path: str, backend: str, passes: str, loads: tuple[str, ...] = (),
                         timeout: float = 30.0, verify: bool = False) -> Outcome:
    """``run_workbench`` in a forked child: a crash is an outcome, not our death."""
    result, failure = run_forked(run_workbench, (path, backend, passes, loads, timeout, verify),
                                 timeout + 5)
    return result if failure is None else failure
