"""Register allocation: give every SSA value a register ``rN`` or a frame slot ``sN``.

Why: without it every value round-trips through memory (CPython 3.13's JIT
shape); with it values stay in registers across uops (the 3.15 shape).  Three
algorithms make the difference measurable (``regalloc{algo=...,regs=N}``):

* ``tos`` (passes/regalloc_tos.py): CPython 3.15-style top-of-stack caching,
  local to extended basic blocks, everything flushed to slots at merge points.
* ``linear-scan`` (passes/regalloc_linear_scan.py): Poletto-Sarkar over live
  intervals with lifetime holes, spilling the interval that ends furthest.
* ``graph-coloring`` (passes/regalloc_coloring.py): Chaitin-Briggs on a
  networkx interference graph with loop-weighted spill costs and conservative
  (Briggs) coalescing of block-parameter moves, then the repairs of
  passes/regalloc_unspill.py (undo needless spills, reuse reloads).

The model shared by all three (this module):

* Timing of a uop, which the JIT must respect: a uop reads its inputs and its
  side exit's values before it writes its output, and a uop that leaves through
  its side exit writes no output.  So an output may take the location of a
  value the uop reads for the last time, even when only its exit reads it.
* A value has ONE location for its whole life (``fn.locs[v]``).  Moving a value
  creates a new SSA value with ``_COPY``: a *spill* (register -> slot), a
  *reload* (slot -> register) or a *move* (register -> register, or slot ->
  slot on an edge).  So locations never change under a value's feet and the
  checker below is a plain interference check.
* A spilled value lives in a slot; its defining uop writes a register temp that
  a spill ``_COPY`` stores, and each uop reading it as an *input* gets a reload
  ``_COPY`` into a register right before it ("spill everywhere").  Side exits
  and successor arguments read it where it is (invariant iv; edge moves below).
* Memory operands (invariant ii): linear scan and graph coloring reload every
  slot input into a register, except when a uop needs more registers at once
  than there are (e.g. a 3-input ``_STORE_SUBSCR`` with ``regs=2``); that input
  is then read from its slot, and an output that cannot get a register is
  written straight to its slot.  ``tos`` in addition reads a slot value
  directly when this is its last use in the block (one load either way, and no
  register taken), which is its greedy "least memory traffic" variant choice.
  ``_COPY`` itself may be slot -> slot on an edge (a memory-to-memory move).
* Edge moves (invariant iii): after allocation, each successor argument is
  copied into its parameter's location when they differ, as a parallel move
  (ordered so no source is overwritten before it is read; a cycle is broken
  through a free register or a fresh slot).  The copies go before a ``_JUMP``;
  on an edge out of a multi-way terminator a new block is split in.
* Slots are assigned last, for all algorithms alike: interval coloring over the
  slot values' live envelopes (reusing a slot once its value is dead), trying
  to give a block parameter the slot of its incoming argument.
* A spilled constant that is only read as an input is rematerialized: its
  ``_LOAD_CONST`` is repeated before each use instead of a slot and reloads.
* ``check_allocation(fn)`` verifies invariants (i) no two simultaneously live
  values share a location and (iii) arguments agree with parameters; the tests
  run it after every allocation.

The transformation asks ``ctx.allow`` once per function: a half-allocated
function is not something the JIT could run.
"""

from __future__ import annotations

import heapq
import re

from ir.core import Block, Function, Target, Uop
from ir.errors import WorkbenchError
from ir.uops import U

from .analysis import AnalysisManager
from .base import Option, Pass, PassContext, PassError
from .liveness import compute, paused_gc
from .regalloc_coloring import coloring_once
from .regalloc_linear_scan import linear_scan_once
from .regalloc_state import AllocState, is_reg, overlaps, param_arg_pairs  # noqa: F401
from .regalloc_tos import allocate_tos
from .regalloc_unspill import reuse_reloads, unspill

ALGORITHMS = ("tos", "linear-scan", "graph-coloring")
_REPAIRED = {"graph-coloring"}     # algorithms followed by regalloc_unspill's repairs

_LOC = re.compile(r"([rs])(\d+)\Z")


