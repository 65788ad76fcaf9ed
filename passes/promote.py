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
  read) are promoted.
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

from ir.cfg import dominators, predecessors, reverse_postorder
from ir.core import Block, Function, Target, Uop

from .base import Pass, PassContext, PassError
from .dce import forget_values, reachable_labels, remove_unreachable
from .dse import LOADS, Tier1Liveness, add_exit_local


def dominance_frontiers(fn: Function, idom: dict[str, str]) -> dict[str, set[str]]:
    """Cooper, Harvey & Kennedy's frontier computation over reachable blocks."""
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


class Promote(Pass):
    name = "promote"
    description = "promote frame locals to SSA values carried in block parameters"
    preserves = ()

    def run(self, fn: Function, ctx: PassContext) -> bool:
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
        disp = fn.entry if fn.entry.uops[-1].name == "_ENTRY" else None
        if disp is not None:
            cands -= {u.imms[0] for u in disp.uops if u.name in LOADS + ("_STORE_FAST",)}
        tier1 = Tier1Liveness.find(fn, ctx)
        need = self._exit_needs(fn, cands, disp, tier1, ctx)
        live_in = self._liveness(fn, cands, need)

        # A promoted local live where the function starts must be a parameter.
        first = disp.uops[-1].targets[0].block if disp is not None else fn.entry.label
        cands -= {x for x in live_in[first] if x not in fn.params}
        promoted = [x for x in sorted(cands, key=order.__getitem__)
                    if ctx.allow(f"promote local {x} to SSA values")]
        if not promoted:
            return changed
        P = set(promoted)
        for u, xs in need.items():
            need[u] = [x for x in xs if x in P]

        self._created = False
        def_loads, entry_vals = self._entry_points(fn, P, disp, live_in, need, order)
        idom = dominators(fn)
        df = dominance_frontiers(fn, idom)
        blocks = fn.block_map()

        # Where each local is defined: its stores and its entry loads.
        def_blocks: dict[str, set[str]] = {x: set() for x in P}
        for b in fn.blocks:
            for u in b.uops:
                if (u.name == "_STORE_FAST" or id(u) in def_loads) and u.imms[0] in P:
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
        self._param_types(fn, added)
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
                if u.name in ("_LOAD_FAST", "_STORE_FAST"):
                    touched.add(u.imms[0])
                elif u.name == "_LOAD_FAST_CHECK":
                    checked.add(u.imms[0])
        return touched - checked

    @staticmethod
    def _assigned(fn: Function, disp: Block | None) -> dict[str, frozenset[str]]:
        """Definitely assigned locals at each block's start (must, forward).  Entering
        an ``_ENTRY`` target other than the first, the frame's state is tier 1's there,
        so that edge constrains nothing."""
        everything = frozenset(fn.locals)
        order = reverse_postorder(fn)
        preds = predecessors(fn)
        blocks = fn.block_map()

        def through(label: str, state: frozenset[str]) -> frozenset[str]:
            cur = set(state)
            for u in blocks[label].uops:
                if u.name == "_STORE_FAST" or u.name in LOADS:
                    cur.add(u.imms[0])
            return frozenset(cur)

        ins = {label: everything for label in order}
        outs = {label: everything for label in order}
        changed = True
        while changed:
            changed = False
            for label in order:
                acc = frozenset(fn.params) if label == order[0] else everything
                for p in preds[label]:
                    if p not in outs:
                        continue
                    if disp is not None and p == disp.label:
                        # Only the first target is entered with just the parameters.
                        for i, t in enumerate(disp.uops[-1].targets):
                            if t.block == label and i == 0:
                                acc = acc & outs[p]
                    else:
                        acc = acc & outs[p]
                ins[label] = acc
                new = through(label, ins[label])
                if new != outs[label]:
                    outs[label] = new
                    changed = True
        return ins

    def _exit_needs(self, fn: Function, cands: set[str], disp: Block | None,
                    tier1: Tier1Liveness | None, ctx: PassContext) -> dict[int, list[str]]:
        """For each uop with a side exit (by id): the candidates it must be told about."""
        assigned = self._assigned(fn, disp)
        need: dict[int, list[str]] = {}
        unsafe: set[str] = set()
        for b in fn.blocks:
            if b.label not in assigned:
                continue
            cur = set(assigned[b.label])
            for u in b.uops:
                if u.exit is not None:
                    listed = {k for k, _ in u.exit.locals}
                    live = tier1.live_at(u.exit.block, u.exit.index) if tier1 else None
                    xs = []
                    for x in fn.locals:
                        if x not in cands or x in listed or (live is not None and x not in live):
                            continue
                        if x not in cur:
                            if live is not None:
                                # Tier 1 would read it, yet no value is sure to reach
                                # here: only the frame can say, so x stays there.
                                ctx.note(f"promote: @{fn.name}: {x} is live at the exit of "
                                         f"{b.label}:{b.uops.index(u)} but not surely "
                                         f"assigned; not promoted")
                                unsafe.add(x)
                            continue
                        xs.append(x)
                    need[id(u)] = xs
                if u.name == "_STORE_FAST" or u.name in LOADS:
                    cur.add(u.imms[0])
        cands -= unsafe
        return need

    @staticmethod
    def _liveness(fn: Function, cands: set[str], need: dict[int, list[str]]
                  ) -> dict[str, frozenset[str]]:
        """Candidates live at each block's start: read by a load or needed by an exit
        before being stored."""
        blocks = fn.block_map()
        succ = {b.label: b.successors() for b in fn.blocks}
        order = list(reversed(reverse_postorder(fn)))
        live_in: dict[str, frozenset[str]] = {b.label: frozenset() for b in fn.blocks}
        changed = True
        while changed:
            changed = False
            for label in order:
                cur: set[str] = set()
                for s in succ[label]:
                    cur |= live_in.get(s, frozenset())
                for u in reversed(blocks[label].uops):
                    x = u.imms[0] if u.name in LOADS or u.name == "_STORE_FAST" else None
                    if u.name == "_STORE_FAST":
                        cur.discard(x)
                    elif u.name == "_LOAD_FAST" and x in cands:
                        cur.add(x)
                    if u.exit is not None:
                        cur.update(need.get(id(u), ()))
                new = frozenset(cur)
                if new != live_in[label]:
                    live_in[label] = new
                    changed = True
        return live_in

    # -- entry points -------------------------------------------------------------

    def _entry_points(self, fn: Function, P: set[str], disp: Block | None,
                      live_in: dict[str, frozenset[str]], need: dict[int, list[str]],
                      order: dict[str, int]) -> tuple[set[int], dict[int, str]]:
        """Make the frame loads that define promoted locals where code is entered.

        Returns the ids of those loads, and each value they define with its local."""
        def_loads: set[int] = set()
        entry_vals: dict[int, str] = {}
        preds = predecessors(fn)

        def fresh_load(x: str, line) -> Uop:
            self._created = True
            u = Uop("_LOAD_FAST", [], fn.new_value(), (x,), line=line)
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
                    if x in need.get(id(u), ()) or (u.name == "_STORE_FAST"
                                                     and u.imms[0] == x):
                        break
                    if u.name == "_LOAD_FAST" and u.imms[0] == x:
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
                nb = Block(fn.new_label("bb"), [Uop("_JUMP", [], None, (), [Target(old.label)],
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
                       + [Uop("_JUMP", [], None, (), [Target(t.block, list(t.args))], line=line)])
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
                for x in need.get(id(u), ()) if u.exit is not None else ():
                    v = top(x, f"the exit of {label}:{i}")
                    if entry_vals.get(v) != x:
                        add_exit_local(fn, u, x, v)
                        exit_added.add((id(u), x))
                if u.name == "_STORE_FAST" and u.imms[0] in P:
                    stacks[u.imms[0]].append(resolve(u.inputs[0]))
                    pushed.append(u.imms[0])
                    remove.add(id(u))
                elif u.name == "_LOAD_FAST" and u.imms[0] in P:
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

    # -- cleanup ----------------------------------------------------------------------

    @staticmethod
    def _incoming(fn: Function) -> dict[str, list[Target]]:
        inc: dict[str, list[Target]] = {b.label: [] for b in fn.blocks}
        for b in fn.blocks:
            for t in b.uops[-1].targets:
                inc[t.block].append(t)
        return inc

    def _prune(self, fn: Function, added: set[int], mapping: dict[int, int],
               exit_added: set[tuple[int, str]], entry_vals: dict[int, str],
               param_locals: dict[int, str]) -> None:
        # Trivial parameters: every argument is the parameter itself or one value w.
        while True:
            inc = self._incoming(fn)
            repl: dict[int, int] = {}
            for b in fn.blocks:
                keep = []
                for k, p in enumerate(b.params):
                    if p in added:
                        others = {t.args[k] for t in inc[b.label]} - {p}
                        if len(others) == 1:
                            repl[p] = others.pop()
                            continue
                    keep.append(k)
                if len(keep) != len(b.params):
                    b.params = [b.params[k] for k in keep]
                    for t in inc[b.label]:
                        t.args = [t.args[k] for k in keep]
            if not repl:
                break

            def resolve(v: int) -> int:
                while v in repl:
                    v = repl[v]
                return v
            flat = {k: resolve(k) for k in repl}
            for b in fn.blocks:
                for u in b.uops:
                    u.replace_uses(flat)
            forget_values(fn, flat)
        # An exit entry naming a value the frame still holds is redundant: promoted
        # locals are never stored, so the frame keeps what an entry block loaded, and
        # so does a parameter that only ever merges such values (a read-only local
        # entered through several entries).  Greatest fixed point over the loops.
        inc = self._incoming(fn)
        frame_equal = dict(entry_vals)   # value -> the local whose frame slot holds it
        for b in fn.blocks:
            for k, p in enumerate(b.params):
                x = param_locals.get(p)
                if x is not None:
                    frame_equal[p] = x
        shrinking = True
        while shrinking:
            shrinking = False
            for b in fn.blocks:
                for k, p in enumerate(b.params):
                    x = frame_equal.get(p)
                    if x is None or p in entry_vals:
                        continue
                    if any(t.args[k] != p and frame_equal.get(t.args[k]) != x
                           for t in inc[b.label]):
                        del frame_equal[p]
                        shrinking = True
        for b in fn.blocks:
            for u in b.uops:
                if u.exit is not None and u.exit.locals:
                    u.exit.locals = [(x, v) for x, v in u.exit.locals
                                     if not ((id(u), x) in exit_added
                                             and frame_equal.get(v) == x)]

        # Dead parameters: used only as arguments of dead parameters.
        inc = self._incoming(fn)
        pos = {p: (b.label, k) for b in fn.blocks for k, p in enumerate(b.params)}
        used: set[int] = set()
        work = []
        for b in fn.blocks:
            for u in b.uops:
                vs = list(u.inputs)
                if u.exit is not None:
                    vs += [v for _, v in u.exit.values] + [v for _, v in u.exit.locals]
                for v in vs:
                    if v not in used:
                        used.add(v)
                        work.append(v)
            for p in b.params:
                if p not in added and p not in used:
                    used.add(p)
                    work.append(p)
        while work:
            v = work.pop()
            if v in pos:
                label, k = pos[v]
                for t in inc[label]:
                    a = t.args[k]
                    if a not in used:
                        used.add(a)
                        work.append(a)
        dead = {p for p in pos if p in added and p not in used}
        for b in fn.blocks:
            keep = [k for k, p in enumerate(b.params) if p not in dead]
            if len(keep) != len(b.params):
                b.params = [b.params[k] for k in keep]
                for t in inc[b.label]:
                    t.args = [t.args[k] for k in keep]
        forget_values(fn, dead)

    @staticmethod
    def _param_types(fn: Function, added: set[int]) -> None:
        """A parameter whose arguments all have one type fact has it too."""
        inc = Promote._incoming(fn)
        changed = True
        while changed:
            changed = False
            for b in fn.blocks:
                for k, p in enumerate(b.params):
                    if p not in added or p in fn.types:
                        continue
                    facts = {fn.types.get(t.args[k]) for t in inc[b.label] if t.args[k] != p}
                    if len(facts) == 1 and None not in facts:
                        fn.types[p] = facts.pop()
                        changed = True
