"""Optimized IR -> x86-64 machine code by copying and patching uop stencils.

`compile(fn)` turns a tier-2 function whose values all have proven word types (int, float,
bool; see uop_stencils for the value model and the frame layout) into a `CodeBlob`: the
sequence of stencils with their hole values, linkable at any base address, plus the maps
that the runtime and the tools need: entry addresses (one per `_ENTRY` target), the
address of every uop, the exit table and the frame layout with types.

Code layout: the SysV entry shim, then the blocks in order (a `_JUMP` to the next block
is dropped, a `_BRANCH` whose true successor is next is inverted), then out-of-line edge
code (parallel moves for block parameters on a branch's taken edge), then one stub per
side exit. Block parameters (after `promote`) become word-to-word moves on the edge,
sequentialized with one scratch word for cycles (a swap).

Anything else raises `Unsupported(reason)`: the caller keeps running the function in the
interpreter.
"""

from __future__ import annotations

import dataclasses
import struct

from ir.core import Exit, Function, Target, Uop

from .entry_shim import ENTRY_SHIM_NAME
from .patcher import layout, link
from .stencil import HoleValue as V
from .stencil import Stencil
from .uop_stencils import BODIES, CMP_NAMES, library

WORD_TYPES = ("int", "float", "bool")
HEADER_WORDS = 2  # word 0: exit index, word 1: returned value
MASK64 = (1 << 64) - 1

# Uops compiled by the stencil of the same name.
DIRECT = frozenset(n for n in BODIES if not n.startswith("_COMPARE_OP") and n not in (
    "_LOAD_CONST", "_MOVE"))
MOVES = frozenset({"_LOAD_FAST", "_STORE_FAST", "_COPY", "_RANGE_ARG"})


class Unsupported(Exception):
    """The function cannot be compiled by this backend (the reason says why)."""


@dataclasses.dataclass(frozen=True)
class FrameLayout:
    """Word indices in the native frame and the type of every word the code uses."""

    local_word: dict[str, int]
    value_word: dict[int, int]
    scratch_word: int
    words: int
    value_types: dict[int, str]
    local_types: dict[str, str]  # only locals the code reads or writes


@dataclasses.dataclass(frozen=True)
class Site:
    block: str
    index: int
    name: str
    line: int | None


@dataclasses.dataclass
class CodeBlob:
    """Stencils and hole values (labels resolved by `code(base)`), and the maps."""

    fn_name: str
    stencils: list[Stencil]
    values: list[dict]           # hole values; a str is a label ("block:bb1", "exit:0")
    sites: list[Site | None]     # the uop each stencil belongs to (None: shim, stubs)
    labels: dict[str, int]       # label -> stencil index
    entries: list[str]           # block label of each _ENTRY target
    exits: list[Exit]            # exit index -> Exit
    returns: list[int]           # return site -> returned value (its type in layout)
    frame: FrameLayout

    def __post_init__(self):
        placements, self.size = layout(self.stencils, 0)
        self.offsets = [p.code_address for p in placements]

    def label_offset(self, label: str) -> int:
        return self.offsets[self.labels[label]]

    def entry_offset(self, index: int) -> int:
        return self.label_offset(f"block:{self.entries[index]}")

    @property
    def shim_offset(self) -> int:
        return 0

    def code(self, base: int) -> bytes:
        """All code and data, patched to run at address `base` (page aligned)."""
        resolved = [{k: base + self.label_offset(v) if isinstance(v, str) else v
                     for k, v in given.items()} for given in self.values]
        return link(self.stencils, resolved, base)

    def address_map(self, base: int = 0) -> dict[int, tuple[str, int, str, int | None]]:
        """Start address of each uop's stencil -> (block, uop index, uop name, line)."""
        out = {}
        for site, offset in zip(self.sites, self.offsets):
            if site is not None and base + offset not in out:
                out[base + offset] = (site.block, site.index, site.name, site.line)
        return out


def _word_type(fn: Function, v: int, what: str) -> str:
    t = fn.types.get(v)
    if t not in WORD_TYPES:
        raise Unsupported(f"%{v} ({what}) has type {t or 'unknown'}; native code needs "
                          "proven int/float/bool")
    return t


def _const_bits(c, t: str) -> int:
    if t == "float" and type(c) is float:
        return struct.unpack("<Q", struct.pack("<d", c))[0]
    if t == "bool" and type(c) is bool:
        return int(c)
    if t == "int" and type(c) is int and -(1 << 63) <= c < (1 << 63):
        return c & MASK64
    raise Unsupported(f"constant {c!r} is not a native {t}")


