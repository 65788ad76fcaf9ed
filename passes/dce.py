"""Dead-code elimination: unreachable blocks, unused pure uops, unused block parameters.

Why: specialization, folding and promotion leave behind work nobody reads — loads
whose value was forwarded, constants whose only user was folded, block parameters
that carry a loop-carried value nobody uses.  Every uop left in costs a stencil in
compiled code.

How: mark and sweep (Cytron et al.'s "aggressive" DCE restricted to data flow).
Roots are the uops that are not removable; a removable uop (``Flag.PURE``, no guard,
no escape, not a terminator) or block parameter is live only if a live uop uses
its value (inputs and side-exit values count, ``Uop.uses``), and the argument an
edge passes is live only if the parameter receiving it is live.  So dead cycles
(a loop-carried value only feeding itself) go too, in one sweep: the fixed point
of "remove what is unused, repeat".  A pure *checked* uop (``_BINARY_OP_ADD_INT``)
may go when unused: dropping it can only drop an overflow exit, never change results;
one whose exit is where tier 1 raises (``Flag.EXIT_MAY_RAISE``: ``x // 0``, an index
out of range) stays.
Guards, stores, calls and anything that escapes stay.

Blocks no longer reachable from the entry (or from an ``_ENTRY`` dispatcher's
targets, which the runtime enters directly) are removed first.
"""

from __future__ import annotations

from ir.core import Function
from ir.uops import Flag, U

from .base import Pass, PassContext


def entry_roots(fn: Function) -> list[str]:
    """Labels the runtime may enter: the entry block and every ``_ENTRY`` target."""
    roots = [fn.entry.label]
    for b in fn.blocks:
        for u in b.uops:
            if u.name == U._ENTRY:
                roots.extend(t.block for t in u.targets)
    return roots


def reachable_labels(fn: Function) -> set[str]:
    succ = {b.label: b.successors() for b in fn.blocks}
    seen: set[str] = set()
    work = [r for r in entry_roots(fn) if r in succ]
    while work:
        label = work.pop()
        if label in seen:
            continue
        seen.add(label)
        work.extend(s for s in succ[label] if s in succ and s not in seen)
    return seen


def forget_values(fn: Function, values) -> None:
    """Drop the side-table facts of values that no longer exist."""
    for v in values:
        fn.types.pop(v, None)
        fn.locs.pop(v, None)


def remove_unreachable(fn: Function, ctx: PassContext, who: str = "dce") -> bool:
    """Remove blocks not reachable from the entry or an ``_ENTRY`` target (and,
    when it did, the cached analyses of ``fn``: the caller's pass may ask again)."""
    live = reachable_labels(fn)
    keep = []
    changed = False
    for b in fn.blocks:
        if b.label in live or b is fn.entry:
            keep.append(b)
            continue
        if not ctx.allow(f"remove unreachable block {b.label}"):
            keep.append(b)
            continue
        ctx.note(f"{who}: @{fn.name}: removed unreachable block {b.label}")
        forget_values(fn, b.params)
        forget_values(fn, [u.output for u in b.uops if u.output is not None])
        changed = True
    fn.blocks = keep
    if changed:
        ctx.invalidate(fn)
    return changed


def removable(u) -> bool:
    d = u.defn
    return (d.has(Flag.PURE) and not d.has(Flag.GUARD) and not d.has(Flag.ESCAPES)
            and not d.has(Flag.EXIT_MAY_RAISE) and not d.is_terminator)


