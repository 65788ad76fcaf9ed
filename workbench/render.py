"""Terminal output: rich colour on a terminal, plain text when piped or NO_COLOR is set."""

from __future__ import annotations

import os
import sys

from backends.tracing import format_step_record


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


def console(stream=None):
    # lazy: rich is slow to import; only this path needs it
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True, file=stream)


def print_ir(text: str, stream=None) -> None:
    """IR text on ``stream`` (default stdout), with syntax colouring on a terminal."""
    stream = stream or sys.stdout
    if not use_color(stream):
        stream.write(text)
        return
    # lazy: rich is slow to import; only this path needs it
    from rich.text import Text

    t = Text(text)
    for pattern, style in _IR_STYLES:
        t.highlight_regex(pattern, style)
    console(stream).print(t, end="")


def _trace_columns(report: dict) -> list[tuple[str, str]]:
    cols = [("function", "function"), ("uop", "uop"), ("count", "count")]
    if report["per_uop"] and "instructions" in report["per_uop"][0]:
        cols += [("instructions", "instructions"), ("loads", "loads"), ("stores", "stores")]
        if "calls" in report["per_uop"][0]:
            cols.append(("calls", "calls"))
        cols.append(("insns/uop", None))
    return cols


def _cell(row: dict, key: str | None) -> str:
    if key is None:  # instructions per execution of the uop
        return f"{row['instructions'] / row['count']:.1f}" if row["count"] else "-"
    v = row[key]
    return f"{v:,}" if isinstance(v, int) else str(v)


def print_trace(report: dict, limit: int = 25) -> None:
    """The trace as a table, hottest uops first (rich on a terminal), then where each
    tier-2 function ran."""
    totals = report["totals"]
    rows = report["per_uop"][:limit]
    cols = _trace_columns(report)
    versions = report.get("functions", [])
    if report.get("not_counted") and not report["per_uop"]:
        # everything optimized ran natively: no totals of zero, no empty table (the CLI
        # says on stderr why); only where each function ran
        out = sys.stdout if not use_color() else None
        for v in versions:
            if out is not None:
                out.write(_version_line(v) + "\n")
            else:
                console().print(_version_line(v),
                                style="green" if v["tier2"] != "interp" else "yellow")
        return
    if not use_color():
        out = sys.stdout
        out.write("totals: " + ", ".join(f"{k}={v}" for k, v in totals.items()) + "\n")
        widths = [20, 28] + [12] * (len(cols) - 2)
        out.write(" ".join(f"{name:<{w}}" if i < 2 else f"{name:>{w}}"
                           for i, ((name, _), w) in enumerate(zip(cols, widths))).rstrip()
                  + "\n")
        for r in rows:
            out.write(" ".join(f"{_cell(r, key):<{w}}" if i < 2 else f"{_cell(r, key):>{w}}"
                               for i, ((_, key), w) in enumerate(zip(cols, widths))).rstrip()
                      + "\n")
        for v in versions:
            out.write(_version_line(v) + "\n")
        return
    c = console()
    c.print(trace_table(report, limit, c))
    # word-wrapped at the terminal's width (the rest of the output is soft-wrapped)
    c.print("totals: " + ", ".join(f"{k}={v:,}" for k, v in totals.items()), soft_wrap=False)
    for v in versions:
        c.print(_version_line(v), style="green" if v["tier2"] != "interp" else "yellow")


def _compact(v) -> str:
    """2198922 -> 2.2M (for narrow terminals); small numbers unchanged."""
    if not isinstance(v, int) or abs(v) < 10_000:
        return f"{v:,}" if isinstance(v, int) else str(v)
    units = [("k", 10**3), ("M", 10**6), ("G", 10**9), ("T", 10**12)]
    k = max(i for i, (_, div) in enumerate(units) if abs(v) >= div)
    text = f"{v / units[k][1]:.3g}"
    if "e" in text and k + 1 < len(units):   # 999,510 -> 1M, not 1e+03k
        k += 1
        text = f"{v / units[k][1]:.3g}"
    return text + units[k][0]


