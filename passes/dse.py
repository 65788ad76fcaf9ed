"""Dead-store elimination and store-to-load forwarding for frame locals.

Why: the frontend passes everything that crosses a statement through a frame
slot (``_STORE_FAST x %v`` ... ``_LOAD_FAST x``), the shape of CPython's stack
machine; each of those is a memory store and load in compiled code.

1. Forwarding, within a block: a ``_LOAD_FAST x`` after ``_STORE_FAST x %v`` (no
   store to ``x`` in between) reads ``%v``; after an earlier load of ``x`` it reads
   that load's value.  Calls do not matter: locals are private to the frame.
2. Dead stores, over the CFG: a store is dead when no path from it reads the local
   before it is overwritten or the function returns.  Reads are ``_LOAD_FAST`` /
   ``_LOAD_FAST_CHECK`` and side exits (tier 1 reads the frame when it resumes).
   An exit does not stop a store from going: when the store is the only definition
   reaching the exit, the pass adds ``x=%v`` to the exit's ``locals`` (the exit then
   knows where ``x`` is), as a deoptimizer's "virtual" frame state would.

What an exit reads: when the tier-1 function is at hand (``ctx.module`` holds the
generic function the optimized copy was made from), exactly the locals tier 1 may
read after resuming at the exit's block and index (backward liveness on tier-1
code); otherwise, conservatively, every local.  (The tiered runtime optimizes a
copy and passes the tier-1 module; ``workbench pipeline`` rewrites the module's own
functions, so it shows the conservative form.)  An ``_ENTRY`` dispatcher is the
entry, so the frame state it was entered with reaches every target.
"""

from __future__ import annotations

from ir.cfg import predecessors, reverse_postorder
from ir.core import Function, Uop

from .base import Pass, PassContext
from .dce import forget_values

LOADS = ("_LOAD_FAST", "_LOAD_FAST_CHECK")


class Tier1Liveness:
    """Which locals tier 1 may read after resuming at ``(block, index)``."""

    def __init__(self, tier1: Function):
        self.fn = tier1
        self.blocks = tier1.block_map()
        succ = {b.label: b.successors() for b in tier1.blocks}
        self.live_in: dict[str, frozenset[str]] = {b.label: frozenset() for b in tier1.blocks}
        changed = True
        order = list(reversed(reverse_postorder(tier1)))
        while changed:
            changed = False
            for label in order:
                out = self.live_out(label, succ)
                new = self._through(self.blocks[label].uops, out)
                if new != self.live_in[label]:
                    self.live_in[label] = new
                    changed = True
        self.succ = succ
        self.cache: dict[tuple[str, int], frozenset[str]] = {}

    def live_out(self, label: str, succ=None) -> frozenset[str]:
        succ = succ or self.succ
        acc: set[str] = set()
        for s in succ[label]:
            acc |= self.live_in.get(s, frozenset())
        return frozenset(acc)

    @staticmethod
    def _through(uops: list[Uop], live: frozenset[str]) -> frozenset[str]:
        cur = set(live)
        for u in reversed(uops):
            if u.name == "_STORE_FAST":
                cur.discard(u.imms[0])
            elif u.name in LOADS:
                cur.add(u.imms[0])
            elif u.name == "_RETURN":
                cur = set()
        return frozenset(cur)

    def live_at(self, label: str, index: int) -> frozenset[str]:
        key = (label, index)
        hit = self.cache.get(key)
        if hit is None:
            b = self.blocks[label]
            hit = self.cache[key] = self._through(b.uops[index:], self.live_out(label))
        return hit

    @staticmethod
    def find(fn: Function, ctx: PassContext) -> "Tier1Liveness | None":
        """The tier-1 version of ``fn`` in ``ctx.module``, if it is there and fits
        every exit of ``fn`` (generic code: no exits, no block parameters)."""
        module = getattr(ctx, "module", None)
        if module is None:
            return None
        try:
            t1 = module.function(fn.name)
        except KeyError:
            return None
        if t1 is fn or t1.locals != fn.locals:
            return None
        for b in t1.blocks:
            if b.params or any(u.exit is not None for u in b.uops):
                return None
        live = Tier1Liveness(t1)
        for b in fn.blocks:
            for u in b.uops:
                e = u.exit
                if e is not None and (e.block not in live.blocks
                                      or not 0 <= e.index < len(live.blocks[e.block].uops)):
                    return None
        return live


