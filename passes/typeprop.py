"""typeprop: forward type inference over the CFG (abstract interpretation).

Why: ``specialize`` puts a guard in front of every specialized uop, as CPython's
tier 2 does, but most of those guards re-check what the code already implies: a
loop counter that starts as the constant 0 and is only ever replaced by the result
of ``_BINARY_OP_ADD_INT`` is an int64 on every iteration.  This pass proves such
facts so that ``guardelim`` can drop the guards, and so that a researcher can read
them (``%4:int``) and ask why (``ctx.get("typefacts", fn)``).

The lattice is flat: ``bottom`` < int | float | bool | none | list | tuple | str
< ``unknown``; "int" always means "fits in int64".  The abstract state at a
program point holds the type of every frame local (with whether it may be unbound
and which stores reach it, for explanations), the SSA values a local is known to
hold, and the SSA values a guard has narrowed.  A guard narrows its inputs, and
every local and value known to hold the same object, for every point it dominates.
States are joined at merges (block parameters join their incoming arguments) and
loops are iterated in reverse postorder to a fixed point.

Entry dispatchers (``_ENTRY``): the first target is the function entry (parameters
unknown, other locals unbound); any other target is an OSR entry whose frame comes
from tier 1 and is unknown, unless the analysis is asked to assume types there
(``guardelim`` does that, then guards the OSR entry so the assumption holds).

Explanations (which stores reach a local, why a value has its type) are computed
only when first asked for (``TypeFacts.why``, ``GuardInput.reason``), by a second run
that tracks those stores.  They are a reaching-definitions set per local, which grows
with every store that might not have run (a store in a loop that may run zero times),
so tracking them in every run made the analysis quadratic on long functions.

A type version guard (``_GUARD_TYPE_VERSION``) proves a fact of its own, ``version:V``
(the receiver's type is the one with tag V, unchanged); unlike the built-in types, that
can stop being true: any uop that runs arbitrary Python (``ESCAPES``: a call, a generic
uop) may modify the class or assign ``__class__``, so such a uop forgets every version
fact of the state (values, locals, block parameters). Version facts are never recorded
in ``fn.types``; ``guardelim`` removes the version guards they prove.

The pass only records facts (``fn.types``) and changes nothing else.
"""

from __future__ import annotations

from ir.attr_semantics import is_version_fact
from ir.cfg import dominators, predecessors, reverse_postorder
from ir.core import Block, Function, Uop
from ir.uops import Flag, U

from .analysis import register_analysis
from .base import ALL, Pass, PassContext
from .typefacts import (BOTTOM, NO_SOURCES, TOP, GuardFact, GuardInput, LocalInfo, State,
                        TypeFacts, concrete, const_type, join_states, meet)

ENTRY = "<entry>"   # key of the function entry in analyze(assume=...)
# the uops the transfer function handles itself (frame and copies), bound once: it runs
# for every uop of every block on every iteration
_STORE_FAST, _LOAD_CONST, _COPY = U._STORE_FAST, U._LOAD_CONST, U._COPY
_LOADS = (U._LOAD_FAST, U._LOAD_FAST_CHECK)


# --------------------------------------------------------------------------- analysis

