"""From machine-level counts back to the IR: instructions, loads and stores per uop.

A linked `CodeBlob` is a sequence of stencils, each belonging to one uop site (block,
index) of the optimized function, or to the entry shim, or to a side-exit stub.
`CodeMap` answers, for any code address, which uop it belongs to (and so which function
and source line), and knows each instruction's memory traffic, decoded once with capstone:

* an explicit memory operand counts as a load if the instruction reads it and as a store
  if it writes it (`add [m], r` is both; `lea` and multi-byte `nop` touch no memory);
* `push`/`call` are stack stores, `pop`/`ret`/`leave` stack loads.

Counting mode (per-block counts from Unicorn expanded to per-address counts) then costs one
multiply-add per executed address, never a decode. The entry shim is charged to the
`_ENTRY` uop (it is the dispatcher's machine form); an exit stub to the uop whose side exit
it is.

`uop_counts` recovers how often each uop of the optimized function ran from the per-address
counts, so a trace of Unicorn-run code reports the same uop counts as the interpreter
backend: a uop with code ran as often as its first instruction; a uop without code (a
`_JUMP` to the next block, `_NOP`) as often as control reached it, i.e. the previous uop's
count minus the side exits taken there.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import Counter

from backends.copy_and_patch import uop_stencils as S
from backends.copy_and_patch.emitter import CodeBlob
from backends.copy_and_patch.stencil import HoleValue as V
from ir.cfg import predecessors
from ir.core import Function
from ir.printer import print_uop
from ir.uops import U


MEMORY_FREE = frozenset({"lea", "nop", "endbr64", "prefetch", "prefetcht0", "prefetcht1",
                         "prefetcht2", "prefetchnta", "prefetchw"})
STACK_LOADS = {"pop": 1, "ret": 1, "leave": 1, "popfq": 1}
STACK_STORES = {"push": 1, "call": 1, "pushfq": 1}
SHIM = U._ENTRY          # the uop the entry shim is charged to


@dataclasses.dataclass(frozen=True)
class Insn:
    address: int
    size: int
    raw: bytes
    text: str
    loads: int
    stores: int


@dataclasses.dataclass(frozen=True)
class Owner:
    """Who an address belongs to. `kind`: "uop", "shim" or "exit" (a side-exit stub)."""

    function: str
    uop: str
    block: str | None
    index: int | None
    line: int | None
    kind: str = "uop"


def decode(code: bytes, base: int) -> dict[int, Insn]:
    """Every instruction of `code` (linked at `base`) with its loads and stores."""
    # lazy: capstone is slow to import; only this path needs it
    import capstone
    # lazy: capstone is slow to import; only this path needs it
    from capstone import x86

    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.detail = True
    out: dict[int, Insn] = {}
    for insn in md.disasm(code, base):
        loads, stores = memory_ops(insn, x86.X86_OP_MEM, capstone.CS_AC_READ,
                                   capstone.CS_AC_WRITE)
        out[insn.address] = Insn(insn.address, insn.size, bytes(insn.bytes),
                                 f"{insn.mnemonic} {insn.op_str}".strip(), loads, stores)
    return out


def memory_ops(insn, op_mem: int, ac_read: int, ac_write: int) -> tuple[int, int]:
    """(loads, stores) of one capstone instruction (detail mode)."""
    m = insn.mnemonic
    loads, stores = STACK_LOADS.get(m, 0), STACK_STORES.get(m, 0)
    if m in MEMORY_FREE or m.startswith("nop"):
        return loads, stores
    for op in insn.operands:
        if op.type == op_mem:
            if op.access & ac_read:
                loads += 1
            if op.access & ac_write:
                stores += 1
    return loads, stores


@dataclasses.dataclass
class Cost:
    instructions: int = 0
    loads: int = 0
    stores: int = 0
    calls: int = 0   # calls out of the code: the C API and Python helpers

    def add(self, other: Cost) -> None:
        self.instructions += other.instructions
        self.loads += other.loads
        self.stores += other.stores
        self.calls += other.calls


class CodeMap:
    """Static facts of one blob linked at `base`: owners and instructions by address."""

    def __init__(self, blob: CodeBlob, base: int, code: bytes | None = None):
        self.blob, self.base = blob, base
        name = blob.fn_name
        starts = [base + off for off in blob.offsets]
        ends = [s + len(st.code) for s, st in zip(starts, blob.stencils)]
        self.code_end = max(ends) if ends else base
        code = blob.code(base) if code is None else code
        self.insns = decode(code[:self.code_end - base], base)
        # side exits: exit index -> the site of the stencil that jumps to its stub
        exit_site: dict[int, object] = {}
        for values, site in zip(blob.values, blob.sites):
            label = values.get(V.EXIT)
            if isinstance(label, str) and label.startswith("exit:") and site is not None:
                exit_site.setdefault(int(label[5:]), site)
        self.exit_site = {k: (s.block, s.index) for k, s in exit_site.items()}
        self.exit_addr = {k: base + blob.label_offset(f"exit:{k}")
                          for k in range(len(blob.exits))}
        stub_of = {a: k for k, a in self.exit_addr.items()}
        self._starts = starts
        self._ends = ends
        self.owners: list[Owner] = []
        self.first_addr: dict[tuple[str, int], int] = {}
        labelled = {idx: label for label, idx in blob.labels.items()}
        for i, (start, site) in enumerate(zip(starts, blob.sites)):
            if site is not None:
                self.first_addr.setdefault((site.block, site.index), start)
                self.owners.append(Owner(name, site.name, site.block, site.index, site.line))
            elif start in stub_of:
                s = exit_site.get(stub_of[start])
                self.owners.append(Owner(name, s.name if s else "<exit stub>",
                                         s.block if s else None, s.index if s else None,
                                         s.line if s else None, "exit"))
            elif base + blob.shim_offset == start and i == 0:
                self.owners.append(Owner(name, SHIM, None, None, None, "shim"))
            else:  # an error stub (something failed) or another out-of-line stub
                kind = labelled.get(i, "stub").split(":")[0]
                self.owners.append(Owner(name, f"<{kind} stub>", None, None, None, kind))

    # -- lookups ------------------------------------------------------------------------
    def stencil_at(self, address: int) -> int | None:
        i = bisect.bisect_right(self._starts, address) - 1
        if i < 0 or address >= self._ends[i]:
            return None
        return i

    def owner(self, address: int) -> Owner | None:
        i = self.stencil_at(address)
        return None if i is None else self.owners[i]

    def stencil_range(self, i: int) -> tuple[int, int]:
        return self._starts[i], self._ends[i]

    # -- attribution --------------------------------------------------------------------
    def cost_by_owner(self, counts: Counter, calls: Counter | None = None
                      ) -> dict[Owner, Cost]:
        """Owner -> what its instructions executed; `calls` (return address -> calls made
        from the instruction before it) adds the calls out of the code."""
        out: dict[Owner, Cost] = {}
        insns = self.insns
        for address, n in counts.items():
            owner = self.owner(address)
            insn = insns.get(address)
            if owner is None or insn is None:
                continue
            c = out.setdefault(owner, Cost())
            c.instructions += n
            c.loads += n * insn.loads
            c.stores += n * insn.stores
        for ret, n in (calls or {}).items():
            owner = self.owner(ret - 1)
            if owner is not None:
                out.setdefault(owner, Cost()).calls += n
        return out

    def cost_by_uop(self, counts: Counter, calls: Counter | None = None
                    ) -> dict[tuple[str, str], Cost]:
        """(function, uop name) -> instructions, loads, stores and calls executed."""
        out: dict[tuple[str, str], Cost] = {}
        for owner, c in self.cost_by_owner(counts, calls).items():
            out.setdefault((owner.function, owner.uop), Cost()).add(c)
        return out

    def cost_by_line(self, counts: Counter, calls: Counter | None = None
                     ) -> dict[tuple[str, int | None], Cost]:
        out: dict[tuple[str, int | None], Cost] = {}
        for owner, c in self.cost_by_owner(counts, calls).items():
            out.setdefault((owner.function, owner.line), Cost()).add(c)
        return out

    def uop_counts(self, fn: Function, counts: Counter, entries: Counter) -> Counter:
        """(function, uop name) -> times each uop of `fn` (the compiled IR) ran, given
        the per-address `counts` and how often each `_ENTRY` target index was entered.

        A block with code ran as often as its first instruction with code; a block
        without code (a `_JUMP` into the next block, moves elided) as often as control
        flowed into it along its CFG edges: a `_JUMP` carries its block's count, a
        `_BRANCH` splits its count by how often its branch stencil's jump was taken."""

        out: Counter = Counter()
        blocks = list(fn.blocks)
        dispatcher, targets = None, []
        if blocks and blocks[0].uops and blocks[0].uops[-1].name == U._ENTRY:
            dispatcher = blocks[0].label
            targets = [t.block for t in blocks[0].uops[-1].targets]
            out[(fn.name, U._ENTRY)] += sum(entries.values())
            blocks = blocks[1:]
        by_label = {b.label: b for b in blocks}
        exits_at: dict[tuple[str, int], list[int]] = {}
        for k, site in self.exit_site.items():
            exits_at.setdefault(site, []).append(self.exit_addr[k])
        count: dict[str, int] = {}
        for b in blocks:
            first = next((self.first_addr[(b.label, i)] for i in range(len(b.uops))
                          if (b.label, i) in self.first_addr), None)
            if first is not None:
                count[b.label] = counts.get(first, 0)
        preds = predecessors(fn)

        def walk(b, n):
            """Each uop's count in `b`, which was entered `n` times."""
            per = []
            for i in range(len(b.uops)):
                key = (b.label, i)
                first = self.first_addr.get(key)
                m = counts.get(first, 0) if first is not None else n
                per.append(m)
                n = m - sum(counts.get(a, 0) for a in exits_at.get(key, ()))
            return per

        def flow(p: str, label: str, visiting: set) -> int:
            if p == dispatcher:
                return sum(entries.get(k, 0) for k, t in enumerate(targets) if t == label)
            pb = by_label.get(p)
            if pb is None:
                return 0
            term = pb.uops[-1]
            total = walk(pb, block_count(p, visiting))[-1]
            if term.name != U._BRANCH or term.targets[0].block == term.targets[1].block:
                return total
            taken = self._branch_taken((p, len(pb.uops) - 1), counts)
            if taken is None:
                return 0
            jumped_to, n = taken
            yes = term.targets[0].block
            to_yes = n if jumped_to == "yes" else total - n
            return to_yes if label == yes else total - to_yes

        def block_count(label: str, visiting: set) -> int:
            if label not in count:
                if label in visiting:
                    return 0
                visiting = visiting | {label}
                count[label] = sum(flow(p, label, visiting) for p in preds.get(label, ()))
            return count[label]

        for b in blocks:
            for u, n in zip(b.uops, walk(b, block_count(b.label, set()))):
                out[(fn.name, u.name)] += n
        return +out

    def _branch_taken(self, site: tuple[str, int], counts: Counter):
        """("yes"|"no", times the branch stencil at `site` jumped to its TARGET)."""
        for i, (stencil, s) in enumerate(zip(self.blob.stencils, self.blob.sites)):
            if s is None or (s.block, s.index) != site or not stencil.name.startswith(
                    "_BRANCH_IF"):
                continue
            which = "no" if stencil.name.startswith("_BRANCH_IFNOT") else "yes"
            start, end = self.stencil_range(i)
            hole = next((h for h in stencil.holes if h.value is V.TARGET), None)
            if hole is None:
                return None
            address = start
            while address < end:
                insn = self.insns.get(address)
                if insn is None:
                    return None
                if address <= start + hole.offset < address + insn.size:
                    n = counts.get(address, 0)
                    if not insn.text.startswith("jmp"):  # conditional: minus fall-through
                        if address + insn.size >= end:
                            return None  # falls into the next stencil: not measurable
                        n -= counts.get(address + insn.size, 0)
                    return which, n
                address += insn.size
        return None


