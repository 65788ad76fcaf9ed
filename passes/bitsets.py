"""Backward dataflow over bitsets (Python ints), shared by the passes that need liveness
of frame locals (dse, promote).

Why one solver: each pass describes a block by (gen, kill) bits and the CFG by index
lists; the worklist iteration to the fixed point is the same for all of them, and its
cost is linear in blocks x iterations with no per-local sets.
"""

from __future__ import annotations


def solve_backward(succ: list[list[int]], preds: list[list[int]],
                   summary: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """(live_in, live_out) per block for ``in = gen | (out & ~kill)``, ``out = U in(succ)``.

    Blocks are indexed 0..n-1 as in ``succ``/``preds``/``summary``; the worklist starts
    with every block and pops from the end, so numbering blocks in reverse postorder
    visits them in postorder first (successors before predecessors).
    """
    nb = len(succ)
    live_in = [0] * nb
    live_out = [0] * nb
    work = list(range(nb))
    queued = [True] * nb
    while work:
        i = work.pop()
        queued[i] = False
        out = 0
        for s in succ[i]:
            out |= live_in[s]
        live_out[i] = out
        gen, kill = summary[i]
        new = gen | (out & ~kill)
        if new != live_in[i]:
            live_in[i] = new
            for p in preds[i]:
                if not queued[p]:
                    queued[p] = True
                    work.append(p)
    return live_in, live_out
