"""Promote frame locals to SSA values (mem2reg), with MLIR-style block parameters.

Why: after specialization a loop like ``total += i`` is still a frame load, an add
and a frame store per iteration.  Promoted, the loop-carried values travel as
block arguments (``_JUMP ^bb1(%9, %12)``), which the register allocator can keep
in registers: the loop body has no ``_LOAD_FAST``/``_STORE_FAST`` left.

How (Cytron et al.: parameters at the iterated dominance frontier of the stores,
pruned by liveness, then renaming along the dominator tree; finally trivial
parameters, whose arguments are all one value, and dead ones are removed, as in
Braun et al.):

- Only locals never read by ``_LOAD_FAST_CHECK`` (definitely assigned wherever
  read) are promoted, and none live into an exception handler (the handler edge
  leaves from any faulting point and carries no arguments: those stay in the frame).
- The frame is where values enter: a promoted local live at the function entry
  (a parameter) is loaded there, and that ``_LOAD_FAST`` is its first definition.
  Optimized code that starts with an ``_ENTRY`` dispatcher may be entered at any
  target with the whole state in the frame: each target that needs promoted
  locals gets its own entry block that loads them and jumps to it.
- Side exits must still find every local tier 1 will read: an exit gets
  ``x=%current`` for each promoted local ``x`` live at its tier-1 resume point
  (all definitely assigned promoted locals when the tier-1 function is not at
  hand, see ``dse.Tier1Liveness``).  An entry the exit already has (``dse`` adds
  some) wins, and none is needed while ``x`` still holds the value it was loaded
  with at entry, since promoted locals are never stored again: the frame has it.
"""

from __future__ import annotations

from ir.cfg import predecessors
from ir.core import Block, Function, Target, Uop
from ir.uops import U

from .analysis import UNALLOCATED, CFG
from .base import Pass, PassContext, PassError
from .bitsets import solve_backward
from .dce import forget_values, reachable_labels, remove_unreachable
from .dse import LOADS, TIER1, Tier1Liveness, add_exit_locals
from .liveness import paused_gc
from .promote_cleanup import PromoteCleanup


def dominance_frontiers(fn: Function, idom: dict[str, str],
                        preds: dict[str, list[str]] | None = None) -> dict[str, set[str]]:
    """Cooper, Harvey & Kennedy's frontier computation over reachable blocks."""
    if preds is None:
        preds = predecessors(fn)
    df: dict[str, set[str]] = {b: set() for b in idom}
    for b in idom:
        ps = [p for p in preds[b] if p in idom]
        if len(ps) < 2:
            continue
        for p in ps:
            runner = p
            while runner != idom[b]:
                df[runner].add(b)
                if runner == idom[runner]:
                    break
                runner = idom[runner]
    return df


