"""Run a `CodeBlob` inside Unicorn: the emulated counterpart of backends/native/runner.py.

`UnicornCode(blob, mode, env)` links the blob at the emulator's `CODE_BASE` (an emulator
per compiled function, so several functions' code coexist) with the runtime helpers at
the emulator's helper slots (one per helper site) and each C-API function the code calls
at a slot that carries the call out natively (emulator.add_native; the interpreter's
objects are its real addresses: the code works on the host's objects, whose pages the
emulator maps on first touch), and `run(frame_values, entry_index)` has exactly
`NativeCode.run`'s contract: locals become frame words at `DATA_BASE` (`Refused` when a
value does not fit the representation the code was compiled for), the SysV entry shim
runs, and the result is `("return", value)` or `("exit", exit_index, values, locals)`
with exact Python objects; an exception propagates as itself. The frame encoding, the
helper semantics and the result decoding (with the release of every reference the code
left held) are the native runner's own (`HelperRuntime`, `NativeCode._result`), so both
backends compute the same thing by construction; only the machine differs.

A helper that calls back into Python may run compiled code again (a `_CALL_FUNCTION`
helper reaching a hot function): each activation depth of the same code gets its own
emulator (created on first use), since an emulator cannot be re-entered mid-run.

What a run costs is recorded, cumulatively over runs and activations:

* `counts`: instruction address -> times executed (modes "blocks" and "full");
* `instructions`: their sum; `runs`, and `entries` (runs per `_ENTRY` target index);
* `calls`: call site (return address) -> calls out of the code (the C API, carried out
  natively, and Python helpers);
* "full" mode hands each executed instruction to `on_step(step)` as an `emulator.Step`
  (address, bytes, capstone text, memory reads and writes with address and value), and
  keeps the first `max_steps` in `steps`.

Modes (fixed per UnicornCode): "blocks" counts with a Python hook per basic block, and
per-address counts are expanded on demand (each block's instructions decoded once with
capstone; the fast mode), "full" hooks every instruction and memory access, "none" runs at
full Unicorn speed and counts nothing. Hooks are installed once per emulator, for its
life: Unicorn instruments code for the hooks present when it translates it.
"""

from __future__ import annotations

import ctypes
import struct
from collections import Counter, defaultdict
from collections.abc import Callable

import unicorn

from backends.copy_and_patch import capi
from backends.copy_and_patch.emitter import CodeBlob
from backends.native import runner as native
from backends.native.runner import Refused

from . import native_hooks
from .emulator import CODE_BASE, DATA_BASE, MASK64, Emulator, MemoryAccess, Step, signed


__all__ = ["MODES", "Refused", "UnicornCode"]

MODES = ("blocks", "full", "none")
STACK_SIZE = 1 << 16


class FrameWords:
    """A frame in emulator memory as the helpers index it: `fw[k]` is word k as an int64
    ("q") or a double ("d"); `fw[k] = x` writes it."""

    __slots__ = ("emu", "base", "fmt")

    def __init__(self, emu: Emulator, base: int, fmt: str):
        self.emu, self.base, self.fmt = emu, base, "<" + fmt

    def __getitem__(self, k: int):
        return struct.unpack(self.fmt, self.emu.read(self.base + 8 * k, 8))[0]

    def __setitem__(self, k: int, value) -> None:
        self.emu.write(self.base + 8 * k, struct.pack(self.fmt, value))


