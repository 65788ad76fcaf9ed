"""Control-flow graph queries: predecessors, orders, dominators, natural loops.

Written directly (Cooper, Harvey & Kennedy's dominator algorithm) because the
verifier runs after every pass and must stay linear and import-light;
``to_networkx`` gives the same graph to whoever wants drawing or graph
algorithms.
"""

from __future__ import annotations

from dataclasses import dataclass

from .core import Function


def successors(fn: Function) -> dict[str, list[str]]:
    return {b.label: b.successors() for b in fn.blocks}


def predecessors(fn: Function) -> dict[str, list[str]]:
    preds: dict[str, list[str]] = {b.label: [] for b in fn.blocks}
    for b in fn.blocks:
        for s in b.successors():
            if s in preds and b.label not in preds[s]:
                preds[s].append(b.label)
    return preds


def reverse_postorder(fn: Function) -> list[str]:
    """Blocks reachable from the entry, each before its successors (back edges aside)."""
    succ = successors(fn)
    seen: set[str] = set()
    order: list[str] = []
    if not fn.blocks:
        return order
    stack = [(fn.entry.label, iter(succ[fn.entry.label]))]
    seen.add(fn.entry.label)
    while stack:
        label, it = stack[-1]
        for s in it:
            if s not in seen and s in succ:
                seen.add(s)
                stack.append((s, iter(succ[s])))
                break
        else:
            stack.pop()
            order.append(label)
    order.reverse()
    return order


def dominators(fn: Function, rpo: list[str] | None = None,
               preds: dict[str, list[str]] | None = None) -> dict[str, str]:
    """Immediate dominator of every reachable block (the entry maps to itself).
    ``rpo`` and ``preds``: ``fn``'s, when the caller has them already."""
    if rpo is None:
        rpo = reverse_postorder(fn)
    if not rpo:
        return {}
    index = {b: i for i, b in enumerate(rpo)}
    if preds is None:
        preds = predecessors(fn)
    idom: dict[str, str] = {rpo[0]: rpo[0]}

    def intersect(a: str, b: str) -> str:
        while a != b:
            while index[a] > index[b]:
                a = idom[a]
            while index[b] > index[a]:
                b = idom[b]
        return a

    changed = True
    while changed:
        changed = False
        for b in rpo[1:]:
            new = None
            for p in preds[b]:
                if p in idom:
                    new = p if new is None else intersect(p, new)
            if new is not None and idom.get(b) != new:
                idom[b] = new
                changed = True
    return idom


def dominates(idom: dict[str, str], a: str, b: str) -> bool:
    """Does block ``a`` dominate block ``b``?"""
    while True:
        if a == b:
            return True
        parent = idom.get(b)
        if parent is None or parent == b:
            return False
        b = parent


@dataclass
class Loop:
    header: str
    blocks: frozenset[str]
    latches: tuple[str, ...]


def _dominance_test(idom: dict[str, str]):
    """``dominates(a, b)`` in O(1): a dominates b iff b's preorder number in the
    dominator tree falls inside a's subtree interval (linear to build, where
    walking up the tree per query is quadratic on long chains of blocks)."""
    children: dict[str, list[str]] = {}
    root = None
    for b, parent in idom.items():
        if parent == b:
            root = b
        else:
            children.setdefault(parent, []).append(b)
    pre: dict[str, int] = {}
    last: dict[str, int] = {}
    if root is not None:
        stack = [(root, False)]
        while stack:
            b, done = stack.pop()
            if done:
                last[b] = len(pre) - 1
                continue
            pre[b] = len(pre)
            stack.append((b, True))
            stack.extend((c, False) for c in reversed(children.get(b, ())))

    def test(a: str, b: str) -> bool:
        pa, pb = pre.get(a), pre.get(b)
        return pa is not None and pb is not None and pa <= pb <= last[a]
    return test


def natural_loops(fn: Function, idom: dict[str, str] | None = None, graph=None) -> list[Loop]:
    """One loop per header: the union of the natural loops of its back edges.
    ``idom`` and ``graph`` (``successors``, ``predecessors``, ``rpo``): ``fn``'s,
    when the caller has them already."""
    if graph is not None:
        succ, preds, rpo = graph.successors, graph.predecessors, graph.rpo
    else:
        succ, preds, rpo = successors(fn), predecessors(fn), reverse_postorder(fn)
    if idom is None:
        idom = dominators(fn, rpo, preds)
    dom = _dominance_test(idom)
    latches: dict[str, list[str]] = {}
    for b in rpo:
        for s in succ[b]:
            if s in idom and dom(s, b):
                latches.setdefault(s, []).append(b)
    rpo_index = {b: i for i, b in enumerate(rpo)}
    loops = []
    for header in sorted(latches, key=rpo_index.__getitem__):
        body = {header}
        work = [l for l in latches[header] if l != header]
        body.update(work)
        while work:
            x = work.pop()
            for p in preds[x]:
                if p not in body and p in idom:
                    body.add(p)
                    work.append(p)
        loops.append(Loop(header, frozenset(body), tuple(latches[header])))
    return loops


def to_networkx(fn: Function):
    """The CFG as a ``networkx.DiGraph`` (nodes are labels, with ``uops`` counts)."""
    # lazy: networkx is slow to import; only this path needs it
    import networkx as nx

    g = nx.DiGraph()
    for b in fn.blocks:
        g.add_node(b.label, uops=len(b.uops))
    for b in fn.blocks:
        for s in b.successors():
            g.add_edge(b.label, s)
    return g
