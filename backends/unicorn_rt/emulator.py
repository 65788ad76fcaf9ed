"""Run linked machine code inside Unicorn, counting instructions and memory accesses.

Memory map (all below 2 GiB, so rel32 calls from code reach helpers directly):

    CODE_BASE    the code blob (linked for this address)   r-x
    DATA_BASE    a scratch region for frames and the like  rw-
    STACK_BASE   the stack                                 rw-
    HELPER_BASE  helper slots, 16 bytes each, all `ret`    r-x
    SENTINEL     the return address of `call`; reaching it ends the run

A helper is a Python callable. Code calls its slot address; a code hook on the helper
range reads the SysV argument registers, calls the callable and puts its result in rax,
then the slot's `ret` returns to the caller as a real helper would.

The emulated code works on the host's own objects (`PyObject *` words): a host page the
code touches outside these regions is mapped into the emulator at its own address on
first touch (`mem_map_ptr`, the same memory, so a refcount the code changes is the one
`sys.getrefcount` shows); the regions themselves are reserved in the host address space
(PROT_NONE) so no host object can ever live there. A call of a C-API function
(`add_native`, backends/copy_and_patch/capi.py) goes to a slot at NATIVE_BASE whose C hook
(native_hooks.call_native) carries it out natively, with the GIL held, no Python on the
way; every call out of the code (C API or Python helper) is counted by the address it was
called from (`calls_from`). Emulation itself runs with the GIL held too (the code changes
reference counts, which another Python thread must not see half done).

Two counting modes, with the same results: "blocks" (a Python hook per basic block;
instructions per block decoded once with capstone; fast) and "trace" (a hook per
instruction, plus every memory read and write with address and value). "none" counts
nothing and runs at full Unicorn speed.
"""

from __future__ import annotations

import ctypes
import dataclasses
import mmap
from collections import Counter
from collections.abc import Callable

import capstone
import unicorn
from unicorn import x86_const as X
from unicorn.unicorn_py3.unicorn import uclib

from backends.copy_and_patch import capi

from . import native_hooks


CODE_BASE = 0x1000_0000
DATA_BASE = 0x2000_0000
STACK_BASE = 0x3000_0000
HELPER_BASE = 0x4000_0000
NATIVE_BASE = 0x4400_0000   # slots of C-API functions (native_hooks.call_native)
SENTINEL = 0x4800_0000
HELPER_SLOT = 16
PAGE = 0x1000

ARG_REGS = (X.UC_X86_REG_RDI, X.UC_X86_REG_RSI, X.UC_X86_REG_RDX, X.UC_X86_REG_RCX,
            X.UC_X86_REG_R8, X.UC_X86_REG_R9)
GPRS = (X.UC_X86_REG_RAX, X.UC_X86_REG_RBX, X.UC_X86_REG_RCX, X.UC_X86_REG_RDX,
        X.UC_X86_REG_RSI, X.UC_X86_REG_RDI, X.UC_X86_REG_RBP, X.UC_X86_REG_R8,
        X.UC_X86_REG_R9, X.UC_X86_REG_R10, X.UC_X86_REG_R11, X.UC_X86_REG_R12,
        X.UC_X86_REG_R13, X.UC_X86_REG_R14, X.UC_X86_REG_R15)
MASK64 = (1 << 64) - 1
MODES = ("none", "blocks", "trace")
RESERVED = (CODE_BASE, SENTINEL + PAGE)   # the emulator's own addresses, never the host's

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long)
_libc.msync.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
MAP_FIXED_NOREPLACE = 0x100000
MS_ASYNC = 1


def _reserve() -> None:
    """Keep the host from ever placing memory in the emulator's fixed regions."""
    size = RESERVED[1] - RESERVED[0]
    got = _libc.mmap(RESERVED[0], size, 0,  # PROT_NONE
                     mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)
    if got != RESERVED[0]:
        raise EmulationError(f"cannot reserve {RESERVED[0]:#x}..{RESERVED[1]:#x} in this "
                             "process for the emulator (something is mapped there)")


