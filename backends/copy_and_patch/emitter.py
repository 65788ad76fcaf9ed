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
proven int/float/bool are boxed: `PyObject *` words with CPython's reference counting
(uop_stencils; `ownership` says where each reference is dropped, and this emitter emits
the `_INCREF`/`_DECREF` stencils there, on edges, at entries for the frame locals and at
returns); guards on them are type tests; generic uops call the C API from their stencils;
uops whose work is Python-level call a Python runtime helper (`HelperSite`, run by
backends.native.helpers); `_EXIT_COLD` (code tier 1 never ran) is a plain jump to its exit
stub. Every exit and every place that can fail records what it must release
(`CodeBlob.exit_releases`, `CodeBlob.errors`), so the runner leaves reference counts exact.

`boxed=True` compiles with every value boxed (CPython 3.15's model: no unboxing), so the
effect of unboxing on top of register allocation can be measured.

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
from . import capi
from . import uop_stencils as S
from .ownership import Ownership
from .uop_stencils import CMP_NAMES, MAX_REGS, Variant, variant_library

WORD_TYPES = ("int", "float", "bool")
BOX = "box"
HEADER_WORDS = S.HEADER_WORDS  # exit index, returned value, helper status, exception
MASK64 = (1 << 64) - 1
CONV = {"int": "i", "float": "f", "bool": "b"}
TEMP_WORDS = 4  # boxed temporaries of one uop, at least (raw inputs boxed for the C API)
SHADOW_WORDS = 3  # copies of dying inputs whose register the uop's output reuses

# Helper effects with semantics of their own (backends.native.helpers), not the uop's impl.
HELPER_EFFECTS = frozenset({"LOAD_FAST_CHECK", "LOAD_GLOBAL", "STORE_GLOBAL", "CALL_FUNCTION",
                            "CALL_BUILTIN", "CALL_METHOD"})
# guard_type -> the type test stencil `_GUARD_{kind}` (uop_stencils)
GUARD_KINDS = {"int": "INT", "float": "FLOAT", "bool": "BOOL", "list": "LIST"}


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
    temp_word: int = 0  # a uop's boxed temporaries start here


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


@dataclasses.dataclass(frozen=True)
class ErrorSite:
    """A place that can fail (a C-API call, a Python helper): its uop, and the frame words
    of every reference held there, which the runner releases before raising."""

    fn_name: str
    uop: str
    line: int | None
    release: tuple[int, ...]


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
    constants: list = dataclasses.field(default_factory=list)  # boxed constants (kept alive)
    exit_releases: list[tuple[int, ...]] = dataclasses.field(default_factory=list)
    errors: list[ErrorSite] = dataclasses.field(default_factory=list)
    boxed: bool = False                     # compiled with every value boxed

    def __post_init__(self):
        placements, self.size = layout(self.stencils, 0)
        self.offsets = [p.code_address for p in placements]

    def label_offset(self, label: str) -> int:
        return self.offsets[self.labels[label]]

    def entry_offset(self, index: int) -> int:
        return self.label_offset(f"entry:{index}")

    @property
    def externs(self) -> frozenset[str]:
        """The interpreter symbols the code refers to (capi.py)."""
        return frozenset().union(*(st.externs for st in self.stencils))

    @property
    def shim_offset(self) -> int:
        return 0

    def code(self, base: int, helpers: dict[str, int] | None = None,
             externs: dict[str, int] | None = None) -> bytes:
        """All code and data, patched to run at address `base` (page aligned);
        `helpers` gives the address of each helper the code calls: "call:K" for helper
        site K (falling back to "call", one function for every site: the stencil passes
        `(frame, K, 0)` either way); `externs` the address of each interpreter symbol
        (default: the real ones, capi.address)."""
        helpers = helpers or {}
        if externs is None:
            externs = capi.addresses(self.externs)

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
        return link(self.stencils, resolved, base, externs)

    def address_map(self, base: int = 0) -> dict[int, tuple[str, int, str, int | None]]:
        """Start address of each uop's stencil -> (block, uop index, uop name, line)."""
        out = {}
        for site, offset in zip(self.sites, self.offsets):
            if site is not None and base + offset not in out:
                out[base + offset] = (site.block, site.index, site.name, site.line)
        return out


def rep_of(fn: Function, v: int, boxed: bool = False) -> str:
    """The word representation of value `v`: a proven word type, else boxed (always
    boxed with `boxed`)."""
    if boxed:
        return BOX
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
    """The word of a boxed constant: its address; `constants` keeps it alive."""
    for old in constants:
        if old is c:
            return id(c)
    constants.append(c)
    return id(c)


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
    def __init__(self, fn: Function, direct_calls: bool = False, boxed: bool = False):
        self.fn = fn
        self.direct_calls = direct_calls
        self.boxed = boxed
        self.items: list[tuple[Variant | str, dict, Site | None]] = [("shim", {}, None)]
        self.labels: dict[str, int] = {}
        self.exits: list[Exit] = []
        self.exit_releases: list[tuple[int, ...]] = []
        self.errors: list[ErrorSite] = []
        self.error_saves: list[tuple[int, ...]] = []
        self.returns: list[int] = []
        self.helper_sites: list[HelperSite] = []
        self.constants: list = []
        self.block_params = {b.label: b.params for b in fn.blocks}
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
        self.temp_base = self.scratch + 1
        # boxed temporaries: a uop's raw inputs boxed for the C API, or an edge's raw
        # arguments boxed for its parameters
        self.ntemps = max([TEMP_WORDS] + [len(b.params) for b in fn.blocks])
        # what the uop being emitted holds: boxed values live before it and its boxed
        # temporaries (frame words), released by its exits and errors
        self.held: tuple[int, ...] = ()
        self.temps: list[int] = []
        self.site: Site | None = None
        self.error_cache: dict = {}
        self.stolen: set[int] = set()   # dying values whose reference a uop took over
        # dying boxed inputs whose register the uop's output reuses: copied to a frame
        # word first, where the decref after the uop (and any error release) finds them
        self.shadow: dict[int, int] = {}

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
        return rep_of(self.fn, v, self.boxed)

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
        """A stencil with inputs (operand, unbox conversion) and an optional output; one
        that can fail gets the current site's error stub."""
        values = dict(values)
        inputs = []
        for k, ((reg, off), conv) in enumerate(ins):
            inputs.append((reg, conv))
            if reg is None:
                values[(V.SLOT0, V.SLOT1, V.SLOT2)[k]] = off
        output = None
        if out is not None:
            if len(ins) > 2:
                raise Unsupported(f"{base}: three inputs and an output")
            output = out[0]
            if out[0] is None:
                values[V.SLOT2] = out[1]
        if S.may_error(base) and V.ERROR not in values:
            values[V.ERROR] = self.error_label()
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

    def conv(self, v: int, need: str | None) -> str:
        """How to read `v` where `need` is required: '' or an unbox; an object type (or
        None: any object) needs a boxed word (`box_input` makes one from a raw value)."""
        r = self.rep(v)
        if r == need:
            return ""
        if r == BOX and need in CONV:
            return CONV[need]
        if r == BOX and need not in WORD_TYPES:
            return ""
        raise Unsupported(f"%{v} is {r}, {need} needed")

    def words_of(self, values) -> list[int]:
        return [self.shadow.get(v) or self.value_word[v] for v in values]

    def release_now(self) -> tuple[int, ...]:
        """The frame words of every reference the current uop holds."""
        return tuple(self.words_of(self.held)) + tuple(self.temps)

    def saves_now(self, extra=()) -> tuple[int, ...]:
        saves = set()
        for v in list(self.held) + list(extra):
            if v in self.shadow and v not in extra:
                continue
            reg, _ = self.operand(v)
            if reg is not None:
                saves.add(reg)
        return tuple(sorted(saves))

    def error_label(self) -> str:
        """The error stub of the current site (the references held there)."""
        release = self.release_now()
        site = self.site
        key = (site, release)
        label = self.error_cache.get(key)
        if label is None:
            k = len(self.errors)
            self.errors.append(ErrorSite(self.fn.name, site.name if site else "",
                                         site.line if site else None, release))
            self.error_saves.append(self.saves_now())
            label = self.error_cache[key] = f"error:{k}"
        return label

    def move(self, src: Operand, src_rep: str, dst: Operand, dst_rep: str, site) -> None:
        """A word move with its conversion; boxing makes a new reference."""
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

    def refcount(self, op: str, at: Operand, site) -> None:
        self.put_op(op, [(at, "")], None, {}, site)

    def box_input(self, v: int, site) -> Operand:
        """A boxed word for raw value `v` (a new reference in a temporary word, released
        after the uop by `drop_temps`)."""
        if len(self.temps) >= self.ntemps:
            raise Unsupported("too many boxed temporaries in one uop")
        word = self.temp_base + len(self.temps)
        self.move(self.operand(v), self.rep(v), (None, 8 * word), BOX, site)
        self.temps.append(word)
        return (None, 8 * word)

    def boxed_inputs(self, u: Uop, site) -> list[tuple[Operand, str]]:
        return [((self.operand(v), "") if self.rep(v) == BOX else (self.box_input(v, site), ""))
                for v in u.inputs]

    def drop_temps(self, site) -> None:
        temps, self.temps = self.temps, []
        for w in temps:
            self.refcount("_DECREF", (None, 8 * w), site)

    def exit_label(self, u: Uop, b, i) -> str:
        if u.exit is None:
            raise Unsupported(f"{u.name} at {b.label}:{i} has no exit")
        named = [v for _, v in list(u.exit.values) + list(u.exit.locals)]
        self.exits.append(u.exit)
        self.exit_saves.append(self.saves_now(named))
        self.exit_releases.append(self.release_now())
        return f"exit:{len(self.exits) - 1}"

    def edge_moves(self, t: Target, held: tuple[int, ...], site: Site) -> None:
        """An edge into `t.block`: the block parameters' conversions, the reference
        counts, then the moves. Raw arguments are boxed first (boxing can fail, and every
        reference is still where it was) and boxed arguments unboxed next (while their
        objects are certainly alive: the counts may free them)."""
        params = self.block_params[t.block]
        if len(params) != len(t.args):
            raise Unsupported(f"edge to {t.block}: {len(t.args)} args, {len(params)} params")
        pairs = [(p, a) for p, a in zip(params, t.args)
                 if self.own.param_live(t.block, p) or self.rep(p) != BOX]
        deltas = self.own.edge_refs(held, t.block, t.args, lambda p: self.rep(p) == BOX)
        unboxed = [(p, a) for p, a in pairs if self.rep(a) == BOX and self.rep(p) != BOX]
        self.held = held
        if self.regalloc:
            for p, a in pairs:
                if self.operand(p) != self.operand(a):
                    raise Unsupported(f"edge to {t.block}: %{a} not in %{p}'s location")
            boxed_now = []
            for p, a in pairs:   # same place: convert in place (boxing first)
                if self.rep(p) == BOX and self.rep(a) != BOX:
                    self.move(self.operand(a), self.rep(a), self.operand(p), BOX, site)
                    boxed_now.append(p)
                    self.held = held + tuple(boxed_now)
            kept = {}   # an unboxed argument's object word, for its decref
            for k, (p, a) in enumerate(unboxed):
                if deltas.get(a, 0) < 0:
                    word = self.temp_base + k
                    self.put_op("_MOVE", [(self.operand(a), "")], (None, 8 * word), {}, site)
                    kept[a] = word
                self.move(self.operand(a), BOX, self.operand(p), self.rep(p), site)
            self.edge_refcounts(deltas, site, kept)
            self.held = ()
            return
        # frame words: box raw arguments into temporaries, unbox boxed ones into raw
        # temporaries, count, then move in parallel
        src_word = {}
        for p, a in pairs:
            if self.rep(p) == BOX and self.rep(a) != BOX:
                src_word[p] = (self.box_input(a, site), BOX)
        for k, (p, a) in enumerate(unboxed):
            word = self.temp_base + len(self.temps) + k   # a raw word: no reference
            self.move((None, 8 * self.value_word[a]), BOX, (None, 8 * word), self.rep(p), site)
            src_word[p] = ((None, 8 * word), self.rep(p))
        for p, a in pairs:
            src_word.setdefault(p, ((None, 8 * self.value_word[a]), self.rep(a)))
        self.edge_refcounts(deltas, site)
        self.temps = []   # their references pass to the parameters
        moves = [(self.value_word[p], src_word[p][0][1] // 8) for p, _ in pairs]
        rep_of_src = {src_word[p][0][1] // 8: src_word[p][1] for p, _ in pairs}
        conv = {self.value_word[p]: (src_word[p][1], self.rep(p)) for p, _ in pairs}
        for d, s in sequentialize(moves, self.scratch):
            if d == self.scratch:
                r = rep_of_src[s]
                rep_of_src[self.scratch] = r
                self.move((None, 8 * s), r, (None, 8 * d), r, site)
            else:
                src_rep, dst_rep = conv[d]
                if s == self.scratch:
                    src_rep = rep_of_src[s]
                self.move((None, 8 * s), src_rep, (None, 8 * d), dst_rep, site)
        self.held = ()

    def edge_refcounts(self, deltas: dict[int, int], site, kept=None) -> None:
        """Increfs, then decrefs (`kept`: values whose object word was copied to a frame
        word, their own location now holding something else)."""
        kept = kept or {}
        for v, d in sorted(deltas.items()):
            for _ in range(max(d, 0)):
                self.refcount("_INCREF", self.operand(v), site)
        for v, d in sorted(deltas.items()):
            if d < 0:
                at = (None, 8 * kept[v]) if v in kept else self.operand(v)
                self.refcount("_DECREF", at, site)

    def edge_needs_code(self, b, t: Target, held) -> bool:
        """Whether the edge to `t` needs any stencil (moves, conversions, counts)."""
        if self.own.edge_refs(held, t.block, t.args, lambda p: self.rep(p) == BOX):
            return True
        for p, a in zip(self.block_params[t.block], t.args):
            if not self.own.param_live(t.block, p) and self.rep(p) == BOX:
                continue
            if self.rep(p) != self.rep(a) or self.operand(p) != self.operand(a):
                return True
        return False

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
        self.own = Ownership(fn, lambda v: self.rep(v) == BOX, blocks)
        self.boxed_locals = [name for name, r in self.local_rep.items() if r == BOX]
        # entries: the frame's boxed locals are borrowed from the caller; take references
        # (the `_ENTRY` dispatcher's code)
        dispatcher = fn.blocks[0].label if len(blocks) < len(fn.blocks) else None
        entry_site = Site(dispatcher, 0, "_ENTRY", fn.line) if dispatcher else None
        order = [b.label for b in blocks]
        # the function entry's last: it falls through into the first block; with no boxed
        # locals an entry is its block itself (labelled once the blocks are placed)
        for k in (list(range(1, len(entries))) + [0]) if self.boxed_locals else ():
            self.mark(f"entry:{k}")
            for name in self.boxed_locals:
                self.refcount("_XINCREF", self.local_operand(name), entry_site)
            if k != 0 or not order or entries[0] != order[0]:
                self.put(Variant("_JUMP", nregs=self.nregs),
                         {V.TARGET: f"block:{entries[k]}"}, entry_site)
        out_of_line: list[tuple[str, Target, Site, tuple]] = []
        for n, b in enumerate(blocks):
            following = order[n + 1] if n + 1 < len(order) else None
            self.mark(f"block:{b.label}")
            for i, u in enumerate(b.uops):
                site = Site(b.label, i, u.name, u.line)
                self.site = site
                self.held = self.own.before.get((b.label, i), ())
                self.temps = []
                self.shadow_dying(u, b, i, site)
                self.uop(u, b, i, site, following, out_of_line)
                self.drop_temps(site)
                if not u.defn.is_terminator:
                    for v in self.own.dies_after.get((b.label, i), ()):
                        if v not in self.stolen:
                            w = self.shadow.get(v)
                            self.refcount("_DECREF", self.operand(v) if w is None
                                          else (None, 8 * w), site)
                    self.stolen = set()
                self.shadow = {}
        if not self.boxed_locals:
            for k, label in enumerate(entries):
                self.labels[f"entry:{k}"] = self.labels[f"block:{label}"]
        for label, t, site, held in out_of_line:
            self.mark(label)
            self.site = site
            self.edge_moves(t, held, site)
            self.put(Variant("_JUMP", nregs=self.nregs), {V.TARGET: f"block:{t.block}"},
                     site)
        for k in range(len(self.exits)):
            self.mark(f"exit:{k}")
            self.put(Variant("_EXIT_STUB", nregs=self.nregs, saves=self.exit_saves[k]),
                     {V.OPERAND: k}, None)
        for k in range(len(self.errors)):
            self.mark(f"error:{k}")
            self.put(Variant("_ERROR_STUB", nregs=self.nregs, saves=self.error_saves[k]),
                     {V.OPERAND: k}, None)
        for k, item in enumerate(self.colds):
            self.mark(f"cold:{k}")
            self.put(*item)
        variants = [it[0] for it in self.items if isinstance(it[0], Variant)]
        lib = variant_library(variants)
        stencils = [lib[ENTRY_SHIM_NAME] if v == "shim" else lib[v.name]
                    for v, _, _ in self.items]
        value_types = {v: self.rep(v) for v in sorted(self.value_word)}
        frame = FrameLayout(self.local_word, self.value_word, self.scratch,
                            self.temp_base + self.ntemps + SHADOW_WORDS, value_types,
                            dict(self.local_rep),
                            HEADER_WORDS, self.nregs, self.arg_base, self.temp_base)
        return CodeBlob(fn.name, stencils, [it[1] for it in self.items],
                        [it[2] for it in self.items], self.labels, entries, self.exits,
                        self.returns, frame, self.helper_sites, self.constants,
                        self.exit_releases, self.errors, self.boxed)

    def shadow_dying(self, u: Uop, b, i: int, site: Site) -> None:
        """Copy the boxed inputs that die at `u` and share the register its output is
        written to (see `shadow`)."""
        if not self.regalloc or u.output is None or u.output not in self.fn.locs \
                or u.defn.is_terminator:
            return
        out = self.operand(u.output)
        if out[0] is None:
            return
        for v in self.own.dies_after.get((b.label, i), ()):
            if v != u.output and v in self.held and self.operand(v) == out:
                if len(self.shadow) >= SHADOW_WORDS:
                    raise Unsupported("too many dying inputs share the output's register")
                word = self.temp_base + self.ntemps + len(self.shadow)
                self.put_op("_MOVE", [(self.operand(v), "")], (None, 8 * word), {}, site)
                self.shadow[v] = word

    def generic(self, u: Uop, b, i: int, site: Site) -> bool:
        """A generic uop through the C API: its inline fast path (hot part) in front of
        the C-API call (cold part); raw inputs are boxed into temporaries first. False
        when it has none (its operator, or an output that is neither boxed nor a bool)."""
        out_rep = self.rep(u.output) if u.output is not None else BOX
        if out_rep not in (BOX, "bool"):
            return False
        base = S.generic_base(u.name, u.imms[0] if u.imms else None, out_rep == "bool")
        if base is None:
            return False
        ins = self.boxed_inputs(u, site)
        out = self.operand(u.output) if u.output is not None else None
        self.put_op(base, ins, out, {}, site)
        return True

    def build_sequence(self, u: Uop, site: Site) -> bool:
        """`_BUILD_LIST` / `_BUILD_TUPLE` in C: the items (boxed; raw ones boxed into
        temporaries) stored to the argument words, which the stencil reads."""
        if u.name not in ("_BUILD_LIST", "_BUILD_TUPLE") or self.rep(u.output) != BOX:
            return False
        for k, v in enumerate(u.inputs):
            word = self.arg_base + k
            if self.rep(v) != BOX:
                self.temps.append(word)   # a new reference, dropped after the uop
            self.move(self.operand(v), self.rep(v), (None, 8 * word), BOX, site)
        self.put_op(u.name, [], self.operand(u.output),
                    {V.OPERAND: len(u.inputs), V.SLOT0: 8 * self.arg_base}, site)
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
            if self.rep(v) != BOX:
                self.temps.append(word)   # a new reference, dropped after the call
            self.move(self.operand(v), self.rep(v), (None, 8 * word), BOX, site)
            inputs.append((word, BOX))
        has_exit = u.exit is not None
        k = len(self.helper_sites)
        callee = u.imms[0]
        values = {V.OPERAND: k, V.HELPER: f"helper:call:{k}", V.HELPER2: f"helper:finish:{k}",
                  V.OPERAND2: f"helper:cell:{callee}", V.SLOT0: 8 * self.arg_base}
        if has_exit:
            values[V.EXIT] = self.exit_label(u, b, i)
        values[V.ERROR] = self.error_label()
        self.helper_sites.append(HelperSite(u, tuple(inputs), BOX, has_exit, callee))
        self.put(Variant(f"_CALL_DIRECT_{len(u.inputs)}", (), self.operand(u.output)[0], True,
                         self.nregs, exit=has_exit),
                 {**values, **({} if self.operand(u.output)[0] is not None
                               else {V.SLOT2: self.operand(u.output)[1]})}, site)
        return True

    def helper(self, u: Uop, b, i: int, site: Site) -> None:
        """Run `u` in the Python helper: inputs stored to frame words first (borrowed
        references; a boxed output is a new one)."""
        if u.name in S.GENERIC_FAST and self.generic(u, b, i, site):
            return
        if self.build_sequence(u, site) or self.direct_call(u, b, i, site):
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
        values = {V.OPERAND: k, V.HELPER: f"helper:call:{k}"}
        if has_exit:
            values[V.EXIT] = self.exit_label(u, b, i)
        out_rep = self.rep(u.output) if u.output is not None else None
        self.helper_sites.append(HelperSite(u, tuple(inputs), out_rep, has_exit))
        out = self.operand(u.output) if u.output is not None else None
        self.put_op("_CALL_HELPER", [], out, values, site, exit=has_exit)

    def store_local(self, v: int, name: str, site: Site, dies: bool) -> None:
        """`_STORE_FAST`: a boxed local takes a reference (the value's own when it dies
        here) and drops the one it had."""
        lrep, vrep = self.local_rep[name], self.rep(v)
        dst = self.local_operand(name)
        if lrep != BOX:
            self.move(self.operand(v), vrep, dst, lrep, site)
            return
        if vrep == BOX:
            if dies:
                self.stolen.add(v)
            else:
                self.refcount("_INCREF", self.operand(v), site)
            src = self.operand(v)
        else:
            src = self.box_input(v, site)
            self.temps.pop()   # the local takes the new reference
        self.put_op("_STORE_LOCAL", [(src, "")], None, {V.SLOT2: dst[1]}, site)

    def uop(self, u: Uop, b, i: int, site: Site, following, out_of_line) -> None:
        name = u.name
        d = u.defn
        if name in ("_NOP",) or d.effect.name == "SPILL":
            return
        if name == "_EXIT_COLD":   # never ran in tier 1: always leave (no helper needed)
            self.put_op("_GUARD_NEVER", [], None, {V.EXIT: self.exit_label(u, b, i)}, site)
            return
        dies = self.own.dies_after.get((b.label, i), ())
        if d.is_guard:
            need = d.guard_type
            kind = GUARD_KINDS.get(need)
            if kind is None:
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
            if r == BOX:
                self.put_op("_LOAD_CONST_OBJ", [], self.operand(u.output),
                            {V.OPERAND: box_constant(c, self.constants)}, site)
            else:
                self.put_op("_LOAD_CONST", [], self.operand(u.output),
                            {V.OPERAND: _const_bits(c, r)}, site)
            return
        if name == "_LOAD_FAST":
            lname = u.imms[0]
            self.move(self.local_operand(lname), self.local_rep[lname],
                      self.operand(u.output), self.rep(u.output), site)
            if self.local_rep[lname] == BOX and self.rep(u.output) == BOX:
                self.refcount("_INCREF", self.operand(u.output), site)
            return
        if name == "_STORE_FAST":
            v = u.inputs[0]
            self.store_local(v, u.imms[0], site, v in dies)
            return
        if name == "_COPY" or (name == "_RANGE_ARG" and self.rep(u.inputs[0]) == "int"
                               and self.rep(u.output) in ("int", BOX)):
            v = u.inputs[0]
            self.move(self.operand(v), self.rep(v), self.operand(u.output),
                      self.rep(u.output), site)
            if self.rep(v) == BOX and self.rep(u.output) == BOX:
                if v in dies:
                    self.stolen.add(v)     # the copy takes the reference over
                else:
                    self.refcount("_INCREF", self.operand(u.output), site)
            return
        stencil = None
        if name in ("_COMPARE_OP_INT", "_COMPARE_OP_FLOAT") and u.imms[0] in CMP_NAMES:
            stencil = f"{name}_{CMP_NAMES[u.imms[0]]}"
        elif S.uop_body(name) is not None:   # compiled by the stencil of its name
            stencil = name
        if stencil is not None:
            out_rep = self.rep(u.output) if u.output is not None else None
            result = d.result
            boxed_result = result not in WORD_TYPES   # the stencil makes an object
            if out_rep is not None and out_rep not in (result, BOX) or (
                    boxed_result and out_rep not in (None, BOX)):
                return self.helper(u, b, i, site)
            ins = []
            for v, req in zip(u.inputs, d.requires):
                r = self.rep(v)
                if r == req or (r == BOX and (req in CONV or req not in WORD_TYPES)):
                    ins.append((self.operand(v), self.conv(v, req)))
                elif req not in WORD_TYPES:    # a raw value where an object is needed
                    ins.append((self.box_input(v, site), ""))
                else:                           # a raw word of another type
                    self.drop_temps(site)
                    return self.helper(u, b, i, site)
            values = {}
            if d.can_exit:
                values[V.EXIT] = self.exit_label(u, b, i)
            out = self.operand(u.output) if u.output is not None else None
            self.put_op(stencil, ins, out, values, site)
            if out_rep == BOX and not boxed_result:
                self.move(out, result, out, BOX, site)
            return
        if name == "_JUMP":
            t = u.targets[0]
            self.edge_moves(t, self.held, site)
            if t.block != following:
                self.put(Variant("_JUMP", nregs=self.nregs), {V.TARGET: f"block:{t.block}"},
                         site)
            return
        if name == "_BRANCH":
            v = u.inputs[0]
            held = self.held
            cond = (self.operand(v), self.conv(v, "bool"))
            yes, no = u.targets
            yes_code = self.edge_needs_code(b, yes, held)
            if yes.block == following and not yes_code:
                target = f"block:{no.block}"
                if self.edge_needs_code(b, no, held):
                    target = f"edge:{b.label}:{i}:no"
                    out_of_line.append((target, no, site, held))
                self.put_op("_BRANCH_IFNOT", [cond], None, {V.TARGET: target}, site)
                return
            target = f"block:{yes.block}"
            if yes_code:
                target = f"edge:{b.label}:{i}"
                out_of_line.append((target, yes, site, held))
            self.put_op("_BRANCH_IF", [cond], None, {V.TARGET: target}, site)
            self.edge_moves(no, held, site)
            if no.block != following:
                self.put(Variant("_JUMP", nregs=self.nregs), {V.TARGET: f"block:{no.block}"},
                         site)
            return
        if name == "_RETURN":
            v = u.inputs[0]
            self.returns.append(v)
            for other in self.held:   # nothing else should be live; drop it if it is
                if other != v:
                    self.refcount("_DECREF", self.operand(other), site)
            for lname in self.boxed_locals:
                self.refcount("_XDECREF", self.local_operand(lname), site)
            status = (-len(self.returns)) & MASK64  # -1 - site
            self.put_op("_RETURN", [(self.operand(v), "")], None, {V.OPERAND: status}, site)
            return
        if name in ("_ENTRY",) or d.is_terminator:
            raise Unsupported(f"no native stencil for {name} (at {b.label}:{i})")
        self.helper(u, b, i, site)


def compile(fn: Function, direct_calls: bool = False, boxed: bool = False) -> CodeBlob:  # noqa: A001
    """Machine code for `fn`, or Unsupported(reason). `direct_calls`: calls of module
    functions get the direct path (backends.native.direct; natively only: the code then
    needs the runtime's cells and finishing helpers to link). `boxed`: every value stays
    a `PyObject *` (no unboxing)."""
    return _Emitter(fn, direct_calls, boxed).run()