class UnicornCode:
    def __init__(self, blob: CodeBlob, mode: str = "blocks", env=None,
                 max_steps: int = 100_000, on_step: Callable[[Step], None] | None = None):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.blob = blob
        self.env = env
        self.mode = mode
        self.max_steps = max_steps
        self.on_step = on_step
        self.helpers = native.HelperRuntime(blob, env)
        self.base = CODE_BASE
        self.shim = self.base + blob.shim_offset
        self.entry_addresses = [self.base + blob.entry_offset(i)
                                for i in range(len(blob.entries))]
        self._emulators: list[Emulator] = []
        self._depth = 0
        self.code = b""
        # "blocks" mode: per emulator, executions and size of the block at each code offset
        self._block_tables: list[tuple] = []
        self._full_counts: Counter[int] = Counter()
        self._block_insns: dict[tuple[int, int], tuple[int, ...]] = {}
        self._flushes: list[Callable[[], None]] = []
        self.steps: list[Step] = []
        self.runs = 0
        self.entries: Counter[int] = Counter()  # _ENTRY target index -> runs
        self._decode = None
        self._emulator(0)  # links the code (self.code)
        self._stored = native.NativeCode._locals_written(self)
        self._return_reps = [blob.frame.value_types[v] for v in blob.returns]
        self._boxed_locals = [blob.frame.local_word[n]
                              for n, t in blob.frame.local_types.items() if t == "box"]

    def address_map(self):
        return self.blob.address_map(self.base)

    # -- what ran ---------------------------------------------------------------------
    @property
    def _blocks(self) -> dict[tuple[int, int], int]:
        """(start address, size) -> times each basic block ran, over every emulator."""
        out: dict[tuple[int, int], int] = defaultdict(int)
        for _, counts, sizes in self._block_tables:
            raw = memoryview(counts).cast("B").cast("Q")
            for off in (i for i, n in enumerate(raw) if n):
                out[self.base + off, sizes[off]] += raw[off]
        return out

    @property
    def counts(self) -> Counter[int]:
        """Instruction address -> times executed, over every run so far."""
        if self.mode == "full":
            return Counter(self._full_counts)
        out: Counter[int] = Counter()
        for key, n in self._blocks.items():
            for a in self._instructions_in(*key):
                out[a] += n
        return out

    @property
    def instructions(self) -> int:
        if self.mode == "full":
            return sum(self._full_counts.values())
        return sum(n * len(self._instructions_in(*key)) for key, n in self._blocks.items())

    def _instructions_in(self, start: int, size: int) -> tuple[int, ...]:
        key = (start, size)
        hit = self._block_insns.get(key)
        if hit is None:
            # lazy: capstone is slow to import; only this path needs it
            import capstone

            md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
            raw = self.code[start - self.base:start - self.base + size]
            hit = self._block_insns[key] = tuple(a for a, _, _, _ in md.disasm_lite(raw, start))
        return hit

    # -- emulators ------------------------------------------------------------------
    def _emulator(self, depth: int) -> Emulator:
        while len(self._emulators) <= depth:

            sites = self.helpers.site_functions
            externs = sorted(self.blob.externs)
            emu = Emulator(code_size=self.blob.size, data_size=8 * self.blob.frame.words,
                           stack_size=STACK_SIZE, max_helpers=len(sites) + len(externs) + 1)
            helpers = {}
            for k, site in enumerate(sites):
                helpers[f"call:{k}"] = emu.add_helper(site, nargs=0)
            addresses = {name: (emu.add_native(name) if name in capi.FUNCTIONS
                                else capi.address(name)) for name in externs}
            code = self.blob.code(self.base, helpers, addresses)
            assert not self.code or code == self.code  # same slot address in every emulator
            self.code = code
            emu.load(code)
            # Hooks stay for the emulator's life: Unicorn instruments code for the hooks
            # present when it translates it, so per-run hooks would miss cached code.
            if self.mode == "blocks":   # a C hook (native_hooks.count_block)

                n = len(code)
                counts, sizes = (ctypes.c_uint64 * n)(), (ctypes.c_uint32 * n)()
                counter = native_hooks.Counter(self.base, n, ctypes.addressof(counts),
                                               ctypes.addressof(sizes))
                native_hooks.add_hook(emu.uc, unicorn.UC_HOOK_BLOCK,
                                      native_hooks.hook_functions()["count_block"], counter,
                                      self.base, self.base + n - 1)
                self._block_tables.append((counter, counts, sizes))
                self._flushes.append(lambda: None)
            elif self.mode == "full":
                self._flushes.append(self._full_hooks(emu))
            else:
                self._flushes.append(lambda: None)
            self._emulators.append(emu)
        return self._emulators[depth]

    # -- running --------------------------------------------------------------------
    @property
    def calls(self) -> Counter[int]:
        """Call site (return address) -> calls made from it, over every run so far."""
        out: Counter[int] = Counter()
        for emu in self._emulators:
            out.update(emu.calls_from)
        return out

    def run(self, frame_values: dict[str, object], entry_index: int = 0):
        layout = self.blob.frame
        words = [0] * layout.words
        for name, t in layout.local_types.items():
            if name in frame_values:
                words[layout.local_word[name]] = native.to_word(frame_values[name], t)
        depth = self._depth
        emu = self._emulator(depth)
        self._depth += 1
        saved = self.helpers.enter(FrameWords(emu, DATA_BASE, "q"),
                                   FrameWords(emu, DATA_BASE, "d"))
        try:
            emu.write(DATA_BASE, struct.pack(f"<{layout.words}q", *words))
            try:
                result = emu.call(self.shim, self.entry_addresses[entry_index], DATA_BASE,
                                  mode="none")
            finally:
                self._flushes[depth]()  # the last instruction (the shim's `ret`)
            status = signed(result.rax)
            frame = struct.unpack(f"<{layout.words}q", emu.read(DATA_BASE, 8 * layout.words))
            self.runs += 1
            self.entries[entry_index] += 1
            return native.NativeCode._result(self, status, frame, frame_values)
        finally:
            self.helpers.leave(saved)
            self._depth -= 1

    def _full_hooks(self, emu: Emulator) -> Callable[[], None]:
        """Hooks on every instruction of the code region and every memory access it
        makes; returns `flush`, which hands the pending step to `on_step`."""
        uc = emu.uc
        if self._decode is None:
            self._decode = self._decoder()
        counts, steps, decode = self._full_counts, self.steps, self._decode
        current: list[Step | None] = [None]

        def flush():
            step = current[0]
            current[0] = None
            if step is not None and self.on_step is not None:
                self.on_step(step)

        def on_code(uc, address, size, _):
            flush()
            counts[address] += 1
            raw, text = decode(address, size)
            step = Step(address, raw, text)
            current[0] = step
            if len(steps) < self.max_steps:
                steps.append(step)

        def on_memory(uc, access, address, size, value, _):
            step = current[0]
            if step is None:
                return
            if access == unicorn.UC_MEM_WRITE:
                step.writes.append(MemoryAccess(address, size, value & MASK64))
            else:
                value = int.from_bytes(uc.mem_read(address, size), "little")
                step.reads.append(MemoryAccess(address, size, value))

        def on_outside(uc, address, size, _):  # a helper slot: not this code
            flush()

        end = self.base + len(self.code) - 1
        uc.hook_add(unicorn.UC_HOOK_CODE, on_code, begin=self.base, end=end)
        uc.hook_add(unicorn.UC_HOOK_CODE, on_outside, begin=end + 1, end=MASK64)
        uc.hook_add(unicorn.UC_HOOK_MEM_READ | unicorn.UC_HOOK_MEM_WRITE, on_memory)
        return flush

    def _decoder(self):
        # lazy: capstone is slow to import; only this path needs it
        import capstone

        md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
        cache: dict[int, tuple[bytes, str]] = {}
        code, base = self.code, self.base

        def decode(address: int, size: int) -> tuple[bytes, str]:
            hit = cache.get(address)
            if hit is None:
                raw = code[address - base:address - base + size]
                insn = next(md.disasm(raw, address))
                hit = cache[address] = raw, f"{insn.mnemonic} {insn.op_str}".strip()
            return hit
        return decode
