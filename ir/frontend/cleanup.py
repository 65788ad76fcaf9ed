"""What the builder does to a finished function: prune, check loads, renumber."""

from __future__ import annotations

from ..cfg import predecessors, reverse_postorder
from ..core import Function
from ..uops import U


def prune_unreachable(fn: Function) -> None:
    # Empty trailing blocks have no terminator; they are unreachable by construction.
    fn.blocks = [b for b in fn.blocks if b.uops]
    live = set(reverse_postorder(fn))
    fn.blocks = [b for b in fn.blocks if b.label in live]


def mark_checked_loads(fn: Function) -> None:
    """``_LOAD_FAST_CHECK`` becomes ``_LOAD_FAST`` where the local is surely bound."""

    order = reverse_postorder(fn)
    preds = predecessors(fn)
    blocks = fn.block_map()
    everything = frozenset(fn.locals)
    out: dict[str, frozenset[str]] = {b: everything for b in order}
    entry_in = frozenset(fn.params)

    def transfer(label: str, bound: frozenset[str], rewrite: bool) -> frozenset[str]:
        cur = set(bound)
        for u in blocks[label].uops:
            if u.name == U._STORE_FAST:
                cur.add(u.imms[0])
            elif u.name == U._DELETE_FAST:
                cur.discard(u.imms[0])
            elif u.name == U._LOAD_FAST_CHECK:
                if rewrite and u.imms[0] in cur:
                    u.name = U._LOAD_FAST
                cur.add(u.imms[0])  # after a successful load it is bound
        return frozenset(cur)

    # A handler edge leaves from any point of its block: what is surely bound there is
    # what was bound on entry, less what the block deletes.
    inn: dict[str, frozenset[str]] = {b: everything for b in order}
    deleted = {b: frozenset(u.imms[0] for u in blocks[b].uops if u.name == U._DELETE_FAST)
               for b in order}

    def block_in(label: str) -> frozenset[str]:
        if label == order[0]:
            return entry_in
        acc = everything
        for p in preds[label]:
            if p in out:
                acc = acc & out[p]
                if blocks[p].handler == label:
                    acc = acc & (inn[p] - deleted[p])
        return acc

    changed = True
    while changed:
        changed = False
        for label in order:
            got = block_in(label)
            if got != inn[label]:
                inn[label] = got
                changed = True
            new = transfer(label, got, False)
            if new != out[label]:
                out[label] = new
                changed = True
    for label in order:
        transfer(label, block_in(label), True)


def renumber(fn: Function) -> None:
    """Dense value numbers and block labels in layout order, for readable text."""
    labels = {b.label: f"bb{i}" for i, b in enumerate(fn.blocks)}
    values: dict[int, int] = {}
    for b in fn.blocks:
        b.label = labels[b.label]
        if b.handler is not None:
            b.handler = labels[b.handler]
        for p in b.params:   # a handler's exception
            values[p] = len(values)
        b.params = [values[p] for p in b.params]
        for u in b.uops:
            u.inputs = [values[v] for v in u.inputs]
            for t in u.targets:
                t.block = labels[t.block]
            if u.output is not None:
                values[u.output] = len(values)
                u.output = values[u.output]