class AllocationError(WorkbenchError):
    pass


def spill_values(state: AllocState, spilled: set[int]) -> None:
    """Move ``spilled`` values to slots: a register temp + spill after each
    definition, a reload before each uop reading one as an input.

    A constant read only as an input is rematerialized instead: its
    ``_LOAD_CONST`` moves to each use and no slot is needed.
    """
    if not spilled:
        return
    fn = state.fn
    remat: dict[int, Uop] = {}
    for b in fn.blocks:
        for u in b.uops:
            if u.output in spilled and u.name == U._LOAD_CONST:
                remat[u.output] = u
    if remat:
        for b in fn.blocks:
            for u in b.uops:
                if u.exit is not None:
                    for _, v in u.exit.values + u.exit.locals:
                        remat.pop(v, None)
                for t in u.targets:
                    for v in t.args:
                        remat.pop(v, None)
                if u.name == U._COPY:
                    remat.pop(u.inputs[0], None)
    state.in_slot |= {v for v in spilled if v not in remat}
    for b in fn.blocks:
        if not any(u.output in spilled or any(v in spilled for v in u.inputs)
                   for u in b.uops):
            continue
        out: list[Uop] = []
        for u in b.uops:
            if u.output in remat:
                continue                      # the constant is loaded where it is used
            if u.name != U._COPY:
                reloaded: dict[int, int] = {}
                for v in u.inputs:
                    if v in spilled and v not in reloaded:
                        t = state.new_like(v)
                        reloaded[v] = t
                        if v in remat:
                            state.temps[t] = ("remat", v)
                            out.append(Uop(U._LOAD_CONST, [], t, remat[v].imms, line=u.line))
                        else:
                            state.temps[t] = ("reload", v)
                            out.append(Uop(U._COPY, [v], t, line=u.line))
                if reloaded:
                    u.inputs = [reloaded.get(v, v) for v in u.inputs]
            out.append(u)
            o = u.output
            if o is not None and o in spilled and u.name != U._COPY:
                t = state.new_like(o)
                state.temps[t] = ("def", o)
                u.output = t
                out.append(Uop(U._COPY, [t], o, line=u.line))
        b.uops = out
    for v in remat:
        fn.types.pop(v, None)   # the value is gone: each use loads its own copy


def unspill_temps(state: AllocState, failed: set[int]) -> None:
    """Temps that got no register: read/write the slot directly (memory operand);
    a rematerialized constant is loaded into a slot of its own."""
    if not failed:
        return
    fn = state.fn
    for t in [t for t in failed if state.temps[t][0] == "remat"]:
        failed.discard(t)
        del state.temps[t]
        state.in_slot.add(t)
        state.memory_operands += 1
    reload = {t: state.temps[t][1] for t in failed if state.temps[t][0] == "reload"}
    define = {t: state.temps[t][1] for t in failed if state.temps[t][0] == "def"}
    state.memory_operands += len(failed)
    for b in fn.blocks:
        out: list[Uop] = []
        for u in b.uops:
            if u.name == U._COPY and (u.output in reload or u.inputs[0] in define):
                continue
            if reload and any(v in reload for v in u.inputs):
                u.inputs = [reload.get(v, v) for v in u.inputs]
            if u.output in define:
                u.output = define[u.output]
            out.append(u)
        b.uops = out
    for t in failed:
        del state.temps[t]
        fn.types.pop(t, None)


def iterate(state: AllocState, allocate_once, note=None) -> None:
    """Allocate, rewrite the spills, and allocate again until nothing spills.

    ``allocate_once(state, info) -> (reg, spilled, failed)``: a register for
    each value not in a slot, or the original values to spill and the
    unspillable temps that found no register.
    """
    while True:
        state.rounds += 1
        if state.rounds > 200:
            raise AllocationError(f"@{state.fn.name}: register allocation does not converge")
        info = state.liveness()
        reg, spilled, failed = allocate_once(state, info)
        if not spilled and not failed:
            state.reg = reg
            state.info = info          # the IR is final: slots and edges reuse it
            return
        if note is not None:
            note(f"round {state.rounds}: spill {_fmt_values(spilled)}"
                 + (f", memory operand for {_fmt_values(failed)}" if failed else ""))
        unspill_temps(state, failed)
        spill_values(state, spilled)


