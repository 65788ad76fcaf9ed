"""specialize: generic uops -> guarded specialized uops, from the tier-1 type profile.

Why: a generic ``_BINARY_OP +`` runs arbitrary Python; if tier 1 only ever saw two
ints there, CPython's tier 2 replaces it by ``_GUARD_BOTH_INT`` and the unboxed
``_BINARY_OP_ADD_INT``, and so do we.  Each guard and each checked specialized uop
gets a side exit that re-executes the generic uop in tier 1 with exact objects.

Where a site has a profile entry, the profile decides (one operand-type tuple:
specialize; several: stay generic; a site whose guards already exited
``max_exits`` times stays generic too).  Without a profile entry, static facts
decide: ``fn.types`` of the operands (``%1:int`` in .uop text), constants, and what
the uops this pass already put in the block establish (results, guarded values).

MUST RUN FIRST, on an exact copy of the tier-1 IR: a uop's (block, index) is then
its tier-1 position, which is what exits name.  Blocks that already carry guards
or exits (already optimized) are left as they are, and so are uops that are
already specialized.
"""

from __future__ import annotations

from ir.core import Block, Exit, Function, Uop
from ir.printer import format_imm
from ir.uops import COMPARISONS, UOPS, Flag, U, When, base_binop, family, guard_name  # noqa: F401

from .analysis import UNALLOCATED
from .base import Option, Pass, PassContext
from .typefacts import const_type


CONSTANT_GLOBAL_TYPES = (int, float, bool, str, type(None))


class _Rewriter:
    """Builds the replacement uops of one generic uop at tier-1 (label, index)."""

    def __init__(self, fn: Function, label: str, index: int, exit_values: list[int],
                 line: int | None):
        self.fn, self.label, self.index = fn, label, index
        self.exit_values = exit_values
        self.line = line
        self.uops: list[Uop] = []

    def exit(self) -> Exit:
        return Exit(self.label, self.index, [(v, v) for v in self.exit_values], [])

    def emit(self, name: str, inputs: list[int], output: int | None = None,
             imms: tuple = ()) -> int | None:
        u = Uop(name, list(inputs), output, imms, line=self.line)
        if u.defn.can_exit:
            u.exit = self.exit()
        self.uops.append(u)
        return output

    def guard(self, pos: str, t: str, v: int) -> None:
        self.emit(guard_name(pos, t), [v])

    def guard_pair(self, t: str, a: int, b: int) -> None:
        """Both operands of a binary uop have type ``t``."""
        if a == b:
            self.guard("TOS", t, a)
        elif f"_GUARD_BOTH_{t.upper()}" in UOPS:
            self.emit(guard_name("BOTH", t), [a, b])
        else:
            self.guard("NOS", t, a)
            self.guard("TOS", t, b)

    def to_float(self, v: int) -> int:
        return self.emit(U._INT_TO_FLOAT, [v], self.fn.new_value())

    def floats(self, ta: str, tb: str, a: int, b: int) -> tuple[int, int]:
        """Guard a mixed (or all-int) pair and convert the int side(s) to float."""
        if ta == tb:
            self.guard_pair(ta, a, b)
        else:
            self.guard("NOS", ta, a)
            self.guard("TOS", tb, b)
        fa = self.to_float(a) if ta == "int" else a
        fb = (fa if b == a else self.to_float(b)) if tb == "int" else b
        return fa, fb


