"""Where compiled code takes and drops references: the ownership of boxed values.

Boxed words are `PyObject *` (uop_stencils). The rule the emitter follows, CPython's own
discipline recast for SSA: every boxed value owns one strong reference from the uop that
defines it (a new reference, or an incref of a borrowed one) until its death, where the
emitter drops it (`Py_DECREF`). Uops borrow their inputs. A value dies after its last use
in a block when it is not live out; on an edge, the references the successor needs (its
live-in values, one per live block parameter fed by the value) are made from the one the
value holds: increfs for extra uses, a decref when the edge needs none. A side exit or an
error releases every boxed value live before its uop (the runner takes the ones tier 1
needs first), so nothing leaks whichever way the code leaves. Frame locals own their
objects like CPython's fast locals (emitter: entry and return).

This module only computes the facts, per block: boxed values live in and out, live
before each uop (what an exit or error there must release) and dying after it. Side-exit
values are uses of their uop, block parameters are defined at the block's entry, and
terminator arguments are uses of the terminator.
"""

from __future__ import annotations

from collections.abc import Callable

from ir.core import Function


class Ownership:
    def __init__(self, fn: Function, boxed: Callable[[int], bool], blocks=None):
        self.boxed = boxed
        blocks = list(fn.blocks if blocks is None else blocks)
        self.params = {b.label: list(b.params) for b in blocks}
        succs = {b.label: [t.block for u in b.uops for t in u.targets
                           if t.block in self.params] for b in blocks}
        gen, kill = {}, {}
        for b in blocks:
            g, k = set(), {p for p in b.params if boxed(p)}
            for u in b.uops:
                for v in u.uses():
                    if v not in k and boxed(v):
                        g.add(v)
                if u.output is not None and boxed(u.output):
                    k.add(u.output)
            gen[b.label], kill[b.label] = g, k
        live_in = {b.label: set(gen[b.label]) for b in blocks}
        live_out = {b.label: set() for b in blocks}
        changed = True
        while changed:
            changed = False
            for b in reversed(blocks):
                out = set()
                for s in succs[b.label]:
                    out |= live_in[s]
                if out != live_out[b.label]:
                    live_out[b.label] = out
                    new = gen[b.label] | (out - kill[b.label])
                    if new != live_in[b.label]:
                        live_in[b.label] = new
                    changed = True
        self.live_in = {k: frozenset(v) for k, v in live_in.items()}
        self.live_out = {k: frozenset(v) for k, v in live_out.items()}
        # per uop: boxed values live before it, and dying after it (not for terminators,
        # whose edges are `edge_refs`)
        self.before: dict[tuple[str, int], tuple[int, ...]] = {}
        self.dies_after: dict[tuple[str, int], tuple[int, ...]] = {}
        self.entry_live: dict[str, frozenset[int]] = {}
        for b in blocks:
            live = set(live_out[b.label])
            for i in range(len(b.uops) - 1, -1, -1):
                u = b.uops[i]
                after = set(live)
                if u.output is not None and boxed(u.output):
                    live.discard(u.output)
                used = {v for v in u.uses() if boxed(v)}
                live |= used
                self.before[(b.label, i)] = tuple(sorted(live))
                if not u.defn.is_terminator:
                    dying = (used | ({u.output} if u.output is not None and boxed(u.output)
                                     else set())) - after
                    self.dies_after[(b.label, i)] = tuple(sorted(dying))
            self.entry_live[b.label] = frozenset(live)

    def param_live(self, block: str, p: int) -> bool:
        """Block parameter `p` of `block` is used (its value must be passed and owned)."""
        return p in self.entry_live.get(block, ())

    def edge_refs(self, held: tuple[int, ...], block: str, args: list[int],
                  param_boxed: Callable[[int], bool]) -> dict[int, int]:
        """Reference-count change per held boxed value on an edge into `block` with
        `args`: +k increfs (the value feeds k more owners), -1 a decref (not needed)."""
        need = {v: (1 if v in self.live_in.get(block, ()) else 0) for v in held}
        for p, a in zip(self.params.get(block, ()), args):
            if a in need and param_boxed(p) and self.param_live(block, p):
                need[a] += 1
        return {v: n - 1 for v, n in need.items() if n != 1}
