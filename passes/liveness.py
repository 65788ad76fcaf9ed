"""Liveness of SSA values: live-in/live-out per block and live ranges per value.

Why: register allocation (``regalloc``) needs to know which values are alive at
the same time.  This is the analysis it asks for (``ctx.get("liveness", fn)``);
the ``liveness`` pass only prints it (``--explain``) so a reader can see it.

How, in linear time and memory:

* Sets: path exploration (Brandner et al., "Computing Liveness Sets for SSA-Form
  Programs", 2011): from every use of a value in a block other than its defining
  one, walk predecessors until the definition, marking the value live-in on the
  way; live-out sets follow from the first equation below.  Only *global*
  values (read in a block other than the one defining them, and successor
  arguments) are walked, so generic IR (where nothing crosses blocks) costs one
  scan.  The cost is the
  total size of the live sets, never blocks x values.  The result is the least
  solution of

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

* Memory: the IR is read once, in memory order, into flat ``array('q')``
  tables (CSR style: one array of items and one of offsets per relation), and
  everything after works on those and on the result tables.  A Python object
  per live-set entry or per range would put a 100k-uop function's analysis
  (tens of MB) out of the CPU caches, and its time would grow by ~20x for 10x
  the uops instead of ~10x (workbench/benchmarks/pass_scaling.py measures it).
"""

from __future__ import annotations

import gc
from array import array
from contextlib import contextmanager
from itertools import accumulate

from ir.core import Function

from .analysis import register_analysis
from .base import ALL, Option, Pass, PassContext


def _zeros(n: int) -> array:
    return array("q", bytes(8 * n))


