"""Shared by the test_constructs_* modules: a program run by ``python3`` and by
``workbench run --verify-each`` on each backend must print the same stdout, end with the
same exit status and, when it raises, the same last line of stderr."""

from __future__ import annotations

import contextlib
import io
import textwrap
from functools import lru_cache
from pathlib import Path

from helpers import last_line, run_python

BACKENDS = ["interp", "native", "unicorn"]


@lru_cache(maxsize=None)
def _cpython(source: str, tmp: str) -> tuple[int, str, str]:
    path = Path(tmp) / "cpython_prog.py"
    path.write_text(source)
    r = run_python(path, cwd=tmp)
    return r.returncode, r.stdout, last_line(r.stderr) if r.returncode else ""


def check(tmp_path: Path, source: str, backend: str, passes: str = "default") -> str:
    """Run ``source`` both ways and compare; returns the workbench's stdout."""
    from workbench.cli import main

    source = textwrap.dedent(source)
    want = _cpython(source, str(tmp_path))
    path = tmp_path / "prog.py"
    path.write_text(source)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["run", "--verify-each", "--backend", backend, "--passes", passes,
                       str(path)])
    got = (status, out.getvalue(), last_line(err.getvalue()) if status else "")
    assert got == want
    assert status in (0, 1), err.getvalue()
    return got[1]


def hot_functions(backend: str, source: str, tmp_path: Path) -> set[str]:
    """The functions that ran as tier-2 code (machine code natively): the programs'
    functions are called often enough to tier up, so the constructs run compiled."""
    from workbench.cli import main

    path = tmp_path / "hot.py"
    path.write_text(textwrap.dedent(source))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        main(["trace", "--backend", backend, str(path)])
    return {line.split()[2] for line in out.getvalue().splitlines()
            if line.startswith("tier 2: ") and f"ran in {backend}" in line}
