"""promote's cleanup: trivial and dead block parameters removed (Braun et al.), and type
facts for the parameters that remain, so the JIT keeps them unboxed.

Split from promote (a mixin of `Promote`).
"""

from __future__ import annotations

from ir.core import Function, Target

from .dce import forget_values
from .typefacts import BOTTOM, TOP, concrete, join


class PromoteCleanup:
    """`Promote`'s last steps, after renaming."""

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
    def _param_types(fn: Function, added: set[int], idom: dict[str, str]) -> None:
        """Type facts for the new parameters, so the JIT keeps them unboxed.

        A parameter has the join of what is proven about its arguments on each
        incoming edge: the argument's recorded fact (``fn.types``), or the type of a
        guard on it that dominates the edge (``%1 = _LOAD_FAST n; _GUARD_TOS_INT %1``
        then a jump: ``%1`` is an int there, although its definition is untyped).
        Parameters feeding parameters (loops) are solved as an optimistic fixed point:
        they start at bottom and only rise, so a loop-carried int stays an int; every
        fact joined was proven, so the result is sound.  No fact, no type."""
        inc = PromoteCleanup._incoming(fn)
        new = [(b, k, p) for b in fn.blocks for k, p in enumerate(b.params)
               if p in added and p not in fn.types]
        if not new:
            return
        defined: dict[int, str] = {}
        guarded: dict[int, list[tuple[str, str]]] = {}   # value -> [(block, type)]
        for b in fn.blocks:
            for p in b.params:
                defined[p] = b.label
            for u in b.uops:
                if u.output is not None:
                    defined[u.output] = b.label
                gt = u.defn.guard_type
                if gt is not None:
                    for v in u.inputs:
                        guarded.setdefault(v, []).append((b.label, gt))
        source = {id(t): b.label for b in fn.blocks for t in b.uops[-1].targets}

        def guard_type(v: int, at: str) -> str | None:
            """The type a guard on ``v`` proves at the end of block ``at``."""
            gs = guarded.get(v)
            if not gs:
                return None
            where = dict(gs)   # block -> type (a block guarding v twice: one type)
            top = defined.get(v)
            label = at
            while True:         # up the dominator tree, no further than v's definition
                if label in where:
                    return where[label]
                parent = idom.get(label)
                if label == top or parent is None or parent == label:
                    return None
                label = parent

        current = {p: BOTTOM for _, _, p in new}
        edge_facts: dict[tuple[int, int], str] = {}   # (target id, k) -> argument fact
        for b, k, p in new:
            for t in inc[b.label]:
                a = t.args[k]
                if a not in current:
                    fact = fn.types.get(a) or guard_type(a, source[id(t)])
                    edge_facts[(id(t), k)] = fact if concrete(fact) else TOP
        changed = True
        while changed:
            changed = False
            for b, k, p in new:
                t_p = BOTTOM
                for t in inc[b.label]:
                    a = t.args[k]
                    t_p = join(t_p, current[a] if a in current else edge_facts[(id(t), k)])
                if t_p != current[p]:
                    current[p] = t_p
                    changed = True
        for _, _, p in new:
            if concrete(current[p]):
                fn.types[p] = current[p]