def host_mapped(page: int) -> bool:
    """Whether `page` is mapped in this (host) process."""
    return _libc.msync(page, PAGE, MS_ASYNC) == 0


_emu_start = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64,
                               ctypes.c_uint64, ctypes.c_size_t)(
    ctypes.cast(uclib.uc_emu_start, ctypes.c_void_p).value)


# Registers set at every call in one C call (uc_reg_write_batch): through Uc.reg_write,
# eighteen writes cost more than a short call's emulation (collatz in Unicorn: 40%).
_reg_write_batch = ctypes.PYFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int),
    ctypes.POINTER(ctypes.c_void_p), ctypes.c_int)(
    ctypes.cast(uclib.uc_reg_write_batch, ctypes.c_void_p).value)
_reg_read = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)(
    ctypes.cast(uclib.uc_reg_read, ctypes.c_void_p).value)
CALL_REGS = (*GPRS, X.UC_X86_REG_RSP)   # what `call` sets: every GPR (0 or an argument), rsp
_CALL_SLOT = {reg: k for k, reg in enumerate(CALL_REGS)}


class EmulationError(RuntimeError):
    """The code faulted, or stopped before returning to the sentinel."""


_reserved = False


@dataclasses.dataclass(frozen=True)
class MemoryAccess:
    address: int
    size: int
    value: int  # little-endian, unsigned


@dataclasses.dataclass
class Step:
    """One executed instruction (trace mode)."""

    address: int
    raw: bytes
    text: str
    reads: list[MemoryAccess] = dataclasses.field(default_factory=list)
    writes: list[MemoryAccess] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class RunResult:
    """What one `call` did. Counts cover the code region only (not helper slots).

    `counts` maps each instruction address to how often it ran (both counting modes);
    `trace` is filled in trace mode only.
    """

    rax: int
    instructions: int = 0
    counts: Counter[int] = dataclasses.field(default_factory=Counter)
    helper_calls: int = 0
    trace: list[Step] | None = None

    @property
    def reads(self) -> int:
        return sum(len(s.reads) for s in self.trace or ())

    @property
    def writes(self) -> int:
        return sum(len(s.writes) for s in self.trace or ())


def signed(value: int) -> int:
    """A 64-bit register value as a C int64_t."""
    return value - (1 << 64) if value >> 63 else value