def sequentialize(moves: list[tuple[int, int]], scratch: int) -> list[tuple[int, int]]:
    """Parallel moves (dst, src) as a sequence; cycles go through `scratch`."""
    pending = [(d, s) for d, s in moves if d != s]
    out = []
    while pending:
        sources = {s for _, s in pending}
        for k, (d, s) in enumerate(pending):
            if d not in sources:
                out.append((d, s))
                del pending[k]
                break
        else:
            s = pending[0][1]
            out.append((scratch, s))
            pending = [(d, scratch if src == s else src) for d, src in pending]
    return out


class _Emitter:
    def __init__(self, fn: Function):
        self.fn = fn
        self.lib = library()
        self.stencils: list[Stencil] = [self.lib[ENTRY_SHIM_NAME]]
        self.values: list[dict] = [{}]
        self.sites: list[Site | None] = [None]
        self.labels: dict[str, int] = {}
        self.exits: list[Exit] = []
        self.returns: list[int] = []
        self.local_types: dict[str, str] = {}
        nlocals = len(fn.locals)
        self.local_word = {name: HEADER_WORDS + i for i, name in enumerate(fn.locals)}
        top = fn.max_value() + 1
        self.value_word = {v: HEADER_WORDS + nlocals + v for v in range(top)}
        self.scratch = HEADER_WORDS + nlocals + top
        self.block_params = {b.label: b.params for b in fn.blocks}

    # -- helpers ----------------------------------------------------------------

    def slot(self, v: int) -> int:
        return 8 * self.value_word[v]

    def local(self, name: str, t: str) -> int:
        if name not in self.local_word:
            raise Unsupported(f"unknown local {name}")
        old = self.local_types.setdefault(name, t)
        if old != t:
            raise Unsupported(f"local {name} holds both {old} and {t}")
        return 8 * self.local_word[name]

    def put(self, name: str, values: dict, site: Site | None) -> None:
        if name not in self.lib:
            raise Unsupported(f"no stencil {name}")
        self.stencils.append(self.lib[name])
        self.values.append(values)
        self.sites.append(site)

    def mark(self, label: str) -> None:
        self.labels[label] = len(self.stencils)

    def exit_label(self, u: Uop, b, i) -> str:
        if u.exit is None:
            raise Unsupported(f"{u.name} at {b.label}:{i} has no exit")
        for _, v in u.exit.values:
            _word_type(self.fn, v, "exit value")
        for name, v in u.exit.locals:
            self.local(name, _word_type(self.fn, v, "exit local"))
        self.exits.append(u.exit)
        return f"exit:{len(self.exits) - 1}"

    def edge_moves(self, t: Target, site: Site) -> None:
        params = self.block_params[t.block]
        if len(params) != len(t.args):
            raise Unsupported(f"edge to {t.block}: {len(t.args)} args, {len(params)} params")
        for p, a in zip(params, t.args):
            if _word_type(self.fn, p, "block param") != _word_type(self.fn, a, "edge arg"):
                raise Unsupported(f"edge to {t.block}: %{a} and %{p} differ in type")
        moves = [(self.value_word[p], self.value_word[a]) for p, a in zip(params, t.args)]
        for d, s in sequentialize(moves, self.scratch):
            self.put("_MOVE", {V.SLOT0: 8 * s, V.SLOT2: 8 * d}, site)

    # -- the function -------------------------------------------------------------

    def run(self) -> CodeBlob:
        fn = self.fn
        blocks = list(fn.blocks)
        if blocks and blocks[0].uops and blocks[0].uops[-1].name == "_ENTRY":
            entry_uop = blocks[0].uops[-1]
            if len(blocks[0].uops) != 1:
                raise Unsupported("_ENTRY block has other uops")
            if any(t.args for t in entry_uop.targets):
                raise Unsupported("_ENTRY target with arguments")
            entries = [t.block for t in entry_uop.targets]
            blocks = blocks[1:]
        else:
            entries = [fn.entry.label]
        for b in blocks:
            for p in b.params:
                _word_type(fn, p, "block param")
            if b.label in entries and b.params:
                raise Unsupported(f"entry block {b.label} has params")
        order = [b.label for b in blocks]
        out_of_line: list[tuple[str, Target, Site]] = []
        for n, b in enumerate(blocks):
            following = order[n + 1] if n + 1 < len(order) else None
            self.mark(f"block:{b.label}")
            for i, u in enumerate(b.uops):
                site = Site(b.label, i, u.name, u.line)
                self.uop(u, b, i, site, following, out_of_line)
        for label, t, site in out_of_line:
            self.mark(label)
            self.edge_moves(t, site)
            self.put("_JUMP", {V.TARGET: f"block:{t.block}"}, site)
        for k in range(len(self.exits)):
            self.mark(f"exit:{k}")
            self.put("_EXIT_STUB", {V.OPERAND: k}, None)
        value_types = {v: fn.types[v] for v in self.value_word if fn.types.get(v) in WORD_TYPES}
        frame = FrameLayout(self.local_word, self.value_word, self.scratch, self.scratch + 1,
                            value_types, dict(sorted(self.local_types.items())))
        return CodeBlob(fn.name, self.stencils, self.values, self.sites, self.labels,
                        entries, self.exits, self.returns, frame)

    def uop(self, u: Uop, b, i: int, site: Site, following, out_of_line) -> None:
        fn, name = self.fn, u.name
        d = u.defn
        if name == "_NOP":
            return
        if d.is_guard:
            raise Unsupported(f"guard {name} at {b.label}:{i}: guards on raw words cannot "
                              "be checked (needs typeprop + guardelim)")
        for k, (v, req) in enumerate(zip(u.inputs, d.requires)):
            if req is not None and _word_type(fn, v, f"input of {name}") != req:
                raise Unsupported(f"{name} needs {req} for %{v}, has {fn.types[v]}")
        if u.output is not None:
            out_type = _word_type(fn, u.output, f"output of {name}")
            if d.result is not None and d.result != out_type:
                raise Unsupported(f"{name} makes {d.result}, %{u.output} is {out_type}")
        if name == "_LOAD_CONST":
            bits = _const_bits(u.imms[0], out_type)
            self.put("_LOAD_CONST", {V.OPERAND: bits, V.SLOT2: self.slot(u.output)}, site)
        elif name == "_LOAD_FAST":
            self.put("_MOVE", {V.SLOT0: self.local(u.imms[0], out_type),
                               V.SLOT2: self.slot(u.output)}, site)
        elif name == "_STORE_FAST":
            t = _word_type(fn, u.inputs[0], "stored value")
            self.put("_MOVE", {V.SLOT0: self.slot(u.inputs[0]),
                               V.SLOT2: self.local(u.imms[0], t)}, site)
        elif name in ("_COPY", "_RANGE_ARG"):
            if _word_type(fn, u.inputs[0], name) != out_type or (
                    name == "_RANGE_ARG" and out_type != "int"):
                raise Unsupported(f"{name} %{u.output} changes the type")
            self.put("_MOVE", {V.SLOT0: self.slot(u.inputs[0]),
                               V.SLOT2: self.slot(u.output)}, site)
        elif name in ("_COMPARE_OP_INT", "_COMPARE_OP_FLOAT"):
            op = u.imms[0]
            if op not in CMP_NAMES:
                raise Unsupported(f"{name} {op}")
            self.put(f"{name}_{CMP_NAMES[op]}", {V.SLOT0: self.slot(u.inputs[0]),
                                                 V.SLOT1: self.slot(u.inputs[1]),
                                                 V.SLOT2: self.slot(u.output)}, site)
        elif name in DIRECT:
            values = {V.SLOT2: self.slot(u.output)}
            for k, v in enumerate(u.inputs):
                values[(V.SLOT0, V.SLOT1)[k]] = self.slot(v)
            if V.EXIT in self.lib[name].values:
                values[V.EXIT] = self.exit_label(u, b, i)
            self.put(name, values, site)
        elif name == "_JUMP":
            t = u.targets[0]
            self.edge_moves(t, site)
            if t.block != following:
                self.put("_JUMP", {V.TARGET: f"block:{t.block}"}, site)
        elif name == "_BRANCH":
            if fn.types.get(u.inputs[0]) != "bool":
                raise Unsupported("_BRANCH on a value not proven bool")
            cond = self.slot(u.inputs[0])
            yes, no = u.targets
            if not yes.args and not no.args and yes.block == following:
                self.put("_BRANCH_IFNOT", {V.SLOT0: cond, V.TARGET: f"block:{no.block}"}, site)
                return
            if yes.args:
                label = f"edge:{b.label}:{i}"
                out_of_line.append((label, yes, site))
            else:
                label = f"block:{yes.block}"
            self.put("_BRANCH_IF", {V.SLOT0: cond, V.TARGET: label}, site)
            self.edge_moves(no, site)
            if no.block != following:
                self.put("_JUMP", {V.TARGET: f"block:{no.block}"}, site)
        elif name == "_RETURN":
            v = u.inputs[0]
            _word_type(fn, v, "returned value")
            self.returns.append(v)
            status = (-len(self.returns)) & MASK64  # -1 - site
            self.put("_RETURN", {V.SLOT0: self.slot(v), V.OPERAND: status}, site)
        else:
            raise Unsupported(f"no native stencil for {name} (at {b.label}:{i})")


def compile(fn: Function) -> CodeBlob:  # noqa: A001 - the backend's verb
    """Machine code for `fn`, or Unsupported(reason)."""
    return _Emitter(fn).run()