def _fmt_values(vs) -> str:
    return "{" + ", ".join(f"%{v}" for v in sorted(vs)) + "}"


# --------------------------------------------------------------------------- slots

def assign_slots(state: AllocState) -> int:
    """Interval-color the slot values (unbounded colors); returns the slot count.

    A slot is reused once every value in it is past its end.  A block parameter
    and its incoming arguments try to share a slot (no memory-to-memory edge
    move): that slot is taken, holes included, if no value in it is live at the
    same time as the new one.
    """
    fn = state.fn
    slot_values = state.in_slot
    if not slot_values:
        return 0
    if state.info is None:
        state.info = compute(fn)
    info = state.info
    rbeg, rlim, rto = info.rbeg, info.rlim, info.rto
    hints = param_arg_pairs(fn)
    order = sorted((info.start(v), v) for v in slot_values if info.has_range(v))
    busy_until: list[int] = []              # slot -> end of its last value
    members: list[list[int]] = []           # slot -> values still to end
    releases: list[tuple[int, int]] = []    # heap of (end, slot)
    free: list[int] = []                    # heap of free slot numbers
    slot: dict[int, int] = {}
    for start, v in order:
        while releases and releases[0][0] <= start:
            e, s = heapq.heappop(releases)
            if e == busy_until[s]:
                heapq.heappush(free, s)
                members[s] = []
        chosen = None
        for h in hints.get(v, ()):
            s = slot.get(h)
            if s is None:
                continue
            live = [m for m in members[s] if rto[rlim[m] - 1] > start]
            members[s] = live
            if not any(overlaps(info, rbeg[m], rlim[m], rbeg[v], rlim[v]) for m in live):
                chosen = s
                if s in free:
                    free.remove(s)
                    heapq.heapify(free)
                break
        if chosen is None:
            if free:
                chosen = heapq.heappop(free)
            else:
                chosen = len(busy_until)
                busy_until.append(-1)
                members.append([])
        slot[v] = chosen
        members[chosen].append(v)
        end = rto[rlim[v] - 1]
        if end > busy_until[chosen]:
            busy_until[chosen] = end
            heapq.heappush(releases, (end, chosen))
    for v, s in slot.items():
        fn.locs[v] = f"s{s}"
    return len(busy_until)


# --------------------------------------------------------------------------- edge moves

def resolve_edges(state: AllocState) -> dict[str, int]:
    """Copy successor arguments into their parameters' locations (parallel moves)."""
    fn = state.fn
    locs = fn.locs
    blocks = fn.block_map()
    info = None
    counts = {"edge_moves": 0, "split_blocks": 0}
    used_labels = set(blocks)
    max_slot = max((int(l[1:]) for l in locs.values() if l.startswith("s")), default=-1)
    spare_slot = f"s{max_slot + 1}"
    new_blocks: list[Block] = []
    for b in fn.blocks:
        new_blocks.append(b)
        if not b.uops:
            continue
        term = b.uops[-1]
        for j, t in enumerate(term.targets):
            succ = blocks[t.block]
            moves = [(locs[p], a, i) for i, (a, p) in enumerate(zip(t.args, succ.params))
                     if locs[a] != locs[p]]
            if not moves:
                continue
            if info is None:
                info = state.info if state.info is not None else compute(fn)
                index = {label: i for i, label in enumerate(info.labels)}
            busy = {locs[v] for v in info.block_live_in(index[succ.label])}
            busy |= {locs[a] for a in t.args} | {locs[p] for p in succ.params}
            scratch = next((f"r{r}" for r in range(state.regs) if f"r{r}" not in busy),
                           spare_slot)
            copies, args = _sequence_moves(state, moves, list(t.args), scratch, term.line)
            counts["edge_moves"] += len(copies)
            if len(term.targets) == 1:
                b.uops[-1:-1] = copies
                t.args = args
            else:
                label = _fresh_label(used_labels, f"{b.label}.{succ.label}.")
                split = Block(label, copies + [Uop(U._JUMP, targets=[Target(succ.label, args)],
                                                   line=term.line)])
                term.targets[j] = Target(label, [])
                new_blocks.append(split)
                counts["split_blocks"] += 1
    fn.blocks = new_blocks
    return counts


