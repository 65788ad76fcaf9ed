"""Pictures: CFGs, interference graphs, per-pass bar charts, trace charts, heat maps.

Graphs are SVG: Graphviz ``dot`` when it is on PATH, else a matplotlib drawing (the
object-oriented API with the SVG canvas: no pyplot, no GUI backend, nothing global
changed in a notebook).  Every picture is an ``SVG`` object: it shows itself in a
notebook (``_repr_svg_``) and ``save(path)`` writes it.
"""

from __future__ import annotations

import io
import shutil
import subprocess

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
    from ir.cfg import natural_loops
    from ir.uops import Flag

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


def _figure(w: float, h: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h))
    return fig


def _svg_of(fig) -> str:
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    FigureCanvasSVG(fig)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    return buf.getvalue()


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


def cfg_matplotlib(fn) -> str:
    f = cfg_facts(fn)
    depth = _layers(f)
    by_layer: dict[int, list[str]] = {}
    for b in f["blocks"]:
        by_layer.setdefault(depth[b], []).append(b)
    pos = {}
    for d, bs in by_layer.items():
        for k, b in enumerate(bs):
            pos[b] = (k - (len(bs) - 1) / 2, -d)
    width = max(len(bs) for bs in by_layer.values())
    fig = _figure(max(3.0, 2.2 * width), max(2.5, 1.1 * len(by_layer)))
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(f"@{fn.name}", fontsize=10)
    for a, b in f["edges"]:
        if b not in pos:
            continue
        back = (a, b) in f["back"]
        ax.annotate("", xy=pos[b], xytext=pos[a],
                    arrowprops=dict(arrowstyle="-|>", color="#268bd2" if back else "#444",
                                    linestyle="--" if back else "-", shrinkA=14, shrinkB=14,
                                    connectionstyle="arc3,rad=0.45" if back else "arc3"))
    for b, (x, y) in pos.items():
        ax.text(x, y, _node_text(f, b), ha="center", va="center", fontsize=8,
                family="monospace",
                bbox=dict(boxstyle="round,pad=0.3",
                          fc=GUARD_FILL if b in f["guarded"] else "white",
                          ec=HEADER_PEN if b in f["headers"] else "#444",
                          lw=2 if b in f["headers"] else 1))
    xs = [p[0] for p in pos.values()] or [0]
    ys = [p[1] for p in pos.values()] or [0]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    return _svg_of(fig)


def cfg_picture(fn, fmt: str = "svg") -> SVG:
    """The CFG of ``fn`` as SVG (``fmt="dot"``: an SVG object whose text is the .dot)."""
    dot = cfg_dot(fn)
    if fmt == "dot":
        return SVG(dot, dot)
    return SVG(run_dot(dot) if have_dot() else cfg_matplotlib(fn), dot)


# -- interference graph ---------------------------------------------------------------

def interference(fn, algo: str = "graph-coloring", regs: int = 6):
    """(networkx graph of ``fn``'s values before allocation, value -> location after
    ``regalloc{algo,regs}`` on a copy).  ``fn`` must not be allocated yet."""
    import copy

    from passes.liveness import compute
    from passes.regalloc import AllocState, allocate
    from passes.regalloc_coloring import interference_graph

    work = copy.deepcopy(fn)
    work.locs.clear()
    g = interference_graph(AllocState(work, regs), compute(work))
    done = copy.deepcopy(fn)
    allocate(done, algo, regs)
    return g, dict(done.locs)


def interference_dot(g, locs: dict) -> str:
    lines = ["graph interference {", '  node [shape=circle, style=filled, fontname="monospace",'
             ' fontsize=9, width=0.3];']
    for v in sorted(g.nodes):
        loc = locs.get(v)
        color = PALETTE[int(loc[1:]) % len(PALETTE)] if loc and loc[0] == "r" else "#dddddd"
        lines.append(f'  v{v} [label="%{v}\\n{loc or "-"}", fillcolor="{color}"];')
    for a, b in sorted(tuple(sorted(e)) for e in g.edges):
        lines.append(f"  v{a} -- v{b};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def interference_picture(fn, algo: str = "graph-coloring", regs: int = 6) -> SVG:
    """The interference graph of ``fn`` (after ``promote``, before ``regalloc``), nodes
    coloured by the register ``algo`` gave them (grey: a frame slot)."""
    g, locs = interference(fn, algo, regs)
    dot = interference_dot(g, locs)
    if have_dot():
        return SVG(run_dot(dot.replace("graph interference {", "graph interference {\n"
                                       "  layout=neato; overlap=false;")), dot)
    import networkx as nx

    pos = nx.circular_layout(sorted(g.nodes)) if len(g) else {}
    fig = _figure(5, 5)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(f"interference, {algo}, {regs} registers", fontsize=10)
    for a, b in g.edges:
        ax.plot([pos[a][0], pos[b][0]], [pos[a][1], pos[b][1]], color="#999", lw=0.7, zorder=1)
    for v, (x, y) in pos.items():
        loc = locs.get(v)
        color = PALETTE[int(loc[1:]) % len(PALETTE)] if loc and loc[0] == "r" else "#dddddd"
        ax.scatter([x], [y], s=420, color=color, edgecolors="#333", zorder=2)
        ax.text(x, y, f"%{v}\n{loc or '-'}", ha="center", va="center", fontsize=6, zorder=3)
    ax.set_aspect("equal")
    return SVG(_svg_of(fig), dot)


# -- charts ---------------------------------------------------------------------------

def bar_chart(groups: list[str], series: dict[str, list[float]], title: str = "",
              ylabel: str = "", horizontal: bool = False, log: bool = False) -> SVG:
    """Grouped bars: one group per entry of ``groups``, one bar per series."""
    n = max(1, len(series))
    width = 0.8 / n
    if horizontal:
        fig = _figure(7, max(2.5, 0.32 * len(groups) * max(1, n / 2) + 1))
    else:
        fig = _figure(max(5, 0.55 * len(groups) * max(1, n / 2) + 2), 3.6)
    ax = fig.add_subplot()
    for k, (name, vals) in enumerate(series.items()):
        xs = [i + (k - (n - 1) / 2) * width for i in range(len(groups))]
        if horizontal:
            ax.barh(xs, vals, height=width, label=name, color=PALETTE[k % len(PALETTE)])
        else:
            ax.bar(xs, vals, width=width, label=name, color=PALETTE[k % len(PALETTE)])
    if horizontal:
        ax.set_yticks(range(len(groups)), groups, fontsize=8, family="monospace")
        ax.invert_yaxis()
        ax.set_xlabel(ylabel)
        if log:
            ax.set_xscale("log")
    else:
        ax.set_xticks(range(len(groups)), groups, rotation=35, ha="right", fontsize=8)
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
    if n > 1:
        ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    return SVG(_svg_of(fig))


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
    import re

    from . import views
    from .api import _HTML

    sites = trace.sites
    if function is None:
        hot = trace.per_uop[0]["function"] if trace.per_uop else None
        function = hot if hot in trace.listings else next(iter(trace.listings), None)
    if function is None:
        return _HTML("<i>no optimized code ran</i>")
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
    return _HTML(views.heatmap_html(text, weights, labels,
                                    f"@{function}: {key} per uop ({trace.backend})"))