class LivenessInfo:
    """The result of the analysis (see the module docstring for the numbering).

    Read-only.  Stored flat in ``array('q')`` tables indexed by block index
    (function order) and value number, a few bytes per entry:

    * ranges of ``v``: ``[rfrom[i], rto[i])`` for ``i`` in ``rbeg[v] .. rlim[v]``
      (sorted, disjoint; empty for a number that names no value);
    * live sets of block ``i``: ``block_live_in(i)`` / ``block_live_out(i)``
      (ascending value numbers).

    The allocators' inner loops read the tables; the dict-and-list views
    (``live_in``, ``ranges``, ``def_pos``, ...) are built on first use.
    """

    def __init__(self, tables: "_Tables", order: list[int], bstart: array, live_in,
                 rbeg: array, rlim: array, rfrom: array, rto: array) -> None:
        self.labels: list[str] = tables.labels           # block index -> label
        self.order: list[str] = [tables.labels[i] for i in order]   # layout order
        self.bstart = bstart                              # block index -> first position
        self.npositions = max((bstart[i] + tables.ubeg[i + 1] - tables.ubeg[i] + 1
                               for i in order), default=0)
        self._in_beg, self._in_vals = live_in[0], live_in[1]
        self.rbeg, self.rlim, self.rfrom, self.rto = rbeg, rlim, rfrom, rto
        self._tables = tables
        self._views: dict = {}

    # -- tables -------------------------------------------------------------------

    @property
    def nvalues(self) -> int:
        """One past the largest value number."""
        return len(self.rbeg)

    def values(self) -> list[int]:
        """Every value with a live range, ascending."""
        rbeg, rlim = self.rbeg, self.rlim
        return [v for v in range(len(rbeg)) if rlim[v] > rbeg[v]]

    def by_start(self, values: list[int]) -> list[int]:
        """``values`` (ascending, each with a range) ordered by where their life
        starts, ties by value: a counting sort over positions, linear where a
        sort of ``(start, value)`` pairs is not."""
        rfrom, rbeg = self.rfrom, self.rbeg
        starts = array("q", [rfrom[rbeg[v]] for v in values])
        return _group(starts, array("q", values), self.npositions)[1].tolist()

    def has_range(self, v: int) -> bool:
        return 0 <= v < len(self.rbeg) and self.rlim[v] > self.rbeg[v]

    def start(self, v: int) -> int:
        return self.rfrom[self.rbeg[v]]

    def end(self, v: int) -> int:
        return self.rto[self.rlim[v] - 1]

    def block_live_in(self, i: int) -> array:
        return self._in_vals[self._in_beg[i]:self._in_beg[i + 1]]

    def block_live_out(self, i: int) -> array:
        """Computed from the successors' live-in sets and the branch arguments."""
        return array("q", sorted(set(_live_out_keys(self._tables,
                                                    (self._in_beg, self._in_vals), i))))

    def block_end(self, i: int) -> int:
        t = self._tables
        return self.bstart[i] + t.ubeg[i + 1] - t.ubeg[i] + 1

    def covers(self, v: int, pos: int) -> bool:
        """Is ``v`` live at ``pos``?  (Binary search: for queries, not inner loops.)"""
        if not self.has_range(v):
            return False
        lo, hi = self.rbeg[v], self.rlim[v]
        while lo < hi:
            mid = (lo + hi) // 2
            if self.rto[mid] <= pos:
                lo = mid + 1
            else:
                hi = mid
        return lo < self.rlim[v] and self.rfrom[lo] <= pos

    def global_values(self) -> set[int]:
        """Values live into some block."""
        return set(self._in_vals)

    # -- views (built on first use) ---------------------------------------------

    def _view(self, name: str, build):
        view = self._views.get(name)
        if view is None:
            view = self._views[name] = build()
        return view

    @property
    def live_in(self) -> dict[str, list[int]]:
        """label -> ascending value numbers live on entry."""
        return self._view("in", lambda: {label: list(self.block_live_in(i))
                                         for i, label in enumerate(self.labels)})

    @property
    def live_out(self) -> dict[str, list[int]]:
        return self._view("out", lambda: {label: list(self.block_live_out(i))
                                          for i, label in enumerate(self.labels)})

    @property
    def block_range(self) -> dict[str, tuple[int, int]]:
        """label -> [start, end) positions."""
        return self._view("blocks", lambda: {label: (self.bstart[i], self.block_end(i))
                                             for i, label in enumerate(self.labels)})

    @property
    def ranges(self) -> dict[int, list[tuple[int, int]]]:
        """value -> sorted disjoint [from, to) ranges."""
        def build():
            rbeg, rlim, rfrom, rto = self.rbeg, self.rlim, self.rfrom, self.rto
            return {v: [(rfrom[i], rto[i]) for i in range(rbeg[v], rlim[v])]
                    for v in self.values()}
        return self._view("ranges", build)

    @property
    def def_pos(self) -> list[int | None]:
        """value -> position of its definition (``None``: names no value)."""
        return self._positions()[0]

    @property
    def use_pos(self) -> list[list[int] | None]:
        """value -> positions of the uops reading it as an input, ascending."""
        return self._positions()[1]

    @property
    def def_block(self) -> list[str | None]:
        """value -> label of its defining block."""
        return self._positions()[2]

    def _positions(self):
        def build():
            t = self._tables
            nv = len(self.rbeg)
            def_pos: list = [None] * nv
            use_pos: list = [None] * nv
            def_block: list = [None] * nv
            for i in sorted(range(len(self.labels)), key=self.bstart.__getitem__):
                label, p = self.labels[i], self.bstart[i]
                for v in t.params[t.pbeg[i]:t.pbeg[i + 1]]:
                    def_pos[v], def_block[v] = p, label
                for k in range(t.ubeg[i], t.ubeg[i + 1]):
                    p += 1
                    o = t.outs[k]
                    if o >= 0:
                        def_pos[o], def_block[o] = p, label
                    for v in t.reads[t.rofs[k]:t.rofs[k + 1]]:
                        if v >= 0:
                            if use_pos[v] is None:
                                use_pos[v] = [p]
                            else:
                                use_pos[v].append(p)
            return def_pos, use_pos, def_block
        return self._view("positions", build)

    # -- text -----------------------------------------------------------------------

    def format_block(self, label: str) -> str:
        s, e = self.block_range[label]
        return (f"{label} [{s}, {e}): in={format_set(self.live_in[label])} "
                f"out={format_set(self.live_out[label])}")

    def format_ranges(self, v: int) -> str:
        return f"%{v}: " + " ".join(f"[{a}, {b})" for a, b in self.ranges[v])


