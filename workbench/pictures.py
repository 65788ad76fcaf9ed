"""Pictures: CFGs, interference graphs, per-pass bar charts, trace charts, heat maps.

Every picture is SVG written directly (``workbench.svg``: no plotting library, so a
base install draws all of them); the CFG is laid out by Graphviz ``dot`` when it is on
PATH.  Every picture is an ``SVG`` object: it shows itself in a notebook
(``_repr_svg_``) and ``save(path)`` writes it.
"""

from __future__ import annotations

import copy
import math
import re
import shutil
import subprocess

from ir.cfg import natural_loops
from ir.uops import Flag
from passes.liveness import compute
from passes.regalloc import AllocState, allocate
from passes.regalloc_coloring import interference_graph

from . import views
from .svg import Canvas, fmt_tick, log_ticks, nice_ticks, text_width
from .views import HTMLView


GUARD_FILL = "#f8c9a0"    # a block with guards / side exits
HEADER_PEN = "#268bd2"    # a loop header
PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#2ca02c"]


class SVG:
    def __init__(self, text: str, source: str | None = None):
        self.text = text
        self.source = source   # the .dot text, when the picture is a graph

    def _repr_svg_(self) -> str:
        return self.text

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.source if path.endswith(".dot") and self.source else self.text)

    def __str__(self) -> str:
        return self.text


def have_dot() -> bool:
    return shutil.which("dot") is not None


# -- CFG ------------------------------------------------------------------------------

def cfg_facts(fn) -> dict:
    """Blocks, edges, back edges, loop headers and blocks with guards/exits of ``fn``."""

    loops = natural_loops(fn)
    back = {(latch, lp.header) for lp in loops for latch in lp.latches}
    guarded = {b.label for b in fn.blocks
               if any(u.exit is not None or u.defn.has(Flag.GUARD) for u in b.uops)}
    exits = {b.label: sum(u.exit is not None for u in b.uops) for b in fn.blocks}
    edges = [(b.label, s) for b in fn.blocks for s in b.successors()]
    return {"blocks": [b.label for b in fn.blocks],
            "uops": {b.label: len(b.uops) for b in fn.blocks},
            "terminator": {b.label: (b.uops[-1].name if b.uops else "") for b in fn.blocks},
            "edges": edges, "back": back, "headers": {lp.header for lp in loops},
            "guarded": guarded, "exits": exits}


def _node_text(f: dict, label: str) -> str:
    n, x = f["uops"][label], f["exits"][label]
    s = f"{label}\n{n} uops"
    if x:
        s += f", {x} exit{'s' * (x != 1)}"
    return s


def cfg_dot(fn) -> str:
    """Graphviz text of the CFG: guarded blocks filled, loop headers outlined blue,
    back edges dashed."""
    f = cfg_facts(fn)
    lines = [f'digraph "{fn.name}" {{', '  node [shape=box, fontname="monospace", '
             'fontsize=10, style=filled, fillcolor=white];', '  edge [fontsize=9];',
             f'  label="@{fn.name}"; labelloc=t;']
    for b in f["blocks"]:
        attrs = [f'label="{_node_text(f, b)}"'.replace("\n", "\\n")]
        if b in f["guarded"]:
            attrs.append(f'fillcolor="{GUARD_FILL}"')
        if b in f["headers"]:
            attrs.append(f'color="{HEADER_PEN}", penwidth=2')
        lines.append(f'  "{b}" [{", ".join(attrs)}];')
    for a, b in f["edges"]:
        style = ' [style=dashed, constraint=false, color="#268bd2"]' if (a, b) in f["back"] else ""
        lines.append(f'  "{a}" -> "{b}"{style};')
    lines.append("}")
    return "\n".join(lines) + "\n"


def run_dot(text: str) -> str:
    r = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"dot failed: {r.stderr.strip()}")
    return r.stdout


def _layers(f: dict) -> dict[str, int]:
    """Longest-path depth over forward edges (back edges ignored)."""
    succ: dict[str, list[str]] = {b: [] for b in f["blocks"]}
    for a, b in f["edges"]:
        if (a, b) not in f["back"] and b in succ:
            succ[a].append(b)
    depth = {b: 0 for b in f["blocks"]}
    # blocks are mostly in layout order; relax a bounded number of times (DAG)
    for _ in range(len(f["blocks"])):
        changed = False
        for a in f["blocks"]:
            for b in succ[a]:
                if depth[b] < depth[a] + 1:
                    depth[b] = depth[a] + 1
                    changed = True
        if not changed:
            break
    return depth


