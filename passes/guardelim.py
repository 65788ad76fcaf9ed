"""guardelim: remove the guards whose type facts are already proven.

Why: after ``specialize`` every specialized uop sits behind guards, most of which
re-check facts the code already implies (see ``typeprop``).  A removed guard is a
stencil, a compare and a branch less per execution; in a loop that is most of the
guards executed.

What is proven, at a guard: the ``typefacts`` analysis (``typeprop``), which also
covers a guard dominated by an identical guard on the same value; or the value's
recorded fact ``fn.types`` (so ``%4:int`` annotations in .uop text suffice).
``_GUARD_BOTH_INT %a, %b`` with one side proven becomes the other side's
``_GUARD_NOS_INT %a`` / ``_GUARD_TOS_INT %b``.

Speculation where the frame enters.  Types proven inside a loop often rest on what
holds where the code is entered: the parameters (``gcd(a, b)``'s loop is all-int if
a and b are) and, when the function starts with an ``_ENTRY`` dispatcher, the tier-1
frame at an OSR loop header (which could hold an int that outgrew 64 bits, or a float
left by a side exit).  So the pass may assume types there -- for parameters, the one
type their unproven guards check; at an OSR header, the types the function entry
implies -- and make them true by guarding once where the frame enters (a block of
``_LOAD_FAST`` + guard exiting to the tier-1 block's first uop), instead of on every
iteration.  It keeps a parameter assumption only if it pays: guards proven, weighted
by ``8 ** loop depth``, against the guards added (an entry guard costs 1); an OSR
guard costs almost nothing, so every local live at the header is assumed there.
Where such entry guards already exited ``max_exits`` times (the profile's exit count
at the tier-1 block's index 0) it does not speculate again.
Exits must name tier-1 positions, so it speculates only at blocks known to be tier-1
blocks (the context's tier-1 function, or any block while the IR is still frame-based,
before ``promote``).  Options ``entry`` and ``osr`` switch the two off.
"""

from __future__ import annotations

import copy

from ir.attr_semantics import is_version_fact
from ir.cfg import natural_loops
from ir.core import Block, Exit, Function, Target, Uop
from ir.scope_semantics import SENT
from ir.uops import Flag, U

from .analysis import UNALLOCATED
from .base import Option, Pass, PassContext
from .dse import Tier1Liveness
from .suspend import SUSPENDS
from .typefacts import TOP, LocalInfo, concrete, join
from .typeprop import ENTRY, analyze, facts_of

GUARDABLE = ("int", "float", "bool", "list")   # types a single _GUARD_TOS_* checks


def guardable(t: str) -> bool:
    """A fact one guard on a frame local makes true: a built-in type, or a type version
    (``_GUARD_TYPE_VERSION``)."""
    return t in GUARDABLE or is_version_fact(t)
LOOP_WEIGHT = 8          # a block in a loop runs this many times more than outside
OSR_GUARD_COST = 0.05    # an OSR entry is rare: its guards cost next to nothing
# (a generator's resume point is entered once per yield: its guards cost as entry guards)


def _show(u: Uop) -> str:
    return u.name + (" " + ", ".join(f"%{v}" for v in u.inputs) if u.inputs else "")


