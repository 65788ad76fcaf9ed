"""Shared helpers of the IR/frontend/interpreter/CLI tests: running a program on CPython
and on the workbench, the same way, and comparing what each printed and raised."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from workbench.benchmarks import (KERNEL_NAMES, KERNELS_DIR, PROGRAM_NAMES, PROGRAMS_DIR,
                                  kernel_files, program_files)
from workbench.benchmarks.asv_bench.programs import SMALL_SIZES, shrink

# The project's own programs, inside the package (workbench/benchmarks/programs): the
# reference kernels and the larger benchmark programs.  Both lists raise at import (a
# collection error) unless every expected file is there: a missing program fails the
# suite instead of leaving a parametrized test with nothing to run.
KERNELS = kernel_files()
PROGRAMS = program_files()
assert [p.stem for p in KERNELS] == sorted(KERNEL_NAMES) and len(KERNELS) == 8
assert [p.stem for p in PROGRAMS] == sorted(PROGRAM_NAMES) and len(PROGRAMS) == 5

# Sizes the kernels and the larger programs run at in the fast suite: (full literal,
# reduced literal) for each numeric argument in the script's main block -- one table,
# the asv benchmarks' (workbench/benchmarks/asv_bench/programs.py).
REDUCED_SIZES: dict[str, dict[str, str]] = {n: SMALL_SIZES[n] for n in KERNEL_NAMES}
PROGRAM_SIZES: dict[str, dict[str, str]] = {n: SMALL_SIZES[n] for n in PROGRAM_NAMES}


def reduced_source(path: Path) -> str:
    """The kernel's (or program's) source with its main-block size arguments made small."""
    return shrink(path.read_text(), path.stem)


@dataclass
class Outcome:
    stdout: str
    error: tuple[str, str] | None  # (exception type name, message) or None

    def __repr__(self) -> str:  # readable pytest diffs
        return f"Outcome(stdout={self.stdout!r}, error={self.error!r})"


def _error(e: BaseException | None) -> tuple[str, str] | None:
    return None if e is None else (type(e).__name__, str(e))


def run_cpython(source: str, filename: str = "prog.py") -> Outcome:
    """What CPython prints and raises running ``source`` as ``__main__``."""
    buf = io.StringIO()
    exc = None
    with contextlib.redirect_stdout(buf):
        try:
            exec(compile(source, filename, "exec"), {"__name__": "__main__"})
        except Exception as e:  # the program's own exception
            exc = e
    return Outcome(buf.getvalue(), _error(exc))


def compile_program(source: str, filename: str = "prog.py"):
    """The verified IR module of ``source``."""
    from ir.frontend import compile_source
    from ir.verifier import verify_module

    module = compile_source(source, filename)
    verify_module(module)
    return module


def run_workbench(source: str, filename: str = "prog.py") -> Outcome:
    """What the workbench's reference interpreter prints and raises running ``source``."""
    from backends.interp.interpreter import Interpreter
    from backends.interp.profile import Profile

    module = compile_program(source, filename)
    buf = io.StringIO()
    exc = None
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))  # as ``workbench run`` does
    try:
        with contextlib.redirect_stdout(buf):
            try:
                Interpreter(module, Profile()).run_main()
            except Exception as e:
                exc = e
    finally:
        sys.setrecursionlimit(limit)
    return Outcome(buf.getvalue(), _error(exc))


def assert_same_as_cpython(source: str) -> Outcome:
    """Run ``source`` on both; stdout and any exception (type, message) must agree."""
    expected = run_cpython(source)
    got = run_workbench(source)
    assert got == expected
    return expected


# --------------------------------------------------------------------------- subprocesses

def _executable(name: str) -> str:
    """``name`` installed next to this interpreter (console scripts), else on PATH."""
    here = Path(sys.executable).with_name(name)
    if here.exists():
        return str(here)
    found = shutil.which(name)
    assert found, f"{name} is not installed"
    return found


WORKBENCH = _executable("workbench")
PYTHON = sys.executable  # the python3 the workbench runs on


CHECKOUT = Path(__file__).resolve().parents[1]   # the repository these tests belong to


def plain_env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess: ours, without FORCE_COLOR, with this checkout
    first on PYTHONPATH, so a ``workbench`` started here runs this checkout's code even
    where the installed package is another one's (a second worktree)."""
    env = dict(os.environ)
    env.pop("FORCE_COLOR", None)
    env["PYTHONPATH"] = os.pathsep.join([str(CHECKOUT)] + ([env["PYTHONPATH"]]
                                                           if env.get("PYTHONPATH") else []))
    env.update(extra)
    return env


def run_cli(*args: str, cwd: Path | str | None = None, timeout: float = 120,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``workbench ARGS...`` in a subprocess, output captured as text."""
    return subprocess.run([WORKBENCH, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env or plain_env())


def run_python(path: Path | str, cwd: Path | str | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess:
    """``python3 FILE`` in a subprocess, output captured as text."""
    return subprocess.run([PYTHON, str(path)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=plain_env())


def cli_in_process(*args) -> tuple[int, str, str]:
    """``workbench ARGS`` in this process: (status, stdout, stderr)."""
    from workbench.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


EVERY_BACKEND = ("interp", "native", "unicorn")


def assert_every_backend_like_cpython(source: str, tmp_path: Path, name: str = "prog",
                                      backends=EVERY_BACKEND, args=()) -> str:
    """``workbench run --backend B`` prints what ``python3 prog.py`` prints, exits with
    its status and ends stderr with its last traceback line, for each backend B."""
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    want = run_python(path, cwd=tmp_path)
    for backend in backends:
        status, out, err = cli_in_process("run", "--backend", backend, *args, path)
        assert (backend, status, out, last_line(err)) == \
            (backend, want.returncode, want.stdout, last_line(want.stderr)), err
    return want.stdout


ANSI_ESCAPE = re.compile(r"\x1b\[")


def last_line(text: str) -> str:
    lines = text.rstrip("\n").split("\n")
    return lines[-1] if lines else ""


def one_line_error(stderr: str) -> str:
    """The single line of a user error, asserting there is exactly one and no traceback."""
    assert "Traceback" not in stderr, stderr
    assert stderr.endswith("\n") and stderr.count("\n") == 1, repr(stderr)
    return stderr[:-1]


# Generic uops, locals already in block parameters: the liveness and regalloc tests' loop.
SUM_LOOP_PARAMS = """\
module 't'

func @sum_loop(n) locals(total, i) {
bb0:
  %0 = _LOAD_FAST n
  %1 = _LOAD_CONST 0
  _JUMP ^bb1(%1, %1)
bb1(%2, %3):
  %4 = _COMPARE_OP < %2, %0
  _BRANCH %4, ^bb2, ^bb3
bb2:
  %5 = _LOAD_CONST 1
  %6 = _BINARY_OP + %2, %5
  %7 = _BINARY_OP + %3, %2
  _JUMP ^bb1(%6, %7)
bb3:
  _RETURN %3
}
"""