class _Analyzer:
    def __init__(self, fn: Function, osr: str, assume: dict | None, explain: bool = False,
                 analyses=None):
        self.fn = fn
        self.analyses = analyses        # an AnalysisManager for fn's cfg and dominators
        self.explain = explain          # track sources and write explanations
        self.osr = osr                  # "sound" | "ignore"
        self.assume = assume or {}      # ENTRY or OSR target label -> {local: type}
        self.vtype: dict[int, str] = {}
        self.vwhy: dict[int, str] = {}
        self.defs: dict[int, tuple[str, int, Uop | None]] = {}
        for b in fn.blocks:
            for p in b.params:
                self.defs[p] = (b.label, -1, None)
            for i, u in enumerate(b.uops):
                if u.output is not None:
                    self.defs[u.output] = (b.label, i, u)
        self.prunable = self.block_local_values()
        self.kind: dict[str, int] = {}     # uop name -> 2 terminator, 1 guard, 3 escapes,
                                           # 0 other
        self.version_values: set[int] = set()   # values with a version fact at their def
        self.store_desc: dict[tuple[str, int], str] = {}
        self.edge_states: dict[tuple[str, str], State] = {}
        self.param_sources: dict[str, list[str]] = {}

    def block_local_values(self) -> set[int]:
        """Values that need not be tracked once their block is left: results used
        only in their own block and never stored nor copied.  Such a value is the
        same object as nothing but its own local's other loads, so dropping it from
        ``holders``/``refined`` at block exits changes no fact about any value used
        later -- and keeps the states small: otherwise every load of a never-stored
        local (``n`` in ``while i < n``) stays in its holders for the rest of the
        function, and joins and copies grow with the function's length."""
        where: dict[int, str] = {}
        for b in self.fn.blocks:
            for u in b.uops:
                if u.output is not None:
                    where[u.output] = b.label
        keep: set[int] = set()
        for b in self.fn.blocks:
            for u in b.uops:
                if u.name in (U._STORE_FAST, U._COPY):
                    keep.update(u.inputs)
                for v in u.uses():
                    if where.get(v, b.label) != b.label:
                        keep.add(v)
        return where.keys() - keep

    def leave(self, s: State) -> None:
        """Forget block-local values (see ``block_local_values``) on leaving a block."""
        p = self.prunable
        for local, vs in list(s.holders.items()):
            if not vs.isdisjoint(p):
                rest = vs - p
                if rest:
                    s.holders[local] = rest
                else:
                    del s.holders[local]
        if s.refined:
            for v in [v for v in s.refined if v in p]:
                del s.refined[v]

    # -- states ---------------------------------------------------------------

    def entry_state(self) -> State:
        fn = self.fn
        locs = {}
        assume = self.assume.get(ENTRY, {})
        for name in fn.locals:
            if name in fn.params:
                locs[name] = LocalInfo(assume.get(name, TOP), False,
                                       self.sources(("param", name)))
            else:
                locs[name] = LocalInfo(BOTTOM, True, self.sources(("entry",)))
        return State(locs)

    def osr_state(self, target: str) -> State | None:
        """State on an ``_ENTRY`` edge to a loop header (None: ignore the edge)."""
        if self.osr == "ignore":
            return None
        assume = self.assume.get(target, {})
        locs = {}
        src = self.sources(("osr", target))
        for name in self.fn.locals:
            if name in assume:
                locs[name] = LocalInfo(assume[name], False, src)
            else:
                locs[name] = LocalInfo(TOP, True, src)
        return State(locs)

    def handler_state(self, target: str) -> State:
        """State on a handler edge: it leaves from any faulting point of its block, so
        nothing is known of the locals, nor of the exception."""
        src = self.sources(("osr", target))
        return State({name: LocalInfo(TOP, True, src) for name in self.fn.locals},
                     params=(TOP,))

    def sources(self, src: tuple) -> frozenset:
        return frozenset({src}) if self.explain else NO_SOURCES

    def type_of(self, v: int, s: State) -> str:
        r = s.refined.get(v)
        if r is not None:
            return r[0]
        return self.vtype.get(v, BOTTOM)

    # -- transfer -------------------------------------------------------------

    def transfer(self, label: str, s: State, facts: TypeFacts | None):
        """Run block ``label`` from state ``s`` (mutated); returns [(target, state)]."""
        b = self.fn.block(label)
        explain = facts is not None and self.explain
        for p, t in zip(b.params, s.params or ()):
            self.vtype[p] = t
            if is_version_fact(t):
                self.version_values.add(p)
            if explain:
                srcs = ", ".join(self.param_sources.get(label, []))
                self.vwhy[p] = f"parameter of {label} joining {srcs}" if srcs else \
                    f"parameter of {label}"
        for p in b.params[len(s.params or ()):]:
            self.vtype[p] = BOTTOM
        kinds = self.kind
        for i, u in enumerate(b.uops):
            name = u.name
            k = kinds.get(name)
            if k is None:
                d = u.defn
                k = kinds[name] = (2 if d.is_terminator else 1 if d.is_guard
                                   else 3 if d.has(Flag.ESCAPES) else 0)
            if k == 2:
                out = self.edges(label, i, u, s)
                for _, st in out:
                    self.leave(st)
                if b.handler is not None:
                    out = list(out) + [(b.handler, self.handler_state(b.handler))]
                return out
            if k == 1:
                self.guard(label, i, u, s, facts)
                continue
            if k == 3 and (self.version_values or s.refined):
                self.forget_versions(s)
            out = u.output
            if name == _STORE_FAST:
                v = u.inputs[0]
                local = u.imms[0]
                s.locals[local] = LocalInfo(self.type_of(v, s), False,
                                            self.sources(("store", label, i)))
                s.holders[local] = frozenset({v})
                if self.explain:
                    self.store_desc[(label, i)] = self.describe_def(v, s)
                continue
            if out is None:
                continue
            why = None
            if name == _LOAD_CONST:
                t = const_type(u.imms[0])
                why = f"constant {u.imms[0]!r}"
            elif name in _LOADS:
                local = u.imms[0]
                info = s.locals[local]
                t = info.type
                if explain:
                    why = self.describe_local(local, info, label)
                s.locals[local] = LocalInfo(info.type, False, info.sources)
                s.holders[local] = s.holders.get(local, frozenset()) | {out}
            elif name == _COPY:
                src = u.inputs[0]
                t = self.type_of(src, s)
                why = f"copy of %{src}"
                for local, vs in list(s.holders.items()):
                    if src in vs:
                        s.holders[local] = vs | {out}
                if src in s.refined:
                    s.refined[out] = s.refined[src]
            else:
                t = self.result_type(u, s)
            self.vtype[out] = t
            if t is not TOP and is_version_fact(t):
                self.version_values.add(out)
            if explain:
                self.vwhy[out] = why or f"result of {name}"
        return []

    def forget_versions(self, s: State) -> None:
        """An escaping uop may change any class: no version fact holds after it."""
        for v, (t, _) in list(s.refined.items()):
            if is_version_fact(t):
                s.refined[v] = (TOP, None)
        for v in self.version_values:
            if v not in s.refined:
                s.refined[v] = (TOP, None)
        for local, info in s.locals.items():
            if is_version_fact(info.type):
                s.locals[local] = LocalInfo(TOP, info.maybe_unbound, info.sources)

    def result_type(self, u: Uop, s: State) -> str:
        """The uop's transfer rule (its ``result`` or ``result_rule``, ir/uops.py)."""
        d = u.defn
        if d.result_rule is not None:
            t = d.result_rule(tuple(self.type_of(v, s) for v in u.inputs), u.imms)
            return TOP if t is None else t
        if d.result is not None:
            return d.result
        return TOP

    @staticmethod
    def aliases(v: int, s: State) -> tuple[set[int], list[str]]:
        """Values known to be the same object as ``v``, and the locals holding it."""
        same, held = {v}, set()
        items = s.holders.items()          # the closure does not depend on their order
        grew = True
        while grew:
            grew = False
            for local, vs in items:
                if local not in held and not vs.isdisjoint(same):
                    held.add(local)
                    same |= vs
                    grew = True
        return same, sorted(held)

    def guard(self, label: str, i: int, u: Uop, s: State, facts: TypeFacts | None) -> None:
        gt = u.defn.proven_type(u.imms)
        inputs = []
        alias = {v: self.aliases(v, s) for v in u.inputs}   # once per input
        for v in u.inputs:
            before = self.type_of(v, s)
            if facts is not None:
                held = tuple(alias[v][1])
                inputs.append(GuardInput(v, before, before == gt, held,
                                         self.reason(v, s) if self.explain else None, facts))
        site = (label, i)
        for v in alias:
            same, held = alias[v]
            for local in held:
                info = s.locals[local]
                lt = meet(info.type, gt)
                if lt != info.type:
                    s.locals[local] = LocalInfo(lt, info.maybe_unbound,
                                                self.sources(("guard", label, i)))
            for w in sorted(same):
                wt = self.type_of(w, s)
                nt = meet(wt, gt)
                if nt != wt:
                    s.refined[w] = (nt, site)
        if facts is not None:
            facts.guards[site] = GuardFact(label, i, u.name, gt, inputs)

    def edges(self, label: str, i: int, u: Uop, s: State):
        out = []
        if u.name == U._ENTRY:
            for k, t in enumerate(u.targets):
                if k == 0:
                    out.append((t.block, s.copy()))
                else:
                    st = self.osr_state(t.block)
                    if st is not None:
                        out.append((t.block, st))
            return out
        for t in u.targets:
            st = s.copy()
            st.params = tuple(self.type_of(a, s) for a in t.args)
            out.append((t.block, st))
        return out

    # -- explanations ---------------------------------------------------------

    def reason(self, v: int, s: State) -> str:
        r = s.refined.get(v)
        if r is not None and r[1] is not None:
            gl, gi = r[1]
            return f"guarded by {self.fn.block(gl).uops[gi].name} at {gl}:{gi}"
        if r is not None:
            return "guarded on every path here"
        return self.vwhy.get(v, "unknown")

    def describe_def(self, v: int, s: State) -> str:
        r = s.refined.get(v)
        if r is not None and r[1] is not None:
            gl, gi = r[1]
            s2 = State(s.locals)
            return f"{self.describe_def(v, s2)} guarded at {gl}:{gi}"
        d = self.defs.get(v)
        if d is None or d[2] is None:
            return f"block parameter %{v}"
        u = d[2]
        if u.name == U._LOAD_CONST:
            return f"_LOAD_CONST {u.imms[0]!r}"
        if u.name in (U._LOAD_FAST, U._LOAD_FAST_CHECK):
            return f"{u.name} {u.imms[0]}"
        return u.name

    def describe_source(self, src: tuple) -> str:
        kind = src[0]
        if kind == "store":
            return f"{self.store_desc.get((src[1], src[2]), 'a store')} in {src[1]}"
        if kind == "param":
            return "the caller (parameter)"
        if kind == "osr":
            return f"the tier-1 frame at OSR entry to {src[1]}"
        if kind == "guard":
            return f"{self.fn.block(src[1]).uops[src[2]].name} at {src[1]}:{src[2]}"
        return "function entry (unbound)"

    def joined_at(self, local: str, info: LocalInfo, label: str) -> str | None:
        """The merge block where ``local``'s sources came together: the nearest
        dominator of ``label`` with several predecessors that already sees them all."""
        while True:
            st = self.in_states.get(label)
            if st is None or not info.sources <= st.locals[local].sources:
                return None
            incoming = {self.edge_states[(p, label)].locals[local].sources
                        for p in self.preds.get(label, ()) if (p, label) in self.edge_states}
            if len(incoming) > 1:
                return label
            parent = self.idom.get(label)
            if parent is None or parent == label:
                return None
            label = parent

    def describe_local(self, local: str, info: LocalInfo, label: str) -> str:
        srcs = [x for x in sorted(info.sources, key=_source_key) if x[0] != "entry"]
        if not srcs:
            return f"{local} is unbound"
        stores = [x for x in srcs if x[0] == "store"]
        others = [x for x in srcs if x[0] not in ("store", "guard")]
        guards = [x for x in srcs if x[0] == "guard"]
        parts = []
        if stores:
            parts.append(f"stored to {local} by "
                         + " and ".join(self.describe_source(x) for x in stores))
        if others:
            parts.append((f"{local} from " if not parts else "from ")
                         + " and ".join(self.describe_source(x) for x in others))
        if guards:
            parts.append((f"{local} " if not parts else "") + "guarded by "
                         + " and ".join(self.describe_source(x) for x in guards))
        text = ", ".join(parts)
        joined = self.joined_at(local, info, label) if len(srcs) > 1 else None
        if joined:
            text += f", joined at {joined}"
        return text

    # -- driver ---------------------------------------------------------------

    def run(self) -> TypeFacts:
        fn = self.fn
        graph = self.analyses.get("cfg", fn) if self.analyses is not None else None
        rpo = graph.rpo if graph is not None else reverse_postorder(fn)
        in_states: dict[str, State] = {rpo[0]: self.entry_state()} if rpo else {}
        param_preds: dict[str, dict[str, None]] = {}
        # Sweeps in reverse postorder over the blocks still to (re)run: a block runs
        # again when its entry state grows or a value it reads changes type, so a
        # loop nest iterates to its fixed point without re-running the rest of the
        # function each time (the result is the same fixed point).
        defs: dict[str, list[int]] = {}          # block -> values it gives a type
        users: dict[int, list[str]] = {}         # value -> blocks reading it
        for label in rpo:
            b = fn.block(label)
            defs[label] = list(b.params) + [u.output for u in b.uops if u.output is not None]
            for u in b.uops:
                for v in u.uses():
                    users.setdefault(v, []).append(label)
        vtype = self.vtype
        dirty = set(rpo)
        for _ in range(1000):
            if not dirty:
                break
            for label in rpo:
                if label not in dirty:
                    continue
                dirty.discard(label)
                if label not in in_states:
                    continue
                before = [vtype.get(v) for v in defs[label]]
                for target, st in self.transfer(label, in_states[label].copy(), None):
                    param_preds.setdefault(target, {})[label] = None
                    self.edge_states[(label, target)] = st
                    old = in_states.get(target)
                    new = st if old is None else join_states(old, st, target)
                    if old is None or new.key() != old.key():
                        in_states[target] = new
                        dirty.add(target)
                for v, t in zip(defs[label], before):
                    if vtype.get(v) != t:
                        dirty.update(users.get(v, ()))
        else:  # pragma: no cover - the lattice is finite
            raise AssertionError(f"typeprop: @{fn.name} did not converge")
        for label, preds in param_preds.items():
            if fn.block(label).params:
                self.param_sources[label] = list(preds)
        facts = TypeFacts(block_order={b.label: k for k, b in enumerate(fn.blocks)})
        self.in_states = in_states
        if graph is not None:
            self.idom, self.preds = self.analyses.get("dominators", fn), graph.predecessors
        else:
            self.idom, self.preds = dominators(fn), predecessors(fn)
        # the recording walk: same states, now collecting explanations
        for label in rpo:
            if label in in_states:
                facts.locals_in[label] = dict(in_states[label].locals)
                self.transfer(label, in_states[label].copy(), facts)
        facts.unreachable = [b.label for b in fn.blocks if b.label not in in_states]
        facts.values = dict(self.vtype)
        if self.explain:
            facts._why = dict(self.vwhy)
        return facts