class GuardElim(Pass):
    name = "guardelim"
    description = "remove guards whose facts are proven (typeprop / %v:type); guard OSR entries once"
    options = {
        "osr": Option(bool, True, "assume entry-implied types at OSR loop headers and guard "
                                  "them once on the OSR edge"),
        "entry": Option(bool, True, "guard parameters once at the function entry when that "
                                    "proves guards inside loops"),
        "max_exits": Option(int, 8, "do not speculate where such entry guards already "
                                    "exited this often"),
    }
    requires = (UNALLOCATED,)
    preserves = ("cfg", "dominators", "loops")

    def run(self, fn: Function, ctx: PassContext) -> bool:
        changed = False
        if (self.opts["osr"] or self.opts["entry"]) and self.speculate(fn, ctx):
            changed = True
            ctx.invalidate(fn)  # new blocks: nothing cached holds
        facts = facts_of(fn, ctx)
        if changed:  # the OSR guards made more facts true: record them as typeprop would
            fn.types.update({v: t for v, t in sorted(facts.values.items()) if concrete(t)})
        for b in fn.blocks:
            new: list[Uop] = []
            for i, u in enumerate(b.uops):
                d = u.defn
                if not d.has(Flag.GUARD) or d.proven_type(u.imms) is None:  # _EXIT_COLD stays
                    new.append(u)
                    continue
                replacement = self.decide(fn, b, i, u, facts, ctx)
                if replacement is None:
                    new.append(u)
                else:
                    new.extend(replacement)
                    changed = True
            b.uops = new
        return changed

    # -- one guard ------------------------------------------------------------

    def decide(self, fn: Function, b: Block, i: int, u: Uop, facts, ctx: PassContext):
        """None to keep ``u``; else the uops replacing it (possibly none)."""
        gt = u.defn.proven_type(u.imms)
        gf = facts.guards.get((b.label, i))
        explain = ctx.explain is not None   # the justification texts cost time: only then
        proven: list[str | None] = []   # per input: justification (or "" unexplained), or None
        for k, v in enumerate(u.inputs):
            why = None
            if gf is not None and gf.inputs[k].proven:
                why = f"%{v}:{gt} ({gf.inputs[k].reason})" if explain else ""
            elif fn.types.get(v) == gt:
                why = f"%{v}:{gt} (recorded fact)" if explain else ""
            proven.append(why)
        where = f"@{fn.name} {b.label}:{i} {_show(u)}"
        if all(p is not None for p in proven):
            if not ctx.allow(f"remove {u.name} at {b.label}:{i}"):
                return None
            ctx.note(f"guardelim: {where} removed: " + ", ".join(dict.fromkeys(proven)))
            return []
        if len(u.inputs) == 2:
            a, c = u.inputs
            keep = None
            if proven[0] is not None and proven[1] is None:
                keep = ("TOS", c, proven[0])
            elif proven[1] is not None and proven[0] is None:
                keep = ("NOS", a, proven[1])
            elif a == c:
                keep = ("TOS", a, "both operands are the same value")
            if keep is not None:
                pos, v, why = keep
                name = f"_GUARD_{pos}_{gt.upper()}"
                if not ctx.allow(f"narrow {u.name} at {b.label}:{i} to {name}"):
                    return None
                ctx.note(f"guardelim: {where} -> {name} %{v}: {why}")
                return [Uop(name, [v], None, (), [], u.exit, u.line)]
        return None

    # -- speculation: guard once where the frame enters -----------------------

    def speculate(self, fn: Function, ctx: PassContext) -> bool:
        """Guard parameters at the function entry and locals at OSR entries, when the
        types assumed there prove enough guards inside (weighted by loop depth)."""
        if not fn.entry.uops:
            return False
        term = fn.entry.uops[-1]
        dispatcher = term.name == U._ENTRY
        prof = ctx.profile
        max_exits = self.opts["max_exits"]

        def exhausted(label: str) -> bool:
            n = prof.exits.get((fn.name, label, 0), 0) if prof is not None else 0
            if n >= max_exits:
                ctx.note(f"guardelim: @{fn.name} no speculation at {label}: its entry "
                         f"guards exited {n} times")
            return n >= max_exits

        base_facts = facts_of(fn, ctx)
        weights = block_weights(fn, ctx)
        cands: dict[str, dict[str, str]] = {}
        entry_label = term.targets[0].block if dispatcher else fn.entry.label
        resumable = _tier1_labels(fn, ctx)
        if self.opts["entry"] and fn.params and not _is_guard_block(fn.block(entry_label)) \
                and entry_label in resumable and not exhausted(entry_label):
            wanted: dict[str, set[str]] = {}
            for g in base_facts.guards.values():
                for gi in g.inputs:
                    if not gi.proven:
                        for name in gi.locals:
                            if name in fn.params:
                                wanted.setdefault(name, set()).add(g.guard_type)
            entry = {p: next(iter(wanted[p])) for p in fn.params
                     if len(wanted.get(p, ())) == 1 and guardable(next(iter(wanted[p])))}
            if entry:
                cands[ENTRY] = entry
        if self.opts["osr"] and dispatcher and len(term.targets) > 1:
            alone = analyze(fn, osr="ignore", assume=cands, analyses=ctx.analyses)
            for t in term.targets[1:]:
                label = t.block
                if label in cands or fn.block(label).params or label not in resumable:
                    continue
                state = _entered_state(fn, alone, label)
                if state is None or exhausted(label):
                    continue
                assume = {n: state[n].type for n in fn.locals
                          if guardable(state[n].type) and not state[n].maybe_unbound}
                if assume:
                    cands[label] = assume
        if not cands:
            return False
        # A local dead where it is assumed (stored before any load on every path)
        # can prove nothing: it gets no guard.
        live = Tier1Liveness(fn)
        for point in list(cands):
            where = entry_label if point == ENTRY else point
            keep = live.live_at(where, 0)
            cands[point] = {n: t for n, t in cands[point].items() if n in keep}
            if not cands[point]:
                del cands[point]
        if not cands:
            return False

        resumes = {u.exit.block for _, _, u in fn.uops() if u.name in SUSPENDS}

        def net(assumptions) -> float:
            facts = analyze(fn, assume=assumptions, analyses=ctx.analyses)
            cost = sum((1.0 if point == ENTRY or point in resumes else OSR_GUARD_COST)
                       * len(locs) for point, locs in assumptions.items())
            return saving(facts, weights) - cost

        base = saving(base_facts, weights)
        best = net(cands)
        if best <= base:
            return False
        # Keep only the parameter assumptions that pay, one typeprop run each.  An OSR
        # guard costs next to nothing, so a live local assumed there is kept untried:
        # measured over the project's programs, 94% of those trials kept the local
        # anyway, and they were 85% of all trials (compile time of every tier-up).
        for point in [ENTRY] if ENTRY in cands else []:
            for name in list(cands[point]):
                trial = {k: dict(v) for k, v in cands.items()}
                del trial[point][name]
                score = net(trial)
                if score >= best:
                    cands, best = trial, score
        changed = False
        if cands.get(ENTRY):
            changed |= self.insert_guards(fn, ctx, ENTRY, entry_label, cands[ENTRY],
                                          term.targets[0] if dispatcher else None)
        for t in (term.targets[1:] if dispatcher else []):
            if cands.get(t.block):
                header = t.block
                changed |= self.insert_guards(fn, ctx, header, header, cands.pop(header), t)
        return changed

    def insert_guards(self, fn: Function, ctx: PassContext, point: str, resume: str,
                      assume: dict[str, str], target: Target | None) -> bool:
        """A block that loads and guards ``assume`` then jumps to ``resume``; the
        ``_ENTRY`` ``target`` (or, without one, the function entry) now leads to it."""
        text = ", ".join(f"{n}:{ty}" for n, ty in assume.items())
        resumes = {u.exit.block for _, _, u in fn.uops() if u.name in SUSPENDS}
        where = ("entry" if point == ENTRY else f"resume point {resume}" if resume in resumes
                 else f"OSR entry to {resume}")
        if not ctx.allow(f"guard {where} on {text}"):
            return False
        label = fn.new_label("osr" if point != ENTRY else "pre")
        line = fn.block(resume).uops[0].line
        uops: list[Uop] = []
        for name, ty in assume.items():
            v = fn.new_value()
            uops.append(Uop(U._LOAD_FAST, [], v, (name,), line=line))
            guard, imms = ((U._GUARD_TYPE_VERSION, (int(ty.split(":")[1]),))
                           if is_version_fact(ty) else (f"_GUARD_TOS_{ty.upper()}", ()))
            uops.append(Uop(guard, [v], None, imms, [], Exit(resume, 0, [], []), line))
        uops.append(Uop(U._JUMP, targets=[Target(resume)], line=line))
        block = Block(label, uops)
        if target is not None:
            fn.blocks.insert(fn.blocks.index(fn.block(resume)), block)
            target.block = label
        else:
            fn.blocks.insert(0, block)
        ctx.note(f"guardelim: @{fn.name} {where} guarded once in {label}: {text}")
        return True