def cfg_svg(fn) -> str:
    """The CFG drawn without Graphviz: blocks in layers by forward-edge depth, edges
    top to bottom, back edges dashed blue around the right-hand side."""
    f = cfg_facts(fn)
    depth = _layers(f)
    by_layer: dict[int, list[str]] = {}
    for b in f["blocks"]:
        by_layer.setdefault(depth[b], []).append(b)
    size, line_h, pad = 11, 14, 8
    box = {}
    for b in f["blocks"]:
        lines = _node_text(f, b).split("\n")
        box[b] = (max(text_width(t, size) for t in lines) + 2 * pad,
                  line_h * len(lines) + 2 * pad - 4)
    gap_x, gap_y, top = 28, 46, 34
    widths = {d: sum(box[b][0] for b in bs) + gap_x * (len(bs) - 1)
              for d, bs in by_layer.items()}
    heights = {d: max(box[b][1] for b in bs) for d, bs in by_layer.items()}
    inner = max([widths[d] for d in widths] + [text_width(f"@{fn.name}", 12) + 20])
    n_back = len(f["back"])
    margin = 20
    width = inner + 2 * margin + (30 + 12 * n_back if n_back else 0)
    pos = {}   # label -> (x, y, w, h) of the box
    y = top
    for d in sorted(by_layer):
        x = margin + (inner - widths[d]) / 2
        for b in by_layer[d]:
            w, h = box[b]
            pos[b] = (x, y + (heights[d] - h) / 2, w, h)
            x += w + gap_x
        y += heights[d] + gap_y
    c = Canvas(width, y - gap_y + margin)
    c.text(width / 2, 16, f"@{fn.name}", size=12, anchor="middle", weight="bold")
    right = margin + inner
    k_back = 0
    for a, b in f["edges"]:
        if a not in pos or b not in pos:
            continue
        ax, ay, aw, ah = pos[a]
        bx, by, bw, bh = pos[b]
        if (a, b) in f["back"]:
            k_back += 1
            out = right + 14 + 12 * k_back
            y1, y2 = ay + ah / 2, by + bh / 2
            c.path(f"M{ax + aw:.1f},{y1:.1f} C{out:.1f},{y1:.1f} {out:.1f},{y2:.1f} "
                   f"{bx + bw + 2:.1f},{y2:.1f}", stroke=HEADER_PEN, width=1.3, dash="5,3",
                   arrow=True)
        elif by > ay:
            c.line(ax + aw / 2, ay + ah, bx + bw / 2, by - 2, stroke="#444", arrow=True)
        else:  # an edge within a layer (unreachable code): side to side
            x1, x2 = (ax + aw, bx - 2) if bx > ax else (ax, bx + bw + 2)
            c.line(x1, ay + ah / 2, x2, by + bh / 2, stroke="#444", arrow=True)
    for b, (x, y, w, h) in pos.items():
        c.rect(x, y, w, h, rx=5, fill=GUARD_FILL if b in f["guarded"] else "white",
               stroke=HEADER_PEN if b in f["headers"] else "#444",
               stroke_width=2.0 if b in f["headers"] else 1.0)
        c.text(x + w / 2, y + h / 2, _node_text(f, b), size=size, anchor="middle")
    return c.svg()


def cfg_picture(fn, fmt: str = "svg") -> SVG:
    """The CFG of ``fn`` as SVG (``fmt="dot"``: an SVG object whose text is the .dot)."""
    dot = cfg_dot(fn)
    if fmt == "dot":
        return SVG(dot, dot)
    return SVG(run_dot(dot) if have_dot() else cfg_svg(fn), dot)


# -- interference graph ---------------------------------------------------------------

def _interference_data(fn, algo: str, regs: int):
    work = copy.deepcopy(fn)
    work.locs.clear()
    info = compute(work)
    g = interference_graph(AllocState(work, regs), info)
    done = copy.deepcopy(fn)
    allocate(done, algo, regs)
    return g, dict(done.locs), info


def interference(fn, algo: str = "graph-coloring", regs: int = 6):
    """(networkx graph of ``fn``'s values before allocation, value -> location after
    ``regalloc{algo,regs}`` on a copy).  ``fn`` must not be allocated yet."""
    g, locs, _ = _interference_data(fn, algo, regs)
    return g, locs


def _loc_color(loc: str | None) -> str:
    return PALETTE[int(loc[1:]) % len(PALETTE)] if loc and loc[0] == "r" else "#dddddd"