# -- full traces --------------------------------------------------------------------------

def step_record(step, owner: Owner | None) -> dict:
    """One executed instruction as JSON: what ran, what it touched, which uop it was."""
    rec = {"address": step.address, "bytes": step.raw.hex(), "text": step.text,
           "reads": [[m.address, m.size, m.value] for m in step.reads],
           "writes": [[m.address, m.size, m.value] for m in step.writes]}
    if owner is not None:
        rec.update(function=owner.function, uop=owner.uop, block=owner.block,
                   index=owner.index, line=owner.line, kind=owner.kind)
    return rec


def format_step(step, owner: Owner | None) -> str:
    """One executed instruction as a line of text."""
    mem = " ".join([f"R[{m.address:#x}]={m.value:#x}" for m in step.reads]
                   + [f"W[{m.address:#x}]={m.value:#x}" for m in step.writes])
    where = ""
    if owner is not None:
        site = f" {owner.block}:{owner.index}" if owner.block is not None else ""
        line = f" line {owner.line}" if owner.line is not None else ""
        kind = "" if owner.kind == "uop" else f" ({owner.kind})"
        where = f"{owner.function}{site} {owner.uop}{kind}{line}"
    return (f"{step.address:#012x}  {step.raw.hex(' '):<30} {step.text:<40} "
            f"{mem:<44} ; {where}").rstrip()