def _entered_state(fn: Function, facts, label: str) -> dict | None:
    """The locals where ``label`` is entered (None: never, as far as ``facts`` know):
    its state from the function entry, joined, where a generator resumes there, with
    the frame each yield that resumes at ``label`` saved (its block's entry state and
    its stores; ``$sent`` is what the driver writes)."""
    states = [facts.locals_in[label]] if label in facts.locals_in else []
    for b in fn.blocks:
        u = b.uops[-1] if b.uops else None
        if u is None or u.name not in SUSPENDS or u.exit.block != label \
                or b.label not in facts.locals_in:
            continue
        state = dict(facts.locals_in[b.label])
        for x in b.uops:
            if x.name == U._STORE_FAST:
                state[x.imms[0]] = LocalInfo(facts.values.get(x.inputs[0], TOP), False,
                                             frozenset())
        state[SENT] = LocalInfo(TOP, True, frozenset())
        states.append(state)
    if not states:
        return None
    out = dict(states[0])
    for other in states[1:]:
        for n, a in out.items():
            b = other[n]
            out[n] = LocalInfo(join(a.type, b.type), a.maybe_unbound or b.maybe_unbound,
                               a.sources | b.sources)
    return out


def _tier1_labels(fn: Function, ctx: PassContext) -> set[str]:
    """Blocks a side exit may resume at (their index 0 is their tier-1 index 0).

    The tier-1 function's blocks when the context has it (the runtime optimizes a
    copy); otherwise, while the IR is still frame-based (before ``promote``: no block
    parameters), every block but the dispatcher and the guard blocks made here."""
    t1 = None
    if ctx.module is not None:
        try:
            t1 = ctx.module.function(fn.name)
        except KeyError:
            t1 = None
    if t1 is not None and t1 is not fn:
        return {b.label for b in t1.blocks}
    if any(b.params for b in fn.blocks) or any(u.name == U._COPY for _, _, u in fn.uops()):
        return set()
    return {b.label for b in fn.blocks
            if not _is_guard_block(b) and not (b.uops and b.uops[-1].name == U._ENTRY)}


