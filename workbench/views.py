"""HTML views for notebooks: coloured IR, before/after diffs, sortable tables, heat maps.

Pure string building (html.escape, difflib, re): nothing heavy is imported, so the
``_repr_html_`` of every ``workbench.api`` object is cheap.  The same regexes colour
the IR as ``render.print_ir`` does on a terminal.
"""

from __future__ import annotations

import difflib
import html
import itertools
import re

_IR_CSS = {
    "line": "color:#888",
    "label": "color:#b58900;font-weight:bold",
    "target": "color:#b58900",
    "value": "color:#268bd2",
    "type": "color:#d33682",
    "loc": "color:#d33682",
    "uop": "font-weight:bold",
    "str": "color:#859900",
    "exit": "color:#dc322f",
    "func": "color:#268bd2;font-weight:bold",
    "comment": "color:#888;font-style:italic",
}

# One alternation, first match wins (same classes as render._IR_STYLES).
_IR_TOKENS = re.compile("|".join(f"(?P<{k}>{p})" for k, p in [
    ("comment", r";[^\n]*$"),
    ("line", r"^\s*\.line.*$"),
    ("func", r"^func @\S+"),
    ("label", r"^[A-Za-z_][\w.]*(?=[(:])"),
    ("target", r"\^[A-Za-z_][\w.]*"),
    ("type", r"(?<=:)(?:int|float|bool|list|tuple|str|none|unknown)\b"),
    ("loc", r"@[rs]\d+\b"),
    ("value", r"%\d+"),
    ("uop", r"\b_[A-Z][A-Z0-9_]*\b"),
    ("str", r"'[^']*'|\"[^\"]*\""),
    ("exit", r"\bexit(?=\()"),
]), re.M)

_PRE = ("font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;"
        "line-height:1.35;margin:0;padding:6px;background:#fdfdfd;border:1px solid #eee;"
        "overflow-x:auto")

_ids = itertools.count()


def _uid(stem: str) -> str:
    return f"wb-{stem}-{next(_ids)}"


def highlight_line(line: str) -> str:
    """One IR line as HTML spans."""
    out, pos = [], 0
    for m in _IR_TOKENS.finditer(line):
        out.append(html.escape(line[pos:m.start()]))
        out.append(f'<span style="{_IR_CSS[m.lastgroup]}">{html.escape(m.group())}</span>')
        pos = m.end()
    out.append(html.escape(line[pos:]))
    return "".join(out)


def ir_html(text: str, title: str | None = None) -> str:
    """IR text with syntax colouring, in a <pre>."""
    body = "\n".join(highlight_line(line) for line in text.rstrip("\n").split("\n"))
    head = f"<div><b>{html.escape(title)}</b></div>" if title else ""
    return f'{head}<pre style="{_PRE}">{body}</pre>'


def diff_html(before: str, after: str, title: str | None = None, context: int = 2) -> str:
    """A compact coloured unified diff (removed lines red, added green)."""
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), "before",
                                      "after", n=context, lineterm=""))
    head = f"<div><b>{html.escape(title)}</b></div>" if title else ""
    if not lines:
        return head + f'<pre style="{_PRE}"><span style="color:#888">(no change)</span></pre>'
    rows = []
    for line in lines[2:]:
        if line.startswith("@@"):
            rows.append(f'<span style="color:#6c71c4">{html.escape(line)}</span>')
        elif line.startswith("-"):
            rows.append('<span style="background:#fde8e8;display:block">-'
                        + highlight_line(line[1:]) + "</span>")
        elif line.startswith("+"):
            rows.append('<span style="background:#e6f6e6;display:block">+'
                        + highlight_line(line[1:]) + "</span>")
        else:
            rows.append(" " + highlight_line(line[1:]))
    body = "\n".join(r for r in rows)
    return head + f'<pre style="{_PRE}">{body}</pre>'


_SORT_JS = """<script>
(function(){var t=document.getElementById('%s');if(!t)return;
var hs=t.tHead.rows[0].cells;for(var i=0;i<hs.length;i++){(function(c){
hs[c].style.cursor='pointer';hs[c].onclick=function(){var b=t.tBodies[0];
var rs=Array.prototype.slice.call(b.rows);var asc=hs[c].dataset.asc!=='1';
hs[c].dataset.asc=asc?'1':'0';rs.sort(function(x,y){
var a=x.cells[c].dataset.v||x.cells[c].textContent,z=y.cells[c].dataset.v||y.cells[c].textContent;
var fa=parseFloat(a),fz=parseFloat(z);var r=(!isNaN(fa)&&!isNaN(fz))?fa-fz:a.localeCompare(z);
return asc?r:-r;});rs.forEach(function(r){b.appendChild(r);});};})(i);}})();
</script>"""


