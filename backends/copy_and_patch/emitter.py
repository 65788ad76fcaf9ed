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
from itertools import accumulate, islice
from operator import attrgetter, itemgetter

from ir.core import Exit, Function, Target, Uop
from ir.uops import UOPS, Effect

from .entry_shim import ENTRY_SHIM_NAME
from .patcher import link
from .stencil import HoleValue as V
from .stencil import Stencil
from . import capi
from . import uop_stencils as S
from .ownership import Ownership
from .uop_stencils import BODIES, CMP_NAMES, MAX_REGS, Variant, library_of

WORD_TYPES = ("int", "float", "bool")
BOX = "box"
HEADER_WORDS = S.HEADER_WORDS  # exit index, returned value, helper status, exception
MASK64 = (1 << 64) - 1
CONV = {"int": "i", "float": "f", "bool": "b"}
TEMP_WORDS = 4  # boxed temporaries of one uop, at least (raw inputs boxed for the C API)
SHADOW_WORDS = 3  # copies of dying inputs whose register the uop's output reuses

# Uops compiled by the stencil of the same name.
DIRECT = frozenset(n for n in BODIES if not n.startswith("_COMPARE_OP") and n not in (
    "_LOAD_CONST", "_MOVE"))
# Helper effects with semantics of their own (backends.native.helpers), not the uop's impl.
HELPER_EFFECTS = frozenset({"LOAD_FAST_CHECK", "LOAD_GLOBAL", "STORE_GLOBAL", "CALL_FUNCTION",
                            "CALL_BUILTIN", "CALL_METHOD"})
GUARD_KINDS = {"INT": "int", "FLOAT": "float", "BOOL": "bool", "LIST": "list"}


_code_of = attrgetter("code")
_data_of = attrgetter("data", "data_alignment")
_name_of = attrgetter("name")
_first, _second, _third = itemgetter(0), itemgetter(1), itemgetter(2)


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
        # patcher.layout at base 0, inline (this runs for every compiled function): the
        # code back to back, then each stencil's data, aligned
        offsets = list(accumulate(map(len, map(_code_of, self.stencils)), initial=0))
        address = offsets.pop()
        for data, a in map(_data_of, self.stencils):
            if address % a:
                address += a - address % a
            address += len(data)
        self.size = address
        self.offsets = offsets

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
    sources = {s for _, s in pending}
    if not any(d in sources for d, _ in pending):
        return pending   # no move overwrites a source: they go in order
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
_new_site = object.__new__


_SLOTS = (V.SLOT0, V.SLOT1, V.SLOT2)
_SLOT0, _SLOT2, _ERROR = V.SLOT0, V.SLOT2, V.ERROR
_BOX_BASE = {t: f"_BOX_{t.upper()}" for t in CONV}
_EXIT, _TARGET, _OPERAND = V.EXIT, V.TARGET, V.OPERAND
# (base, inputs, output, has_output, nregs, saves, exit) -> (variant, hot part, cold part,
# can fail): Variant objects interned, so their names and splits are computed once per
# process, not per emitted stencil
_PLANS: dict[tuple, tuple] = {}


def _plan(key: tuple) -> tuple:
    variant = Variant(*key)
    variant.name  # noqa: B018 - computed now, cached on the interned variant
    hot = cold = None
    if variant.splittable:
        hot, cold = variant.split()   # slow paths out of line, after the exit stubs
        hot.name, cold.name  # noqa: B018
    plan = _PLANS[key] = (variant, hot, cold, S.may_error(key[0]))
    return plan