def interference_dot(g, locs: dict) -> str:
    lines = ["graph interference {", '  node [shape=circle, style=filled, fontname="monospace",'
             ' fontsize=9, width=0.3];']
    for v in sorted(g.nodes):
        loc = locs.get(v)
        lines.append(f'  v{v} [label="%{v}\\n{loc or "-"}", fillcolor="{_loc_color(loc)}"];')
    for a, b in sorted(tuple(sorted(e)) for e in g.edges):
        lines.append(f"  v{a} -- v{b};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def interference_picture(fn, algo: str = "graph-coloring", regs: int = 6,
                         view: str = "ranges") -> SVG:
    """The interference of ``fn``'s values (after ``promote``, before ``regalloc``),
    coloured by the register ``algo`` gave each (grey: a frame slot).

    ``view="ranges"`` (default): one row per value, in the order their lives start; on
    the left its live ranges over the linear block layout the allocators use, on the
    right the interference matrix (a filled cell: the two values are live at the same
    time).  Readable at any size, where a node-link drawing of a dense graph is a
    hairball.  ``view="graph"``: the node-link drawing (Graphviz ``neato`` when on
    PATH, else a circle).  ``.source`` is the Graphviz text either way."""
    if view not in ("ranges", "graph"):
        raise ValueError(f"view must be 'ranges' or 'graph', not {view!r}")
    g, locs, info = _interference_data(fn, algo, regs)
    dot = interference_dot(g, locs)
    title = (f"interference of @{fn.name}: {len(g)} values, {g.number_of_edges()} edges; "
             f"{algo}, {regs} registers")
    if view == "graph":
        if have_dot():
            return SVG(run_dot(dot.replace("graph interference {", "graph interference {\n"
                                           "  layout=neato; overlap=false;")), dot)
        return SVG(_interference_circle(g, locs, title), dot)
    return SVG(_interference_ranges(g, locs, info, title), dot)


def _interference_circle(g, locs: dict, title: str) -> str:
    nodes = sorted(g.nodes)
    r_node = 15
    radius = max(80.0, len(nodes) * (2 * r_node + 6) / (2 * math.pi))
    cy = radius + 30
    c = Canvas(max(2 * cy, text_width(title, 11, mono=False) + 20), 2 * cy + 30)
    cx = c.width / 2
    c.text(c.width / 2, 14, title, size=11, anchor="middle", mono=False)
    pos = {v: (cx + radius * math.cos(2 * math.pi * k / max(1, len(nodes)) - math.pi / 2),
               cy + 20 + radius * math.sin(2 * math.pi * k / max(1, len(nodes)) - math.pi / 2))
           for k, v in enumerate(nodes)}
    for a, b in sorted(tuple(sorted(e)) for e in g.edges):
        c.line(*pos[a], *pos[b], stroke="#999", width=0.7)
    for v, (x, y) in pos.items():
        c.circle(x, y, r_node, _loc_color(locs.get(v)))
        c.text(x, y, f"%{v}\n{locs.get(v) or '-'}", size=7, anchor="middle")
    return c.svg()


def _interference_ranges(g, locs: dict, info, title: str) -> str:
    nodes = set(g.nodes)
    rows = info.by_start([v for v in info.values() if v in nodes])
    rows += sorted(nodes - set(rows))
    n = len(rows)
    rh = max(3.0, min(13.0, 640.0 / max(1, n)))
    labels = rh >= 8
    lab = [f"%{v} {locs.get(v) or '-'}" for v in rows]
    label_w = (max(text_width(t, 9) for t in lab) + 10) if labels and lab else 6
    npos = max(1, info.npositions)
    tw = min(max(npos * 7.0, 260.0), 560.0)
    sx = tw / npos
    top = 44 + 40          # title, legend, block labels
    x0 = 10 + label_w
    mx0 = x0 + tw + 28     # the matrix
    width = max(mx0 + n * rh + 12, text_width(title, 11, mono=False) + 20)
    height = top + n * rh + 34
    c = Canvas(width, height)
    c.text(10, 14, title, size=11, mono=False, weight="bold")
    # legend: the registers used, then the frame slots
    used = sorted({loc for loc in locs.values() if loc and loc[0] == "r"},
                  key=lambda s: int(s[1:]))
    lx = 10
    for name, color in [(r, _loc_color(r)) for r in used] + [("frame slot", "#dddddd")]:
        c.rect(lx, 28, 10, 10, fill=color, stroke="#666")
        c.text(lx + 14, 34, name, size=9)
        lx += 14 + text_width(name, 9) + 12
    # blocks: alternate shading, label at the top
    for k, label in enumerate(info.order):
        s, e = info.block_range[label]
        if k % 2:
            c.rect(x0 + s * sx, top, (e - s) * sx, n * rh, fill="#f4f4f4", stroke=None)
        c.line(x0 + s * sx, top - 4, x0 + s * sx, top + n * rh, stroke="#bbb", width=0.6)
        c.text(x0 + s * sx + 2, top - 8, label, size=8, rotate=-45)
    c.text(x0, top + n * rh + 12, "live ranges over the block layout (positions)",
           size=9, mono=False, baseline="hanging")
    c.text(mx0, top + n * rh + 12, "interference matrix", size=9, mono=False,
           baseline="hanging")
    ranges = info.ranges
    index = {v: i for i, v in enumerate(rows)}
    for i, v in enumerate(rows):
        y = top + i * rh
        color = _loc_color(locs.get(v))
        if labels:
            c.text(x0 - 5, y + rh / 2, lab[i], size=9, anchor="end")
            c.text(mx0 + i * rh + rh / 2, top - 4, f"%{v}", size=7, rotate=-90,
                   baseline="middle")
        for a, b in ranges.get(v, []):
            c.rect(x0 + a * sx, y + 1, max(1.5, (b - a) * sx), rh - 2, fill=color,
                   stroke="#555", stroke_width=0.4, title=f"%{v} [{a}, {b})")
        c.rect(mx0 + i * rh, y, rh, rh, fill=color, stroke="#999", stroke_width=0.4,
               title=f"%{v} {locs.get(v) or '-'}")
        for w in g.neighbors(v):
            j = index.get(w)
            if j is not None and j < i:
                c.rect(mx0 + j * rh, y, rh, rh, fill="#555", stroke="#fff",
                       stroke_width=0.3, title=f"%{v} and %{w}")
    c.rect(mx0, top, n * rh, n * rh, fill="none", stroke="#999", stroke_width=0.6)
    return c.svg()


