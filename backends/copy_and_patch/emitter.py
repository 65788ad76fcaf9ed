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
backends.native.helpers); `_EXIT_COLD` (code tier 1 never ran) and `_EXIT_TRY` (a
protected block that may raise) are plain jumps to their exit
stubs. Every exit and every place that can fail records what it must release
(`CodeBlob.exit_releases`, `CodeBlob.errors`), so the runner leaves reference counts exact.

`boxed=True` compiles with every value boxed (CPython 3.15's model: no unboxing), so the
effect of unboxing on top of register allocation can be measured.

What cannot be compiled raises `Unsupported(reason)`: the caller keeps running the
function in the interpreter.

Speed (jit_speed's emission figure): per placed stencil the emitter only looks up an
interned plan (`plans`: the Variant, its split, whether it can fail) and fills in a dict
of hole values; per uop the kind comes from a table made once per uop name; reps and
operands are dicts made once per function. The job is split by module: `blob` (what
comes out), `plans`, `ownership`, `releases` (exits and errors), `edges`, `calls`,
`uop_code` (one uop by its kind).
"""

from __future__ import annotations

import gc
from itertools import islice
from operator import attrgetter, itemgetter

from ir.core import Exit, Function, Target, Uop
from ir.uops import U

# the blob types and the constants stay importable from here, as before the split
from .blob import CodeBlob, ErrorSite, FrameLayout, HelperSite, Site, Unsupported  # noqa: F401
from .calls import CallCode
from .edges import EdgeCode, sequentialize  # noqa: F401
from .entry_shim import ENTRY_SHIM_NAME
from .ownership import Ownership
from .plans import (BOX, BOX_BASE, CONV, GUARD_KINDS, HELPER_EFFECTS, KINDS, MASK64,  # noqa: F401
                    PLANS, SHADOW_WORDS, TEMP_WORDS, WORD_TYPES, plan, uop_kind, variant)
from .releases import Releases
from .stencil import HoleValue as V
from .uop_code import UopCode
from .uop_stencils import HEADER_WORDS, MAX_REGS
from .variants import Variant, library_of


Operand = tuple  # (register index or None, byte offset or None)
_new_site = object.__new__
_SLOTS = (V.SLOT0, V.SLOT1, V.SLOT2)
_SLOT0, _SLOT2, _ERROR = V.SLOT0, V.SLOT2, V.ERROR
_EXIT, _TARGET, _OPERAND = V.EXIT, V.TARGET, V.OPERAND
_name_of = attrgetter("name")
_first, _second, _third = itemgetter(0), itemgetter(1), itemgetter(2)


# (base, src, conv, out, nregs) of `_Emitter.put1` -> its plan and the hole values of
# its operands (frame offsets)
_PUT1: dict[tuple, tuple] = {}


def _put1_plan(key: tuple) -> tuple:
    base, (reg, off), conv, out, nregs = key
    slots = {} if reg is not None else {_SLOT0: off}
    if out is None:
        pkey = (base, ((reg, conv),), None, False, nregs, (), False)
    else:
        if out[0] is None:
            slots[_SLOT2] = out[1]
        pkey = (base, ((reg, conv),), out[0], True, nregs, (), False)
    entry = _PUT1[key] = (*(PLANS.get(pkey) or plan(pkey)), slots)
    return entry


class _Emitter(Releases, EdgeCode, CallCode, UopCode):
    """One function's emission: `run()` walks the blocks and places stencils (`items`:
    variant, hole values, site), then the stubs and cold parts, and builds the blob."""

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
                if name == U._LOAD_FAST or name == U._LOAD_FAST_CHECK:
                    seen.setdefault(u.imms[0], set()).add(
                        BOX if name == U._LOAD_FAST_CHECK else reps.get(out, BOX))
                elif name == U._STORE_FAST:
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

    def put(self, var: Variant, values: dict, site: Site | None) -> None:
        self.items.append((var, values, site))

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
        var, hot, cold, can_fail = PLANS.get(key) or plan(key)
        if can_fail and _ERROR not in values:
            values[_ERROR] = self.error_label()
        if hot is None:
            self.items.append((var, values, site))
            return
        k = len(self.colds)
        self.put(hot, {**values, V.COLD: f"cold:{k}"}, site)
        self.mark(f"resume:{k}")
        self.colds.append((cold, {**values, V.RESUME: f"resume:{k}"}, site))

    def put1(self, base: str, src: Operand, conv: str, out: Operand | None,
             site: Site | None) -> None:
        """`put_op(base, [(src, conv)], out, {}, site)`, the common case made short: the
        plan and the operands' hole values are looked up by the operands themselves."""
        key = (base, src, conv, out, self.nregs)
        var, hot, cold, can_fail, slots = _PUT1.get(key) or _put1_plan(key)
        values = slots.copy()
        if can_fail:
            values[_ERROR] = self.error_label()
        if hot is None:
            self.items.append((var, values, site))
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

    def move(self, src: Operand, src_rep: str, dst: Operand, dst_rep: str, site) -> None:
        """A word move with its conversion; boxing makes a new reference."""
        if src_rep == dst_rep:
            if src != dst:
                self.put1("_MOVE", src, "", dst, site)
        elif src_rep == BOX and dst_rep in CONV:
            self.put1("_MOVE", src, CONV[dst_rep], dst, site)
        elif dst_rep == BOX and src_rep in CONV:
            self.put1(BOX_BASE[src_rep], src, "", dst, site)
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

    # -- the function -------------------------------------------------------------

    def run(self) -> CodeBlob:
        fn = self.fn
        self.exit_saves: list[tuple[int, ...]] = []
        blocks = list(fn.blocks)
        if blocks and blocks[0].uops and blocks[0].uops[-1].name == U._ENTRY:
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
        reps = self.reps   # (a lambda on self would make the emitter a reference cycle)
        self.own = Ownership(fn, lambda v: v not in reps, blocks, raw=reps)
        self.boxed_locals = [name for name, r in self.local_rep.items() if r == BOX]
        # entries: the frame's boxed locals are borrowed from the caller; take references
        # (the `_ENTRY` dispatcher's code)
        dispatcher = fn.blocks[0].label if len(blocks) < len(fn.blocks) else None
        entry_site = Site(dispatcher, 0, U._ENTRY, fn.line) if dispatcher else None
        order = [b.label for b in blocks]
        # the function entry's last: it falls through into the first block; with no boxed
        # locals an entry is its block itself (labelled once the blocks are placed)
        increfs = None   # the same stencils at every entry (copied when none is split
        # and none can fail: those would need labels of their own)
        for k in (list(range(1, len(entries))) + [0]) if self.boxed_locals else ():
            self.mark(f"entry:{k}")
            if increfs:
                self.items += [(var, dict(values), s) for var, values, s in increfs]
            else:
                start, ncolds, nerrors = len(self.items), len(self.colds), len(self.errors)
                for name in self.boxed_locals:
                    self.refcount("_XINCREF", self.local_operand(name), entry_site)
                if len(self.colds) == ncolds and len(self.errors) == nerrors:
                    increfs = self.items[start:]
            if k != 0 or not order or entries[0] != order[0]:
                self.put(variant(U._JUMP, self.nregs),
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
                    stolen, shadow, operands = self.stolen, self.shadow, self.operands
                    for v in dying:
                        if v not in stolen:
                            w = shadow.get(v) if shadow else None
                            self.put1("_DECREF", (operands.get(v) or self.operand(v))
                                      if w is None else (None, 8 * w), "", None, site)
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
            self.put(variant(U._JUMP, self.nregs), {V.TARGET: f"block:{t.block}"},
                     site)
        items, labels, nregs = self.items, self.labels, self.nregs
        for k, saves in enumerate(self.exit_saves):
            labels[f"exit:{k}"] = len(items)
            items.append((variant("_EXIT_STUB", nregs, saves), {_OPERAND: k}, None))
        for k, saves in enumerate(self.error_saves):
            labels[f"error:{k}"] = len(items)
            items.append((variant("_ERROR_STUB", nregs, saves), {_OPERAND: k}, None))
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

def compile(fn: Function, direct_calls: bool = False, boxed: bool = False) -> CodeBlob:  # noqa: A001
    """Machine code for `fn`, or Unsupported(reason). `direct_calls`: calls of module
    functions get the direct path (backends.native.direct; natively only: the code then
    needs the runtime's cells and finishing helpers to link). `boxed`: every value stays
    a `PyObject *` (no unboxing).

    The cyclic garbage collector is paused while the emitter runs: it makes a few
    containers per stencil, all alive until it returns, and no reference cycles, so a
    collection during emission can free none of them: it would only traverse them, and
    each one they survive promotes them, which brings full collections of the whole heap
    sooner (with a loaded and profiled program in the process, as in jit_speed, those
    took about a third of the emission time). Collection resumes once the blob is made."""
    if not gc.isenabled():
        return _Emitter(fn, direct_calls, boxed).run()
    gc.disable()
    try:
        return _Emitter(fn, direct_calls, boxed).run()
    finally:
        gc.enable()
