"""Linear scan register allocation (Poletto & Sarkar 1999, with Traub/Wimmer's
lifetime holes), for ``regalloc{algo=linear-scan}``.

Why this shape: intervals come straight from the ``liveness`` analysis, one
sweep in order of start position assigns registers, so the cost is
O(values x registers) plus the interval walking: it scales linearly, which is
why JITs use it.  A value is never split: when no register is free, the
interval ending furthest away (the current one or an active one) is spilled
whole, as in Poletto-Sarkar; the driver (``regalloc.iterate``) then rewrites it
to a slot with reloads and re-runs the scan.

Lifetime holes: an interval that is dead at the current position (its next
range starts later) is *inactive*: its register may be given to an interval
that fits entirely in the hole.

Hints: a block parameter prefers a register of one of its incoming arguments
and vice versa, so loop-carried values keep their register across the back
edge and need no move.
"""

from __future__ import annotations

from .liveness import LivenessInfo
from .regalloc import AllocState, _param_arg_pairs, intersects


def linear_scan_once(state: AllocState, info: LivenessInfo):
    regs = state.regs
    temps = state.temps
    ranges = info.ranges
    hints = _param_arg_pairs(state.fn)
    order = sorted((rs[0][0], v) for v, rs in ranges.items() if v not in state.in_slot)

    reg: dict[int, int] = {}
    cursor: dict[int, int] = {}      # index of the first range not yet behind us
    end = {v: ranges[v][-1][1] for _, v in order}
    active: list[int] = []
    inactive: list[int] = []
    spilled: set[int] = set()
    failed: set[int] = set()

    for pos, cur in order:
        # Retire, deactivate and reactivate intervals at ``pos``.
        new_active: list[int] = []
        new_inactive: list[int] = []
        for a in active + inactive:
            rs, c = ranges[a], cursor[a]
            while c < len(rs) and rs[c][1] <= pos:
                c += 1
            cursor[a] = c
            if c < len(rs):
                (new_active if rs[c][0] <= pos else new_inactive).append(a)
        active, inactive = new_active, new_inactive

        cursor[cur] = 0
        taken = {reg[a] for a in active}
        blocked_by_inactive: dict[int, bool] = {}
        cur_ranges = ranges[cur]
        for a in inactive:
            r = reg[a]
            if r not in taken and not blocked_by_inactive.get(r):
                if intersects(ranges[a], cursor[a], cur_ranges):
                    blocked_by_inactive[r] = True
        free = [r for r in range(regs) if r not in taken and not blocked_by_inactive.get(r)]
        if free:
            choice = free[0]
            for h in hints.get(cur, ()):
                r = reg.get(h)
                if r is not None and r in free:
                    choice = r
                    break
            reg[cur] = choice
            active.append(cur)
            continue

        # No register: spill the interval that ends furthest (Poletto-Sarkar).
        victim = None
        for a in active:
            if a in temps:
                continue
            r = reg[a]
            if any(reg[i] == r and intersects(ranges[i], cursor[i], cur_ranges)
                   for i in inactive):
                continue
            if victim is None or (end[a], a) > (end[victim], victim):
                victim = a
        cur_is_temp = cur in temps
        if victim is not None and (cur_is_temp or end[victim] > end[cur]):
            reg[cur] = reg.pop(victim)
            active.remove(victim)
            active.append(cur)
            spilled.add(victim)
        elif cur_is_temp:
            failed.add(cur)
        else:
            spilled.add(cur)
    return reg, spilled, failed