class Emulator:
    """An x86-64 machine with code, data, stack and helper regions (see module doc)."""

    def __init__(self, code_size: int = 1 << 20, data_size: int = 1 << 20,
                 stack_size: int = 1 << 20, max_helpers: int = 256):
        global _reserved
        if not _reserved:
            _reserve()
            _reserved = True
        self.uc = unicorn.Uc(unicorn.UC_ARCH_X86, unicorn.UC_MODE_64)
        self._hooked_last_run = False
        # `call`'s registers and their words, and a word `_reg` reads into
        n = len(CALL_REGS)
        self._call_ids = (ctypes.c_int * n)(*CALL_REGS)
        self._call_words = (ctypes.c_uint64 * n)()
        self._call_ptrs = (ctypes.c_void_p * n)(
            *(ctypes.addressof(self._call_words) + 8 * k for k in range(n)))
        self._word = ctypes.c_uint64()
        self.code_size, self.data_size, self.stack_size = (
            _pages(code_size), _pages(data_size), _pages(stack_size))
        self.helper_size = _pages(max_helpers * HELPER_SLOT)
        rx = unicorn.UC_PROT_READ | unicorn.UC_PROT_EXEC
        rw = unicorn.UC_PROT_READ | unicorn.UC_PROT_WRITE
        self.uc.mem_map(CODE_BASE, self.code_size, rx)
        self.uc.mem_map(DATA_BASE, self.data_size, rw)
        self.uc.mem_map(STACK_BASE, self.stack_size, rw)
        self.uc.mem_map(HELPER_BASE, self.helper_size, rx)
        self.uc.mem_write(HELPER_BASE, b"\xc3" * self.helper_size)  # every slot: ret
        self.uc.mem_map(SENTINEL, PAGE, rx)
        self.uc.mem_write(SENTINEL, b"\xf4" * PAGE)  # hlt, never executed
        self.helpers: list[tuple[Callable[..., int | None], int]] = []
        self.code_end = CODE_BASE
        self._md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
        self._block_addresses: dict[tuple[int, int], tuple[int, ...]] = {}
        self._decoded: dict[int, tuple[bytes, str]] = {}
        self.uc.hook_add(unicorn.UC_HOOK_CODE, self._on_helper, begin=HELPER_BASE,
                         end=HELPER_BASE + self.helper_size - 1)
        self.uc.hook_add(unicorn.UC_HOOK_MEM_READ_UNMAPPED | unicorn.UC_HOOK_MEM_WRITE_UNMAPPED,
                         self._on_unmapped)
        self._helper_calls = 0
        self.python_calls: Counter[int] = Counter()  # call site (return address) -> calls
        self.native_calls_before: Counter[int] = Counter()
        self.host_pages = 0
        self.natives: list[tuple[int, str, str]] = []   # (address, result, argument kinds)
        self._natives_ctx = self._natives_keep = None
        self._natives_hooked = False
        self.uc.mem_map(NATIVE_BASE, self.helper_size, rx)
        self.uc.mem_write(NATIVE_BASE, b"\xc3" * self.helper_size)  # every slot: ret

    # -- setting up -------------------------------------------------------------------
    def add_helper(self, function: Callable[..., int | None], nargs: int = 6) -> int:
        """Address to call for `function(*first nargs SysV args as int64) -> rax`."""
        if len(self.helpers) * HELPER_SLOT >= self.helper_size:
            raise ValueError("no helper slots left")
        self.helpers.append((function, nargs))
        return HELPER_BASE + (len(self.helpers) - 1) * HELPER_SLOT

    def add_native(self, name: str) -> int:
        """Address to call for C-API function `name` (capi.py), carried out natively by
        the C hook `native_hooks.call_native` (no Python on the way)."""

        result, kinds = capi.FUNCTIONS[name]
        if len(self.natives) * HELPER_SLOT >= self.helper_size:
            raise ValueError("no native slots left")
        self.natives.append((capi.address(name), result, kinds))
        self._natives_ctx = None   # rebuilt before the next run
        return NATIVE_BASE + (len(self.natives) - 1) * HELPER_SLOT

    def _install_natives(self) -> None:
        ctx, keep = native_hooks.natives_context(NATIVE_BASE, self.natives, RESERVED)
        if self._natives_keep is not None:   # keep the counts of the old table
            for ret, n in native_hooks.site_counts(self._natives_keep).items():
                self.native_calls_before[ret] += n
        self._natives_ctx, self._natives_keep = ctx, keep
        if not self._natives_hooked:
            # the context struct is patched in place from now on: one registration
            self._natives_holder = native_hooks.Natives()
            native_hooks.add_hook(self.uc, unicorn.UC_HOOK_CODE,
                                  native_hooks.hook_functions()["call_native"],
                                  self._natives_holder, NATIVE_BASE,
                                  NATIVE_BASE + self.helper_size - 1)
            self._natives_hooked = True
        ctypes.memmove(ctypes.addressof(self._natives_holder), ctypes.addressof(ctx),
                       ctypes.sizeof(ctx))

    @property
    def calls_from(self) -> Counter[int]:
        """Call site (return address) -> calls out of the code: Python helpers and C-API
        functions."""

        out = Counter(self.python_calls)
        out.update(self.native_calls_before)
        if self._natives_keep is not None:
            out.update(native_hooks.site_counts(self._natives_keep))
        return out

    def _on_unmapped(self, uc, access, address, size, value, _):
        """Map the host page at `address` (the code reads or writes a host object)."""
        page = address & ~(PAGE - 1)
        if RESERVED[0] <= page < RESERVED[1] or not host_mapped(page):
            return False
        uc.mem_map_ptr(page, PAGE, unicorn.UC_PROT_READ | unicorn.UC_PROT_WRITE, page)
        self.host_pages += 1
        if (address + size - 1) & ~(PAGE - 1) != page:   # an access across two pages
            nxt = page + PAGE
            if host_mapped(nxt):
                try:
                    uc.mem_map_ptr(nxt, PAGE, unicorn.UC_PROT_READ | unicorn.UC_PROT_WRITE, nxt)
                    self.host_pages += 1
                except unicorn.UcError:
                    pass   # mapped already
        return True

    def load(self, blob: bytes) -> None:
        """Place code linked for CODE_BASE (replacing what was there)."""
        if len(blob) > self.code_size:
            raise ValueError(f"code of {len(blob)} bytes exceeds {self.code_size}")
        self.uc.mem_write(CODE_BASE, blob)
        self.code_end = CODE_BASE + len(blob)
        self._block_addresses.clear()
        self._decoded.clear()
        self.uc.ctl_remove_cache(CODE_BASE, CODE_BASE + self.code_size)

    def write(self, address: int, data: bytes) -> None:
        self.uc.mem_write(address, data)

    def read(self, address: int, size: int) -> bytes:
        return bytes(self.uc.mem_read(address, size))

    # -- running ----------------------------------------------------------------------
    def call(self, address: int, *args: int, mode: str = "blocks",
             max_instructions: int = 0) -> RunResult:
        """Call the SysV function at `address` with integer `args`; run until it returns.

        `max_instructions` (0: no limit) bounds runaway code with an EmulationError.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if len(args) > len(ARG_REGS):
            raise ValueError("at most 6 integer arguments")
        rsp = STACK_BASE + self.stack_size - 8  # as after `call` from a 16-aligned stack
        words = [0] * len(CALL_REGS)
        words[-1] = rsp
        for reg, arg in zip(ARG_REGS, args):
            words[_CALL_SLOT[reg]] = arg & MASK64
        self._call_words[:] = words
        self.uc.mem_write(rsp, SENTINEL.to_bytes(8, "little"))
        status = _reg_write_batch(self.uc._uch, self._call_ids, self._call_ptrs,
                                  len(CALL_REGS))
        if status != unicorn.UC_ERR_OK:
            raise unicorn.UcError(status)
        self._helper_calls = 0

        result = RunResult(rax=0, trace=[] if mode == "trace" else None)
        hooks = []
        end = max(self.code_end, CODE_BASE + 1) - 1
        if mode == "blocks":
            blocks: Counter[tuple[int, int]] = Counter()
            hooks.append(self.uc.hook_add(
                unicorn.UC_HOOK_BLOCK, lambda uc, a, size, _: blocks.update(((a, size),)),
                begin=CODE_BASE, end=end))
        elif mode == "trace":
            hooks += self._trace_hooks(result.trace, end)
        if hooks or self._hooked_last_run:
            # Unicorn instruments code when it translates it: code translated under other
            # hooks would silently skip (or keep) them, so start from a clean cache.
            self.uc.ctl_flush_tb()
        self._hooked_last_run = bool(hooks)
        try:
            self._start(address, SENTINEL, max_instructions)
        except unicorn.UcError as e:
            pc = self.uc.reg_read(X.UC_X86_REG_RIP)
            raise EmulationError(f"{e} at {pc:#x}") from e
        finally:
            for hook in hooks:
                self.uc.hook_del(hook)
        pc = self._reg(X.UC_X86_REG_RIP)
        if pc != SENTINEL:
            raise EmulationError(f"stopped at {pc:#x} before returning "
                                 f"(max_instructions={max_instructions})")

        result.rax = self._reg(X.UC_X86_REG_RAX)
        result.helper_calls = self._helper_calls
        if mode == "blocks":
            for (start, size), times in blocks.items():
                for a in self._instructions_in(start, size):
                    result.counts[a] += times
        elif mode == "trace":
            result.counts.update(step.address for step in result.trace)
        result.instructions = sum(result.counts.values())
        return result

    def _reg(self, reg: int) -> int:
        """`Uc.reg_read` of a 64-bit register, in one C call."""
        status = _reg_read(self.uc._uch, reg, ctypes.addressof(self._word))
        if status != unicorn.UC_ERR_OK:
            raise unicorn.UcError(status)
        return self._word.value

    def _start(self, begin: int, until: int, count: int) -> None:
        """`Uc.emu_start` with the GIL held (see the module doc)."""
        if self.natives and self._natives_ctx is None:
            self._install_natives()
        uc = self.uc
        uc._hook_exception = None
        status = _emu_start(uc._uch, begin, until, 0, count)
        if status != unicorn.UC_ERR_OK:
            raise unicorn.UcError(status)
        if uc._hook_exception is not None:
            raise uc._hook_exception

    # -- hooks ------------------------------------------------------------------------
    def _on_helper(self, uc, address, size, _):
        function, nargs = self.helpers[(address - HELPER_BASE) // HELPER_SLOT]
        self._helper_calls += 1
        # counted by call site (the return address the call pushed)
        reg = self._reg
        ret = int.from_bytes(uc.mem_read(reg(X.UC_X86_REG_RSP), 8), "little")
        self.python_calls[ret] += 1
        args = [signed(reg(r)) for r in ARG_REGS[:nargs]]
        uc.reg_write(X.UC_X86_REG_RAX, (function(*args) or 0) & MASK64)

    def _trace_hooks(self, trace: list[Step], end: int) -> list[int]:
        current: list[Step | None] = [None]

        def on_code(uc, address, size, _):
            raw, text = self._decode(address, size)
            current[0] = Step(address, raw, text)
            trace.append(current[0])

        def on_helper(uc, address, size, _):  # the slot's `ret` is not traced code
            current[0] = None

        def on_memory(uc, access, address, size, value, _):
            if current[0] is None:
                return
            if access == unicorn.UC_MEM_WRITE:
                current[0].writes.append(MemoryAccess(address, size, value & MASK64))
            else:
                value = int.from_bytes(uc.mem_read(address, size), "little")
                current[0].reads.append(MemoryAccess(address, size, value))

        return [
            self.uc.hook_add(unicorn.UC_HOOK_CODE, on_code, begin=CODE_BASE, end=end),
            self.uc.hook_add(unicorn.UC_HOOK_CODE, on_helper, begin=HELPER_BASE,
                             end=HELPER_BASE + self.helper_size - 1),
            self.uc.hook_add(unicorn.UC_HOOK_MEM_READ | unicorn.UC_HOOK_MEM_WRITE, on_memory),
        ]

    def _decode(self, address: int, size: int) -> tuple[bytes, str]:
        if address not in self._decoded:
            raw = bytes(self.uc.mem_read(address, size))
            insn = next(self._md.disasm(raw, address))
            self._decoded[address] = raw, f"{insn.mnemonic} {insn.op_str}".strip()
        return self._decoded[address]

    def _instructions_in(self, start: int, size: int) -> tuple[int, ...]:
        key = (start, size)
        if key not in self._block_addresses:
            raw = bytes(self.uc.mem_read(start, size))
            self._block_addresses[key] = tuple(
                a for a, _, _, _ in self._md.disasm_lite(raw, start))
        return self._block_addresses[key]


def _pages(size: int) -> int:
    return -(-max(size, 1) // PAGE) * PAGE
