"""Dead-store elimination and store-to-load forwarding for frame locals.

Why: the frontend passes everything that crosses a statement through a frame
slot (``_STORE_FAST x %v`` ... ``_LOAD_FAST x``), the shape of CPython's stack
machine; each of those is a memory store and load in compiled code.

1. Forwarding, within a block: a ``_LOAD_FAST x`` after ``_STORE_FAST x %v`` (no
   store to ``x`` in between) reads ``%v``; after an earlier load of ``x`` it reads
   that load's value.  Calls do not matter: locals are private to the frame.
2. Dead stores, over the CFG: a store is dead when no path from it reads the local
   before it is overwritten or the function returns (backward liveness of locals,
   as bitsets).  Reads are ``_LOAD_FAST`` / ``_LOAD_FAST_CHECK`` and side exits
   (tier 1 reads the frame when it resumes).  An exit does not stop a store from
   going: when the store is the only definition reaching the exit (a forward
   "unique reaching store" analysis), the pass adds ``x=%v`` to the exit's
   ``locals`` (the exit then knows where ``x`` is), as a deoptimizer's "virtual"
   frame state would; only an exit reached by several definitions reads the frame.
   Both analyses cost O(blocks x locals / word) plus one scan of the uops.

What an exit reads: exactly the locals tier 1 may read after resuming at the exit's
block and index (backward liveness on tier-1 code, ``Tier1Liveness``), whenever the
tier-1 function is known: ``ctx.module`` holds it (the tiered runtime optimizes a
copy), or it was recorded as the pipeline received it (``workbench pipeline``
optimizes the module's functions in place): the ``tier1-liveness`` property that
dse and promote require does that when the pipeline starts.  Without either,
conservatively, every local.  An ``_ENTRY`` dispatcher is the entry, so the frame
state it was entered with reaches every target.
"""

from __future__ import annotations

from bisect import bisect_left

from ir.core import Function, Uop
from ir.uops import U

from .analysis import UNALLOCATED, register_property
from .base import Pass, PassContext
from .bitsets import solve_backward
from .dce import forget_values
from .liveness import paused_gc


LOADS = (U._LOAD_FAST, U._LOAD_FAST_CHECK)
TIER1 = "tier1-liveness"    # a property dse and promote require: see Tier1Liveness.remember