class FullTrace:
    """Collects attributed steps from several UnicornCode runs: the first `limit` are kept
    as records (for JSON, when `keep`) and written as text lines to `out` (when given);
    `total` counts every step."""

    def __init__(self, limit: int = 10_000, out=None, keep: bool = True):
        self.limit = limit
        self.out = out
        self.keep = keep
        self.records: list[dict] = []
        self.total = 0
        self.written = 0
        self.reads = 0           # memory accesses Unicorn observed (every step)
        self.writes = 0

    def sink(self, codemap: CodeMap):
        """The `on_step` callback for a UnicornCode whose blob `codemap` describes."""
        def on_step(step):
            self.total += 1
            self.reads += len(step.reads)
            self.writes += len(step.writes)
            if self.total > self.limit:
                return
            owner = codemap.owner(step.address)
            if self.keep:
                self.records.append(step_record(step, owner))
            if self.out is not None:
                self.out.write(format_step(step, owner) + "\n")
                self.written += 1
        return on_step

    @property
    def truncated(self) -> bool:
        return self.total > self.limit


# -- annotated disassembly ----------------------------------------------------------------

def describe_hole(blob: CodeBlob, value: V, given) -> str:
    """What a hole was patched with, in the IR's terms."""
    layout = blob.frame
    if value in (V.SLOT0, V.SLOT1, V.SLOT2) and isinstance(given, int):
        word = given // 8
        names = {w: n for n, w in layout.local_word.items()}
        values = {w: v for v, w in layout.value_word.items()}
        if word in names:
            what = names[word]
        elif word in values:
            what = f"%{values[word]}"
        elif word == layout.scratch_word:
            what = "scratch"
        else:
            what = {0: "exit index", 1: "return value",
                    S.HELPER_STATUS_WORD: "helper status"}.get(word, f"word {word}")
        return f"{value.name}={what} [f+{given:#x}]"
    if value is V.OPERAND and isinstance(given, int):
        return f"OPERAND={given if given < 1 << 63 else given - (1 << 64)}"
    if isinstance(given, str):
        return f"{value.name}->{given}"
    if given is None:
        return f"{value.name}->next" if value is V.CONTINUE else value.name
    return f"{value.name}={given:#x}"