# -- charts ---------------------------------------------------------------------------

def bar_chart(groups: list[str], series: dict[str, list[float]], title: str = "",
              ylabel: str = "", horizontal: bool = False, log: bool = False) -> SVG:
    """Grouped bars: one group per entry of ``groups``, one bar per series (``log``: a
    logarithmic value axis; values <= 0 draw no bar)."""

    n = max(1, len(series))
    values = [v for vals in series.values() for v in vals]
    if log:
        pos_vals = [v for v in values if v > 0] or [1.0]
        ticks = log_ticks(min(pos_vals), max(pos_vals))
        lo, hi = math.log10(ticks[0]), math.log10(ticks[-1])

        def scale(v: float) -> float:
            return 0.0 if v <= 0 else (math.log10(v) - lo) / (hi - lo)
    else:
        ticks = nice_ticks(max(values, default=0))

        def scale(v: float) -> float:
            return max(0.0, v) / ticks[-1]
    tick_text = [fmt_tick(t) for t in ticks]
    legend = n > 1
    top = 30 + (22 if legend else 0)
    if horizontal:
        rh = max(16.0, 9.0 * n + 6)
        label_w = max([text_width(g, 10) for g in groups] + [0]) + 12
        left = 10 + label_w
        pw = 420.0
        ph = rh * len(groups)
        width = left + pw + 24
        height = top + ph + 44
    else:
        gw = max(34.0, 15.0 * n + 12)
        label_w = max([text_width(g, 9, mono=False) for g in groups] + [0])
        left = 22 + max(text_width(t, 9, mono=False) for t in tick_text) + 8
        pw = max(260.0, gw * len(groups))
        ph = 220.0
        width = left + pw + 20
        height = top + ph + label_w * 0.6 + 30
    width = max(width, text_width(title, 11, mono=False) + 20)
    c = Canvas(width, height)
    c.text(width / 2, 14, title, size=11, anchor="middle", mono=False, weight="bold")
    names = list(series)
    if legend:
        lx = left
        for k, name in enumerate(names):
            c.rect(lx, 26, 10, 10, fill=PALETTE[k % len(PALETTE)], stroke=None)
            c.text(lx + 14, 32, name, size=9, mono=False)
            lx += 14 + text_width(name, 9, mono=False) + 14
    if horizontal:
        for t, label in zip(ticks, tick_text):
            x = left + scale(t) * pw if not log or t > 0 else left
            c.line(x, top, x, top + ph, stroke="#e4e4e4", width=0.8)
            c.text(x, top + ph + 10, label, size=9, anchor="middle", mono=False)
        c.line(left, top, left, top + ph, stroke="#444")
        c.text(left + pw / 2, top + ph + 28, ylabel, size=10, anchor="middle", mono=False)
        bh = (rh - 4) / n
        for i, group in enumerate(groups):
            y = top + i * rh
            c.text(left - 6, y + rh / 2, group, size=10, anchor="end")
            for k, name in enumerate(names):
                v = series[name][i]
                c.rect(left, y + 2 + k * bh, scale(v) * pw, bh,
                       fill=PALETTE[k % len(PALETTE)], stroke=None,
                       title=f"{group} {name}: {v:,}")
    else:
        for t, label in zip(ticks, tick_text):
            y = top + ph - scale(t) * ph
            c.line(left, y, left + pw, y, stroke="#e4e4e4", width=0.8)
            c.text(left - 5, y, label, size=9, anchor="end", mono=False)
        c.line(left, top + ph, left + pw, top + ph, stroke="#444")
        if ylabel:
            c.text(12, top + ph / 2, ylabel, size=10, anchor="middle", mono=False,
                   rotate=-90)
        gw = pw / max(1, len(groups))
        bw = min(26.0, (gw - 10) / n)
        for i, group in enumerate(groups):
            gx = left + i * gw + (gw - n * bw) / 2
            for k, name in enumerate(names):
                v = series[name][i]
                h = scale(v) * ph
                c.rect(gx + k * bw, top + ph - h, bw, h, fill=PALETTE[k % len(PALETTE)],
                       stroke=None, title=f"{group} {name}: {v:,}")
            cx = left + (i + 0.5) * gw
            c.text(cx, top + ph + 8, group, size=9, anchor="end", mono=False,
                   rotate=-35, baseline="hanging")
    return SVG(c.svg())


