"""Top-of-stack caching, CPython 3.15 flavour, for ``regalloc{algo=tos}``.

Why: CPython's JIT does not run a global allocator; it caches the top few
stack items in registers and picks, per uop, the variant whose inputs/outputs
match what is cached.  This is that idea on SSA values, kept deliberately
simple and block-local so it can be compared with the global allocators:

* Walking a block, up to ``regs`` most-recently-defined (or reloaded) values
  are cached in r0..r{regs-1}.  An output always goes to a register; when the
  cache is full the least recently defined value is evicted, spilled to its
  slot (``_COPY``) first if it is still needed.
* An input found in a slot is reloaded (``_COPY``) when the block reads it as
  an input again later; on its last read in the block the uop's
  memory-operand variant reads the slot directly (one load either way, and no
  register taken or evicted): the greedy least-memory-traffic choice.
* At merge points everything is in slots: block parameters live in slots,
  a value used in another block is spilled to its home slot before the
  terminator (or when evicted), and successor arguments are written into
  their parameters' slots by the edge moves.
* Like CPython's traces (superblocks), the cache survives a branch into a
  block whose only predecessor is the branching block (an extended basic
  block): that successor starts with its predecessor's registers, so a value
  read on both sides of a branch is loaded once, and a value read only after
  the branch, in that one successor, is not stored and reloaded around it.
"""

from __future__ import annotations


from ir.core import Uop
from ir.uops import U

from .regalloc_state import AllocState


