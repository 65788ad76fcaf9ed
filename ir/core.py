"""IR data structures: values, uops, blocks, functions, modules.

Values are plain integers (``%7`` in text), defined once; a function keeps the
side tables of facts about them (type, location) so that uops stay small,
comparable dataclasses.  Locals are frame slots read and written by
``_LOAD_FAST``/``_STORE_FAST`` until a pass promotes them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Iterator

from .uops import UOPS, UopDef


@dataclass(slots=True)
class Target:
    """A successor block, with the values passed to its parameters."""

    block: str
    args: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Exit:
    """Where a side exit resumes in tier 1, and where each tier-1 value lives.

    ``block``/``index`` name the tier-1 uop to re-execute; ``values`` maps each
    tier-1 value live there to the value holding it in this code; ``locals``
    maps each promoted local to the value holding it (other locals are in the
    frame).
    """

    block: str
    index: int
    values: list[tuple[int, int]] = field(default_factory=list)
    locals: list[tuple[str, int]] = field(default_factory=list)


@dataclass(slots=True)
class Uop:
    name: str
    inputs: list[int] = field(default_factory=list)
    output: int | None = None
    imms: tuple = ()
    targets: list[Target] = field(default_factory=list)
    exit: Exit | None = None
    line: int | None = None

    @property
    def defn(self) -> UopDef:
        return UOPS[self.name]

    def uses(self) -> Iterator[int]:
        """Every value read: inputs, successor arguments, exit values."""
        yield from self.inputs
        for t in self.targets:
            yield from t.args
        if self.exit is not None:
            for _, v in self.exit.values:
                yield v
            for _, v in self.exit.locals:
                yield v

    def replace_uses(self, mapping: dict[int, int]) -> None:
        """Rename the values read; lists are rebuilt only where a value changes (a
        pass renames a few values in a large function)."""
        if any(v in mapping for v in self.inputs):
            self.inputs = [mapping.get(v, v) for v in self.inputs]
        for t in self.targets:
            if any(v in mapping for v in t.args):
                t.args = [mapping.get(v, v) for v in t.args]
        e = self.exit
        if e is not None:
            if any(v in mapping for _, v in e.values):
                e.values = [(k, mapping.get(v, v)) for k, v in e.values]
            if any(v in mapping for _, v in e.locals):
                e.locals = [(k, mapping.get(v, v)) for k, v in e.locals]


@dataclass(slots=True)
class Block:
    """``handler``: the block an exception raised by any of its uops goes to (CPython's
    exception table, per block); the handler takes one parameter, the exception. The
    handler edge is a CFG edge from every faulting point, so ``successors`` lists it
    (last); it carries no arguments: what a handler reads lives in the frame."""

    label: str
    uops: list[Uop] = field(default_factory=list)
    params: list[int] = field(default_factory=list)
    handler: str | None = None

    @property
    def terminator(self) -> Uop:
        return self.uops[-1]

    def successors(self) -> list[str]:
        out = [t.block for t in self.uops[-1].targets] if self.uops else []
        if self.handler is not None and self.handler not in out:
            out.append(self.handler)
        return out


FUNCTION_KINDS = ("function", "generator", "coroutine", "class")
SUSPENDING_KINDS = frozenset({"generator", "coroutine"})   # calls make a suspendable frame


@dataclass(frozen=True)
class Signature:
    """How a Python call binds its arguments to a function's parameters: what CPython
    keeps in the code object and the function's defaults.

    A function without one takes exactly its ``params``, positionally (the frontend's
    plain module functions, which ``_CALL_FUNCTION`` calls directly). With one, the
    params are laid out as CPython lays out ``co_varnames``: the positional ones (the
    first ``posonly`` positional-only, the last ``defaults`` with defaults), the
    keyword-only ones, ``*args``, ``**kwargs``, then one cell per free variable of a
    closure; the function object (``_MAKE_FUNCTION``) binds a call and enters with them.
    ``kind`` says what calling it makes: a result, a generator, a coroutine, or (a class
    body) the namespace it fills.
    """

    positional: int
    posonly: int = 0
    defaults: int = 0
    kwonly: int = 0
    kwdefaults: tuple[str, ...] = ()
    varargs: bool = False
    varkw: bool = False
    free: tuple[str, ...] = ()
    kind: str = "function"

    @classmethod
    def of(cls, nparams: int, **fields) -> "Signature":
        """The signature of a function with ``nparams`` params and these fields."""
        rest = (fields.get("kwonly", 0) + fields.get("varargs", False)
                + fields.get("varkw", False) + len(fields.get("free", ())))
        sig = cls(nparams - rest, **fields)
        sig.check()
        return sig

    def check(self) -> None:
        if self.positional < 0:
            raise ValueError("the signature names more parameters than the function has")
        if not (0 <= self.posonly <= self.positional and 0 <= self.defaults <= self.positional):
            raise ValueError("posonly and defaults count positional parameters")
        if self.kind not in FUNCTION_KINDS:
            raise ValueError(f"unknown function kind {self.kind!r}")

    @property
    def nparams(self) -> int:
        """Parameters a call binds (the closure's cells come after them)."""
        return self.positional + self.kwonly + self.varargs + self.varkw

    def text(self) -> str:
        """The IR text: ``sig(defaults 1, varargs, free(x))``; parser._signature reads it."""
        parts = [f"{k} {getattr(self, k)}" for k in ("posonly", "defaults", "kwonly")
                 if getattr(self, k)]
        if self.kwdefaults:
            parts.append("kwdefaults(" + ", ".join(self.kwdefaults) + ")")
        parts += [k for k in ("varargs", "varkw") if getattr(self, k)]
        if self.free:
            parts.append("free(" + ", ".join(self.free) + ")")
        if self.kind != "function":
            parts.append(f"kind {self.kind}")
        return "sig(" + ", ".join(parts) + ")"


@dataclass
class Function:
    name: str
    params: list[str] = field(default_factory=list)
    locals: list[str] = field(default_factory=list)     # params first
    blocks: list[Block] = field(default_factory=list)   # the first is the entry
    types: dict[int, str] = field(default_factory=dict)  # value -> type fact
    locs: dict[int, str] = field(default_factory=dict)   # value -> r0 / s3
    line: int | None = None
    signature: Signature | None = None   # None: a plain positional function
    _next_value: int | None = field(default=None, compare=False, repr=False)
    _where: dict | None = field(default=None, compare=False, repr=False)

    def block(self, label: str) -> Block:
        """The block named ``label``, in O(1): an index (label -> position) is kept
        and checked on every hit (the block must still be at that position under
        that label), so passes may edit ``blocks`` freely; a stale index is rebuilt."""
        blocks = self.blocks
        where = self._where
        if where is not None:
            i = where.get(label)
            if i is not None and i < len(blocks):
                b = blocks[i]
                if b.label == label:
                    return b
        where = self._where = {}
        for i in range(len(blocks) - 1, -1, -1):   # the first of duplicates wins
            where[blocks[i].label] = i
        i = where.get(label)
        if i is None:
            raise KeyError(label)
        return blocks[i]

    def block_map(self) -> dict[str, Block]:
        return {b.label: b for b in self.blocks}

    @property
    def entry(self) -> Block:
        return self.blocks[0]

    def uops(self) -> Iterator[tuple[Block, int, Uop]]:
        for b in self.blocks:
            for i, u in enumerate(b.uops):
                yield b, i, u

    def max_value(self) -> int:
        m = -1
        for b in self.blocks:
            for p in b.params:
                m = max(m, p)
            for u in b.uops:
                if u.output is not None:
                    m = max(m, u.output)
        return m

    def new_value(self) -> int:
        """A value number not used anywhere in the function."""
        if self._next_value is None:
            self._next_value = self.max_value() + 1
        v = self._next_value
        self._next_value += 1
        return v

    def new_label(self, stem: str = "bb") -> str:
        used = {b.label for b in self.blocks}
        i = 0
        while f"{stem}{i}" in used:
            i += 1
        return f"{stem}{i}"

    def __deepcopy__(self, memo: dict) -> "Function":
        """What ``copy.deepcopy`` makes, built directly: the runtime copies every
        function it optimizes, and the generic deepcopy walked each uop's lists, tuples
        and ints one by one (a sixth of a fuzz campaign's time).  Values, labels and
        atomic immediates are immutable and shared, as deepcopy shares them; the frozen
        signature is shared too."""
        new = Function(self.name, list(self.params), list(self.locals),
                       [Block(b.label, [_copy_uop(u, memo) for u in b.uops], list(b.params),
                              b.handler) for b in self.blocks],
                       dict(self.types), dict(self.locs), self.line, self.signature,
                       self._next_value, None)
        memo[id(self)] = new
        return new


_ATOMS = frozenset({int, float, bool, str, bytes, complex, type(None)})


def _shared(x) -> bool:
    """Is ``x`` what deepcopy returns as it is (an atom, or a tuple of such)?"""
    t = type(x)
    return t in _ATOMS or (t is tuple and all(_shared(y) for y in x))


def _copy_uop(u: Uop, memo: dict) -> Uop:
    imms = u.imms
    if not all(_shared(x) for x in imms):
        imms = copy.deepcopy(imms, memo)
    e = u.exit
    if e is not None:
        e = Exit(e.block, e.index, list(e.values), list(e.locals))
    return Uop(u.name, list(u.inputs), u.output, imms,
               [Target(t.block, list(t.args)) for t in u.targets], e, u.line)


@dataclass
class Module:
    name: str
    functions: list[Function] = field(default_factory=list)

    def function(self, name: str) -> Function:
        for f in self.functions:
            if f.name == name:
                return f
        raise KeyError(name)

    def function_map(self) -> dict[str, Function]:
        return {f.name: f for f in self.functions}


MODULE_FUNCTION = "<module>"