def _source_key(src: tuple):
    order = {"param": 0, "osr": 1, "store": 2, "guard": 3, "entry": 4}
    return (order.get(src[0], 9),) + tuple(str(x) for x in src[1:])


def analyze(fn: Function, osr: str = "sound", assume: dict | None = None,
            analyses=None) -> TypeFacts:
    """Type facts of ``fn``.

    ``osr``: "sound" (the frame at an OSR entry is unknown) or "ignore" (no OSR edges:
    what the function entry alone implies).  ``assume``: types taken as given for the
    parameters at the function entry (key ``ENTRY``) or for locals at an OSR target
    (key: its label) -- what ``guardelim`` would then guard there.

    Explanations come from a second run over a snapshot of the blocks, made when
    first asked for, so a pass may replace uops after asking for the facts.
    ``analyses``: the AnalysisManager to take ``fn``'s cfg and dominators from."""
    facts = _Analyzer(fn, osr, assume, analyses=analyses).run()
    snapshot = _snapshot(fn)
    facts._explain = lambda: _Analyzer(snapshot, osr, assume, explain=True).run()
    return facts


def _snapshot(fn: Function) -> Function:
    """``fn`` with its own block and uop lists (the uops themselves shared)."""
    return Function(fn.name, list(fn.params), list(fn.locals),
                    [Block(b.label, list(b.uops), list(b.params), b.handler)
                     for b in fn.blocks],
                    line=fn.line)