def format_set(values) -> str:
    return "{" + ", ".join(f"%{v}" for v in sorted(values)) + "}"


class _Tables:
    """The IR of a function as flat tables, read once in memory order.

    Uop ``k`` (function order) writes ``outs[k]`` (-1: nothing) and reads
    ``reads[rofs[k]:rofs[k+1]]``: its inputs, then its side exit's values as
    ``~v``.  Block ``i`` holds uops ``ubeg[i]..ubeg[i+1]``, parameters
    ``params[pbeg[i]:pbeg[i+1]]``, successors (block indices)
    ``succ[sbeg[i]:sbeg[i+1]]`` and successor arguments ``args[abeg[i]:abeg[i+1]]``.
    """

    __slots__ = ("labels", "outs", "reads", "rofs", "ubeg", "params", "pbeg",
                 "succ", "sbeg", "args", "abeg", "nvalues")

    def __init__(self, fn: Function) -> None:
        blocks = fn.blocks
        self.labels = [b.label for b in blocks]
        index = {label: i for i, label in enumerate(self.labels)}
        outs, reads, rofs, ubeg = array("q"), array("q"), array("q", [0]), array("q", [0])
        params, pbeg = array("q"), array("q", [0])
        succ, sbeg, args, abeg = array("q"), array("q", [0]), array("q"), array("q", [0])
        add_out, add_read, add_reads, add_ofs = outs.append, reads.append, reads.extend, rofs.append
        for b in blocks:
            for u in b.uops:
                o = u.output
                add_out(-1 if o is None else o)
                add_reads(u.inputs)
                ex = u.exit
                if ex is not None:
                    for _, v in ex.values:
                        add_read(~v)
                    for _, v in ex.locals:
                        add_read(~v)
                add_ofs(len(reads))
            ubeg.append(len(outs))
            params.extend(b.params)
            pbeg.append(len(params))
            if b.uops:
                for t in b.uops[-1].targets:
                    s = index.get(t.block)
                    if s is not None:
                        succ.append(s)
                    args.extend(t.args)
            sbeg.append(len(succ))
            abeg.append(len(args))
        self.outs, self.reads, self.rofs, self.ubeg = outs, reads, rofs, ubeg
        self.params, self.pbeg, self.succ, self.sbeg = params, pbeg, succ, sbeg
        self.args, self.abeg = args, abeg
        self.nvalues = max(max(outs, default=-1), max(reads, default=-1),
                           ~min(reads, default=-1), max(params, default=-1),
                           max(args, default=-1)) + 1


def layout_order(fn: Function) -> list[str]:
    """Reverse postorder, then unreachable blocks in function order.

    The depth-first search visits successors last-to-first, so a branch's first
    target (a loop body) directly follows the branch and a loop stays contiguous
    in the numbering: fewer holes, tighter intervals for linear scan.
    """
    t = _Tables(fn)
    return [t.labels[i] for i in _layout(t)]


def _layout(t: _Tables) -> list[int]:
    """``layout_order`` on block indices (0 is the entry)."""
    n = len(t.labels)
    if not n:
        return []
    sbeg, succ = t.sbeg, t.succ
    seen = bytearray(n)
    seen[0] = 1
    post: list[int] = []
    path = [0]                       # the DFS path, and per block on it the next
    nexts = [sbeg[1] - 1]            # successor index to try (last-to-first)
    while path:
        i = path[-1]
        j = nexts[-1]
        lo = sbeg[i]
        while j >= lo:
            s = succ[j]
            j -= 1
            if not seen[s]:
                seen[s] = 1
                nexts[-1] = j
                path.append(s)
                nexts.append(sbeg[s + 1] - 1)
                break
        else:
            path.pop()
            nexts.pop()
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
        t = _Tables(fn)
        order = _layout(t)
        live_in = _live_in(t)
        bstart = _zeros(len(t.labels))
        pos = 0
        for i in order:
            bstart[i] = pos
            pos += t.ubeg[i + 1] - t.ubeg[i] + 1
        return LivenessInfo(t, order, bstart, live_in, *_ranges(t, order, bstart, live_in))


