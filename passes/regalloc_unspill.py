"""Undo spills an allocation did not need, once every value has a location.

Why: the global allocators decide spills round by round on the pressure they
see then (Chaitin-Briggs spills every node that failed to color in a round at
once), and rewrite a spilled value "spill everywhere": a store after its
definition, a reload before every use.  Once the allocation is complete two
cheap repairs recover most of what that costs, without ever making a
register hold two live values:

* ``unspill``: a spilled value whose whole original life (its slot range plus
  its definition and reload temps) fits in one register that no other value
  occupies meanwhile gets that register back; its spill store and reloads
  disappear.  Taken in order of the memory traffic saved (weighted
  10 ** loop depth), and only when that saving beats the edge moves it adds
  (a loop-carried partner left in a slot now needs a store or a load on the
  edge).
* ``reuse_reloads``: inside a block, a reload of a value still held in a
  register by its definition temp or an earlier reload is dropped when that
  register stays free until the use; the earlier temp is read instead.

Both work on ``state.reg`` / ``state.in_slot`` before locations are written,
and keep ``state.info`` honest (recomputed after a rewrite).
"""

from __future__ import annotations

from bisect import bisect_right, insort

from ir.uops import U

from .liveness import compute
from .regalloc_state import AllocState


class _Occupancy:
    """Per register, the sorted disjoint ranges ``(start, end, value)`` held in it."""

    def __init__(self, regs: int, reg: dict[int, int], ranges) -> None:
        self.lists: list[list[tuple[int, int, int]]] = [[] for _ in range(regs)]
        for v, r in reg.items():
            for s, e in ranges.get(v, ()):
                self.lists[r].append((s, e, v))
        for lst in self.lists:
            lst.sort()

    def free(self, r: int, rs, ignore) -> bool:
        lst = self.lists[r]
        for s, e in rs:
            i = max(bisect_right(lst, (s, float("inf"), 0)) - 1, 0)
            while i < len(lst) and lst[i][0] < e:
                a, b, w = lst[i]
                if b > s and w not in ignore:
                    return False
                i += 1
        return True

    def add(self, r: int, rs, v: int) -> None:
        for s, e in rs:
            insort(self.lists[r], (s, e, v))

    def remove(self, r: int, v: int) -> None:
        self.lists[r] = [x for x in self.lists[r] if x[2] != v]


def _weights(state: AllocState) -> dict[str, float]:
    depth = {b.label: 0 for b in state.fn.blocks}
    for loop in state.loops():
        for label in loop.blocks:
            depth[label] += 1
    return {label: 10.0 ** d for label, d in depth.items()}


def _info(state: AllocState):
    if state.info is None:
        state.info = compute(state.fn)
    return state.info


def unspill(state: AllocState) -> int:
    """Give spilled values a register where one is free for their whole life."""
    fn = state.fn
    groups: dict[int, list[int]] = {}
    for t, (kind, v) in state.temps.items():
        if kind in ("reload", "def"):
            groups.setdefault(v, []).append(t)
    candidates = [v for v in state.in_slot if v not in state.temps]
    if not candidates:
        return 0
    info = _info(state)
    ranges = info.ranges
    weight = _weights(state)
    cand = set(candidates)
    gain: dict[int, float] = {v: 0.0 for v in candidates}
    partners: dict[int, list[tuple[int, float]]] = {}
    params = {b.label: b.params for b in fn.blocks}
    for b in fn.blocks:
        w = weight[b.label]
        for u in b.uops:
            if u.name == U._COPY:
                src, dst = u.inputs[0], u.output
                if src in state.temps and state.temps[src] == ("def", dst):
                    gain[dst] += w                  # the spill store
                elif dst in state.temps and state.temps[dst] == ("reload", src):
                    gain[src] += w                  # a reload
            else:
                for v in u.inputs:
                    if v in cand:
                        gain[v] += w                # a memory operand
            for t in u.targets:
                for a, p in zip(t.args, params[t.block]):
                    if a != p and (a in cand or p in cand):
                        for x, y in ((a, p), (p, a)):
                            if x in cand:
                                partners.setdefault(x, []).append((y, w))

    occ = _Occupancy(state.regs, state.reg, ranges)
    done: dict[int, int] = {}
    order = sorted(candidates, key=lambda v: (-gain[v], v))
    for v in order:
        if v not in ranges:
            continue
        net = gain[v]
        for y, w in partners.get(v, ()):
            net += w if (y in state.reg or y in done) else -w
        if net <= 0:
            continue
        members = [v] + groups.get(v, [])
        rs = sorted(r for m in members for r in ranges.get(m, ()))
        ignore = set(members)
        hint = [state.reg.get(y, done.get(y)) for y, _ in partners.get(v, ())]
        choice = None
        for r in [h for h in hint if h is not None] + list(range(state.regs)):
            if occ.free(r, rs, ignore):
                choice = r
                break
        if choice is None:
            continue
        for m in members:
            if m in state.reg:
                occ.remove(state.reg.pop(m), m)
        occ.add(choice, rs, v)
        done[v] = choice
    if not done:
        return 0

    rename: dict[int, int] = {}
    for v in done:
        for t in groups.get(v, ()):
            rename[t] = v
    for b in fn.blocks:
        out = []
        for u in b.uops:
            if u.name == U._COPY and (rename.get(u.inputs[0]) == u.output
                                      or rename.get(u.output) == u.inputs[0]):
                continue
            u.replace_uses(rename)
            if u.output in rename:
                u.output = rename[u.output]
            out.append(u)
        b.uops = out
    for t in rename:
        del state.temps[t]
        state.reg.pop(t, None)
        fn.types.pop(t, None)
    for v, r in done.items():
        state.in_slot.discard(v)
        state.reg[v] = r
    state.info = None
    return len(done)


def reuse_reloads(state: AllocState) -> int:
    """Drop a reload when an earlier register copy of the value is still intact."""
    fn = state.fn
    if not any(k == "reload" for k, _ in state.temps.values()):
        return 0
    info = _info(state)
    ranges = info.ranges
    occ = _Occupancy(state.regs, state.reg, ranges)
    rename: dict[int, int] = {}
    dropped: set[int] = set()
    for b in fn.blocks:
        held: dict[int, int] = {}          # spilled value -> temp holding it in a register
        for u in b.uops:
            if u.name != U._COPY:
                continue
            src, dst = u.inputs[0], u.output
            kind = state.temps.get(src)
            if kind is not None and kind[0] == "def" and kind[1] == dst and src in state.reg:
                held[dst] = src
                continue
            kind = state.temps.get(dst)
            if kind is None or kind[0] != "reload" or dst not in state.reg:
                continue
            prev = held.get(src)
            if prev is not None and dst in ranges and prev in ranges:
                r = state.reg[prev]
                gap = [(ranges[prev][-1][1], ranges[dst][-1][1])]
                if occ.free(r, gap, {prev, dst}):
                    occ.remove(state.reg[dst], dst)
                    occ.add(r, gap, prev)
                    ranges[prev] = [(ranges[prev][0][0], gap[0][1])]
                    rename[dst] = prev
                    dropped.add(id(u))
                    continue
            held[src] = dst
    if not rename:
        return 0
    for b in fn.blocks:
        b.uops = [u for u in b.uops if id(u) not in dropped]
        for u in b.uops:
            u.replace_uses(rename)
    for t in rename:
        del state.temps[t]
        state.reg.pop(t, None)
        fn.types.pop(t, None)
    state.info = None
    return len(rename)