def _fresh_label(used: set[str], stem: str) -> str:
    i = 0
    while f"{stem}{i}" in used:
        i += 1
    used.add(f"{stem}{i}")
    return f"{stem}{i}"


def _sequence_moves(state: AllocState, moves: list[tuple[str, int, int]], args: list[int],
                    scratch: str, line) -> tuple[list[Uop], list[int]]:
    """Order the parallel move ``dst_loc <- value`` (one per argument index)."""
    fn = state.fn
    locs = fn.locs
    pending = list(moves)          # (dst loc, source value, arg index)
    copies: list[Uop] = []
    while pending:
        src_locs = {locs[src] for _, src, _ in pending}
        for k, (dst, src, i) in enumerate(pending):
            if dst not in src_locs or dst == locs[src]:
                n = state.new_like(src)
                locs[n] = dst
                copies.append(Uop(U._COPY, [src], n, line=line))
                args[i] = n
                del pending[k]
                break
        else:
            # Every destination is still to be read: a cycle.  Park one source.
            _, src, _ = pending[0]
            n = state.new_like(src)
            locs[n] = scratch
            copies.append(Uop(U._COPY, [src], n, line=line))
            pending = [(d, n if s == src else s, i) for d, s, i in pending]
    return copies, args


# --------------------------------------------------------------------------- checker

def check_allocation(fn: Function) -> dict[str, int]:
    """Verify an allocated function; raise ``AllocationError`` naming the conflict.

    (i) no two values live at the same point share a location (a uop reads
    its inputs and its side exit's values before it writes its output, so its
    output may reuse the location of a value it reads for the last time);
    (iii) each successor argument is in its parameter's location.  Also: every
    value has a well-formed location.  Returns counts (memory operands: non-copy
    uop inputs left in slots).
    """
    def fail(msg: str) -> None:
        raise AllocationError(f"regalloc check: @{fn.name}: {msg}")

    locs = fn.locs
    blocks = fn.block_map()
    memops = 0
    for b in fn.blocks:
        for v in b.params:
            if v not in locs or not _LOC.match(locs[v]):
                fail(f"{b.label}: parameter %{v} has no location (got {locs.get(v)!r})")
        for i, u in enumerate(b.uops):
            if u.output is not None and (u.output not in locs or not _LOC.match(locs[u.output])):
                fail(f"{b.label}:{i}: %{u.output} has no location (got {locs.get(u.output)!r})")
            if u.name != U._COPY:
                memops += sum(1 for v in u.inputs if not is_reg(locs.get(v)))
            for t in u.targets:
                for a, p in zip(t.args, blocks[t.block].params):
                    if locs.get(a) != locs[p]:
                        fail(f"{b.label}: argument %{a}@{locs.get(a)} to ^{t.block} does not "
                             f"match parameter %{p}@{locs[p]}")

    info = compute(fn)
    for b in fn.blocks:
        holder: dict[str, int] = {}

        def live(v: int, where: str) -> None:
            loc = locs.get(v)
            if loc is None:
                fail(f"{where}: %{v} is used but has no location")
            h = holder.get(loc)
            if h is not None and h != v:
                fail(f"{where}: %{h} and %{v} are both live in {loc}")
            holder[loc] = v

        for v in sorted(info.live_out[b.label]):
            live(v, f"end of {b.label}")
        for i in range(len(b.uops) - 1, -1, -1):
            u = b.uops[i]
            where = f"{b.label}:{i}"
            o = u.output
            if o is not None:
                h = holder.get(locs[o])
                if h is not None and h != o:
                    fail(f"{where}: %{o} is written to {locs[o]} while %{h} is live there")
                if h == o:
                    del holder[locs[o]]
            for v in u.inputs:
                live(v, where)
            if u.exit is not None:
                for _, v in u.exit.values:
                    live(v, where)
                for _, v in u.exit.locals:
                    live(v, where)
            for t in u.targets:
                for v in t.args:
                    live(v, where)
        for p in b.params:
            h = holder.get(locs[p])
            if h is not None and h != p:
                fail(f"{b.label}: parameter %{p} is in {locs[p]} while %{h} is live there")
            holder[locs[p]] = p
    return {"memory_operands": memops}