class Tier1Liveness:
    """Which locals tier 1 may read after resuming at ``(block, index)``.

    A compact summary of the tier-1 function (bitsets over its locals, one entry per
    frame access), holding no reference to its blocks or uops: the function may be
    optimized in place afterwards and the summary still describes tier 1.
    """

    def __init__(self, tier1: Function):
        self.locals = list(tier1.locals)
        bit = {x: 1 << i for i, x in enumerate(self.locals)}
        labels = [b.label for b in tier1.blocks]
        index = {label: i for i, label in enumerate(labels)}
        self.index = index
        self.sizes = [len(b.uops) for b in tier1.blocks]
        everything = (1 << len(self.locals)) - 1
        nb = len(labels)
        succ: list[list[int]] = [[]] * nb
        events: list[list[tuple[int, int, int]]] = [[]] * nb   # (index, gen, kill)
        summary: list[tuple[int, int]] = [(0, 0)] * nb          # block (gen, kill)
        for i, b in enumerate(tier1.blocks):
            ev = []
            for k, u in enumerate(b.uops):
                name = u.name
                if name == U._STORE_FAST:
                    ev.append((k, 0, bit.get(u.imms[0], 0)))
                elif name in LOADS:
                    ev.append((k, bit.get(u.imms[0], 0), 0))
                elif name == U._RETURN:
                    ev.append((k, 0, everything))
            gen = kill = 0
            for _, g, kl in reversed(ev):
                gen = (gen & ~kl) | g
                kill = (kill | kl) & ~g
            events[i] = ev
            summary[i] = (gen, kill)
            if b.uops:
                succ[i] = [index[s] for s in b.successors() if s in index]
        preds: list[list[int]] = [[] for _ in range(nb)]
        for i in range(nb):
            for s in succ[i]:
                preds[s].append(i)
        live_in, live_out = solve_backward(succ, preds, summary)
        # Per block: the event indices and the live set just before each event.
        self.at: list[tuple[list[int], list[int], int]] = []
        for i, b in enumerate(tier1.blocks):
            ev = events[i]
            cur = live_out[i]
            # what the handler reads is live at every point of a protected block
            h = live_in[index[b.handler]] if b.handler in index else 0
            before = [0] * len(ev)
            for k in range(len(ev) - 1, -1, -1):
                _, g, kl = ev[k]
                cur = (cur & ~kl) | g | h
                before[k] = cur
            self.at.append(([e[0] for e in ev], before, live_out[i]))
        self._sets: dict[int, frozenset[str]] = {}

    def fits(self, fn: Function) -> bool:
        """Do ``fn``'s locals and every exit's resume point belong to this function?"""
        if fn.locals != self.locals:
            return False
        index, sizes = self.index, self.sizes
        for b in fn.blocks:
            for u in b.uops:
                e = u.exit
                if e is not None:
                    i = index.get(e.block)
                    if i is None or not 0 <= e.index < sizes[i]:
                        return False
        return True

    def live_mask(self, label: str, index: int) -> int:
        """Locals (bit i for ``locals[i]``) tier 1 may read resuming at ``label:index``."""
        positions, before, out = self.at[self.index[label]]
        k = bisect_left(positions, index)
        return before[k] if k < len(positions) else out

    def live_at(self, label: str, index: int) -> frozenset[str]:
        mask = self.live_mask(label, index)
        hit = self._sets.get(mask)
        if hit is None:
            hit = self._sets[mask] = frozenset(
                x for i, x in enumerate(self.locals) if mask >> i & 1)
        return hit

    @staticmethod
    def generic(fn: Function) -> bool:
        """Tier-1 code: no block parameters (but a handler's exception), no side exits."""
        handlers = {b.handler for b in fn.blocks}
        return not any((b.params and not (b.label in handlers and len(b.params) == 1))
                       or any(u.exit is not None for u in b.uops) for b in fn.blocks)

    @staticmethod
    def remember(fn: Function, ctx: PassContext) -> None:
        """Record ``fn`` as its own tier-1 version when the pipeline starts on it in
        place: ``ctx.module`` holds ``fn`` itself and it is still generic code.  (The
        start hook of the ``tier1-liveness`` property.)"""
        module = ctx.module
        if module is None or not any(f is fn for f in module.functions):
            return
        if Tier1Liveness.generic(fn):
            _store(ctx)[fn.name] = Tier1Liveness(fn)

    @staticmethod
    def find(fn: Function, ctx: PassContext) -> "Tier1Liveness | None":
        """The tier-1 liveness of ``fn``: recorded when the pipeline started, or computed
        (once per context) from the generic function of that name in ``ctx.module``,
        if it fits every exit of ``fn``."""
        module = getattr(ctx, "module", None)
        if module is None:
            return None
        store = _store(ctx)
        live = store.get(fn.name)
        if live is None:
            try:
                t1 = module.function(fn.name)
            except KeyError:
                return None
            if t1 is fn or t1.locals != fn.locals or not Tier1Liveness.generic(t1):
                return None
            live = store[fn.name] = Tier1Liveness(t1)
        return live if live.fits(fn) else None


def _store(ctx: PassContext) -> dict:
    """Function name -> Tier1Liveness: facts about tier-1 code, which no pass over
    the optimized copy changes, so kept for the whole context."""
    return ctx.analyses.kept(TIER1)


register_property(TIER1, start=Tier1Liveness.remember)


def add_exit_locals(fn: Function, u: Uop, entries: list[tuple[str, int]]) -> None:
    """Record ``name=%value`` entries in ``u``'s exit (an entry it has for the same
    name is replaced), keeping ``fn.locals`` order."""
    names = {x for x, _ in entries}
    merged = [(k, v) for k, v in u.exit.locals if k not in names] + list(entries)
    if len(merged) > 1:
        order = {x: i for i, x in enumerate(fn.locals)}
        n = len(order)
        merged.sort(key=lambda kv: order.get(kv[0], n))
    u.exit.locals = merged


FRAME = -1      # unique reaching "store": the value the frame held on entry
MANY = -2       # several definitions reach
UNSEEN = -3     # no path seen yet (the analysis' top)


