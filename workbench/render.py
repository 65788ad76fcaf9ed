"""Terminal output: rich colour on a terminal, plain text when piped or NO_COLOR is set."""

from __future__ import annotations

import os
import sys

_IR_STYLES = [
    (r"^\s*\.line.*$", "dim"),
    (r"^[A-Za-z_][\w.]*(?=[(:])", "bold yellow"),
    (r"\^[A-Za-z_][\w.]*", "yellow"),
    (r"%\d+", "cyan"),
    (r"(?<=:)(int|float|bool|list|tuple|str|none|unknown)\b", "magenta"),
    (r"@[rs]\d+\b", "magenta"),
    (r"\b_[A-Z][A-Z0-9_]*\b", "bold"),
    (r"'[^']*'|\"[^\"]*\"", "green"),
    (r"\bexit\(", "red"),
    (r"^func @\S+", "bold blue"),
]


def use_color(stream=None) -> bool:
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def print_ir(text: str) -> None:
    """IR text, with syntax colouring on a terminal."""
    if not use_color():
        sys.stdout.write(text)
        return
    from rich.text import Text

    t = Text(text)
    for pattern, style in _IR_STYLES:
        t.highlight_regex(pattern, style)
    console().print(t, end="")