def _group(keys: array, items: array, n: int) -> tuple[array, array]:
    """Pairs ``(keys[x], items[x])`` as a CSR table by key in ``range(n)``,
    keeping their order within a key: a counting sort, linear where a sort
    would not be (and reading flat arrays, not Python ints scattered in memory)."""
    count = _zeros(n)
    for k in keys:
        count[k] += 1
    beg = array("q", accumulate(count, initial=0))
    fill = beg[:]
    out = _zeros(len(items))
    for k, x in zip(keys, items):
        at = fill[k]
        out[at] = x
        fill[k] = at + 1
    return beg, out


def _live_in(t: _Tables) -> tuple[array, array, array]:
    """Live-in sets as a CSR table by block, by path exploration
    (Brandner et al., "Computing liveness sets for SSA-form programs"): from each
    use of a value defined in another block, walk predecessors until its
    definition.  Values are walked in ascending order and a stamp per block
    remembers the last value added, so each set is built ascending, without
    duplicates; the walk touches only block-indexed tables.  (Live-out sets
    follow from these: ``_live_out_keys``.)  Returns the CSR table and, per
    value, the number of blocks it is live into."""
    nb, nv = len(t.labels), t.nvalues
    ubeg, rofs, reads, outs = t.ubeg, t.rofs, t.reads, t.outs
    def_blk = [-1] * nv                             # value -> index of its block
    for i in range(nb):
        for v in t.params[t.pbeg[i]:t.pbeg[i + 1]]:
            def_blk[v] = i
        for o in outs[ubeg[i]:ubeg[i + 1]]:
            if o >= 0:
                def_blk[o] = i
    # Predecessors as tuples of shared int objects: the walk below then allocates
    # nothing (a fresh int per array read would be scattered over a big heap).
    preds_l: list[list[int]] = [[] for _ in range(nb)]
    sbeg, succ = t.sbeg, t.succ
    for i in range(nb):
        for s in succ[sbeg[i]:sbeg[i + 1]]:
            preds_l[s].append(i)
    preds = [tuple(ps) for ps in preds_l]
    pred1 = [ps[0] if len(ps) == 1 else -1 for ps in preds]   # the only predecessor

    # Upward uses (value, block): a read in a block other than the defining one,
    # or a successor argument (read at the end of its block) defined elsewhere.
    use_v, use_b = array("q"), array("q")
    add_v, add_b = use_v.append, use_b.append
    abeg, args = t.abeg, t.args
    for i in range(nb):
        for v in reads[rofs[ubeg[i]]:rofs[ubeg[i + 1]]]:
            if v < 0:
                v = ~v
            if def_blk[v] != i:
                add_v(v)
                add_b(i)
        for v in args[abeg[i]:abeg[i + 1]]:
            if def_blk[v] != i:
                add_v(v)
                add_b(i)
    vbeg, use_blocks = _group(use_v, use_b, nv)

    in_blocks = array("q")                          # the live-in blocks, value by value
    add_in = in_blocks.append
    count = _zeros(nv)                              # value -> blocks it is live into
    in_mark = [-1] * nb                             # a list, not an array: reading an
    for v in range(nv):                             # array entry allocates an int
        lo, hi = vbeg[v], vbeg[v + 1]
        if lo == hi:
            continue
        d = def_blk[v]
        stack = use_blocks[lo:hi].tolist()
        push, pop = stack.append, stack.pop
        first = len(in_blocks)
        while stack:
            b = pop()
            while in_mark[b] != v:                  # a chain of single predecessors
                in_mark[b] = v                      # is followed without the stack
                add_in(b)
                q = pred1[b]
                if q < 0:
                    for q in preds[b]:
                        if q != d and in_mark[q] != v:
                            push(q)
                    break
                if q == d:
                    break
                b = q
        count[v] = len(in_blocks) - first
    in_values = array("q")                          # the value of each entry
    for v in range(nv):
        c = count[v]
        if c:
            in_values.extend(array("q", [v]) * c)
    return (*_group(in_blocks, in_values, nb), count)