def same_facts(a: TypeFacts, b: TypeFacts) -> bool:
    """The same types, guard facts and unreachable blocks (for ``--verify-each``)."""
    return (a.values == b.values and a.guards == b.guards
            and a.unreachable == b.unreachable and a.block_order == b.block_order)


register_analysis("typefacts", lambda fn, analyses: analyze(fn, analyses=analyses), same_facts)


def facts_of(fn: Function, ctx: PassContext | None) -> TypeFacts:
    return ctx.get("typefacts", fn) if ctx is not None else analyze(fn)


# --------------------------------------------------------------------------- the pass

class TypeProp(Pass):
    name = "typeprop"
    description = "infer the types of values and locals across the CFG; record them as %v:type"
    options = {}
    requires = ("typefacts",)
    preserves = ALL

    def run(self, fn: Function, ctx: PassContext) -> bool:
        facts = facts_of(fn, ctx)
        new = {v: t for v, t in sorted(facts.values.items()) if concrete(t)}
        if new == fn.types:
            return False
        if not ctx.allow(f"record {len(new)} type facts in @{fn.name}"):
            return False
        fn.types.clear()
        fn.types.update(new)
        redundant = facts.redundant_sites()
        ctx.note(f"typeprop: @{fn.name} {len(new)} type facts; {len(redundant)} of "
                 f"{len(facts.guards)} guards redundant"
                 + (" (" + ", ".join(f"{l}:{i}" for l, i in redundant) + ")" if redundant else ""))
        return True
