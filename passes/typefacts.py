"""typeprop's lattice, its abstract state and its results (``TypeFacts``, the
``typefacts`` analysis that guardelim and a researcher read).

Split from typeprop, which runs the analysis (see its docstring for the model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ir.uops import fits_int64

BOTTOM = "bottom"
TOP = "unknown"
CONCRETE = ("int", "float", "bool", "none", "list", "tuple", "str")


def join(a: str, b: str) -> str:
    if a == b or b == BOTTOM:
        return a
    if a == BOTTOM:
        return b
    return TOP


def meet(a: str, b: str) -> str:
    if a == b or b == TOP:
        return a
    if a == TOP:
        return b
    return BOTTOM


def const_type(c) -> str:
    """Type fact of a Python constant: ``int`` only when it fits in int64."""
    t = type(c)
    if t is int:
        return "int" if fits_int64(c) else TOP
    return {bool: "bool", float: "float", str: "str", type(None): "none",
            tuple: "tuple", list: "list"}.get(t, TOP)


def concrete(t: str | None) -> bool:
    return t in CONCRETE


# --------------------------------------------------------------------------- state

@dataclass(frozen=True)
class LocalInfo:
    type: str
    maybe_unbound: bool
    sources: frozenset   # what reached it: ("store", bb, i) ("param", name) ("osr", bb)
                         # ("guard", bb, i) ("entry",); empty unless explaining


NO_SOURCES: frozenset = frozenset()


@dataclass
class State:
    locals: dict[str, LocalInfo]
    holders: dict[str, frozenset[int]] = field(default_factory=dict)  # local -> values = it
    refined: dict[int, tuple[str, tuple | None]] = field(default_factory=dict)  # v -> (t, site)
    params: tuple[str, ...] = ()

    def copy(self) -> "State":
        return State(dict(self.locals), dict(self.holders), dict(self.refined), self.params)

    def key(self):
        return (self.locals, self.holders, self.refined, self.params)


def join_states(a: State, b: State, label: str) -> State:
    out = State({})
    for name in a.locals:
        x, y = a.locals[name], b.locals[name]
        if x == y:
            out.locals[name] = x
            continue
        out.locals[name] = LocalInfo(join(x.type, y.type), x.maybe_unbound or y.maybe_unbound,
                                     x.sources | y.sources)
    for name in a.holders:
        if name in b.holders:
            common = a.holders[name] & b.holders[name]
            if common:
                out.holders[name] = common
    for v, (t, site) in a.refined.items():
        if v in b.refined:
            t2, site2 = b.refined[v]
            out.refined[v] = (join(t, t2), site if site == site2 else None)
    if len(a.params) == len(b.params):
        out.params = tuple(join(x, y) for x, y in zip(a.params, b.params))
    else:
        out.params = a.params or b.params
    return out


# --------------------------------------------------------------------------- results

@dataclass
class GuardInput:
    value: int
    type: str          # type of the value just before the guard
    proven: bool       # is it already the guard's type there?
    locals: tuple[str, ...] = ()   # frame locals known to hold the same object
    _reason: str | None = field(default=None, repr=False, compare=False)
    _facts: "TypeFacts | None" = field(default=None, repr=False, compare=False)

    @property
    def reason(self) -> str:
        """Why the value has that type (computed with all explanations on first use)."""
        if self._reason is None and self._facts is not None:
            self._facts.explained()
        return self._reason if self._reason is not None else "unknown"


@dataclass
class GuardFact:
    label: str
    index: int
    name: str
    guard_type: str
    inputs: list[GuardInput]

    @property
    def redundant(self) -> bool:
        return all(i.proven for i in self.inputs)

    def justification(self) -> str:
        return ", ".join(f"%{i.value}:{i.type} ({i.reason})" for i in self.inputs if i.proven)


@dataclass
class TypeFacts:
    """What ``typeprop`` proved about a function (the ``typefacts`` analysis)."""

    values: dict[int, str] = field(default_factory=dict)       # value -> type at its definition
    guards: dict[tuple[str, int], GuardFact] = field(default_factory=dict)
    # block -> local -> LocalInfo at its entry (``sources`` filled once explained)
    locals_in: dict[str, dict[str, LocalInfo]] = field(default_factory=dict)
    unreachable: list[str] = field(default_factory=list)
    block_order: dict[str, int] = field(default_factory=dict)
    _why: dict[int, str] | None = field(default=None, repr=False)
    _explain: Callable[[], "TypeFacts"] | None = field(default=None, repr=False)

    def explained(self) -> "TypeFacts":
        """These facts with their explanations filled in (the tracking run, once)."""
        if self._why is None and self._explain is not None:
            full = self._explain()
            self._explain = None
            self._why = full._why
            self.locals_in = full.locals_in
            for site, g in self.guards.items():
                for mine, theirs in zip(g.inputs, full.guards[site].inputs):
                    mine._reason = theirs._reason
        return self

    @property
    def why(self) -> dict[int, str]:
        """value -> how it got its type."""
        return self.explained()._why or {}

    @property
    def redundant(self) -> dict[tuple[str, int], str]:
        """(block, index) of every guard proven redundant where it stands -> why."""
        return {k: self.guards[k].justification() for k in self.redundant_sites()}

    def redundant_sites(self) -> list[tuple[str, int]]:
        """(block, index) of every guard proven redundant, in block order."""
        return [k for k, g in sorted(self.guards.items(), key=lambda kv: self.site_order(kv[0]))
                if g.redundant]

    def site_order(self, site: tuple[str, int]):
        return (self.block_order.get(site[0], len(self.block_order)), site[1])

    def proven_operands(self) -> int:
        return sum(1 for g in self.guards.values() for i in g.inputs if i.proven)

    def fact(self, v: int) -> str | None:
        t = self.values.get(v)
        return t if concrete(t) else None