def _fmt(v) -> tuple[str, str | None]:
    if isinstance(v, bool) or v is None:
        return html.escape(str(v if v is not None else "")), None
    if isinstance(v, int):
        return f"{v:,}", str(v)
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}", repr(v)
    return html.escape(str(v)), None


def table_html(rows: list[dict], columns: list[str] | None = None, title: str | None = None,
               limit: int | None = None, sortable: bool = True) -> str:
    """A table of dicts; click a header to sort (a few lines of inline JS)."""
    columns = columns or (list(rows[0]) if rows else [])
    tid = _uid("table")
    shown = rows if limit is None else rows[:limit]
    head = "".join(f'<th style="text-align:left;padding:2px 8px">{html.escape(c)}</th>'
                   for c in columns)
    body = []
    for r in shown:
        cells = []
        for c in columns:
            text, key = _fmt(r.get(c))
            num = key is not None
            attr = f' data-v="{key}"' if num else ""
            align = "right" if num else "left"
            cells.append(f'<td{attr} style="text-align:{align};padding:2px 8px">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption style='text-align:left'><b>{html.escape(title)}</b></caption>" if title else ""
    more = (f"<div style='color:#888'>… {len(rows) - len(shown)} more rows</div>"
            if len(shown) < len(rows) else "")
    out = (f'<table id="{tid}" style="border-collapse:collapse;font-size:12px">{cap}'
           f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}")
    return out + (_SORT_JS % tid if sortable else "")


def details_html(summary: str, inner: str, open_: bool = False) -> str:
    return (f"<details{' open' if open_ else ''}><summary>{html.escape(summary)}</summary>"
            f"{inner}</details>")


def heat_color(x: float) -> str:
    """0..1 -> white .. orange-red, as a CSS colour."""
    x = max(0.0, min(1.0, x))
    r, g, b = 255, int(255 - 165 * x), int(255 - 235 * x)
    return f"rgb({r},{g},{b})"


def heatmap_html(text: str, weights: dict[int, float], labels: dict[int, str],
                 title: str | None = None) -> str:
    """IR listing, each line shaded by ``weights[line_index]`` (relative to the maximum),
    with ``labels[line_index]`` (e.g. the count) in a right-hand column."""
    top = max(weights.values(), default=0) or 1
    rows = []
    for i, line in enumerate(text.rstrip("\n").split("\n")):
        w = weights.get(i, 0)
        bg = heat_color(w / top) if w else "transparent"
        rows.append(f'<tr><td style="background:{bg};white-space:pre;padding:0 6px">'
                    f"{highlight_line(line)}</td>"
                    f'<td style="text-align:right;color:#555;padding:0 6px">'
                    f"{html.escape(labels.get(i, ''))}</td></tr>")
    head = f"<div><b>{html.escape(title)}</b></div>" if title else ""
    return (head + '<table style="border-collapse:collapse;font-family:ui-monospace,monospace;'
            f'font-size:12px">{"".join(rows)}</table>')


def asm_html(listing: dict) -> str:
    """``backends.tracing.asm_listing`` rows as coloured HTML (like ``workbench asm``)."""
    if "refused" in listing:
        return (f'<pre style="{_PRE}"><span style="color:#dc322f">; func @'
                f'{html.escape(listing["function"])}: not compiled: '
                f'{html.escape(listing["refused"])}</span></pre>')
    out = [f'<span style="color:#268bd2;font-weight:bold">; func @{listing["function"]}: '
           f'{listing["size"]} bytes, {listing["exits"]} side exits</span>']
    for row in listing["rows"]:
        kind = row["kind"]
        if kind == "section":
            out.append(f'<span style="color:#d33682">  ; -- {html.escape(row["text"])}</span>')
        elif kind == "block":
            out.append(f'<span style="color:#b58900;font-weight:bold">'
                       f'{html.escape(row["text"])}</span>')
        elif kind == "line":
            out.append(f'<span style="color:#859900">  ; line {row["line"]}: '
                       f'{html.escape(row["text"])}</span>')
        elif kind == "uop":
            out.append("  " + highlight_line(row["text"]))
        else:
            notes = list(row["holes"])
            if row["target"]:
                notes.append(f"-> {row['target']}")
            mem = "L" * row["loads"] + "S" * row["stores"]
            text = f"    {row['address']:06x}:  {row['bytes']:<24} {row['text']:<34}{mem:>3}"
            if notes:
                text += "  ; " + ", ".join(notes)
            style = ("color:#dc322f" if row["target"] and str(row["target"]).startswith("exit:")
                     else "color:#333")
            out.append(f'<span style="{style}">{html.escape(text.rstrip())}</span>')
    return f'<pre style="{_PRE}">' + "\n".join(out) + "</pre>"


class HTMLView:
    """HTML a notebook displays (``_repr_html_``); in a terminal it says what it is."""

    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return "<HTML view: display it in a notebook>"
