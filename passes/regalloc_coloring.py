"""Chaitin-Briggs graph-coloring register allocation, for ``regalloc{algo=graph-coloring}``.

Why: the classic global allocator, to compare with linear scan and TOS: better
spill choices (costs weighted by loop depth, so a loop's values stay in
registers) at the price of building an interference graph.

* Build: a ``networkx.Graph`` whose nodes are the values not in slots; two
  values interfere when one is defined where the other is live (from the
  ``liveness`` sets, one backward walk per block).
* Coalesce (conservative, Briggs): a block parameter and its incoming argument
  that do not interfere are merged when the merged node has fewer than K
  neighbours of significant degree (>= K), so coloring cannot get harder.  The
  merged pair gets one register and the edge move disappears.  (Nodes with
  more than 8*K neighbours are not merged: chains of coalesced parameters would
  otherwise grow one huge node and make coalescing quadratic.)
* Simplify/select with optimistic coloring (Briggs): remove nodes of degree < K;
  when none is left, push the node with the least spill cost per degree, where
  cost = the memory operations spilling it adds, each weighted 10 ** loop_depth
  (``ir.cfg.natural_loops``; see ``spill_costs``).  Select pops nodes and gives each the lowest
  register its colored neighbours leave free (preferring a register of a
  param/argument partner: biased coloring).  Nodes left uncolored are spilled;
  the driver rewrites them to slots and rebuilds until everything is colored.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from ir.uops import U

from .liveness import LivenessInfo
from .regalloc_state import AllocState, param_arg_pairs


if TYPE_CHECKING:
    import networkx as nx


MERGE_LIMIT = 8      # no coalescing into a node with more than 8*K neighbours


def interference_graph(state: AllocState, info: LivenessInfo) -> "nx.Graph":
    fn = state.fn
    skip = state.in_slot
    import networkx as nx  # lazy: ~110 ms to import; only graph coloring needs it

    g = nx.Graph()
    edges: list[tuple[int, int]] = []
    for b in fn.blocks:
        live = {v for v in info.live_out[b.label] if v not in skip}
        g.add_nodes_from(p for p in b.params if p not in skip)
        for i in range(len(b.uops) - 1, -1, -1):
            u = b.uops[i]
            o = u.output
            if o is not None and o not in skip:
                g.add_node(o)
                edges.extend((o, w) for w in live if w != o)
                live.discard(o)
            if u.exit is not None:
                live.update(v for _, v in u.exit.values if v not in skip)
                live.update(v for _, v in u.exit.locals if v not in skip)
            live.update(v for v in u.inputs if v not in skip)
            for t in u.targets:
                live.update(v for v in t.args if v not in skip)
        ps = [p for p in b.params if p not in skip]
        for k, p in enumerate(ps):
            edges.extend((p, w) for w in live if w != p)
            edges.extend((p, q) for q in ps[k + 1:])
    g.add_nodes_from(v for v in info.values() if v not in skip)
    g.add_edges_from(edges)
    return g


def spill_costs(state: AllocState, info: LivenessInfo) -> dict[int, float]:
    """Memory operations spilling each value would cost, weighted 10 ** loop depth.

    A read as an input is a reload, a definition by a uop a store.  Side exits
    read values where they are: free.  A successor argument passed to a
    different parameter costs a move on that edge for both (when they end up
    in different kinds of location); a loop-carried value passed back to itself
    costs nothing, so a value that only rides along a loop is cheap to spill.
    A constant is rematerialized at its uses: no memory traffic, a token cost.
    """
    fn = state.fn
    depth: dict[str, int] = {b.label: 0 for b in fn.blocks}
    for loop in state.loops():
        for label in loop.blocks:
            depth[label] += 1
    params = {b.label: b.params for b in fn.blocks}
    consts = {u.output for b in fn.blocks for u in b.uops
              if u.name == U._LOAD_CONST and u.output is not None}
    cost: dict[int, float] = {}

    def add(v: int, w: float) -> None:
        cost[v] = cost.get(v, 0.0) + w

    for b in fn.blocks:
        w = 10.0 ** depth[b.label]
        for u in b.uops:
            for v in u.inputs:
                add(v, 0.1 * w if v in consts else w)
            for t in u.targets:
                for a, p in zip(t.args, params[t.block]):
                    if a != p:
                        add(a, w)
                        add(p, w)
            if u.output is not None:
                add(u.output, 0.0 if u.output in consts else w)
    for t in state.temps:
        cost[t] = float("inf")
    return cost


def coloring_once(state: AllocState, info: LivenessInfo):
    K = state.regs
    g = interference_graph(state, info)
    cost = spill_costs(state, info)
    adj: dict[int, set[int]] = {v: set(g.adj[v]) for v in g.nodes}

    # -- conservative (Briggs) coalescing of parameter/argument pairs
    alias: dict[int, int] = {}

    def find(v: int) -> int:
        while v in alias:
            v = alias[v]
        return v

    members: dict[int, list[int]] = {v: [v] for v in adj}
    pairs = param_arg_pairs(state.fn)
    for p in sorted(pairs):
        for a in pairs[p]:
            x, y = find(p), find(a)
            if x == y or x not in adj or y not in adj or y in adj[x]:
                continue
            if x in state.temps or y in state.temps:
                continue
            ax, ay = adj[x], adj[y]
            if len(ax) + len(ay) > MERGE_LIMIT * K:
                continue          # keeps coalescing linear: no ever-growing merged node
            if len(ax) < len(ay):
                x, y, ax, ay = y, x, ay, ax
            significant = sum(1 for n in ax if len(adj[n]) >= K)
            significant += sum(1 for n in ay if n not in ax and len(adj[n]) >= K)
            if significant >= K:
                continue          # Briggs: the merged node might not simplify
            for n in ay:
                adj[n].discard(y)
                adj[n].add(x)
            ax |= ay
            del adj[y]
            alias[y] = x
            members[x].extend(members.pop(y))
            cost[x] = cost.get(x, 0.0) + cost.get(y, 0.0)

    # -- simplify, with optimistic spill candidates
    degree = {v: len(n) for v, n in adj.items()}
    removed: set[int] = set()
    stack: list[int] = []
    low = sorted((v for v in adj if degree[v] < K), reverse=True)
    low_set = set(low)

    def key(v: int) -> tuple[float, int]:
        return (cost.get(v, 0.0) / max(degree[v], 1), v)

    heap = [key(v) for v in adj if v not in low_set]
    heapq.heapify(heap)
    remaining = len(adj)
    while remaining:
        if low:
            v = low.pop()
        else:
            while True:
                k, v = heapq.heappop(heap)
                if v in removed or v in low_set:
                    continue
                cur = key(v)
                if cur != (k, v):
                    heapq.heappush(heap, cur)
                    continue
                break
        if v in removed:
            continue
        removed.add(v)
        remaining -= 1
        stack.append(v)
        for n in adj[v]:
            if n not in removed:
                degree[n] -= 1
                if degree[n] == K - 1 and n not in low_set:
                    low.append(n)
                    low_set.add(n)

    # -- select
    reg: dict[int, int] = {}
    spilled: set[int] = set()
    failed: set[int] = set()
    for v in reversed(stack):
        used = {reg[n] for n in adj[v] if n in reg}
        choice = None
        for m in members[v]:
            for partner in pairs.get(m, ()):
                r = reg.get(find(partner))
                if r is not None and r not in used:
                    choice = r
                    break
            if choice is not None:
                break
        if choice is None:
            choice = next((r for r in range(K) if r not in used), None)
        if choice is None:
            for m in members[v]:
                (failed if m in state.temps else spilled).add(m)
            continue
        reg[v] = choice
    out = {}
    for v, r in reg.items():
        for m in members[v]:
            out[m] = r
    return out, spilled, failed