class Promote(PromoteCleanup, Pass):
    name = "promote"
    description = "promote frame locals to SSA values carried in block parameters"
    requires = (TIER1, UNALLOCATED)
    preserves = ()

    def run(self, fn: Function, ctx: PassContext) -> bool:
        with paused_gc():   # many small acyclic containers (see liveness.paused_gc)
            return self._run(fn, ctx)

    def _run(self, fn: Function, ctx: PassContext) -> bool:
        cands = self._candidates(fn)
        if not cands:
            return False
        changed = False
        if len(reachable_labels(fn)) != len(fn.blocks):
            # New parameters need arguments on every edge; an unreachable block has none.
            changed = remove_unreachable(fn, ctx, "promote")
            if len(reachable_labels(fn)) != len(fn.blocks):
                return changed
        order = {x: i for i, x in enumerate(fn.locals)}
        disp = fn.entry if fn.entry.uops[-1].name == U._ENTRY else None
        if disp is not None:
            cands -= {u.imms[0] for u in disp.uops if u.name in LOADS + (U._STORE_FAST,)}
        tier1 = Tier1Liveness.find(fn, ctx)
        graph: CFG = ctx.get("cfg", fn)
        need = self._exit_needs(fn, cands, disp, tier1, ctx, graph)
        live_in = self._liveness(fn, cands, need, graph)

        # A promoted local live where the function starts must be a parameter.
        first = disp.uops[-1].targets[0].block if disp is not None else fn.entry.label
        cands -= {x for x in live_in[first] if x not in fn.params}
        # A handler is entered from any faulting point of its blocks, by an edge that
        # carries no arguments: a local live into a handler stays in the frame.
        for b in fn.blocks:
            if b.handler is not None:
                cands -= live_in.get(b.handler, set())
        promoted = [x for x in sorted(cands, key=order.__getitem__)
                    if ctx.allow(f"promote local {x} to SSA values")]
        if not promoted:
            return changed
        P = set(promoted)
        for u, xs in need.items():
            need[u] = [x for x in xs if x in P]

        self._created = False
        nblocks = len(fn.blocks)
        def_loads, entry_vals = self._entry_points(fn, P, disp, live_in, need, order,
                                                   graph.predecessors)
        if len(fn.blocks) != nblocks:
            ctx.invalidate(fn)      # new entry blocks: a new CFG from here on
        idom = ctx.get("dominators", fn)
        df = dominance_frontiers(fn, idom, ctx.get("cfg", fn).predecessors)
        blocks = fn.block_map()

        # Where each local is defined: its stores and its entry loads.
        def_blocks: dict[str, set[str]] = {x: set() for x in P}
        for b in fn.blocks:
            for u in b.uops:
                if (u.name == U._STORE_FAST or id(u) in def_loads) and u.imms[0] in P:
                    def_blocks[u.imms[0]].add(b.label)
        params_added: dict[str, list[tuple[str, int]]] = {}
        added: set[int] = set()
        layout = {b.label: i for i, b in enumerate(fn.blocks)}
        for x in promoted:
            work = sorted(def_blocks[x])
            placed: set[str] = set()
            while work:
                d = work.pop()
                for y in sorted(df.get(d, ())):
                    if y in placed:
                        continue
                    placed.add(y)
                    if y not in def_blocks[x]:
                        work.append(y)
            for y in sorted(placed, key=layout.__getitem__):
                if x in live_in.get(y, ()):
                    p = fn.new_value()
                    params_added.setdefault(y, []).append((x, p))
                    added.add(p)
        for y, ps in params_added.items():
            blocks[y].params.extend(p for _, p in ps)

        mapping, exit_added, removed = self._rename(fn, P, idom, params_added, def_loads,
                                                    entry_vals, need, blocks)
        param_locals = {p: x for ps in params_added.values() for x, p in ps}
        self._prune(fn, added, mapping, exit_added, entry_vals, param_locals)
        self._param_types(fn, added, idom)
        nparams = sum(1 for b in fn.blocks for p in b.params if p in added)
        nexits = sum(1 for b in fn.blocks for u in b.uops if u.exit is not None
                     for x, _ in u.exit.locals if (id(u), x) in exit_added)
        if not (removed or nparams or nexits or self._created):
            return changed  # e.g. run again: only the entry loads are left
        ctx.note(f"promote: @{fn.name}: promoted {', '.join(promoted)}; "
                 f"{nparams} block parameter(s), {removed} frame access(es) removed, "
                 f"{nexits} exit entries")
        return True

    # -- analyses ---------------------------------------------------------------

    @staticmethod
    def _candidates(fn: Function) -> set[str]:
        touched, checked = set(), set()
        for b in fn.blocks:
            for u in b.uops:
                if u.name in (U._LOAD_FAST, U._STORE_FAST):
                    touched.add(u.imms[0])
                elif u.name == U._LOAD_FAST_CHECK:
                    checked.add(u.imms[0])
        return touched - checked

    @staticmethod
    def _assigned(fn: Function, disp: Block | None, bit: dict[str, int], graph: CFG
                  ) -> dict[str, int]:
        """Definitely assigned locals at each block's start (must, forward; bitsets
        over ``bit``).  Entering an ``_ENTRY`` target other than the first, the frame's
        state is tier 1's there, so that edge constrains nothing."""
        everything = (1 << len(bit)) - 1
        order, preds = graph.rpo, graph.predecessors
        blocks = fn.block_map()
        params = 0
        for x in fn.params:
            params |= bit.get(x, 0)
        gen: dict[str, int] = {}
        for label in order:
            g = 0
            for u in blocks[label].uops:
                if u.name == U._STORE_FAST or u.name in LOADS:
                    g |= bit[u.imms[0]]
            gen[label] = g
        # Predecessors that constrain each block: the dispatcher only for its first target.
        first = disp.uops[-1].targets[0].block if disp is not None else None
        cpreds = {label: [p for p in preds[label]
                          if disp is None or p != disp.label or label == first]
                  for label in order}
        ins = {label: everything for label in order}
        outs = {label: everything for label in order}
        changed = True
        while changed:
            changed = False
            for label in order:
                acc = params if label == order[0] else everything
                for p in cpreds[label]:
                    o = outs.get(p)
                    if o is not None:
                        acc &= o
                ins[label] = acc
                new = acc | gen[label]
                if new != outs[label]:
                    outs[label] = new
                    changed = True
        return ins

    def _exit_needs(self, fn: Function, cands: set[str], disp: Block | None,
                    tier1: Tier1Liveness | None, ctx: PassContext, graph: CFG
                    ) -> dict[int, list[str]]:
        """For each uop with a side exit (by id): the candidates it must be told about."""
        bit = self._bits(fn)
        names = list(bit)
        assigned = self._assigned(fn, disp, bit, graph)
        cmask = 0
        for x in cands:
            cmask |= bit[x]
        need: dict[int, list[str]] = {}
        unsafe = 0
        for b in fn.blocks:
            if b.label not in assigned:
                continue
            cur = assigned[b.label]
            for k, u in enumerate(b.uops):
                e = u.exit
                if e is not None:
                    want = cmask
                    for x, _ in e.locals:
                        want &= ~bit.get(x, 0)
                    if tier1 is not None:
                        want &= tier1.live_mask(e.block, e.index)
                        # Tier 1 would read it, yet no value is sure to reach here:
                        # only the frame can say, so it stays there.
                        missing = want & ~cur & ~unsafe
                        j = 0
                        while missing:
                            if missing & 1:
                                ctx.note(f"promote: @{fn.name}: {names[j]} is live at the "
                                         f"exit of {b.label}:{k} but not surely "
                                         f"assigned; not promoted")
                                unsafe |= 1 << j
                            missing >>= 1
                            j += 1
                    want &= cur
                    xs = []
                    j = 0
                    while want:
                        if want & 1:
                            xs.append(names[j])
                        want >>= 1
                        j += 1
                    need[id(u)] = xs
                if u.name == U._STORE_FAST or u.name in LOADS:
                    cur |= bit[u.imms[0]]
        cands -= {x for x in names if unsafe & bit[x]}
        return need

    @staticmethod
    def _bits(fn: Function) -> dict[str, int]:
        """A bit per local (declared ones first, in order)."""
        bit = {x: 1 << i for i, x in enumerate(fn.locals)}
        for b in fn.blocks:
            for u in b.uops:
                if u.name == U._STORE_FAST or u.name in LOADS:
                    x = u.imms[0]
                    if x not in bit:
                        bit[x] = 1 << len(bit)
        return bit

    def _liveness(self, fn: Function, cands: set[str], need: dict[int, list[str]],
                  graph: CFG) -> dict[str, frozenset[str]]:
        """Candidates live at each block's start: read by a load or needed by an exit
        before being stored (bitsets, worklist in postorder)."""
        bit = self._bits(fn)
        names = list(bit)
        cmask = 0
        for x in cands:
            cmask |= bit[x]
        order = graph.rpo
        blocks = fn.block_map()
        pos = {label: i for i, label in enumerate(order)}
        nb = len(order)
        succ = [[pos[s] for s in blocks[label].successors() if s in pos] for label in order]
        preds: list[list[int]] = [[] for _ in range(nb)]
        summary = []
        for i, label in enumerate(order):
            for s in succ[i]:
                preds[s].append(i)
            gen = kill = 0
            for u in reversed(blocks[label].uops):
                name = u.name
                if name == U._STORE_FAST:
                    b = bit[u.imms[0]]
                    gen &= ~b
                    kill |= b
                elif name == U._LOAD_FAST:
                    b = bit[u.imms[0]] & cmask
                    gen |= b
                    kill &= ~b
                if u.exit is not None:
                    for x in need.get(id(u), ()):
                        b = bit[x]
                        gen |= b
                        kill &= ~b
            summary.append((gen, kill))
        live, _ = solve_backward(succ, preds, summary)
        sets: dict[int, frozenset[str]] = {}
        live_in: dict[str, frozenset[str]] = {}
        for b in fn.blocks:
            i = pos.get(b.label)
            m = live[i] if i is not None else 0
            hit = sets.get(m)
            if hit is None:
                hit = sets[m] = frozenset(x for j, x in enumerate(names) if m >> j & 1)
            live_in[b.label] = hit
        return live_in

    # -- entry points -------------------------------------------------------------

    def _entry_points(self, fn: Function, P: set[str], disp: Block | None,
                      live_in: dict[str, frozenset[str]], need: dict[int, list[str]],
                      order: dict[str, int], preds: dict[str, list[str]]
                      ) -> tuple[set[int], dict[int, str]]:
        """Make the frame loads that define promoted locals where code is entered.

        Returns the ids of those loads, and each value they define with its local."""
        def_loads: set[int] = set()
        entry_vals: dict[int, str] = {}

        def fresh_load(x: str, line) -> Uop:
            self._created = True
            u = Uop(U._LOAD_FAST, [], fn.new_value(), (x,), line=line)
            def_loads.add(id(u))
            entry_vals[u.output] = x
            return u

        def in_place(b: Block, xs: list[str]) -> None:
            """Loads at the top of ``b``; an existing load of ``x`` that nothing before
            it in ``b`` stores or needs at an exit serves as the definition."""
            line = b.uops[0].line
            front = []
            for x in xs:
                chosen = None
                for u in b.uops:
                    if x in need.get(id(u), ()) or (u.name == U._STORE_FAST
                                                     and u.imms[0] == x):
                        break
                    if u.name == U._LOAD_FAST and u.imms[0] == x:
                        chosen = u
                        break
                if chosen is None:
                    front.append(fresh_load(x, line))
                else:
                    def_loads.add(id(chosen))
                    entry_vals[chosen.output] = x
            b.uops[:0] = front

        def sorted_live(label: str) -> list[str]:
            return sorted((x for x in live_in.get(label, ()) if x in P), key=order.__getitem__)

        if disp is None:
            xs = sorted_live(fn.entry.label)
            if not xs:
                return def_loads, entry_vals
            if preds[fn.entry.label]:
                old = fn.entry
                nb = Block(fn.new_label("bb"), [Uop(U._JUMP, [], None, (), [Target(old.label)],
                                                    line=old.uops[0].line)])
                fn.blocks.insert(0, nb)
                nb.uops[:0] = [fresh_load(x, nb.uops[0].line) for x in xs]
            else:
                in_place(fn.entry, xs)
            return def_loads, entry_vals

        term = disp.uops[-1]
        insert_at = fn.blocks.index(disp) + 1
        hits = {}
        for t in term.targets:
            hits[t.block] = hits.get(t.block, 0) + 1
        for t in term.targets:
            xs = sorted_live(t.block)
            if not xs:
                continue
            target = fn.block(t.block)
            if preds[t.block] == [disp.label] and hits[t.block] == 1 and not target.params:
                in_place(target, xs)
                continue
            line = target.uops[0].line
            eb = Block(fn.new_label("bb"), [fresh_load(x, line) for x in xs]
                       + [Uop(U._JUMP, [], None, (), [Target(t.block, list(t.args))], line=line)])
            fn.blocks.insert(insert_at, eb)
            insert_at += 1
            t.block, t.args = eb.label, []
        return def_loads, entry_vals

    # -- renaming -------------------------------------------------------------------

    def _rename(self, fn: Function, P: set[str], idom: dict[str, str],
                params_added: dict[str, list[tuple[str, int]]], def_loads: set[int],
                entry_vals: dict[int, str], need: dict[int, list[str]], blocks: dict[str, Block]
                ) -> tuple[dict[int, int], set[tuple[int, str]], int]:
        layout = {b.label: i for i, b in enumerate(fn.blocks)}
        children: dict[str, list[str]] = {b: [] for b in idom}
        for b, d in idom.items():
            if b != d:
                children[d].append(b)
        for c in children.values():
            c.sort(key=layout.__getitem__)
        stacks: dict[str, list[int]] = {x: [] for x in P}
        mapping: dict[int, int] = {}
        remove: set[int] = set()
        exit_added: set[tuple[int, str]] = set()

        def resolve(v: int) -> int:
            while v in mapping:
                v = mapping[v]
            return v

        def top(x: str, where: str) -> int:
            if not stacks[x]:
                raise PassError(f"promote: @{fn.name}: no definition of {x} reaches {where}")
            return stacks[x][-1]

        def visit(label: str) -> list[str]:
            b = blocks[label]
            pushed = []
            for x, p in params_added.get(label, ()):
                stacks[x].append(p)
                pushed.append(x)
            for i, u in enumerate(b.uops):
                xs = need.get(id(u)) if u.exit is not None else None
                if xs:
                    entries = []
                    for x in xs:
                        v = top(x, f"the exit of {label}:{i}")
                        if entry_vals.get(v) != x:
                            entries.append((x, v))
                            exit_added.add((id(u), x))
                    if entries:
                        add_exit_locals(fn, u, entries)
                if u.name == U._STORE_FAST and u.imms[0] in P:
                    stacks[u.imms[0]].append(resolve(u.inputs[0]))
                    pushed.append(u.imms[0])
                    remove.add(id(u))
                elif u.name == U._LOAD_FAST and u.imms[0] in P:
                    if id(u) in def_loads:
                        stacks[u.imms[0]].append(u.output)
                        pushed.append(u.imms[0])
                    else:
                        mapping[u.output] = top(u.imms[0], f"{label}:{i}")
                        remove.add(id(u))
            for t in b.uops[-1].targets:
                for x, _ in params_added.get(t.block, ()):
                    t.args.append(top(x, f"the edge {label} -> {t.block}"))
            return pushed

        entry = fn.entry.label
        stack: list[tuple[str, list[str] | None]] = [(entry, None)]
        while stack:
            label, pushed = stack.pop()
            if pushed is not None:  # leaving the subtree
                for x in pushed:
                    stacks[x].pop()
                continue
            pushed = visit(label)
            stack.append((label, pushed))
            for c in reversed(children[label]):
                stack.append((c, None))

        gone = []
        for b in fn.blocks:
            kept = []
            for u in b.uops:
                if id(u) in remove:
                    if u.output is not None:
                        gone.append(u.output)
                    continue
                kept.append(u)
            b.uops = kept
        flat = {k: resolve(k) for k in mapping}
        for b in fn.blocks:
            for u in b.uops:
                u.replace_uses(flat)
        forget_values(fn, gone)
        return flat, exit_added, len(remove)