def _live_out_keys(t: _Tables, live_in: tuple[array, array], i: int):
    """The values live out of block ``i`` (unordered, maybe repeated): its
    successors' live-in sets (which never hold their own parameters) and its
    successor arguments."""
    in_beg, in_vals = live_in[0], live_in[1]
    out = t.args[t.abeg[i]:t.abeg[i + 1]]
    for s in t.succ[t.sbeg[i]:t.sbeg[i + 1]]:
        out += in_vals[in_beg[s]:in_beg[s + 1]]
    return out


def _ranges(t: _Tables, order: list[int], bstart: array, live_in) -> tuple[array, ...]:
    """Every value's live ranges ``(rbeg, rlim, rfrom, rto)``: one backward walk
    per block, blocks in reverse layout order, so each value's pieces (one per
    block where it is live) come out in descending positions.  A value has at
    most one piece per block it is live into plus one in its defining block, so
    its slots ``[rlim[v] - that, rlim[v])`` are reserved up front and filled from
    the top down, a piece that touches the one above it extending that one."""
    ubeg, outs, rofs, reads, params, pbeg = t.ubeg, t.outs, t.rofs, t.reads, t.params, t.pbeg
    nv = t.nvalues
    count = live_in[2]
    rlim = _zeros(nv)
    total = 0
    for v in range(nv):
        total += count[v] + 1
        rlim[v] = total
    rbeg = rlim[:]                                  # the lowest slot filled so far
    rfrom, rto = _zeros(total), _zeros(total)

    for i in reversed(order):
        start = bstart[i]
        p = end = start + ubeg[i + 1] - ubeg[i] + 1
        open_end = dict.fromkeys(_live_out_keys(t, live_in, i), end)
        pop = open_end.pop
        setdefault = open_end.setdefault
        for k in range(ubeg[i + 1] - 1, ubeg[i] - 1, -1):
            p -= 1
            o = outs[k]
            if o >= 0:
                e = pop(o, p + 1)
                s = rbeg[o]
                if s < rlim[o] and rfrom[s] <= e:       # touches the piece above: extend it
                    rfrom[s] = p
                else:
                    s -= 1
                    rfrom[s] = p
                    rto[s] = e
                    rbeg[o] = s
            for v in reads[rofs[k]:rofs[k + 1]]:
                setdefault(v if v >= 0 else ~v, p)
        for v in params[pbeg[i]:pbeg[i + 1]]:
            open_end.setdefault(v, start + 1)       # a dead parameter: one position
        for v, e in open_end.items():               # params, and live-in values
            s = rbeg[v]
            if s < rlim[v] and rfrom[s] <= e:       # touches the piece above: extend it
                rfrom[s] = start
            else:
                s -= 1
                rfrom[s] = start
                rto[s] = e
                rbeg[v] = s
    return rbeg, rlim, rfrom, rto


def same_liveness(a: LivenessInfo, b: LivenessInfo) -> bool:
    """The same live sets, numbering and ranges (for ``--verify-each``)."""
    return (a.labels == b.labels and a.order == b.order and a.bstart == b.bstart
            and a._in_beg == b._in_beg and a._in_vals == b._in_vals
            and a.rbeg == b.rbeg and a.rlim == b.rlim and a.rfrom == b.rfrom and a.rto == b.rto)


register_analysis("liveness", lambda fn, analyses: compute(fn), same_liveness)


class Liveness(Pass):
    """Prints the liveness analysis; changes nothing."""

    name = "liveness"
    description = "print live-in/live-out sets and live ranges of SSA values (analysis only)"
    options = {
        "ranges": Option(bool, True, "also print each value's live ranges"),
    }
    requires = ("liveness",)
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
