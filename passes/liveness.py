"""Liveness of SSA values: live-in/live-out per block and live ranges per value.

Why: register allocation (``regalloc``) needs to know which values are alive at
the same time.  This is the analysis it asks for (``ctx.get("liveness", fn)``);
the ``liveness`` pass only prints it (``--explain``) so a reader can see it.

How, in linear time and memory:

* Sets: path exploration (Brandner et al., "Computing Liveness Sets for SSA-Form
  Programs", 2011): from every use of a value in a block other than its defining
  one, walk predecessors until the definition, marking the value live-in on the
  way and live-out at each predecessor.  Only *global* values (read in a block
  other than the one defining them, and successor arguments) are walked, so
  generic IR (where nothing crosses blocks) costs one scan.  The cost is the
  total size of the live sets, never blocks x values; the sets are plain sorted
  lists, and the IR is read once, in memory order, into compact per-block lists
  (a 100k-uop IR does not fit in the CPU caches; see
  workbench/benchmarks/pass_scaling.py for the measured growth).  The result is
  the least solution of

      live_out(b) = U_s [ (live_in(s) - params(s)) U args(b->s) ]
      live_in(b)  = upward_uses(b) U (live_out(b) - defs(b))

  Uses are ``Uop.uses()``: inputs, successor arguments and side-exit values.
  Successor arguments are used at the end of the predecessor (SSA phi rule).

* Ranges: blocks are laid out in reverse postorder (a branch's first target
  right after it, unreachable blocks last) and numbered linearly.  Block ``b`` owns positions
  ``[start, end)``: the parameters are defined at ``start``, uop ``k`` sits at
  ``start + 1 + k`` and ``end = start + len(uops) + 1`` is where values live-out
  of ``b`` stop.  One backward walk per block gives every value a list of
  half-open ``[from, to)`` ranges, with holes where it is dead (linear scan
  uses the holes).  At a uop at position ``p``:

    - an output is live from ``p`` (a dead one still occupies ``[p, p+1)``);
    - an input last read at ``p`` is live up to ``p`` (exclusive), so the
      output may reuse its register: a uop reads its inputs before it writes;
    - a value read by the uop's side exit likewise: a uop that leaves through
      its exit has not written its output (the interpreter raises before it
      stores; a stencil passes the output to its continuation only on the
      fast path), so the output may take the register of a value that only
      the exit still reads.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass

from ir.core import Function

from .analysis import register_analysis
from .base import ALL, Option, Pass, PassContext


@dataclass
class LivenessInfo:
    """The result of the analysis (see the module docstring for the numbering).

    Read-only.  ``def_pos``, ``use_pos`` and ``def_block`` are lists indexed by
    value number (``None`` for a number that names no value): dense and cheap.
    """

    order: list[str]                                  # block layout order
    live_in: dict[str, list[int]]                     # ascending value numbers
    live_out: dict[str, list[int]]
    block_range: dict[str, tuple[int, int]]           # label -> [start, end)
    ranges: dict[int, list[tuple[int, int]]]          # value -> sorted disjoint [from, to)
    def_pos: list[int | None]                         # value -> position of its definition
    use_pos: list[list[int] | None]                   # value -> input reads, ascending
    def_block: list[str | None]                       # value -> label of its block

    def start(self, v: int) -> int:
        return self.ranges[v][0][0]

    def end(self, v: int) -> int:
        return self.ranges[v][-1][1]

    def covers(self, v: int, pos: int) -> bool:
        """Is ``v`` live at ``pos``?  (Binary search: for queries, not inner loops.)"""
        from bisect import bisect_right

        rs = self.ranges.get(v, [])
        i = bisect_right(rs, (pos, float("inf"))) - 1
        return i >= 0 and rs[i][0] <= pos < rs[i][1]

    def global_values(self) -> set[int]:
        out: set[int] = set()
        for s in self.live_in.values():
            out.update(s)
        return out

    def format_block(self, label: str) -> str:
        s, e = self.block_range[label]
        return (f"{label} [{s}, {e}): in={format_set(self.live_in[label])} "
                f"out={format_set(self.live_out[label])}")

    def format_ranges(self, v: int) -> str:
        return f"%{v}: " + " ".join(f"[{a}, {b})" for a, b in self.ranges[v])


def format_set(values) -> str:
    return "{" + ", ".join(f"%{v}" for v in sorted(values)) + "}"


def layout_order(fn: Function) -> list[str]:
    """Reverse postorder, then unreachable blocks in function order.

    The depth-first search visits successors last-to-first, so a branch's first
    target (a loop body) directly follows the branch and a loop stays contiguous
    in the numbering: fewer holes, tighter intervals for linear scan.
    """
    index = {b.label: i for i, b in enumerate(fn.blocks)}
    succ = [[index[t.block] for t in b.uops[-1].targets if t.block in index] if b.uops else []
            for b in fn.blocks]
    return [fn.blocks[i].label for i in _layout(succ)]


def _layout(succ: list[list[int]]) -> list[int]:
    """``layout_order`` on block indices (0 is the entry)."""
    n = len(succ)
    if not n:
        return []
    seen = [False] * n
    seen[0] = True
    post: list[int] = []
    stack = [(0, iter(reversed(succ[0])))]
    while stack:
        i, it = stack[-1]
        for s in it:
            if not seen[s]:
                seen[s] = True
                stack.append((s, iter(reversed(succ[s]))))
                break
        else:
            stack.pop()
            post.append(i)
    post.reverse()
    post.extend(i for i in range(n) if not seen[i])
    return post


@contextmanager
def paused_gc():
    """Pause the cyclic garbage collector.  Analyses and allocators allocate many
    small acyclic containers; on a 100k-uop function each full collection would
    rescan the whole IR, which makes a linear pass look quadratic."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compute(fn: Function) -> LivenessInfo:
    """The analysis (with the cyclic GC paused, see ``paused_gc``)."""
    with paused_gc():
        return _compute(fn)


