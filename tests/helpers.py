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

# The project's own programs, inside the package (workbench/benchmarks/programs): the
# reference kernels and the larger benchmark programs.  Both lists raise at import (a
# collection error) unless every expected file is there: a missing program fails the
# suite instead of leaving a parametrized test with nothing to run.
KERNELS = kernel_files()
PROGRAMS = program_files()
assert [p.stem for p in KERNELS] == sorted(KERNEL_NAMES) and len(KERNELS) == 8
assert [p.stem for p in PROGRAMS] == sorted(PROGRAM_NAMES) and len(PROGRAMS) == 5

# Sizes the kernels run at in the fast suite: (full literal, reduced literal) for each
# numeric argument in the script's ``if __name__ == "__main__":`` block.
REDUCED_SIZES: dict[str, dict[str, str]] = {
    "collatz": {"100_000": "3_000"},
    "fib_big": {"20_000": "2_000"},
    "fib_mod": {"5_000_000": "20_000"},
    "gcd_sum": {"600": "40"},
    "mandelbrot": {"200, 200, 200": "24, 20, 30"},
    "sieve": {"2_000_000": "30_000"},
    "spectral_norm": {"120": "12"},
    "sum_loop": {"10_000_000": "20_000"},
}

# The same for the larger programs (workbench/benchmarks/programs/*.py): small enough for
# Unicorn with no passes, large enough that their loops and calls still tier up (and that
# sum_squares_big still passes 2**63: its scale follows n).
PROGRAM_SIZES: dict[str, dict[str, str]] = {
    "alloc_loop": {"400_000": "300"},
    "insertion_sort": {"3_500": "60"},
    "matmul": {"160": "8"},
    "nbody": {"10, 10_000": "4, 30"},
    "sum_squares_big": {"3_000_000": "300"},
}
assert not set(REDUCED_SIZES) & set(PROGRAM_SIZES)

_MAIN_GUARD = 'if __name__ == "__main__":'


def reduced_source(path: Path) -> str:
    """The kernel's (or program's) source with its main-block size arguments made small."""
    src = path.read_text()
    head, guard, main = src.partition(_MAIN_GUARD)
    assert guard, f"{path.name} has no main block"
    sizes = REDUCED_SIZES.get(path.stem) or PROGRAM_SIZES[path.stem]
    for full, small in sizes.items():
        assert full in main, f"{path.name}: {full!r} not in the main block"
        main = main.replace(full, small)
    return head + guard + main


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


def plain_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("FORCE_COLOR", None)
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
