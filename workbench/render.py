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


def print_trace(report: dict, limit: int = 25) -> None:
    """The trace as a table, hottest uops first (rich on a terminal)."""
    totals = report["totals"]
    rows = report["per_uop"][:limit]
    if not use_color():
        out = sys.stdout
        out.write("totals: " + ", ".join(f"{k}={v}" for k, v in totals.items()) + "\n")
        out.write(f"{'function':<20} {'uop':<28} {'count':>12}\n")
        for r in rows:
            out.write(f"{r['function']:<20} {r['uop']:<28} {r['count']:>12}\n")
        return
    from rich.table import Table

    t = Table(title="optimized code, hottest uops first")
    t.add_column("function")
    t.add_column("uop", style="bold")
    t.add_column("count", justify="right")
    for r in rows:
        t.add_row(r["function"], r["uop"], f"{r['count']:,}")
    c = console()
    c.print(t)
    c.print("totals: " + ", ".join(f"{k}={v:,}" for k, v in totals.items()))