def pass_stats_chart(rows: list[dict], keys=("guards", "local_loads", "local_stores", "uops"),
                     title: str = "") -> SVG:
    """Per-pass static counts (``ir.stats.function_stats`` after each pass)."""
    groups = [r["pass"] for r in rows]
    series = {k: [r.get(k, 0) for r in rows] for k in keys if any(k in r for r in rows)}
    return bar_chart(groups, series, f"{title} static counts after each pass".strip())


def trace_chart(report: dict, key: str | None = None, limit: int = 15) -> SVG:
    """Per-uop counts of a trace report, hottest first (``instructions`` with Unicorn)."""
    rows = report["per_uop"]
    if key is None:
        key = "instructions" if rows and "instructions" in rows[0] else "count"
    rows = sorted(rows, key=lambda r: -r.get(key, 0))[:limit]
    many = len({r["function"] for r in rows}) > 1
    groups = [f"{r['function']}:{r['uop']}" if many else r["uop"] for r in rows]
    series = {key: [r.get(key, 0) for r in rows]}
    if key == "instructions":
        series["loads"] = [r.get("loads", 0) for r in rows]
        series["stores"] = [r.get("stores", 0) for r in rows]
    return bar_chart(groups, series, f"hottest uops ({report['backend']})", key,
                     horizontal=True)


def totals_chart(totals: dict[str, dict], keys=("uops", "guards", "local_loads",
                                                "local_stores"), title: str = "") -> SVG:
    """Trace totals of several configurations side by side (``{config: totals}``)."""
    groups = list(totals)
    series = {k: [t.get(k, 0) for t in totals.values()] for k in keys}
    return bar_chart(groups, series, title)


# -- heat map -------------------------------------------------------------------------

def heatmap(trace, function: str | None = None, key: str | None = None):
    """The optimized IR of ``function`` (default: the hottest), each uop line shaded by
    its executions (``count``) or, with Unicorn, its ``instructions``."""
    sites = trace.sites
    if function is None:
        hot = trace.per_uop[0]["function"] if trace.per_uop else None
        function = hot if hot in trace.listings else next(iter(trace.listings), None)
    if function is None:
        return HTMLView("<i>no optimized code ran</i>")
    if key is None:
        key = "instructions" if any("instructions" in c for c in sites.values()) else "count"
    text = trace.listings[function]
    weights: dict[int, float] = {}
    labels: dict[int, str] = {}
    block, index = None, -1
    head = re.compile(r"^([A-Za-z_][\w.]*)(\(.*\))?:\s*$")
    for i, line in enumerate(text.split("\n")):
        m = head.match(line)
        if m:
            block, index = m.group(1), -1
            continue
        s = line.strip()
        if not line.startswith("  ") or s.startswith(".line") or not s:
            continue
        index += 1
        c = sites.get((function, block, index))
        if c and c.get(key):
            weights[i] = c[key]
            extra = (f"  L{c['loads']:,} S{c['stores']:,}" if "loads" in c and key != "count"
                     else "")
            labels[i] = f"{c[key]:,}{extra}"
    return HTMLView(views.heatmap_html(text, weights, labels,
                                    f"@{function}: {key} per uop ({trace.backend})"))