CONTROL = (V.CONTINUE, V.TARGET, V.TARGET2, V.EXIT, V.ERROR, V.COLD, V.RESUME)
ASM_HELPER_OFFSET = 0x3000_0000  # where `asm` pretends the runtime helper is (rel32 reach)


def asm_listing(fn: Function, blob: CodeBlob, source: list[str], base: int = 0) -> dict:
    """Compiler-Explorer-style rows for `blob` (compiled from `fn`) linked at `base`.

    Rows, in address order: {"kind": "block"|"line"|"uop"|"section"|"insn", ...}; an
    instruction row carries `holes` (descriptions of the holes patched inside it) and
    `target` (what a jump to another stencil reaches: a block, an exit stub).
    """

    helpers = {"call": base + ASM_HELPER_OFFSET}
    try:
        code = blob.code(base, helpers)
    except TypeError:  # a CodeBlob without runtime helpers
        code = blob.code(base)
    cmap = CodeMap(blob, base, code)
    uops = {(b.label, i): u for b in fn.blocks for i, u in enumerate(b.uops)}
    label_at: dict[int, list[str]] = {}
    for label, idx in blob.labels.items():
        if idx < len(blob.offsets):
            label_at.setdefault(base + blob.offsets[idx], []).append(label)
    out: list[dict] = []
    cur_block = cur_line = cur_site = None
    exit_from = {k: s for k, s in cmap.exit_site.items()}
    for i, (stencil, values, site) in enumerate(zip(blob.stencils, blob.values, blob.sites)):
        start, end = cmap.stencil_range(i)
        owner = cmap.owners[i]
        if owner.kind == "shim":
            out.append({"kind": "section", "text": f"entry shim ({stencil.name}): "
                        "SysV -> preserve_none, frame in r12"})
        elif owner.kind not in ("uop", "exit"):
            out.append({"kind": "section", "text": f"{owner.kind} stub ({stencil.name})"
                        + (": a C-API call or a runtime helper failed; the runner "
                           "releases what the site held and raises the exception"
                           if owner.kind == "error" else "")})
            cur_block = cur_site = None
        elif owner.kind == "exit":
            k = next((k for k, a in cmap.exit_addr.items() if a == start), None)
            ex = blob.exits[k] if k is not None else None
            frm = exit_from.get(k)
            text = f"exit stub {k}"
            if ex is not None:
                text += f": resume tier 1 at {ex.block}:{ex.index}"
            if frm is not None:
                text += f" (side exit of {uops[frm].name} at {frm[0]}:{frm[1]})"
            out.append({"kind": "section", "text": text})
            cur_block = cur_site = None
        else:
            edge = [lb for lb in label_at.get(start, []) if lb.startswith("edge:")]
            if edge:
                out.append({"kind": "section", "text": f"out-of-line edge {edge[0][5:]}: "
                            f"moves into the taken successor's parameters"})
                cur_block = None
            if site.block != cur_block and not edge:
                cur_block = site.block
                out.append({"kind": "block", "text": f"{site.block}:"})
            if site.line != cur_line and site.line is not None:
                cur_line = site.line
                text = source[site.line - 1].strip() if 0 < site.line <= len(source) else ""
                out.append({"kind": "line", "line": site.line, "text": text})
            if (site.block, site.index) != cur_site:
                cur_site = (site.block, site.index)
                u = uops.get(cur_site)
                out.append({"kind": "uop", "site": f"{site.block}:{site.index}",
                            "text": print_uop(fn, u) if u is not None else site.name})
        holes = stencil.holes
        address = start
        while address < end:
            insn = cmap.insns.get(address)
            if insn is None:
                break
            lo, hi = address - start, address - start + insn.size
            inside = [h for h in holes if lo <= h.offset < hi]
            notes = [describe_hole(blob, h.value, values.get(h.value)) for h in inside
                     if h.value not in (V.CODE, V.DATA, V.EXTERN) + CONTROL]
            # the interpreter's symbols: a C-API call (through a stub) or an object
            notes += [("call " if h.value is V.DATA else "") + h.symbol for h in inside
                      if h.value in (V.DATA, V.EXTERN) and h.symbol
                      and not h.symbol.startswith("_JIT_")]
            target = None
            for h in inside:
                if h.value in CONTROL:
                    given = values.get(h.value)
                    target = given if isinstance(given, str) else "next"
            if target is None and insn.text.startswith("call ") and not inside:
                try:
                    callee = int(insn.text.split()[1], 16)
                except ValueError:
                    callee = None
                if callee is not None and not base <= callee < cmap.code_end:
                    target = "runtime helper"
                elif callee is not None:
                    target = "runtime helper (via stub)"
            out.append({"kind": "insn", "address": address, "bytes": insn.raw.hex(" "),
                        "text": insn.text, "holes": notes, "target": target,
                        "loads": insn.loads, "stores": insn.stores})
            address += insn.size
    return {"function": fn.name, "size": blob.size,
            "entries": [(lb, base + blob.entry_offset(k)) for k, lb in enumerate(blob.entries)],
            "exits": len(blob.exits), "rows": out}


def format_step_record(rec: dict) -> str:
    """`format_step` for a JSON record (as kept in a FullTrace)."""
    mem = " ".join([f"R[{a:#x}]={v:#x}" for a, _, v in rec["reads"]]
                   + [f"W[{a:#x}]={v:#x}" for a, _, v in rec["writes"]])
    where = ""
    if "function" in rec:
        site = f" {rec['block']}:{rec['index']}" if rec["block"] is not None else ""
        line = f" line {rec['line']}" if rec["line"] is not None else ""
        kind = "" if rec["kind"] == "uop" else f" ({rec['kind']})"
        where = f"{rec['function']}{site} {rec['uop']}{kind}{line}"
    raw = " ".join(rec["bytes"][i:i + 2] for i in range(0, len(rec["bytes"]), 2))
    return f"{rec['address']:#012x}  {raw:<30} {rec['text']:<40} {mem:<44} ; {where}".rstrip()