class Specialize(Pass):
    name = "specialize"
    description = ("replace generic uops by guarded specialized ones, from the tier-1 "
                   "profile (must run first)")
    options = {
        "max_exits": Option(int, 8, "leave a site generic once its guards exited this often"),
        "cold": Option(str, "exit", "a site tier 1 never ran (in a function it profiled): "
                       "'exit' to tier 1 there (CPython's cold exit; the runtime "
                       "re-optimizes once tier 1 has profiled it) or keep it 'generic'",
                       ("exit", "generic")),
    }
    requires = (UNALLOCATED,)
    preserves = ("cfg", "dominators", "loops")

    def run(self, fn: Function, ctx: PassContext) -> bool:
        changed = False
        prof = ctx.profile
        self._profiled = (self.opts["cold"] == "exit" and prof is not None
                          and any(site[0] == fn.name for site in prof.types))
        forward: dict[int, int] = {}  # removed result -> the value that replaces it
        for b in fn.blocks:
            if b.params or any(u.exit is not None or u.defn.is_guard for u in b.uops):
                ctx.note(f"specialize: @{fn.name} {b.label} left alone: not tier-1 code "
                         f"(already optimized)")
                continue
            changed |= self.block(fn, b, ctx, forward)
        if forward:
            def final(v: int) -> int:
                while v in forward:
                    v = forward[v]
                return v
            mapping = {v: final(v) for v in sorted(forward)}
            for _, _, u in fn.uops():
                u.replace_uses(mapping)
            for v in mapping:
                fn.types.pop(v, None)
        return changed

    # -- one block ------------------------------------------------------------

    def block(self, fn: Function, b: Block, ctx: PassContext, forward: dict[int, int]) -> bool:
        tier1 = list(b.uops)
        n = len(tier1)
        # exit values at index i: tier-1 values defined before i and used at/after i
        used_from = [set() for _ in range(n + 1)]
        for i in range(n - 1, -1, -1):
            used_from[i] = used_from[i + 1] | set(tier1[i].uses())
        known = {u.output: const_type(u.imms[0]) for u in tier1 if u.name == U._LOAD_CONST}
        defined: list[int] = []
        new: list[Uop] = []
        changed = False
        for i, u in enumerate(tier1):
            live = [v for v in defined if v in used_from[i]]
            rw = _Rewriter(fn, b.label, i, live, u.line)
            plan = self.plan(fn, b, i, u, ctx, known)
            if plan is not None:
                what, why, build = plan
                build(rw)
                if ctx.allow(f"specialize {u.name} at {b.label}:{i} to {what}"):
                    ctx.note(f"specialize: @{fn.name} {b.label}:{i} {_show(u)} -> "
                             + "; ".join(_show(x) for x in rw.uops) + f" ({why})")
                    new.extend(rw.uops)
                    for x in rw.uops:  # what the new uops establish for the rest of the block
                        if x.output is not None and x.defn.result is not None:
                            known[x.output] = x.defn.result
                        for v in x.inputs if x.defn.is_guard else ():
                            known[v] = x.defn.guard_type
                    if u.output is not None and not any(x.output == u.output for x in rw.uops):
                        forward[u.output] = u.inputs[0]
                        known[u.output] = known.get(u.inputs[0])
                    changed = True
                else:
                    new.append(u)
            elif self._profiled and u.defn.has(Flag.PROFILE) \
                    and not ctx.profile.types.get((fn.name, b.label, i)) \
                    and ctx.allow(f"cold exit before {u.name} at {b.label}:{i}"):
                # Never run in tier 1: leave there instead of guessing (the uop stays,
                # unreachable, so the block is still complete tier-1 code after the exit).
                ctx.note(f"specialize: @{fn.name} {b.label}:{i} {_show(u)}: cold (tier 1 "
                         f"never ran it) -> _EXIT_COLD")
                new.append(Uop(U._EXIT_COLD, [], None, (), [], rw.exit(), u.line))
                new.append(u)
                changed = True
            else:
                new.append(u)
            if u.output is not None:
                defined.append(u.output)
        b.uops = new
        return changed

    # -- what to do with one uop ----------------------------------------------

    def site_types(self, fn: Function, label: str, i: int, u: Uop, ctx: PassContext,
                   known: dict, arity: int) -> tuple[tuple[str, ...] | None, str]:
        """Operand types (first ``arity`` inputs) to specialize for, and where from."""
        site = (fn.name, label, i)
        prof = ctx.profile
        if prof is not None:
            if prof.exits.get(site, 0) >= self.opts["max_exits"]:
                return None, f"its guards exited {prof.exits[site]} times"
            seen = prof.seen(site)
            if seen:
                kinds = sorted({s[:arity] for s in seen})
                if len(kinds) == 1:
                    return kinds[0], "profile " + ", ".join(kinds[0])
                return None, "polymorphic: " + " | ".join(", ".join(k) for k in kinds)
        types = []
        for v in u.inputs[:arity]:
            t = fn.types.get(v) or known.get(v)
            if t is None:
                return None, "no profile and no static type"
            types.append(t)
        return tuple(types), "static types " + ", ".join(types)

    def plan(self, fn: Function, b: Block, i: int, u: Uop, ctx: PassContext, known: dict):
        """None, or (new uop name, reason, build(rewriter))."""
        name = u.name
        d = u.defn
        if name == U._LOAD_GLOBAL:
            g = u.imms[0]
            if g in ctx.constant_globals and \
                    type(ctx.constant_globals[g]) in CONSTANT_GLOBAL_TYPES:
                value = ctx.constant_globals[g]
                return (U._LOAD_CONST, f"global {g} is a watched constant",
                        lambda rw: rw.emit(U._LOAD_CONST, [], u.output, (value,)))
            return None
        fam = d.family
        if fam is None or not d.has(Flag.PROFILE) or len(u.inputs) < fam.arity:
            return None
        rows = family(name)
        if fam.sites is not None:
            if not fam.sites(u.imms, len(u.inputs)):
                return None
        elif not any(_site_fits(spec, w, u) for spec, w in rows):
            return None
        types, why = self.site_types(fn, b.label, i, u, ctx, known, fam.arity)
        if types is None:
            ctx.note(f"specialize: @{fn.name} {b.label}:{i} {_show(u)} left generic: {why}")
            return None
        found = self.choose(u, types)
        if found is None:
            return None
        what, build = found
        return what, why, build

    def choose(self, u: Uop, types: tuple[str, ...]):
        """(name, build(rewriter)) of the first member of the generic uop's family
        (ir.uops.family) that applies to operand types ``types``, or None."""
        for spec, w in family(u.name):
            if _site_fits(spec, w, u) and w.matches(types, u.imms):
                return _builder(spec, w, u, types)
        return None


