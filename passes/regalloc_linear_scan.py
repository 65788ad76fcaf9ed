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

from array import array

from .liveness import LivenessInfo
from .regalloc_state import AllocState, overlaps, param_arg_pairs


def linear_scan_once(state: AllocState, info: LivenessInfo):
    regs = state.regs
    temps = state.temps
    # Intervals are read straight from the analysis tables: the ranges of ``v``
    # are ``[rfrom[i], rto[i])`` for ``i`` in ``rbeg[v] .. rlim[v]``.
    rbeg, rlim, rfrom, rto = info.rbeg, info.rlim, info.rfrom, info.rto
    hints = param_arg_pairs(state.fn)
    in_slot = state.in_slot
    order = info.by_start([v for v in info.values() if v not in in_slot])

    reg: dict[int, int] = {}
    cursor = array("q", rbeg)        # per value, its first range not yet behind us
    active: list[int] = []
    inactive: list[int] = []
    spilled: set[int] = set()
    failed: set[int] = set()

    for cur in order:
        pos = rfrom[rbeg[cur]]
        # Retire, deactivate and reactivate intervals at ``pos``.
        new_active: list[int] = []
        new_inactive: list[int] = []
        for group in (active, inactive):
            for a in group:
                c, lim = cursor[a], rlim[a]
                while c < lim and rto[c] <= pos:
                    c += 1
                cursor[a] = c
                if c < lim:
                    (new_active if rfrom[c] <= pos else new_inactive).append(a)
        active, inactive = new_active, new_inactive

        taken = {reg[a] for a in active}
        blocked_by_inactive: set[int] = set()
        cur_beg, cur_lim = rbeg[cur], rlim[cur]
        for a in inactive:
            r = reg[a]
            if r not in taken and r not in blocked_by_inactive:
                if overlaps(info, cursor[a], rlim[a], cur_beg, cur_lim):
                    blocked_by_inactive.add(r)
        free = [r for r in range(regs) if r not in taken and r not in blocked_by_inactive]
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
        victim_end = -1
        for a in active:
            if a in temps:
                continue
            r = reg[a]
            if any(reg[i] == r and overlaps(info, cursor[i], rlim[i], cur_beg, cur_lim)
                   for i in inactive):
                continue
            e = rto[rlim[a] - 1]
            if victim is None or (e, a) > (victim_end, victim):
                victim, victim_end = a, e
        cur_is_temp = cur in temps
        if victim is not None and (cur_is_temp or victim_end > rto[cur_lim - 1]):
            reg[cur] = reg.pop(victim)
            active.remove(victim)
            active.append(cur)
            spilled.add(victim)
        elif cur_is_temp:
            failed.add(cur)
        else:
            spilled.add(cur)
    return reg, spilled, failed