def _variant(base: str, nregs: int, saves: tuple[int, ...] = ()) -> Variant:
    """The interned Variant of a stencil with no operands (jumps, stubs)."""
    key = (base, (), None, False, nregs, saves, False)
    return (_PLANS.get(key) or _plan(key))[0]


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
        # per value: its representation when raw (absent: boxed)
        self.reps = reps = {} if boxed else {v: t for v, t in fn.types.items()
                                             if t in WORD_TYPES}
        # one pass over the uops: the most inputs of one, the highest value, and the
        # representations each local is read or written in
        max_args, top = 0, -1
        seen: dict[str, set[str]] = {}
        for b in fn.blocks:
            for p in b.params:
                if p > top:
                    top = p
            for u in b.uops:
                n = len(u.inputs)
                if n > max_args:
                    max_args = n
                out = u.output
                if out is not None and out > top:
                    top = out
                name = u.name
                if name == "_LOAD_FAST" or name == "_LOAD_FAST_CHECK":
                    seen.setdefault(u.imms[0], set()).add(
                        BOX if name == "_LOAD_FAST_CHECK" else reps.get(out, BOX))
                elif name == "_STORE_FAST":
                    seen.setdefault(u.imms[0], set()).add(reps.get(u.inputs[0], BOX))
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
            top += 1   # fn.max_value() + 1
            self.value_word = {v: HEADER_WORDS + nlocals + v for v in range(top)}
            self.arg_base = HEADER_WORDS + nlocals + top
        # per value, computed once: its operand (register or frame word)
        if self.regalloc:
            vw = self.value_word
            self.operands = {v: ((int(loc[1:]), None) if loc[0] == "r" else (None, 8 * vw[v]))
                             for v, loc in fn.locs.items()}
        else:
            self.operands = {v: (None, 8 * w) for v, w in self.value_word.items()}
        self.local_word = {name: local_base + i for i, name in enumerate(fn.locals)}
        self.local_rep = {k: (next(iter(s)) if len(s) == 1 else BOX)
                          for k, s in sorted(seen.items())}
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
        self._held_words: tuple = (None, ())   # (held, its frame words): release_now
        self._held_saves: tuple = (None, frozenset())   # (held, its registers): saves_now
        self.stolen: set[int] = set()   # dying values whose reference a uop took over
        # dying boxed inputs whose register the uop's output reuses: copied to a frame
        # word first, where the decref after the uop (and any error release) finds them
        self.shadow: dict[int, int] = {}

    # -- helpers ----------------------------------------------------------------

    def rep(self, v: int) -> str:
        return self.reps.get(v, BOX)

    def operand(self, v: int) -> Operand:
        try:
            return self.operands[v]
        except KeyError:
            raise Unsupported(f"%{v} has no location" if self.regalloc
                              else f"%{v} has no frame word") from None

    def local_operand(self, name: str) -> Operand:
        if name not in self.local_word:
            raise Unsupported(f"unknown local {name}")
        return (None, 8 * self.local_word[name])

    def put(self, variant: Variant, values: dict, site: Site | None) -> None:
        self.items.append((variant, values, site))

    def put_op(self, base: str, ins: list[tuple[Operand, str]], out: Operand | None,
               values: dict, site: Site | None, exit: bool = False) -> None:
        """A stencil with inputs (operand, unbox conversion) and an optional output; one
        that can fail gets the current site's error stub. `values` is the caller's fresh
        dict: it is filled in and kept."""
        if ins:
            inputs = []
            k = 0
            for (reg, off), conv in ins:
                inputs.append((reg, conv))
                if reg is None:
                    values[_SLOTS[k]] = off
                k += 1
            inputs = tuple(inputs)
        else:
            inputs = ()
        if out is None:
            output = None
            key = (base, inputs, None, False, self.nregs, (), exit)
        else:
            if len(ins) > 2:
                raise Unsupported(f"{base}: three inputs and an output")
            output = out[0]
            if output is None:
                values[_SLOT2] = out[1]
            key = (base, inputs, output, True, self.nregs, (), exit)
        variant, hot, cold, can_fail = _PLANS.get(key) or _plan(key)
        if can_fail and _ERROR not in values:
            values[_ERROR] = self.error_label()
        if hot is None:
            self.items.append((variant, values, site))
            return
        k = len(self.colds)
        self.put(hot, {**values, V.COLD: f"cold:{k}"}, site)
        self.mark(f"resume:{k}")
        self.colds.append((cold, {**values, V.RESUME: f"resume:{k}"}, site))

    def put1(self, base: str, src: Operand, conv: str, out: Operand | None,
             site: Site | None) -> None:
        """`put_op(base, [(src, conv)], out, {}, site)`, the common case made short."""
        reg, off = src
        values = {} if reg is not None else {_SLOT0: off}
        if out is None:
            key = (base, ((reg, conv),), None, False, self.nregs, (), False)
        else:
            output = out[0]
            if output is None:
                values[_SLOT2] = out[1]
            key = (base, ((reg, conv),), output, True, self.nregs, (), False)
        variant, hot, cold, can_fail = _PLANS.get(key) or _plan(key)
        if can_fail and _ERROR not in values:
            values[_ERROR] = self.error_label()
        if hot is None:
            self.items.append((variant, values, site))
            return
        k = len(self.colds)
        self.items.append((hot, {**values, V.COLD: f"cold:{k}"}, site))
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
        shadow, vw = self.shadow, self.value_word
        if not shadow:
            return [vw[v] for v in values]
        return [shadow.get(v) or vw[v] for v in values]

    def release_now(self) -> tuple[int, ...]:
        """The frame words of every reference the current uop holds."""
        held = self.held
        if self.shadow:
            words = tuple(self.words_of(held))
        elif held is self._held_words[0]:   # consecutive uops share `held` tuples
            words = self._held_words[1]
        else:
            words = tuple([self.value_word[v] for v in held])
            self._held_words = (held, words)
        if self.temps:
            return words + tuple(self.temps)
        return words

    def saves_now(self, extra=()) -> tuple[int, ...]:
        """The registers an exit or error stub here stores: those of the held values
        (a shadowed one is in its frame word) and of `extra`."""
        operands = self.operands
        held = self.held
        try:
            if self.shadow:
                skip = set(self.shadow).difference(extra)
                regs = {operands[v][0] for v in held if v not in skip}
            elif held is self._held_saves[0]:   # consecutive uops share `held` tuples
                regs = set(self._held_saves[1])
            else:
                regs = {operands[v][0] for v in held}
                self._held_saves = (held, frozenset(regs))
            if extra:
                regs.update([operands[v][0] for v in extra])
        except KeyError as e:
            raise Unsupported(f"%{e.args[0]} has no location" if self.regalloc
                              else f"%{e.args[0]} has no frame word") from None
        regs.discard(None)
        return tuple(sorted(regs))

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
        if src_rep == dst_rep:
            if src != dst:
                self.put1("_MOVE", src, "", dst, site)
        elif src_rep == BOX and dst_rep in CONV:
            self.put1("_MOVE", src, CONV[dst_rep], dst, site)
        elif dst_rep == BOX and src_rep in CONV:
            self.put1(_BOX_BASE[src_rep], src, "", dst, site)
        else:
            raise Unsupported(f"cannot convert a {src_rep} word to {dst_rep}")

    def refcount(self, op: str, at: Operand, site) -> None:
        self.put1(op, at, "", None, site)

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
        e = u.exit
        named = [v for _, v in e.values]
        if e.locals:
            named += [v for _, v in e.locals]
        self.exits.append(e)
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
        if not params and not held:   # nothing to pass, nothing to count
            if not self.regalloc:
                self.temps = []
            self.held = ()
            return
        reps = self.reps
        entry_live = self.own.entry_live.get(t.block, ())
        pairs = [(p, a) for p, a in zip(params, t.args) if p in entry_live or p in reps]
        deltas = self.own.edge_refs(held, t.block, t.args) if held else {}
        unboxed = [(p, a) for p, a in pairs if a not in reps and p in reps]
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
        vw = self.value_word
        src_word = {}   # parameter -> (its source word, that word's representation)
        for p, a in pairs:
            if p not in reps and a in reps:
                src_word[p] = (self.box_input(a, site)[1] // 8, BOX)
        for k, (p, a) in enumerate(unboxed):
            word = self.temp_base + len(self.temps) + k   # a raw word: no reference
            prep = reps[p]
            self.move((None, 8 * vw[a]), BOX, (None, 8 * word), prep, site)
            src_word[p] = (word, prep)
        for p, a in pairs:
            if p not in src_word:
                src_word[p] = (vw[a], reps.get(a, BOX))
        self.edge_refcounts(deltas, site)
        self.temps = []   # their references pass to the parameters
        moves = [(vw[p], src_word[p][0]) for p, _ in pairs]
        rep_of_src = {src_word[p][0]: src_word[p][1] for p, _ in pairs}
        conv = {vw[p]: (src_word[p][1], reps.get(p, BOX)) for p, _ in pairs}
        scratch = self.scratch
        for d, s in sequentialize(moves, scratch):
            if d == scratch:
                r = rep_of_src[s]
                rep_of_src[scratch] = r
                self.move((None, 8 * s), r, (None, 8 * d), r, site)
            else:
                src_rep, dst_rep = conv[d]
                if s == scratch:
                    src_rep = rep_of_src[s]
                self.move((None, 8 * s), src_rep, (None, 8 * d), dst_rep, site)
        self.held = ()

    def edge_refcounts(self, deltas: dict[int, int], site, kept=None) -> None:
        """Increfs, then decrefs (`kept`: values whose object word was copied to a frame
        word, their own location now holding something else)."""
        if not deltas:
            return
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
        if not held and not t.args:
            return False
        if self.own.edge_refs(held, t.block, t.args):
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
        self.own = Ownership(fn, lambda v: self.rep(v) == BOX, blocks, raw=self.reps)
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
                self.put(_variant("_JUMP", self.nregs),
                         {V.TARGET: f"block:{entries[k]}"}, entry_site)
        out_of_line: list[tuple[str, Target, Site, tuple]] = []
        regalloc, uop = self.regalloc, self.uop
        for n, b in enumerate(blocks):
            following = order[n + 1] if n + 1 < len(order) else None
            self.mark(f"block:{b.label}")
            label = b.label
            before, dies = self.own.before[label], self.own.dies[label]
            for i, u in enumerate(b.uops):
                site = _new_site(Site)   # Site(label, i, u.name, u.line), but faster
                site.__dict__.update(block=label, index=i, name=u.name, line=u.line)
                self.site = site
                self.held = before[i]
                self.temps = []
                dying = dies[i]   # () for a terminator
                if dying and regalloc and u.output is not None:
                    self.shadow_dying(u, b, i, site)
                uop(u, b, i, site, following, out_of_line)
                if self.temps:
                    self.drop_temps(site)
                if dying:
                    for v in dying:
                        if v not in self.stolen:
                            w = self.shadow.get(v)
                            self.refcount("_DECREF", self.operand(v) if w is None
                                          else (None, 8 * w), site)
                if self.stolen:
                    self.stolen = set()
                if self.shadow:
                    self.shadow = {}
        if not self.boxed_locals:
            for k, label in enumerate(entries):
                self.labels[f"entry:{k}"] = self.labels[f"block:{label}"]
        for label, t, site, held in out_of_line:
            self.mark(label)
            self.site = site
            self.edge_moves(t, held, site)
            self.put(_variant("_JUMP", self.nregs), {V.TARGET: f"block:{t.block}"},
                     site)
        items, labels, nregs = self.items, self.labels, self.nregs
        for k, saves in enumerate(self.exit_saves):
            labels[f"exit:{k}"] = len(items)
            items.append((_variant("_EXIT_STUB", nregs, saves), {_OPERAND: k}, None))
        for k, saves in enumerate(self.error_saves):
            labels[f"error:{k}"] = len(items)
            items.append((_variant("_ERROR_STUB", nregs, saves), {_OPERAND: k}, None))
        for k, item in enumerate(self.colds):
            labels[f"cold:{k}"] = len(items)
            items.append(item)
        names = list(map(_name_of, map(_first, islice(items, 1, None))))  # [0]: the shim
        lib = library_of(frozenset(names), lambda: [it[0] for it in items[1:]])
        by_name = lib.stencils
        stencils = [by_name[ENTRY_SHIM_NAME]]
        stencils += map(by_name.__getitem__, names)
        reps = self.reps
        value_types = {v: reps.get(v, BOX) for v in sorted(self.value_word)}
        frame = FrameLayout(self.local_word, self.value_word, self.scratch,
                            self.temp_base + self.ntemps + SHADOW_WORDS, value_types,
                            dict(self.local_rep),
                            HEADER_WORDS, self.nregs, self.arg_base, self.temp_base)
        return CodeBlob(fn.name, stencils, list(map(_second, items)),
                        list(map(_third, items)), self.labels, entries, self.exits,
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
        for v in self.own.dies[b.label][i]:
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
        kind, d, arg = _KINDS.get(u.name) or _kind(u.name)
        reps = self.reps
        if kind is _COPY or (kind is _RANGE_ARG and reps.get(u.inputs[0]) == "int"
                             and reps.get(u.output, BOX) in ("int", BOX)):
            v = u.inputs[0]
            operands = self.operands
            vrep, orep = reps.get(v, BOX), reps.get(u.output, BOX)
            self.move(self.operand(v), vrep, self.operand(u.output), orep, site)
            if vrep == BOX and orep == BOX:
                if v in self.own.dies[b.label][i]:
                    self.stolen.add(v)     # the copy takes the reference over
                else:
                    self.refcount("_INCREF", operands[u.output], site)
            return
        if kind is _LOAD_FAST:
            lname = u.imms[0]
            lrep, orep = self.local_rep[lname], reps.get(u.output, BOX)
            self.move(self.local_operand(lname), lrep, self.operand(u.output), orep, site)
            if lrep == BOX and orep == BOX:
                self.refcount("_INCREF", self.operands[u.output], site)
            return
        if kind is _LOAD_CONST:
            r = reps.get(u.output, BOX)
            c = u.imms[0]
            if r == BOX:
                self.put_op("_LOAD_CONST_OBJ", [], self.operand(u.output),
                            {_OPERAND: box_constant(c, self.constants)}, site)
            else:
                self.put_op("_LOAD_CONST", [], self.operand(u.output),
                            {_OPERAND: _const_bits(c, r)}, site)
            return
        if kind is _GUARD:
            need, stencil = arg
            label = None
            for v in u.inputs:
                r = reps.get(v, BOX)
                if r == need:
                    continue      # a raw word of that type: statically true
                label = label or self.exit_label(u, b, i)
                if r == BOX:
                    self.put_op(stencil, [(self.operand(v), "")], None, {_EXIT: label}, site)
                else:
                    self.put_op("_GUARD_NEVER", [], None, {_EXIT: label}, site)
            return
        if kind is _JUMP:
            t = u.targets[0]
            self.edge_moves(t, self.held, site)
            if t.block != following:
                self.items.append((_variant("_JUMP", self.nregs), {_TARGET: f"block:{t.block}"},
                                   site))
            return
        if kind is _EXIT_COLD:   # never ran in tier 1: always leave (no helper needed)
            self.put_op("_GUARD_NEVER", [], None, {_EXIT: self.exit_label(u, b, i)}, site)
            return
        if kind is _NOP:
            return
        if kind is _STORE_FAST:
            v = u.inputs[0]
            self.store_local(v, u.imms[0], site, v in self.own.dies[b.label][i])
            return
        stencil = None
        if kind is _COMPARE:
            stencil = arg.get(u.imms[0])
        elif kind is _DIRECT or (kind is _RANGE_ARG and arg):
            stencil = u.name
        if stencil is not None:
            out_rep = reps.get(u.output, BOX) if u.output is not None else None
            result = d.result
            boxed_result = result not in WORD_TYPES   # the stencil makes an object
            if out_rep is not None and out_rep not in (result, BOX) or (
                    boxed_result and out_rep not in (None, BOX)):
                return self.helper(u, b, i, site)
            ins = []
            for v, req in zip(u.inputs, d.requires):
                r = reps.get(v, BOX)
                if r == req or (r == BOX and (req in CONV or req not in WORD_TYPES)):
                    ins.append((self.operand(v), self.conv(v, req)))
                elif req not in WORD_TYPES:    # a raw value where an object is needed
                    ins.append((self.box_input(v, site), ""))
                else:                           # a raw word of another type
                    self.drop_temps(site)
                    return self.helper(u, b, i, site)
            values = {}
            if d.can_exit:
                values[_EXIT] = self.exit_label(u, b, i)
            out = self.operand(u.output) if u.output is not None else None
            self.put_op(stencil, ins, out, values, site)
            if out_rep == BOX and not boxed_result:
                self.move(out, result, out, BOX, site)
            return
        if kind is _BRANCH:
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
                self.put_op("_BRANCH_IFNOT", [cond], None, {_TARGET: target}, site)
                return
            target = f"block:{yes.block}"
            if yes_code:
                target = f"edge:{b.label}:{i}"
                out_of_line.append((target, yes, site, held))
            self.put_op("_BRANCH_IF", [cond], None, {_TARGET: target}, site)
            self.edge_moves(no, held, site)
            if no.block != following:
                self.items.append((_variant("_JUMP", self.nregs), {_TARGET: f"block:{no.block}"},
                                   site))
            return
        if kind is _RETURN:
            v = u.inputs[0]
            self.returns.append(v)
            for other in self.held:   # nothing else should be live; drop it if it is
                if other != v:
                    self.refcount("_DECREF", self.operand(other), site)
            for lname in self.boxed_locals:
                self.refcount("_XDECREF", self.local_operand(lname), site)
            status = (-len(self.returns)) & MASK64  # -1 - site
            self.put_op("_RETURN", [(self.operand(v), "")], None, {_OPERAND: status}, site)
            return
        if kind is _NO_STENCIL:
            raise Unsupported(f"no native stencil for {u.name} (at {b.label}:{i})")
        self.helper(u, b, i, site)


# How `_Emitter.uop` compiles each uop name: (kind, definition, argument), computed once
# per name from the uop table in the order the kinds are tested (a guard's argument:
# (type proven, stencil); a comparison's: its stencil per operator; `_RANGE_ARG`'s:
# whether it has a stencil of its own when it is not a plain copy).
(_NOP, _EXIT_COLD, _GUARD, _LOAD_CONST, _LOAD_FAST, _STORE_FAST, _COPY, _RANGE_ARG,
 _COMPARE, _DIRECT, _JUMP, _BRANCH, _RETURN, _NO_STENCIL, _HELPER) = (
    "nop", "exit_cold", "guard", "load_const", "load_fast", "store_fast", "copy",
    "range_arg", "compare", "direct", "jump", "branch", "return", "no_stencil", "helper")
_KINDS: dict[str, tuple] = {}


def _kind(name: str) -> tuple:
    d = UOPS[name]
    arg = None
    if name == "_NOP" or d.effect is Effect.SPILL:
        kind = _NOP
    elif name == "_EXIT_COLD":
        kind = _EXIT_COLD
    elif d.is_guard:
        need = d.guard_type if d.guard_type in GUARD_KINDS.values() else None
        kind, arg = (_HELPER, None) if need is None else (_GUARD,
                                                          (need, f"_GUARD_{need.upper()}"))
    elif name in ("_LOAD_CONST", "_LOAD_FAST", "_STORE_FAST", "_COPY"):
        kind = {"_LOAD_CONST": _LOAD_CONST, "_LOAD_FAST": _LOAD_FAST,
                "_STORE_FAST": _STORE_FAST, "_COPY": _COPY}[name]
    elif name == "_RANGE_ARG":
        kind, arg = _RANGE_ARG, name in DIRECT
    elif name in ("_COMPARE_OP_INT", "_COMPARE_OP_FLOAT"):
        kind, arg = _COMPARE, {op: f"{name}_{n}" for op, n in CMP_NAMES.items()}
    elif name in DIRECT:
        kind = _DIRECT
    elif name == "_JUMP":
        kind = _JUMP
    elif name == "_BRANCH":
        kind = _BRANCH
    elif name == "_RETURN":
        kind = _RETURN
    elif name == "_ENTRY" or d.is_terminator:
        kind = _NO_STENCIL
    else:
        kind = _HELPER
    entry = _KINDS[name] = (kind, d, arg)
    return entry


def compile(fn: Function, direct_calls: bool = False, boxed: bool = False) -> CodeBlob:  # noqa: A001
    """Machine code for `fn`, or Unsupported(reason). `direct_calls`: calls of module
    functions get the direct path (backends.native.direct; natively only: the code then
    needs the runtime's cells and finishing helpers to link). `boxed`: every value stays
    a `PyObject *` (no unboxing)."""
    return _Emitter(fn, direct_calls, boxed).run()
