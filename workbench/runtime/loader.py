"""Reading user input: a Python script (compiled by the frontend) or ``.uop`` IR text."""

from __future__ import annotations

import copy
from pathlib import Path

from ir.core import Module
from ir.errors import WorkbenchError
from ir.frontend import compile_source
from ir.parser import parse_module
from ir.verifier import verify_module


def read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")  # a BOM is fine, as in CPython
    except FileNotFoundError:
        raise WorkbenchError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise WorkbenchError(f"{path}: is a directory") from None
    except UnicodeDecodeError as e:
        raise WorkbenchError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise WorkbenchError(f"{path}: cannot read: {e.strerror}") from None


# The last module loaded, as (path, text, module): the fuzzer runs each program once per
# backend and pipeline, and bisect once per trial, so the same text is compiled again
# and again; a copy of the module costs a fraction of a compile.
_last: tuple[str, str, Module] | None = None


def load_module(path: str) -> Module:
    """A module from ``f.py`` (frontend) or ``f.uop`` (IR text), verified; a fresh copy
    each call (the caller may change it)."""
    global _last
    text = read_text(path)
    if _last is None or _last[0] != path or _last[1] != text:
        if path.endswith(".uop"):
            module = parse_module(text, path)
        else:
            module = compile_source(text, path)
        verify_module(module)
        _last = (path, text, module)
    return copy.deepcopy(_last[2])