def _is_guard_block(b: Block) -> bool:
    """A block ``speculate`` made: loads and guards, then a jump."""
    return len(b.uops) > 1 and all(u.name == U._LOAD_FAST or u.defn.is_guard
                                   for u in b.uops[:-1]) and b.uops[-1].name == U._JUMP


def block_weights(fn: Function, ctx: PassContext | None = None) -> dict[str, float]:
    """How often a block runs, roughly: 8 ** loop depth (OSR edges left out).  The
    loops of ``fn`` itself come from ``ctx``'s analyses when it has no OSR edges."""
    g = fn
    term = fn.entry.uops[-1] if fn.entry.uops else None
    if term is not None and term.name == U._ENTRY:
        # the same CFG without the OSR edges: only the entry block is copied (a deep
        # copy of the function cost more than the whole rest of the pass); a generator's
        # yield counts as the edge to where it resumes, so its tier-1 loops are loops
        cut = copy.copy(term)
        cut.targets = term.targets[:1]
        entry = Block(fn.entry.label, fn.entry.uops[:-1] + [cut], fn.entry.params,
                      fn.entry.handler)
        rest = [b if b.uops[-1].name not in SUSPENDS else
                Block(b.label, b.uops[:-1] + [_jump(b.uops[-1].exit.block)], b.params,
                      b.handler)
                for b in fn.blocks[1:]]
        g = Function(fn.name, fn.params, fn.locals, [entry] + rest, line=fn.line)
    depth: dict[str, int] = {}
    loops = ctx.get("loops", fn) if g is fn and ctx is not None else natural_loops(g)
    for loop in loops:
        for label in loop.blocks:
            depth[label] = depth.get(label, 0) + 1
    return {b.label: float(LOOP_WEIGHT ** depth.get(b.label, 0)) for b in fn.blocks}


def _jump(label: str) -> Uop:
    return Uop(U._JUMP, targets=[Target(label)])


def saving(facts, weights: dict[str, float]) -> float:
    """Weighted guard executions the facts make unnecessary (half for a narrowed
    _GUARD_BOTH_*)."""
    total = 0.0
    for (label, _), g in facts.guards.items():
        proven = sum(1 for i in g.inputs if i.proven)
        if proven == len(g.inputs):
            total += weights.get(label, 1.0)
        elif proven:
            total += 0.5 * weights.get(label, 1.0)
    return total