def _mark(fn: Function, forced_uops: set[int] = frozenset(),
          forced_params: set[int] = frozenset()) -> tuple[set[int], set[tuple[str, int]]]:
    """Live uops (by ``id``) and live block parameters (label, position).

    ``forced_uops`` (ids) and ``forced_params`` (values) are live whatever their uses.
    """
    defs_uop: dict[int, object] = {}
    defs_param: dict[int, tuple[str, int]] = {}
    for b in fn.blocks:
        for i, p in enumerate(b.params):
            defs_param[p] = (b.label, i)
        for u in b.uops:
            if u.output is not None:
                defs_uop[u.output] = u
    # Incoming arguments of each (block, param position).
    incoming: dict[tuple[str, int], list[int]] = {}
    for b in fn.blocks:
        for u in b.uops:
            for t in u.targets:
                for i, a in enumerate(t.args):
                    incoming.setdefault((t.block, i), []).append(a)

    live_uops: set[int] = set()
    live_params: set[tuple[str, int]] = set()
    live_vals: set[int] = set()
    work: list[int] = []

    def use(v: int) -> None:
        if v not in live_vals:
            live_vals.add(v)
            work.append(v)

    def root(u) -> None:
        live_uops.add(id(u))
        for v in u.inputs:
            use(v)
        if u.exit is not None:
            for _, v in u.exit.values:
                use(v)
            for _, v in u.exit.locals:
                use(v)

    for b in fn.blocks:
        for u in b.uops:
            if not removable(u) or id(u) in forced_uops:
                root(u)
        for p in b.params:
            if p in forced_params:
                use(p)
    while work:
        v = work.pop()
        u = defs_uop.get(v)
        if u is not None:
            if id(u) not in live_uops:
                root(u)
            continue
        key = defs_param.get(v)
        if key is not None and key not in live_params:
            live_params.add(key)
            for a in incoming.get(key, ()):
                use(a)
    return live_uops, live_params


class DCE(Pass):
    name = "dce"
    description = "remove unreachable blocks, unused pure uops and unused block parameters"
    preserves = ()

    def run(self, fn: Function, ctx: PassContext) -> bool:
        changed = remove_unreachable(fn, ctx)
        live_uops, live_params = _mark(fn)
        # Ask for each removal in layout order; what is refused stays, and so does
        # everything it uses (a second marking with the refused items as roots).
        refused_uops: set[int] = set()
        refused_params: set[int] = set()
        asked = False
        handlers = {b.handler for b in fn.blocks if b.handler is not None}
        for b in fn.blocks:
            if b.label in handlers:   # the exception comes in on the handler edge
                refused_params.update(b.params)
                continue
            for i, p in enumerate(b.params):
                if (b.label, i) not in live_params:
                    asked = True
                    if not ctx.allow(f"remove unused parameter %{p} of {b.label}"):
                        refused_params.add(p)
            for i, u in enumerate(b.uops):
                if removable(u) and id(u) not in live_uops:
                    asked = True
                    if not ctx.allow(f"remove unused {u.name} in {b.label}:{i}"):
                        refused_uops.add(id(u))
        if not asked:
            return changed
        if refused_uops or refused_params:
            live_uops, live_params = _mark(fn, refused_uops, refused_params)
        gone: list[int] = []
        for b in fn.blocks:
            keep_pos = [i for i in range(len(b.params)) if (b.label, i) in live_params]
            if len(keep_pos) != len(b.params):
                dead = [p for i, p in enumerate(b.params) if i not in keep_pos]
                ctx.note(f"dce: @{fn.name}: {b.label} drops unused parameter(s) "
                         + ", ".join(f"%{p}" for p in dead))
                gone.extend(dead)
                b.params = [b.params[i] for i in keep_pos]
                for pb in fn.blocks:
                    for u in pb.uops:
                        for t in u.targets:
                            if t.block == b.label:
                                t.args = [t.args[i] for i in keep_pos]
                changed = True
        for b in fn.blocks:
            kept = []
            for u in b.uops:
                if removable(u) and id(u) not in live_uops:
                    if u.output is not None:
                        gone.append(u.output)
                    changed = True
                    continue
                kept.append(u)
            if len(kept) != len(b.uops):
                ctx.note(f"dce: @{fn.name}: {b.label}: removed {len(b.uops) - len(kept)} "
                         f"unused uop(s)")
            b.uops = kept
        forget_values(fn, gone)
        return changed