def _site_fits(spec: str | None, w: When, u: Uop) -> bool:
    """Whether a family member could replace ``u`` (its operator and input count)."""
    if w.ops and base_binop(u.imms[0]) not in w.ops:
        return False
    if spec is None:
        return True
    d = UOPS[spec]
    return d.variadic or len(d.inputs) == len(u.inputs)


def _builder(spec: str | None, w: When, u: Uop, types: tuple[str, ...]):
    ins, out = list(u.inputs), u.output
    imms = u.imms if spec is not None and UOPS[spec].imms else ()
    if w.guards == "pair":
        a, b = ins

        def build(rw):
            rw.guard_pair(types[0], a, b)
            rw.emit(spec, [a, b], out, imms)
        return spec, build
    if w.guards == "floats":
        a, b = ins
        ta, tb = types

        def build(rw):
            fa, fb = rw.floats(ta, tb, a, b)
            rw.emit(spec, [fa, fb], out, imms)
        return spec, build
    guards = [(guard_name(pos, t), v) for pos, t, v in zip(w.guards, types, ins)]
    if spec is None:
        def build(rw):
            for g, v in guards:
                rw.emit(g, [v])
        return guards[0][0], build

    def build(rw):
        for g, v in guards:
            rw.emit(g, [v])
        rw.emit(spec, ins, out if UOPS[spec].output else None, imms)
    return spec, build


def _show(u: Uop) -> str:
    """A uop without its exit, for explanations."""

    s = (f"%{u.output} = " if u.output is not None else "") + u.name
    for kind, value in zip(u.defn.imms, u.imms):
        s += " " + format_imm(kind, value)
    if u.inputs:
        s += " " + ", ".join(f"%{v}" for v in u.inputs)
    return s
