"""Shared by the runtime tests: kernels at test sizes, and the CLI run in-process."""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import KERNELS, REDUCED_SIZES, cli_in_process, run_cpython

# Smaller than helpers.REDUCED_SIZES: every kernel still tiers up (hot calls and loops)
# and leaves compiled code through its exits, but Unicorn running generic uops through
# Python helpers (--passes '') stays fast enough for the whole matrix.
TEST_SIZES = {"collatz": "150", "fib_big": "300", "fib_mod": "2_000", "gcd_sum": "25",
              "mandelbrot": "12, 10, 30", "sieve": "3_000", "spectral_norm": "6",
              "sum_loop": "3_000"}
KERNEL_NAMES = [k.stem for k in KERNELS]
_MAIN = 'if __name__ == "__main__":'


def kernel_source(name: str, size: str | None = None) -> str:
    path = next(k for k in KERNELS if k.stem == name)
    src = path.read_text()
    (full, _), = REDUCED_SIZES[name].items()
    head, guard, main = src.partition(_MAIN)
    return head + guard + main.replace(full, TEST_SIZES[name] if size is None else size)


def write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return path


cli = cli_in_process   # ``workbench ARGS`` in this process: (status, stdout, stderr)


def trace_json(path: Path, *args) -> dict:
    status, out, err = cli("trace", "--json", *args, path)
    assert status in (0, 1), err
    return json.loads(out)


def expected(source: str) -> str:
    outcome = run_cpython(source)
    assert outcome.error is None
    return outcome.stdout


FRAME = re.compile(r'File "[^"]*", line (\d+), in (\S+)')


def frames(stderr: str) -> list[tuple[int, str]]:
    """(line, function) of each traceback entry."""
    return [(int(n), f) for n, f in FRAME.findall(stderr)]


def cpython_stderr(path: Path) -> str:
    import subprocess

    from helpers import PYTHON, plain_env

    return subprocess.run([PYTHON, str(path)], capture_output=True, text=True,
                          env=plain_env(), cwd=path.parent).stderr
