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
from operator import itemgetter

from ir.core import Function
from ir.uops import UOPS


class Ownership:
    """`before[label][i]` / `dies[label][i]`: the boxed values live before uop i of the
    block, and dying after it (sorted tuples; () for a terminator's `dies`).

    `boxed(v)` says whether value v is boxed; with `raw` (the values that are not, a set
    or dict) it is not called at all: the emitter computes this once per function, and
    a set lookup is far cheaper than a call per use."""

    def __init__(self, fn: Function, boxed: Callable[[int], bool], blocks=None, raw=None):
        if raw is None:
            raw = _RawView(boxed)
        self.boxed = boxed
        self.raw = raw
        blocks = list(fn.blocks if blocks is None else blocks)
        self.params = {b.label: list(b.params) for b in blocks}
        succs = {b.label: [t.block for u in b.uops for t in u.targets
                           if t.block in self.params] for b in blocks}
        # per uop: the boxed values it reads and its boxed output (None: none)
        reads: dict[str, list] = {}
        gen, kill = {}, {}
        terminators = _terminators()
        for b in blocks:
            g, k = set(), {p for p in b.params if p not in raw}
            rb = []
            for u in b.uops:
                e = u.exit
                if e is None and not u.targets:   # inputs only: the common case first
                    ins = u.inputs
                    if not ins:
                        used = _NONE
                    elif len(ins) == 1:
                        used = _NONE if ins[0] in raw else {ins[0]}
                    else:
                        used = set(ins).difference(raw)   # iterates `ins`, not `raw`
                else:
                    used = set(u.inputs)
                    for t in u.targets:
                        used.update(t.args)
                    if e is not None:
                        used.update(map(_second, e.values))
                        used.update(map(_second, e.locals))
                    used = used.difference(raw)
                if used:
                    g |= used.difference(k)
                out = u.output
                if out is not None:
                    if out in raw:
                        out = None
                    else:
                        k.add(out)
                rb.append((used, out, u.name in terminators))
            reads[b.label] = rb
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
        self.before: dict[str, list[tuple[int, ...]]] = {}
        self.dies: dict[str, list[tuple[int, ...]]] = {}
        self.entry_live: dict[str, frozenset[int]] = {}
        for b in blocks:
            live = set(live_out[b.label])
            rb = reads[b.label]
            n = len(rb)
            before, dies = [()] * n, [()] * n
            if not live and not gen[b.label] and not kill[b.label]:
                # no boxed value here at all: nothing held, nothing dies
                self.before[b.label], self.dies[b.label] = before, dies
                self.entry_live[b.label] = frozenset()
                continue
            now = tuple(sorted(live))
            for i in range(n - 1, -1, -1):
                used, out, terminator = rb[i]
                if out is None:
                    if not used:            # nothing boxed read or written
                        before[i] = now
                        continue
                    dying = used - live
                    if dying:
                        live |= dying
                        now = tuple(sorted(live))
                else:
                    dying = used - live
                    if out in live:
                        live.discard(out)
                    else:   # (`used` may be the shared empty frozenset)
                        dying = dying | {out}
                    live |= used
                    now = tuple(sorted(live))
                before[i] = now
                if dying and not terminator:
                    dies[i] = tuple(sorted(dying))
            self.before[b.label], self.dies[b.label] = before, dies
            self.entry_live[b.label] = frozenset(live)

    def param_live(self, block: str, p: int) -> bool:
        """Block parameter `p` of `block` is used (its value must be passed and owned)."""
        return p in self.entry_live.get(block, ())

    def edge_refs(self, held: tuple[int, ...], block: str, args: list[int],
                  param_boxed: Callable[[int], bool] | None = None) -> dict[int, int]:
        """Reference-count change per held boxed value on an edge into `block` with
        `args`: +k increfs (the value feeds k more owners), -1 a decref (not needed).
        `param_boxed` defaults to the boxed test the analysis was made with."""
        live_in = self.live_in.get(block, ())
        # a held value owns one reference: -1 when the successor needs none of it, +1 per
        # live boxed parameter it feeds (the dict's order does not matter to callers)
        deltas = {v: -1 for v in held if v not in live_in}
        params = self.params.get(block, ())
        if params and args:
            raw = self.raw if param_boxed is None else _RawView(param_boxed)
            entry = self.entry_live.get(block, ())
            held_set = set(held)
            for p, a in zip(params, args):
                if a in held_set and p not in raw and p in entry:
                    d = deltas.get(a, 0) + 1
                    if d:
                        deltas[a] = d
                    else:
                        del deltas[a]
        return deltas


_second = itemgetter(1)
_NONE: frozenset[int] = frozenset()
_TERMINATORS: list[frozenset[str]] = []


def _terminators() -> frozenset[str]:
    """The names of the terminator uops (the table is complete once imported)."""
    if not _TERMINATORS:
        _TERMINATORS.append(frozenset(n for n, d in UOPS.items() if d.is_terminator))
    return _TERMINATORS[0]


class _RawView:
    """`v in raw` for a `boxed` predicate: v is not boxed."""

    def __init__(self, boxed: Callable[[int], bool]):
        self.boxed = boxed

    def __contains__(self, v) -> bool:
        return not self.boxed(v)
