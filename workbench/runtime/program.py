"""Running a user's program and ending it as CPython would.

An exception the program raises ends the run with CPython's shape: a traceback on
stderr whose last line is exactly CPython's, and exit status 1.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from ir.errors import WorkbenchError
from ir.limits import deep_recursion


def format_program_error(exc: BaseException, filename: str) -> str:
    """A CPython-style traceback built from the frames the interpreter recorded, after
    those of the exceptions it was raised from or while handling (as CPython prints
    ``__cause__`` and ``__context__``)."""
    try:
        source = Path(filename).read_text(encoding="utf-8").splitlines()
    except OSError:
        source = []
    parts: list[str] = []
    seen: set[int] = set()

    def chain(e: BaseException) -> None:
        seen.add(id(e))
        cause, context = e.__cause__, e.__context__
        if cause is not None and id(cause) not in seen:
            chain(cause)
            parts.append("\nThe above exception was the direct cause of the following "
                         "exception:\n\n")
        elif context is not None and not e.__suppress_context__ and id(context) not in seen:
            chain(context)
            parts.append("\nDuring handling of the above exception, another exception "
                         "occurred:\n\n")
        parts.append(_format_one(e, filename, source))
    chain(exc)
    return "".join(parts)


def _format_one(exc: BaseException, filename: str, source: list[str]) -> str:
    lines = ["Traceback (most recent call last):\n"]
    frames = list(reversed(getattr(exc, "_wb_frames", [])))
    repeats = 0
    for i, (func, line) in enumerate(frames):
        if i and frames[i - 1] == (func, line):
            repeats += 1
            if repeats >= 3:  # as CPython: three times, then a count
                continue
        else:
            _repeated(lines, repeats)
            repeats = 0
        lines.append(f'  File "{filename}", line {line}, in {code_name(func)}\n')
        if line is not None and 0 < line <= len(source):
            lines.append(f"    {source[line - 1].strip()}\n")
    _repeated(lines, repeats)
    lines.extend(traceback.format_exception_only(type(exc), exc))
    return "".join(lines)


def code_name(function: str) -> str:
    """What CPython's traceback names a frame by: the code's name, not the qualname
    the IR function is called by (``C.m`` -> ``m``, ``f.<locals>.<lambda>#2`` ->
    ``<lambda>``)."""
    return function.split("#")[0].rsplit(".", 1)[-1]


def _repeated(lines: list[str], repeats: int) -> None:
    if repeats >= 3:
        n = repeats - 2
        lines.append(f"  [Previous line repeated {n} more time{'s' * (n != 1)}]\n")


def run_guarded(body, filename: str) -> int:
    """Run ``body()``; a program exception is printed CPython-style and gives 1."""
    try:
        with deep_recursion():
            body()
    except WorkbenchError:
        raise
    except Exception as e:  # the program's own exception
        sys.stdout.flush()
        sys.stderr.write(format_program_error(e, filename))
        return 1
    sys.stdout.flush()
    return 0