def allocate_tos(state: AllocState, note=None) -> None:
    fn = state.fn
    regs = state.regs
    info = state.liveness()
    blocks = fn.block_map()
    state.rounds = 1

    # The slot version ("home") of every value used across a block boundary.
    params = {p for b in fn.blocks for p in b.params}
    home: dict[int, int] = {}
    for v in sorted(info.global_values()):
        home[v] = v if v in params else state.new_like(v)
    state.in_slot.update(home.values())
    state.in_slot.update(params)

    reg_of_version: dict[int, int] = {}
    spills = reloads = memops = 0

    # Extended basic blocks: a parameterless block with one predecessor laid
    # out before it inherits that predecessor's cache (and slot versions).
    index = {label: i for i, label in enumerate(info.order)}
    preds: dict[str, set[str]] = {label: set() for label in blocks}
    for b in fn.blocks:
        for s in b.successors():
            if s in preds:
                preds[s].add(b.label)
    parent: dict[str, str] = {}
    for label, ps in preds.items():
        if len(ps) == 1 and not blocks[label].params and label in index:
            (p,) = ps
            if p != label and p in index and index[p] < index[label]:
                parent[label] = p
    end_state: dict[str, tuple[dict, dict]] = {}
    # Inputs read in a block or in the blocks that inherit from it, transitively.
    tree_inputs: dict[str, set[int]] = {}
    for label in reversed(info.order):
        ins = tree_inputs.setdefault(label, set())
        ins.update(v for u in blocks[label].uops for v in u.inputs)
        if label in parent:
            tree_inputs.setdefault(parent[label], set()).update(ins)

    for label in info.order:
        b = blocks[label]
        uops = b.uops
        n = len(uops)
        # Positions (uop indices) where each value is read, by kind.
        any_use: dict[int, list[int]] = {}
        input_use: dict[int, list[int]] = {}
        for k, u in enumerate(uops):
            for v in u.inputs:
                input_use.setdefault(v, []).append(k)
            for v in u.uses():
                lst = any_use.setdefault(v, [])
                if not lst or lst[-1] != k:
                    lst.append(k)
        through: set[int] = set()        # needed by a successor other than as an argument
        flush: set[int] = set()          # ... and so must be in its home slot at the end
        carried: dict[int, int] = {}     # value -> inheriting successors it is live into
        later_input: set[int] = set()    # read as an input where the cache is inherited
        for s in dict.fromkeys(b.successors()):
            sb = blocks[s]
            live = {v for v in info.live_in[s] if v not in sb.params}
            through |= live
            if parent.get(s) == label:
                for v in live:
                    carried[v] = carried.get(v, 0) + 1
                later_input |= tree_inputs[s]
            else:
                flush |= live
        # A value carried into one inheriting successor alone is stored there if
        # it must be; into several, here (one definition of its home slot).
        flush |= {v for v, c in carried.items() if c > 1}

        def used_after(v: int, k: int, table) -> bool:
            lst = table.get(v)
            return bool(lst) and lst[-1] > k

        def input_after(v: int, k: int) -> bool:
            return used_after(v, k, input_use) or v in later_input

        def needed_after(v: int, k: int) -> bool:
            return v in through or used_after(v, k, any_use)

        cache: dict[int, tuple[int, int]] = {}   # reg -> (value, version); insertion = age
        in_reg: dict[int, tuple[int, int]] = {}  # value -> (reg, version)
        if label in parent:
            pcache, pslots = end_state[parent[label]]
            live_in = info.live_in[label]
            slot_ver = {v: sv for v, sv in pslots.items() if v in live_in}
            for r, (v, ver) in pcache.items():
                if v in live_in:
                    cache[r] = (v, ver)
                    in_reg[v] = (r, ver)
        else:
            slot_ver = {v: home[v] for v in info.live_in[label]}
        for p in b.params:
            slot_ver[p] = p
        out: list[Uop] = []

        def drop(r: int) -> None:
            v, _ = cache.pop(r)
            del in_reg[v]

        def spill(v: int, line) -> None:
            nonlocal spills
            if v in slot_ver:
                return
            _, ver = in_reg[v]
            sv = home[v] if v in home else state.new_like(v)
            state.in_slot.add(sv)
            out.append(Uop(U._COPY, [ver], sv, line=line))
            slot_ver[v] = sv
            spills += 1

        def get_reg(pinned: set[int], k: int, line) -> int | None:
            for r in range(regs):
                if r not in cache:
                    return r
            for r in list(cache):          # oldest first
                if r in pinned:
                    continue
                v, _ = cache[r]
                if needed_after(v, k - 1):  # still read by this uop or later
                    spill(v, line)
                drop(r)
                return r
            return None

        def put(r: int, v: int, ver: int) -> None:
            cache[r] = (v, ver)
            in_reg[v] = (r, ver)
            reg_of_version[ver] = r

        for k, u in enumerate(uops):
            line = u.line
            last = k == n - 1
            pinned = {in_reg[v][0] for v in u.inputs if v in in_reg}
            new_inputs: list[int] = []
            for v in u.inputs:
                if v in in_reg:
                    r, ver = in_reg[v]
                    pinned.add(r)
                    new_inputs.append(ver)
                    continue
                sv = slot_ver[v]
                r = None
                if u.name != U._COPY and input_after(v, k):
                    r = get_reg(pinned, k, line)
                if r is None:
                    new_inputs.append(sv)           # memory-operand variant
                    if u.name != U._COPY:
                        memops += 1
                    continue
                t = state.new_like(v)
                out.append(Uop(U._COPY, [sv], t, line=line))
                reloads += 1
                put(r, v, t)
                pinned.add(r)
                new_inputs.append(t)
            u.inputs = new_inputs

            def current(v: int) -> int:
                return in_reg[v][1] if v in in_reg else slot_ver[v]

            if u.exit is not None:
                u.exit.values = [(key, current(v)) for key, v in u.exit.values]
                u.exit.locals = [(key, current(v)) for key, v in u.exit.locals]
            if last:
                for v in sorted(flush):            # flush to the home slots
                    if v in in_reg:
                        spill(v, line)
                for t in u.targets:
                    t.args = [current(v) for v in t.args]

            # Values read for the last time (inputs, exit values) free their
            # register for the output: a uop that exits writes no output.
            for r in list(cache):
                v, _ = cache[r]
                if not needed_after(v, k):
                    drop(r)
            o = u.output
            if o is not None:
                r = get_reg(set(), k + 1, line)
                if r is None:                       # write straight to memory
                    if o in home:             # other blocks read the home slot
                        u.output = home[o]
                        slot_ver[o] = home[o]
                    else:
                        state.in_slot.add(o)
                        slot_ver[o] = o
                    memops += 1
                else:
                    put(r, o, o)
                    if not needed_after(o, k):
                        drop(r)
            out.append(u)
            if last:
                break
        b.uops = out
        end_state[label] = (dict(cache), dict(slot_ver))

    # A value flushed for several inheriting successors that all kept reading
    # its register never needed the store.
    used = {v for b in fn.blocks for u in b.uops for v in u.uses()}
    for b in fn.blocks:
        kept = [u for u in b.uops if not (u.name == U._COPY and u.output in state.in_slot
                                          and u.output not in used)]
        spills -= len(b.uops) - len(kept)
        b.uops = kept
    state.reg = {v: r for v, r in reg_of_version.items() if v not in state.in_slot}
    state.memory_operands = memops
    if note is not None:
        note(f"{spills} spill stores, {reloads} reloads, {memops} memory operands")