def exit_reads(fn: Function, u: Uop, tier1: Tier1Liveness | None) -> list[str]:
    """Locals the side exit of ``u`` reads from the frame (those it does not list)."""
    e = u.exit
    listed = {name for name, _ in e.locals}
    if tier1 is not None:
        live = tier1.live_at(e.block, e.index)
        return [x for x in fn.locals if x in live and x not in listed]
    return [x for x in fn.locals if x not in listed]


def add_exit_local(fn: Function, u: Uop, name: str, value: int) -> None:
    """Record ``name=%value`` in ``u``'s exit, keeping fn.locals order."""
    order = {x: i for i, x in enumerate(fn.locals)}
    entries = [(k, v) for k, v in u.exit.locals if k != name] + [(name, value)]
    entries.sort(key=lambda kv: order.get(kv[0], len(order)))
    u.exit.locals = entries


class DSE(Pass):
    name = "dse"
    description = "forward stored locals to later loads and delete stores nobody reads"
    preserves = ("cfg", "dominators", "loops")

    def run(self, fn: Function, ctx: PassContext) -> bool:
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
            kept = []
            for i, u in enumerate(b.uops):
                if u.name == "_STORE_FAST":
                    known[u.imms[0]] = resolve(u.inputs[0])
                elif u.name in LOADS:
                    x = u.imms[0]
                    if x in known:
                        what = f"{u.name} {x} in {b.label}:{i} reads %{known[x]}"
                        if ctx.allow(f"forward {what}"):
                            ctx.note(f"dse: @{fn.name}: forward {what}")
                            mapping[u.output] = known[x]
                            gone.append(u.output)
                            continue
                    else:
                        known[x] = u.output
                kept.append(u)
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
        tier1 = Tier1Liveness.find(fn, ctx)
        blocks = fn.block_map()
        order = reverse_postorder(fn)
        preds = predecessors(fn)
        stores: list[tuple[str, int, Uop]] = []   # def number -> (block, index, uop)
        store_no: dict[int, int] = {}
        for b in fn.blocks:
            for i, u in enumerate(b.uops):
                if u.name == "_STORE_FAST":
                    store_no[id(u)] = len(stores)
                    stores.append((b.label, i, u))
        if not stores:
            return False
        FRAME = -1  # the value the frame held on entry

        # Reaching definitions: local -> frozenset of store numbers (and FRAME).
        def transfer(label: str, state: dict) -> dict:
            cur = dict(state)
            for u in blocks[label].uops:
                if u.name == "_STORE_FAST":
                    cur[u.imms[0]] = frozenset((store_no[id(u)],))
            return cur

        entry_state = {x: frozenset((FRAME,)) for x in fn.locals}
        ins: dict[str, dict] = {}
        outs: dict[str, dict] = {}
        changed = True
        while changed:
            changed = False
            for label in order:
                if label == order[0]:
                    new_in = dict(entry_state)
                else:
                    new_in = {}
                    for p in preds[label]:
                        if p in outs:
                            for x, ds in outs[p].items():
                                new_in[x] = new_in.get(x, frozenset()) | ds
                if ins.get(label) != new_in:
                    ins[label] = new_in
                    outs[label] = transfer(label, new_in)
                    changed = True

        read: set[int] = set()
        fixups: dict[int, list[Uop]] = {}   # store -> exits that need x=%v if it goes
        for label in order:
            cur = dict(ins[label])
            for u in blocks[label].uops:
                if u.exit is not None:
                    for x in exit_reads(fn, u, tier1):
                        ds = cur.get(x, frozenset())
                        if len(ds) == 1 and FRAME not in ds:
                            fixups.setdefault(next(iter(ds)), []).append(u)
                        else:
                            read.update(ds)
                if u.name in LOADS:
                    read.update(cur.get(u.imms[0], frozenset()))
                elif u.name == "_STORE_FAST":
                    cur[u.imms[0]] = frozenset((store_no[id(u)],))
        read.discard(FRAME)

        dead: set[int] = set()
        for n, (label, i, u) in enumerate(stores):
            if n in read or label not in ins:
                continue  # read later, or unreachable (dce's job)
            x, v = u.imms[0], u.inputs[0]
            exits = fixups.get(n, [])
            what = f"_STORE_FAST {x} %{v} in {label}:{i}"
            if not ctx.allow(f"remove dead store {what}"):
                continue
            for e in exits:
                add_exit_local(fn, e, x, v)
            how = (f"; {len(exits)} exit(s) now name {x}=%{v}" if exits else "")
            ctx.note(f"dse: @{fn.name}: removed dead store {what}{how}")
            dead.add(id(u))
        if not dead:
            return False
        for b in fn.blocks:
            b.uops = [u for u in b.uops if id(u) not in dead]
        return True