def _meet(a: int, b: int) -> int:
    if a == b or b == UNSEEN:
        return a
    if a == UNSEEN:
        return b
    return MANY


class DSE(Pass):
    name = "dse"
    description = "forward stored locals to later loads and delete stores nobody reads"
    requires = (TIER1, UNALLOCATED)
    preserves = ("cfg", "dominators", "loops")

    def run(self, fn: Function, ctx: PassContext) -> bool:
        with paused_gc():   # many small acyclic containers (see liveness.paused_gc)
            changed = self.forward(fn, ctx)
            changed |= self.dead_stores(fn, ctx)
        return changed

    # -- 1. forwarding within a block ------------------------------------------

    def forward(self, fn: Function, ctx: PassContext) -> bool:
        mapping: dict[int, int] = {}

        def resolve(v: int) -> int:
            while v in mapping:
                v = mapping[v]
            return v

        gone = []
        for b in fn.blocks:
            known: dict[str, int] = {}   # local -> the value it holds here
            kept = None                  # a new list only once a load goes
            for i, u in enumerate(b.uops):
                name = u.name
                if name == U._STORE_FAST:
                    known[u.imms[0]] = resolve(u.inputs[0])
                elif name in LOADS:
                    x = u.imms[0]
                    if x in known:
                        what = f"{name} {x} in {b.label}:{i} reads %{known[x]}"
                        if ctx.allow(f"forward {what}"):
                            ctx.note(f"dse: @{fn.name}: forward {what}")
                            mapping[u.output] = known[x]
                            gone.append(u.output)
                            if kept is None:
                                kept = b.uops[:i]
                            continue
                    else:
                        known[x] = u.output
                if kept is not None:
                    kept.append(u)
            if kept is not None:
                b.uops = kept
        if not mapping:
            return False
        flat = {k: resolve(k) for k in mapping}
        for b in fn.blocks:
            for u in b.uops:
                u.replace_uses(flat)
        forget_values(fn, gone)
        return True

    # -- 2. dead stores ---------------------------------------------------------

    def dead_stores(self, fn: Function, ctx: PassContext) -> bool:
        order = ctx.get("cfg", fn).rpo
        if not order:
            return False
        if any(b.handler is not None for b in fn.blocks):
            # A handler may read any store before a faulting point; the runtime hands
            # such blocks to tier 1 before this pass runs (tiering.exit_protected_blocks).
            return False
        blocks = fn.block_map()
        lid = {x: i for i, x in enumerate(fn.locals)}
        for b in fn.blocks:      # a local the function does not declare still counts
            for u in b.uops:
                if u.name == U._STORE_FAST or u.name in LOADS:
                    lid.setdefault(u.imms[0], len(lid))
        nloc = len(lid)
        everything = (1 << nloc) - 1
        pos = {label: i for i, label in enumerate(order)}   # reachable blocks only
        nb = len(order)
        body = [blocks[label].uops for label in order]
        succ = [[pos[t.block] for t in uops[-1].targets if t.block in pos] if uops else []
                for uops in body]
        preds: list[list[int]] = [[] for _ in range(nb)]
        for i in range(nb):
            for s in succ[i]:
                if i not in preds[s]:
                    preds[s].append(i)

        stores: list[tuple[str, int, Uop]] = []   # store number -> (block, index, uop)
        has_exit = False
        for label in order:
            for k, u in enumerate(blocks[label].uops):
                if u.name == U._STORE_FAST:
                    stores.append((label, k, u))
                elif u.exit is not None:
                    has_exit = True
        if not stores:
            return False

        # What each exit reads from the frame, and which reads a single store
        # describes (fixups: store number -> [(exit uop, local)]).
        exit_gen: dict[int, int] = {}              # id(exit uop) -> locals read (mask)
        fixups: dict[int, list[tuple[Uop, str]]] = {}
        if has_exit:
            tier1 = Tier1Liveness.find(fn, ctx)
            reach_in = self._unique_reaching(fn, body, preds, lid, nloc)
            names = list(lid)
            n = 0
            for i in range(nb):
                cur = list(reach_in[i])
                for u in body[i]:
                    if u.exit is not None:
                        e = u.exit
                        mask = (tier1.live_mask(e.block, e.index) if tier1 is not None
                                else everything)
                        for x, _ in e.locals:
                            j = lid.get(x)
                            if j is not None:
                                mask &= ~(1 << j)
                        gen = 0
                        j = 0
                        while mask:
                            if mask & 1:
                                d = cur[j]
                                if d >= 0:
                                    fixups.setdefault(d, []).append((u, names[j]))
                                else:
                                    gen |= 1 << j
                            mask >>= 1
                            j += 1
                        exit_gen[id(u)] = gen
                    if u.name == U._STORE_FAST:
                        cur[lid[u.imms[0]]] = n
                        n += 1

        # Backward liveness of locals (bitsets); loads and frame-reading exits use.
        summary = []
        for uops in body:
            gen = kill = 0
            for u in reversed(uops):
                name = u.name
                if name == U._STORE_FAST:
                    b = 1 << lid[u.imms[0]]
                    gen &= ~b
                    kill |= b
                elif name in LOADS:
                    b = 1 << lid[u.imms[0]]
                    gen |= b
                    kill &= ~b
                if u.exit is not None:
                    g = exit_gen.get(id(u), 0)
                    gen |= g
                    kill &= ~g
            summary.append((gen, kill))
        live_in, live_out = solve_backward(succ, preds, summary)

        dead_ids: set[int] = set()
        for i in range(nb):
            live = live_out[i]
            for u in reversed(body[i]):
                name = u.name
                if name == U._STORE_FAST:
                    j = lid[u.imms[0]]
                    if not live >> j & 1:
                        dead_ids.add(id(u))
                    live &= ~(1 << j)
                elif name in LOADS:
                    live |= 1 << lid[u.imms[0]]
                if u.exit is not None:
                    live |= exit_gen.get(id(u), 0)

        dead: set[int] = set()
        additions: dict[int, tuple[Uop, list[tuple[str, int]]]] = {}
        for n, (label, k, u) in enumerate(stores):
            if id(u) not in dead_ids:
                continue
            x, v = u.imms[0], u.inputs[0]
            exits = fixups.get(n, [])
            what = f"_STORE_FAST {x} %{v} in {label}:{k}"
            if not ctx.allow(f"remove dead store {what}"):
                continue
            for e, _ in exits:
                additions.setdefault(id(e), (e, []))[1].append((x, v))
            how = (f"; {len(exits)} exit(s) now name {x}=%{v}" if exits else "")
            ctx.note(f"dse: @{fn.name}: removed dead store {what}{how}")
            dead.add(id(u))
        if not dead:
            return False
        for e, entries in additions.values():
            add_exit_locals(fn, e, entries)
        for b in fn.blocks:
            if any(id(u) in dead for u in b.uops):
                b.uops = [u for u in b.uops if id(u) not in dead]
        return True

    @staticmethod
    def _unique_reaching(fn: Function, body: list[list[Uop]], preds: list[list[int]],
                         lid: dict[str, int], nloc: int) -> list[tuple[int, ...]]:
        """Per reachable block (reverse postorder), per local: the store number that
        is the only definition reaching the block's start, FRAME, or MANY.  Each
        local's state only descends UNSEEN -> one definition -> MANY, so a few
        sweeps in reverse postorder settle it."""
        nb = len(body)
        last: list[dict[int, int]] = []          # per block: local -> its last store
        n = 0
        for uops in body:
            d: dict[int, int] = {}
            for u in uops:
                if u.name == U._STORE_FAST:
                    d[lid[u.imms[0]]] = n
                    n += 1
            last.append(d)
        unseen = (UNSEEN,) * nloc
        ins = [unseen] * nb
        outs = [unseen] * nb
        entry = (FRAME,) * nloc
        changed = True
        while changed:
            changed = False
            for i in range(nb):
                acc = entry if i == 0 else unseen
                for p in preds[i]:
                    o = outs[p]
                    if o is not acc and o != unseen:
                        acc = o if acc == unseen else tuple(map(_meet, acc, o))
                if acc != ins[i]:
                    ins[i] = acc
                    d = last[i]
                    if d:
                        cur = list(acc)
                        for j, s in d.items():
                            cur[j] = s
                        out = tuple(cur)
                    else:
                        out = acc
                    if out != outs[i]:
                        outs[i] = out
                        changed = True
        return ins