def _compute(fn: Function) -> LivenessInfo:
    # Everything is indexed by block index (function order) and by value number in
    # plain lists rather than dicts keyed by labels and values: a 100k-uop function
    # does not fit in the CPU caches, and dense lists keep the working set small.
    # The IR itself is read once, in memory order, into compact per-block lists.
    blocks = fn.blocks
    nb = len(blocks)
    index = {b.label: i for i, b in enumerate(blocks)}
    succ: list[list[int]] = [[]] * nb
    body: list[list[tuple]] = [[]] * nb            # (output, inputs, exit reads)
    args: list[list[int]] = [[]] * nb              # successor arguments of the terminator
    params: list[list[int]] = [[]] * nb
    maxv = -1
    for i, b in enumerate(blocks):
        ev = []
        for u in b.uops:
            ex = u.exit
            exr = tuple([v for _, v in ex.values] + [v for _, v in ex.locals]) if ex else ()
            o = u.output
            if o is not None and o > maxv:
                maxv = o
            ev.append((o, u.inputs, exr))
        if b.uops:
            targets = b.uops[-1].targets
            if targets:
                succ[i] = [index[t.block] for t in targets if t.block in index]
                a: list[int] = []
                for t in targets:
                    a.extend(t.args)
                args[i] = a
        if b.params:
            maxv = max(maxv, max(b.params))
        params[i] = b.params
        body[i] = ev
    order = _layout(succ)
    nv = maxv + 1
    def_blk = [-1] * nv                             # value -> index of its block
    for i in range(nb):
        for v in params[i]:
            def_blk[v] = i
        for o, _, _ in body[i]:
            if o is not None:
                def_blk[o] = i

    # -- liveness by path exploration (Brandner et al., "Computing liveness sets for
    #    SSA-form programs"): from each use of a value defined in another block, walk
    #    predecessors until its definition.  Work and memory are the total size of the
    #    live sets; they are plain lists (a value is added at most once per block: the
    #    walks run value by value, and a stamp per block remembers the last value added).
    preds: list[list[int]] = [[] for _ in range(nb)]
    for i in range(nb):
        for t in succ[i]:
            preds[t].append(i)
    uses: list[int] = []                            # v * nb + block: upward uses
    phis: list[int] = []                            # v * nb + block: successor arguments
    for i in range(nb):
        for _, ins, exr in body[i]:
            for v in ins:
                if v < nv and def_blk[v] != i:
                    uses.append(v * nb + i)
            for v in exr:
                if v < nv and def_blk[v] != i:
                    uses.append(v * nb + i)
        for v in args[i]:
            phis.append(v * nb + i)
    uses.sort()
    phis.sort()
    live_in: list[list[int]] = [[] for _ in range(nb)]
    live_out: list[list[int]] = [[] for _ in range(nb)]
    in_mark = [-1] * nb
    out_mark = [-1] * nb
    k = j = 0
    nu, nph = len(uses), len(phis)
    while k < nu or j < nph:
        v = min(uses[k] // nb if k < nu else nv, phis[j] // nb if j < nph else nv)
        d = def_blk[v] if v < nv else -1
        stack: list[int] = []
        while j < nph and phis[j] // nb == v:
            b = phis[j] - v * nb
            j += 1
            if out_mark[b] != v:
                out_mark[b] = v
                live_out[b].append(v)
                if d != b:
                    stack.append(b)
        while k < nu and uses[k] // nb == v:
            stack.append(uses[k] - v * nb)
            k += 1
        while stack:
            b = stack.pop()
            if in_mark[b] == v:
                continue
            in_mark[b] = v
            live_in[b].append(v)
            for q in preds[b]:
                if out_mark[q] != v:
                    out_mark[q] = v
                    live_out[q].append(v)
                if q != d and in_mark[q] != v:
                    stack.append(q)

    # -- linear numbering and live ranges (one backward walk per block)
    start_of = [0] * nb
    pos = 0
    for i in order:
        start_of[i] = pos
        pos += len(body[i]) + 1

    pieces: list = [None] * nv              # per value, built backwards
    def_pos: list = [None] * nv
    use_pos: list = [None] * nv
    def_block: list = [None] * nv
    for i in reversed(order):
        start = start_of[i]
        end = start + len(body[i]) + 1
        open_end: dict[int, int] = dict.fromkeys(live_out[i], end)
        p = end
        for o, ins, exr in reversed(body[i]):
            p -= 1
            if o is not None:
                def_pos[o] = p
                def_block[o] = i
                e = open_end.pop(o, None)
                piece = (p, e if e is not None else p + 1)
                lst = pieces[o]
                if lst is None:
                    pieces[o] = [piece]
                else:
                    lst.append(piece)
            for v in exr:
                if v not in open_end:
                    open_end[v] = p
            for v in ins:
                if v not in open_end:
                    open_end[v] = p
                lst = use_pos[v]
                if lst is None:
                    use_pos[v] = [p]
                else:
                    lst.append(p)
        for v in params[i]:
            def_pos[v] = start
            def_block[v] = i
            e = open_end.pop(v, None)
            piece = (start, e if e is not None else start + 1)
            lst = pieces[v]
            if lst is None:
                pieces[v] = [piece]
            else:
                lst.append(piece)
        for v, e in open_end.items():        # live-in: from the top of the block
            lst = pieces[v]
            if lst is None:
                pieces[v] = [(start, e)]
            else:
                lst.append((start, e))

    ranges: dict[int, list[tuple[int, int]]] = {}
    for v, ps in enumerate(pieces):
        if ps is None:
            continue
        if len(ps) > 1:
            ps.reverse()                     # blocks were walked backwards: now ascending
            merged = [ps[0]]
            for a, e in ps[1:]:
                la, le = merged[-1]
                if a <= le:
                    merged[-1] = (la, e if e > le else le)
                else:
                    merged.append((a, e))
            ps = merged
        ranges[v] = ps
    for us in use_pos:
        if us is not None:
            us.reverse()
    labels = [b.label for b in blocks]
    return LivenessInfo(
        [labels[i] for i in order],
        {labels[i]: live_in[i] for i in range(nb)},
        {labels[i]: live_out[i] for i in range(nb)},
        {labels[i]: (start_of[i], start_of[i] + len(body[i]) + 1) for i in range(nb)},
        ranges, def_pos, use_pos, [labels[b] if b is not None else None for b in def_block])


register_analysis("liveness", compute)


class Liveness(Pass):
    """Prints the liveness analysis; changes nothing."""

    name = "liveness"
    description = "print live-in/live-out sets and live ranges of SSA values (analysis only)"
    options = {
        "ranges": Option(bool, True, "also print each value's live ranges"),
    }
    preserves = ALL

    def run(self, fn: Function, ctx: PassContext) -> bool:
        info: LivenessInfo = ctx.get("liveness", fn)
        if ctx.explain is None:
            return False
        for label in info.order:
            ctx.note(f"liveness @{fn.name} {info.format_block(label)}")
        if self.opts["ranges"]:
            for v in sorted(info.ranges):
                ctx.note(f"liveness @{fn.name} {info.format_ranges(v)}")
        return False