def allocation_stats(fn: Function) -> dict[str, int]:
    """Spill stores, reloads, moves (register or edge copies) and slots used."""
    c = {"spills": 0, "reloads": 0, "moves": 0, "slots": 0}
    slots = set()
    for b in fn.blocks:
        for u in b.uops:
            if u.name == U._COPY:
                src, dst = fn.locs.get(u.inputs[0]), fn.locs.get(u.output)
                if is_reg(src) and not is_reg(dst):
                    c["spills"] += 1
                elif is_reg(dst) and not is_reg(src):
                    c["reloads"] += 1
                else:
                    c["moves"] += 1
    for loc in fn.locs.values():
        if loc.startswith("s"):
            slots.add(loc)
    c["slots"] = len(slots)
    return c


# --------------------------------------------------------------------------- driver

def allocate(fn: Function, algo: str = "linear-scan", regs: int = 6, note=None,
             analyses: AnalysisManager | None = None) -> dict:
    """Allocate ``fn`` in place; returns statistics.  ``analyses``: where to take
    ``fn``'s liveness and loops from (the pass's context)."""
    if algo not in ALGORITHMS:
        raise PassError(f"regalloc: unknown algorithm {algo!r}; one of {', '.join(ALGORITHMS)}")
    if regs < 1:
        raise PassError(f"regalloc: regs must be at least 1, got {regs}")
    with paused_gc():
        return _allocate(fn, algo, regs, note, analyses)


def _allocate(fn: Function, algo: str, regs: int, note, analyses) -> dict:
    fn.locs.clear()
    state = AllocState(fn, regs, analyses=analyses)
    if algo == "tos":
        allocate_tos(state, note)
    elif algo == "linear-scan":
        iterate(state, linear_scan_once, note)
    else:
        iterate(state, coloring_once, note)
    for v in state.in_slot:
        state.reg.pop(v, None)     # a slot value has no register, whatever a round said
    if algo in _REPAIRED:
        n, m = unspill(state), reuse_reloads(state)
        if note is not None and (n or m):
            note(f"unspilled {n} values, reused {m} reloads")
    for v, r in state.reg.items():
        fn.locs[v] = f"r{r}"
    nslots = assign_slots(state)
    edges = resolve_edges(state)
    stats = allocation_stats(fn)
    stats.update(edges)
    stats["slots"] = max(stats["slots"], nslots)
    stats["rounds"] = state.rounds
    stats["spilled_values"] = len([v for v in state.in_slot if v not in state.temps])
    stats["memory_operands"] = sum(
        1 for b in fn.blocks for u in b.uops if u.name != U._COPY
        for v in u.inputs if not is_reg(fn.locs.get(v)))
    return stats


class RegAlloc(Pass):
    name = "regalloc"
    description = "assign registers rN / frame slots sN to values (tos, linear-scan, graph-coloring)"
    options = {
        "algo": Option(str, "linear-scan", "allocation algorithm", choices=ALGORITHMS),
        "regs": Option(int, 6, "number of allocatable registers (r0..r{regs-1})"),
    }
    requires = ("liveness",)
    preserves = ()

    def run(self, fn: Function, ctx: PassContext) -> bool:
        algo, regs = self.opts["algo"], self.opts["regs"]
        if regs < 1:
            raise PassError(f"regalloc: option 'regs' must be at least 1, got {regs}")
        if not ctx.allow(f"allocate registers in @{fn.name} ({algo}, {regs} registers)"):
            return False
        prefix = f"regalloc @{fn.name} {algo}: "
        note = (lambda m: ctx.note(prefix + m)) if ctx.explain is not None else None
        stats = allocate(fn, algo, regs, note, ctx.analyses)
        ctx.note(prefix + ", ".join(f"{k}={v}" for k, v in stats.items()))
        return True