def trace_table(report: dict, limit: int = 25, target=None):
    """The rich table of the hottest uops, fitted to ``target`` (a rich Console; its
    width): uop names are never cut.  To fit, in this order: the function column goes
    when every row is of one function (named in the title instead), long function names
    wrap, the derived insns/uop column goes, numbers are abbreviated (2.2M), and the calls
    column goes."""
    # lazy: rich is slow to import; only this path needs it
    from rich import box
    # lazy: rich is slow to import; only this path needs it
    from rich.console import Console
    # lazy: rich is slow to import; only this path needs it
    from rich.measure import Measurement
    # lazy: rich is slow to import; only this path needs it
    from rich.table import Table

    target = target or Console(width=80)
    width = target.width
    rows = report["per_uop"][:limit]
    cols = _trace_columns(report)
    functions = sorted({r["function"] for r in rows})
    title = "optimized code, hottest uops first"
    if len(functions) == 1:
        cols = [c for c in cols if c[0] != "function"]
        title = f"optimized code of {functions[0]}, hottest uops first"
    short = {"instructions": "insns", "insns/uop": "insn/uop"}
    uop_width = max([len("uop")] + [len(r["uop"]) for r in rows])

    fn_width = None   # no cap: function names on one line

    def build(cols, fmt, notes):
        t = Table(title=title, box=box.SIMPLE_HEAD,
                  caption=f"({', '.join(notes)} to fit {width} columns)" if notes else None)
        for name, _ in cols:
            if name == "uop":
                t.add_column("uop", no_wrap=True, min_width=uop_width, overflow="ellipsis",
                             style="bold")
            elif name == "function":
                t.add_column("function", no_wrap=False, overflow="fold", max_width=fn_width)
            else:
                t.add_column(short.get(name, name), justify="right", no_wrap=True)
        for r in rows:
            t.add_row(*[fmt(r, key) if key not in ("function", "uop") else r[key]
                        for _, key in cols])
        return t

    def fits(t) -> bool:
        return Measurement.get(target, target.options.update(width=10**6), t).maximum <= width

    notes: list[str] = []
    t = build(cols, _cell, notes)
    if not fits(t) and any(name == "function" for name, _ in cols):
        fn_width = 14
        t = build(cols, _cell, notes)
    if not fits(t) and any(name == "insns/uop" for name, _ in cols):
        cols = [c for c in cols if c[0] != "insns/uop"]
        notes.append("insn/uop left out")
        t = build(cols, _cell, notes)
    compact = _cell
    if not fits(t):
        notes.append("numbers abbreviated")
        compact = lambda r, key: _compact(r[key]) if key else _cell(r, key)  # noqa: E731
        t = build(cols, compact, notes)
    if not fits(t) and any(name == "calls" for name, _ in cols):
        cols = [c for c in cols if c[0] != "calls"]
        notes.append("calls left out")
        t = build(cols, compact, notes)
    return t


def _version_line(v: dict) -> str:
    s = f"tier 2: {v['function']} (v{v['version']}) ran in {v['tier2']}"
    if v["tier2"] != "interp":
        s += (f": {v['runs']} runs, {v['returns']} returns, {v['exits']} side exits, "
              + (f"{v['yields']} yields, " if v.get("yields") else "")
              + f"{v['refused']} refused")
        if v.get("refusal"):
            s += f" (last: {v['refusal']})"
    elif v.get("reason"):
        s += f" (JIT: {v['reason']})"
    return s


def print_full_trace(report: dict) -> None:
    """The kept steps of a full instruction trace, one line each."""

    out = sys.stdout
    steps = report.get("full_trace", [])
    out.write(f"full trace: {len(steps)} of {report.get('full_trace_steps', len(steps))} "
              "instructions\n")
    for rec in steps:
        out.write(format_step_record(rec) + "\n")


def print_asm(listing: dict) -> None:
    """Annotated disassembly (see backends.tracing.asm_listing), coloured on a terminal."""
    color = use_color()
    lines: list[tuple[str, str | None]] = []
    name = listing["function"]
    if "refused" in listing:
        lines.append((f"; func @{name}: not compiled: {listing['refused']}", "red"))
        _emit(lines, color)
        return
    entries = ", ".join(f"{lb} @{a:#x}" for lb, a in listing["entries"])
    lines.append((f"; func @{name}: {listing['size']} bytes, entries: {entries}, "
                  f"{listing['exits']} side exits (L = load, S = store)", "bold blue"))
    for row in listing["rows"]:
        kind = row["kind"]
        if kind == "section":
            lines.append((f"  ; -- {row['text']}", "magenta"))
        elif kind == "block":
            lines.append((row["text"], "bold yellow"))
        elif kind == "line":
            lines.append((f"  ; line {row['line']}: {row['text']}", "green"))
        elif kind == "uop":
            lines.append((f"  {row['text']}", "bold"))
        else:
            notes = list(row["holes"])
            if row["target"]:
                notes.append(f"-> {row['target']}")
            mem = ("L" * row["loads"] + "S" * row["stores"]) or ""
            text = (f"    {row['address']:06x}:  {row['bytes']:<32} {row['text']:<36}"
                    f"{mem:>3}")
            if notes:
                text += "  ; hole " + ", ".join(notes)
            lines.append((text.rstrip(), "red" if row["target"] and
                          str(row["target"]).startswith("exit:") else None))
    lines.append(("", None))
    _emit(lines, color)


def _emit(lines: list[tuple[str, str | None]], color: bool) -> None:
    if not color:
        sys.stdout.write("".join(text + "\n" for text, _ in lines))
        return
    # lazy: rich is slow to import; only this path needs it
    from rich.text import Text

    c = console()
    for text, style in lines:
        c.print(Text(text, style=style or ""))
