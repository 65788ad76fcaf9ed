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

With `fn.locs` (regalloc ran) values in `rK` live in machine registers across stencils
(register variants, see uop_stencils); `sK` are frame words. Values whose type is not
proven int/float/bool are boxed words (uop_stencils documents the encoding); guards on
them are tag tests; uops without a native stencil call a Python runtime helper
(`HelperSite`, run by backends.native.helpers); `_EXIT_COLD` (code tier 1 never ran)
is a plain jump to its exit stub.

What cannot be compiled raises `Unsupported(reason)`: the caller keeps running the
function in the interpreter.
"""

from __future__ import annotations

import dataclasses
import struct

from ir.core import Exit, Function, Target, Uop

from .entry_shim import ENTRY_SHIM_NAME
from .patcher import layout, link
from .stencil import HoleValue as V
from .stencil import Stencil
from .uop_stencils import (BODIES, CMP_NAMES, MAX_REGS, TAG_LIST, TAG_OBJ, TAG_SHIFT,
                           Variant, variant_library)
from . import uop_stencils as S

WORD_TYPES = ("int", "float", "bool")
BOX = "box"
HEADER_WORDS = S.HEADER_WORDS  # exit index, returned value, helper status
MASK64 = (1 << 64) - 1
CONV = {"int": "i", "float": "f", "bool": "b"}

# Uops compiled by the stencil of the same name.
DIRECT = frozenset(n for n in BODIES if not n.startswith("_COMPARE_OP") and n not in (
    "_LOAD_CONST", "_MOVE"))
MOVES = frozenset({"_LOAD_FAST", "_STORE_FAST", "_COPY", "_RANGE_ARG"})
# Helper effects with semantics of their own (backends.native.helpers), not the uop's impl.
HELPER_EFFECTS = frozenset({"LOAD_FAST_CHECK", "LOAD_GLOBAL", "STORE_GLOBAL", "CALL_FUNCTION",
                            "CALL_BUILTIN", "CALL_METHOD"})
GUARD_KINDS = {"INT": "int", "FLOAT": "float", "BOOL": "bool", "LIST": "list"}


class Unsupported(Exception):
    """The function cannot be compiled by this backend (the reason says why)."""


@dataclasses.dataclass(frozen=True)
class FrameLayout:
    """Word indices in the native frame and the representation of every word the code
    uses: "int" / "float" / "bool" (raw) or "box" (uop_stencils' boxed encoding)."""

    local_word: dict[str, int]
    value_word: dict[int, int]
    scratch_word: int
    words: int
    value_types: dict[int, str]
    local_types: dict[str, str]  # only locals the code reads or writes
    regsave_word: int = HEADER_WORDS  # exit stubs store register rK at word regsave+K
    nregs: int = 0
    arg_word: int = 0  # helper argument words start here


@dataclasses.dataclass(frozen=True)
class Site:
    block: str
    index: int
    name: str
    line: int | None


@dataclasses.dataclass(frozen=True)
class HelperSite:
    """A uop run by the Python helper: its inputs' frame words and representations,
    the output's representation (None: no output), and whether it has a side exit."""

    uop: Uop
    inputs: tuple[tuple[int, str], ...]
    output: str | None
    has_exit: bool
    direct: str | None = None  # a direct call site of this module function (its cell)


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
    helper_sites: list[HelperSite] = dataclasses.field(default_factory=list)
    constants: list = dataclasses.field(default_factory=list)  # handles 0.. of boxed consts

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

    def code(self, base: int, helpers: dict[str, int] | None = None) -> bytes:
        """All code and data, patched to run at address `base` (page aligned);
        `helpers` gives the address of each helper the code calls: "call:K" for helper
        site K (falling back to "call", one function for every site: the stencil passes
        `(frame, K, 0)` either way) and "box" (the int slow paths)."""
        helpers = helpers or {}

        def resolve(v):
            if not isinstance(v, str):
                return v
            if v.startswith("helper:"):
                name = v[len("helper:"):]
                if name not in helpers and name.startswith("call:"):
                    name = "call"
                if name not in helpers:
                    raise Unsupported(f"no address given for helper {name}")
                return helpers[name]
            return base + self.label_offset(v)
        resolved = [{k: resolve(v) for k, v in given.items()} for given in self.values]
        return link(self.stencils, resolved, base)

    def address_map(self, base: int = 0) -> dict[int, tuple[str, int, str, int | None]]:
        """Start address of each uop's stencil -> (block, uop index, uop name, line)."""
        out = {}
        for site, offset in zip(self.sites, self.offsets):
            if site is not None and base + offset not in out:
                out[base + offset] = (site.block, site.index, site.name, site.line)
        return out


def rep_of(fn: Function, v: int) -> str:
    """The word representation of value `v`: a proven word type, else boxed."""
    t = fn.types.get(v)
    return t if t in WORD_TYPES else BOX


def _const_bits(c, t: str) -> int:
    if t == "float" and type(c) is float:
        return struct.unpack("<Q", struct.pack("<d", c))[0]
    if t == "bool" and type(c) is bool:
        return int(c)
    if t == "int" and type(c) is int and -(1 << 63) <= c < (1 << 63):
        return c & MASK64
    raise Unsupported(f"constant {c!r} is not a native {t}")


def box_constant(c, constants: list) -> int:
    """The boxed word of a constant; objects get a handle in `constants`."""
    t = type(c)
    if t is float:
        return S.CANON_NAN if c != c else struct.unpack("<Q", struct.pack("<d", c))[0]
    if t is bool:
        return (S.TAG_BOOL << TAG_SHIFT) | int(c)
    if t is int and -(1 << 47) <= c < (1 << 47):
        return (S.TAG_INT << TAG_SHIFT) | (c & ((1 << 48) - 1))
    if c is None:
        return S.NONE_WORD
    for k, old in enumerate(constants):
        if type(old) is t and old == c and (t is not float):
            return ((TAG_LIST if t is list else TAG_OBJ) << TAG_SHIFT) | k
    constants.append(c)
    return ((TAG_LIST if t is list else TAG_OBJ) << TAG_SHIFT) | (len(constants) - 1)


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


Operand = tuple  # (register index or None, byte offset or None)


class _Emitter:
    def __init__(self, fn: Function, direct_calls: bool = False):
        self.fn = fn
        self.direct_calls = direct_calls
        self.items: list[tuple[Variant | str, dict, Site | None]] = [("shim", {}, None)]
        self.labels: dict[str, int] = {}
        self.exits: list[Exit] = []
        self.returns: list[int] = []
        self.helper_sites: list[HelperSite] = []
        self.constants: list = []
        self.block_params = {b.label: b.params for b in fn.blocks}
        self.uses_error = False
        self.colds: list[tuple[Variant, dict, Site]] = []  # cold parts of split stencils
        self.regalloc = bool(fn.locs)
        nlocals = len(fn.locals)
        if self.regalloc:
            regs, slots = set(), set()
            for v, loc in fn.locs.items():
                (regs if loc.startswith("r") else slots).add(int(loc[1:]))
            self.nregs = max(regs) + 1 if regs else 0
            if self.nregs > MAX_REGS:
                raise Unsupported(f"{self.nregs} registers; stencils pass at most {MAX_REGS}")
            local_base = HEADER_WORDS + self.nregs
            slot_base = local_base + nlocals
            nslots = max(slots) + 1 if slots else 0
            self.value_word = {}
            for v, loc in fn.locs.items():
                k = int(loc[1:])
                self.value_word[v] = (HEADER_WORDS + k) if loc[0] == "r" else slot_base + k
            self.arg_base = slot_base + nslots
        else:
            self.nregs = 0
            local_base = HEADER_WORDS
            top = fn.max_value() + 1
            self.value_word = {v: HEADER_WORDS + nlocals + v for v in range(top)}
            self.arg_base = HEADER_WORDS + nlocals + top
        self.local_word = {name: local_base + i for i, name in enumerate(fn.locals)}
        self.local_rep = self._local_reps()
        max_args = max((len(u.inputs) for _, _, u in fn.uops()), default=0)
        self.scratch = self.arg_base + max_args

    def _local_reps(self) -> dict[str, str]:
        seen: dict[str, set[str]] = {}
        for _, _, u in self.fn.uops():
            if u.name in ("_LOAD_FAST", "_LOAD_FAST_CHECK"):
                seen.setdefault(u.imms[0], set()).add(
                    BOX if u.name == "_LOAD_FAST_CHECK" else self.rep(u.output))
            elif u.name == "_STORE_FAST":
                seen.setdefault(u.imms[0], set()).add(self.rep(u.inputs[0]))
        return {k: (next(iter(s)) if len(s) == 1 else BOX) for k, s in sorted(seen.items())}

    # -- helpers ----------------------------------------------------------------

    def rep(self, v: int) -> str:
        return rep_of(self.fn, v)

    def operand(self, v: int) -> Operand:
        if self.regalloc:
            loc = self.fn.locs.get(v)
            if loc is None:
                raise Unsupported(f"%{v} has no location")
            if loc[0] == "r":
                return (int(loc[1:]), None)
        if v not in self.value_word:
            raise Unsupported(f"%{v} has no frame word")
        return (None, 8 * self.value_word[v])

    def local_operand(self, name: str) -> Operand:
        if name not in self.local_word:
            raise Unsupported(f"unknown local {name}")
        return (None, 8 * self.local_word[name])

    def put(self, variant: Variant, values: dict, site: Site | None) -> None:
        self.items.append((variant, values, site))

    def put_op(self, base: str, ins: list[tuple[Operand, str]], out: Operand | None,
               values: dict, site: Site | None, **kw) -> None:
        """A stencil with inputs (operand, unbox conversion) and an optional output."""
        values = dict(values)
        inputs = []
        if base in ("_GUARD_INT", "_BOX_INT") or any(conv == "i" for _, conv in ins):
            values[V.HELPER] = "helper:box"   # slow paths for ints past 48 bits
            values[V.ERROR] = "error"         # ... which may fail (status word)
            self.uses_error = True
        for k, ((reg, off), conv) in enumerate(ins):
            inputs.append((reg, conv))
            if reg is None:
                values[(V.SLOT0, V.SLOT1)[k]] = off
        output = None
        if out is not None:
            output = out[0]
            if out[0] is None:
                values[V.SLOT2] = out[1]
        variant = Variant(base, tuple(inputs), output, out is not None, self.nregs, **kw)
        if not variant.splittable:
            self.put(variant, values, site)
            return
        hot, cold = variant.split()   # slow paths out of line, after the exit stubs
        k = len(self.colds)
        self.put(hot, {**values, V.COLD: f"cold:{k}"}, site)
        self.mark(f"resume:{k}")
        self.colds.append((cold, {**values, V.RESUME: f"resume:{k}"}, site))

    def mark(self, label: str) -> None:
        self.labels[label] = len(self.items)

    def conv(self, v: int, need: str) -> str:
        """How to read `v` where a raw `need` is required ('' or an unbox)."""
        r = self.rep(v)
        if r == need:
            return ""
        if r == BOX and need in CONV:
            return CONV[need]
        raise Unsupported(f"%{v} is {r}, {need} needed")

    def move(self, src: Operand, src_rep: str, dst: Operand, dst_rep: str, site) -> None:
        if src == dst and src_rep == dst_rep:
            return
        if src_rep == dst_rep:
            self.put_op("_MOVE", [(src, "")], dst, {}, site)
        elif src_rep == BOX and dst_rep in CONV:
            self.put_op("_MOVE", [(src, CONV[dst_rep])], dst, {}, site)
        elif dst_rep == BOX and src_rep in CONV:
            self.put_op(f"_BOX_{src_rep.upper()}", [(src, "")], dst, {}, site)
        else:
            raise Unsupported(f"cannot convert a {src_rep} word to {dst_rep}")

    def exit_label(self, u: Uop, b, i) -> str:
        if u.exit is None:
            raise Unsupported(f"{u.name} at {b.label}:{i} has no exit")
        saves = set()
        for _, v in list(u.exit.values) + list(u.exit.locals):
            reg, _ = self.operand(v)
            if reg is not None:
                saves.add(reg)
        self.exits.append(u.exit)
        self.exit_saves.append(tuple(sorted(saves)))
        return f"exit:{len(self.exits) - 1}"

    def edge_moves(self, t: Target, site: Site) -> None:
        params = self.block_params[t.block]
        if len(params) != len(t.args):
            raise Unsupported(f"edge to {t.block}: {len(t.args)} args, {len(params)} params")
        if self.regalloc:
            for p, a in zip(params, t.args):
                if self.operand(p) != self.operand(a):
                    raise Unsupported(f"edge to {t.block}: %{a} not in %{p}'s location")
                if self.rep(p) != self.rep(a):   # same place: convert in place
                    self.move(self.operand(a), self.rep(a), self.operand(p), self.rep(p),
                              site)
            return
        conv = {self.value_word[p]: (self.rep(a), self.rep(p))
                for p, a in zip(params, t.args)}
        moves = [(self.value_word[p], self.value_word[a]) for p, a in zip(params, t.args)]
        scratch_rep = {}
        for d, s in sequentialize(moves, self.scratch):
            if d == self.scratch:
                src_rep = next(r for (r, _) in (conv[w] for w, src in moves if src == s))
                scratch_rep[s] = src_rep
                self.move((None, 8 * s), src_rep, (None, 8 * d), src_rep, site)
            else:
                src_rep, dst_rep = conv[d]
                self.move((None, 8 * s), src_rep, (None, 8 * d), dst_rep, site)

    # -- the function -------------------------------------------------------------

    def run(self) -> CodeBlob:
        fn = self.fn
        self.exit_saves: list[tuple[int, ...]] = []
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
            self.put(Variant("_JUMP", nregs=self.nregs), {V.TARGET: f"block:{t.block}"},
                     site)
        for k in range(len(self.exits)):
            self.mark(f"exit:{k}")
            self.put(Variant("_EXIT_STUB", nregs=self.nregs, saves=self.exit_saves[k]),
                     {V.OPERAND: k}, None)
        if self.uses_error:
            self.mark("error")
            self.put(Variant("_ERROR_STUB", nregs=self.nregs), {}, None)
        for k, item in enumerate(self.colds):
            self.mark(f"cold:{k}")
            self.put(*item)
        variants = [it[0] for it in self.items if isinstance(it[0], Variant)]
        lib = variant_library(variants)
        stencils = [lib[ENTRY_SHIM_NAME] if v == "shim" else lib[v.name]
                    for v, _, _ in self.items]
        value_types = {v: self.rep(v) for v in sorted(self.value_word)}
        frame = FrameLayout(self.local_word, self.value_word, self.scratch, self.scratch + 1,
                            value_types, dict(self.local_rep), HEADER_WORDS, self.nregs,
                            self.arg_base)
        return CodeBlob(fn.name, stencils, [it[1] for it in self.items],
                        [it[2] for it in self.items], self.labels, entries, self.exits,
                        self.returns, frame, self.helper_sites, self.constants)

    def generic_fast(self, u: Uop, b, i: int, site: Site) -> bool:
        """A generic uop on boxed words as an inline fast path (hot part) whose cold part
        calls the helper (register inputs stored to their register save words); False
        when it has no fast path (its operator, or an operand not a boxed word)."""
        if u.output is None or any(self.rep(v) != BOX for v in u.inputs):
            return False
        out_rep = self.rep(u.output)
        if out_rep not in (BOX, "bool"):
            return False
        base = S.generic_base(u.name, u.imms[0] if u.imms else None, out_rep == "bool")
        if base is None:
            return False
        ins, words = [], []
        for v in u.inputs:
            reg, off = self.operand(v)
            ins.append(((reg, off), ""))
            words.append((HEADER_WORDS + reg if reg is not None else off // 8, BOX))
        has_exit = u.exit is not None
        k = len(self.helper_sites)
        values = {V.OPERAND: k, V.HELPER: f"helper:call:{k}", V.ERROR: "error"}
        if has_exit:
            values[V.EXIT] = self.exit_label(u, b, i)
        self.helper_sites.append(HelperSite(u, tuple(words), out_rep, has_exit))
        self.uses_error = True
        self.put_op(base, ins, self.operand(u.output), values, site, exit=has_exit)
        return True

    def direct_call(self, u: Uop, b, i: int, site: Site) -> bool:
        """A `_CALL_FUNCTION` as `_CALL_DIRECT_{n}` (uop_stencils.direct_call_body): the
        arguments boxed into the helper argument words, which the direct path copies into
        the callee's frame and the helper path (same HelperSite) reads. False when the
        site does not qualify (a non-boxed result, too many arguments)."""
        if (not self.direct_calls or u.defn.effect.name != "CALL_FUNCTION"
                or u.output is None or self.rep(u.output) != BOX
                or len(u.inputs) > S.MAX_DIRECT_ARGS):
            return False
        inputs = []
        for k, v in enumerate(u.inputs):
            word = self.arg_base + k
            self.move(self.operand(v), self.rep(v), (None, 8 * word), BOX, site)
            inputs.append((word, BOX))
        has_exit = u.exit is not None
        k = len(self.helper_sites)
        callee = u.imms[0]
        values = {V.OPERAND: k, V.HELPER: f"helper:call:{k}", V.HELPER2: f"helper:finish:{k}",
                  V.OPERAND2: f"helper:cell:{callee}", V.ERROR: "error",
                  V.SLOT0: 8 * self.arg_base}
        if has_exit:
            values[V.EXIT] = self.exit_label(u, b, i)
        self.helper_sites.append(HelperSite(u, tuple(inputs), BOX, has_exit, callee))
        self.uses_error = True
        self.put(Variant(f"_CALL_DIRECT_{len(u.inputs)}", (), self.operand(u.output)[0], True,
                         self.nregs, exit=has_exit),
                 {**values, **({} if self.operand(u.output)[0] is not None
                               else {V.SLOT2: self.operand(u.output)[1]})}, site)
        return True

    def helper(self, u: Uop, b, i: int, site: Site) -> None:
        """Run `u` in the Python helper: inputs stored to frame words first."""
        if u.name in S.GENERIC_FAST and self.generic_fast(u, b, i, site):
            return
        if self.direct_call(u, b, i, site):
            return
        inputs = []
        if u.name == "_LOAD_FAST_CHECK":
            name = u.imms[0]
            self.local_operand(name)
            inputs.append((self.local_word[name], self.local_rep[name]))
        for k, v in enumerate(u.inputs):
            reg, off = self.operand(v)
            if reg is not None:
                word = self.arg_base + k
                self.put_op("_MOVE", [((reg, None), "")], (None, 8 * word), {}, site)
            else:
                word = off // 8
            inputs.append((word, self.rep(v)))
        has_exit = u.exit is not None
        d = u.defn
        if d.effect.name not in HELPER_EFFECTS and d.implementation(u.imms) is None:
            raise Unsupported(f"no helper semantics for {u.name}")
        k = len(self.helper_sites)
        values = {V.OPERAND: k, V.HELPER: f"helper:call:{k}",
                  V.ERROR: "error"}
        if has_exit:
            values[V.EXIT] = self.exit_label(u, b, i)
        out_rep = self.rep(u.output) if u.output is not None else None
        self.helper_sites.append(HelperSite(u, tuple(inputs), out_rep, has_exit))
        self.uses_error = True
        out = self.operand(u.output) if u.output is not None else None
        self.put_op("_CALL_HELPER", [], out, values, site, exit=has_exit)

    def uop(self, u: Uop, b, i: int, site: Site, following, out_of_line) -> None:
        name = u.name
        d = u.defn
        if name in ("_NOP",) or d.effect.name == "SPILL":
            return
        if name == "_EXIT_COLD":   # never ran in tier 1: always leave (no helper needed)
            self.put_op("_GUARD_NEVER", [], None, {V.EXIT: self.exit_label(u, b, i)}, site)
            return
        if d.is_guard:
            kind = name.rsplit("_", 1)[1]
            need = GUARD_KINDS.get(kind)
            if need is None:
                return self.helper(u, b, i, site)
            label = None
            for v in u.inputs:
                r = self.rep(v)
                if r == need:
                    continue      # a raw word of that type: statically true
                label = label or self.exit_label(u, b, i)
                if r == BOX:
                    self.put_op(f"_GUARD_{kind}", [(self.operand(v), "")], None,
                                {V.EXIT: label}, site)
                else:
                    self.put_op("_GUARD_NEVER", [], None, {V.EXIT: label}, site)
            return
        if name == "_LOAD_CONST":
            r = self.rep(u.output)
            c = u.imms[0]
            bits = box_constant(c, self.constants) if r == BOX else _const_bits(c, r)
            self.put_op("_LOAD_CONST", [], self.operand(u.output), {V.OPERAND: bits}, site)
            return
        if name == "_LOAD_FAST":
            lname = u.imms[0]
            self.move(self.local_operand(lname), self.local_rep[lname],
                      self.operand(u.output), self.rep(u.output), site)
            return
        if name == "_STORE_FAST":
            lname = u.imms[0]
            v = u.inputs[0]
            self.move(self.operand(v), self.rep(v), self.local_operand(lname),
                      self.local_rep[lname], site)
            return
        if name == "_COPY" or (name == "_RANGE_ARG" and self.rep(u.inputs[0]) == "int"
                               and self.rep(u.output) in ("int", BOX)):
            v = u.inputs[0]
            self.move(self.operand(v), self.rep(v), self.operand(u.output),
                      self.rep(u.output), site)
            return
        stencil = None
        if name in ("_COMPARE_OP_INT", "_COMPARE_OP_FLOAT") and u.imms[0] in CMP_NAMES:
            stencil = f"{name}_{CMP_NAMES[u.imms[0]]}"
        elif name in DIRECT:
            stencil = name
        if stencil is not None:
            try:
                ins = [(self.operand(v), self.conv(v, req))
                       for v, req in zip(u.inputs, d.requires)]
            except Unsupported:
                return self.helper(u, b, i, site)
            values = {}
            if d.can_exit:
                values[V.EXIT] = self.exit_label(u, b, i)
            out_rep = self.rep(u.output)
            result = d.result
            if out_rep not in (result, BOX):
                return self.helper(u, b, i, site)
            out = self.operand(u.output)
            self.put_op(stencil, ins, out, values, site)
            if out_rep == BOX:
                self.move(out, result, out, BOX, site)
            return
        if name == "_JUMP":
            t = u.targets[0]
            self.edge_moves(t, site)
            if t.block != following:
                self.put(Variant("_JUMP", nregs=self.nregs), {V.TARGET: f"block:{t.block}"},
                         site)
            return
        if name == "_BRANCH":
            v = u.inputs[0]
            cond = (self.operand(v), self.conv(v, "bool"))
            yes, no = u.targets
            if not yes.args and not no.args and yes.block == following:
                self.put_op("_BRANCH_IFNOT", [cond], None, {V.TARGET: f"block:{no.block}"},
                            site)
                return
            needs_edge = yes.args and (not self.regalloc or any(
                self.rep(a) != self.rep(p)
                for a, p in zip(yes.args, self.block_params[yes.block])))
            if needs_edge:
                label = f"edge:{b.label}:{i}"
                out_of_line.append((label, yes, site))
            else:
                self.edge_moves(yes, site) if self.regalloc and yes.args else None
                label = f"block:{yes.block}"
            self.put_op("_BRANCH_IF", [cond], None, {V.TARGET: label}, site)
            self.edge_moves(no, site)
            if no.block != following:
                self.put(Variant("_JUMP", nregs=self.nregs), {V.TARGET: f"block:{no.block}"},
                         site)
            return
        if name == "_RETURN":
            v = u.inputs[0]
            self.returns.append(v)
            status = (-len(self.returns)) & MASK64  # -1 - site
            self.put_op("_RETURN", [(self.operand(v), "")], None, {V.OPERAND: status}, site)
            return
        if name in ("_ENTRY",) or d.is_terminator:
            raise Unsupported(f"no native stencil for {name} (at {b.label}:{i})")
        self.helper(u, b, i, site)


def compile(fn: Function, direct_calls: bool = False) -> CodeBlob:  # noqa: A001
    """Machine code for `fn`, or Unsupported(reason). `direct_calls`: calls of module
    functions get the direct path (backends.native.direct; natively only: the code then
    needs the runtime's cells and finishing helpers to link)."""
    return _Emitter(fn, direct_calls).run()
