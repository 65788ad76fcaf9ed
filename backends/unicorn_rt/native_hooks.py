"""Unicorn hooks in C: block counting and the C-API call boundary, without Python.

A Python hook costs about a microsecond, which would make counting mode and every C-API
call the emulated code makes (`PyNumber_Add`, `_Py_Dealloc`, ...) the whole cost of a
trace. These hooks are C functions compiled by the stencil compiler (plain SysV code, no
external symbols: everything they call comes in their context struct) and loaded into
executable memory; Unicorn calls them directly. Emulation runs with the GIL held
(emulator.Emulator._start), so the C-API functions run natively in the hook exactly as
they would from native code: an error sets the interpreter's error indicator, which the
emulated code's error stub then fetches (natively, through the same hook).

* `count_block(uc, address, size, ctx)`: `counts[address - base] += 1` and the block's
  size (blocks are keyed by their start address and size, as the Python hook did).
* `call_native(uc, address, size, ctx)`: the code called native slot k: read the SysV
  argument registers (integers; a double in xmm0 for the `d` signature), call the
  function, write rax; an argument that points into emulator memory (an out-parameter on
  the emulated stack) is copied to a host word and back. Every call is counted by its
  call site (the return address) in an open-addressing table.
"""

from __future__ import annotations

import ctypes
import functools

from unicorn import x86_const as X
from unicorn.unicorn_py3.unicorn import uclib

from backends.copy_and_patch.cache import build_library
from backends.copy_and_patch.patcher import layout, link
from backends.native.execmem import ExecutableMemory


SITE_TABLE = 1 << 12   # call sites counted per emulator (open addressing)

# slot kinds: how the function is called and what it returns
KIND_INT, KIND_INT32, KIND_VOID, KIND_DOUBLE_ARG = range(4)

SOURCE = r"""
#include <stdint.h>
#define KIND_INT32 %d
#define KIND_VOID %d
#define KIND_DOUBLE_ARG %d
typedef int (*reg_read_t)(void *uc, int regid, void *value);
typedef int (*reg_write_t)(void *uc, int regid, const void *value);
typedef int (*mem_rw_t)(void *uc, uint64_t address, void *bytes, uint64_t size);
typedef uint64_t (*int_fn_t)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
typedef uint64_t (*double_fn_t)(double);

struct counter { uint64_t base, size; uint64_t *counts; uint32_t *sizes; };

void count_block(void *uc, uint64_t address, uint32_t size, struct counter *c) {
    uint64_t off = address - c->base;
    if (off < c->size) {
        c->counts[off] += 1;
        c->sizes[off] = size;
    }
}

struct slot { uint64_t fn; int32_t kind; int32_t nargs; uint32_t pointers; uint32_t pad; };
struct natives {
    reg_read_t reg_read; reg_write_t reg_write; mem_rw_t mem_read; mem_rw_t mem_write;
    uint64_t slot_base, nslots; struct slot *slots;
    uint64_t emu_lo, emu_hi;          /* emulator-only addresses */
    uint64_t *site_keys, *site_counts, site_mask;
    int32_t regs[6], rax, rsp, xmm0, pad;
};

static inline __attribute__((always_inline)) void count_site(struct natives *c, uint64_t ret) {
    uint64_t h = (ret * 0x9E3779B97F4A7C15ull) >> 20;
    for (uint64_t n = 0; n <= c->site_mask; n++) {
        uint64_t i = (h + n) & c->site_mask;
        if (c->site_keys[i] == ret) { c->site_counts[i] += 1; return; }
        if (c->site_keys[i] == 0) { c->site_keys[i] = ret; c->site_counts[i] = 1; return; }
    }
}

void call_native(void *uc, uint64_t address, uint32_t size, struct natives *c) {
    uint64_t k = (address - c->slot_base) >> 4;
    if (k >= c->nslots) return;
    struct slot *s = &c->slots[k];
    uint64_t rsp = 0, ret = 0;
    c->reg_read(uc, c->rsp, &rsp);
    c->mem_read(uc, rsp, &ret, 8);
    count_site(c, ret);
    uint64_t a[6] = {0, 0, 0, 0, 0, 0}, host[6] = {0, 0, 0, 0, 0, 0};
    for (int j = 0; j < s->nargs && j < 6; j++) {
        c->reg_read(uc, c->regs[j], &a[j]);
        if ((s->pointers >> j) & 1 && a[j] >= c->emu_lo && a[j] < c->emu_hi) {
            c->mem_read(uc, a[j], &host[j], 8);     /* an out-parameter in emulator memory */
            a[j] = (uint64_t)(uintptr_t)&host[j];
        }
    }
    uint64_t r = 0;
    if (s->kind == KIND_DOUBLE_ARG) {
        uint64_t x[2] = {0, 0};
        c->reg_read(uc, c->xmm0, x);
        r = ((double_fn_t)(uintptr_t)s->fn)(__builtin_bit_cast(double, x[0]));
    } else {
        r = ((int_fn_t)(uintptr_t)s->fn)(a[0], a[1], a[2], a[3], a[4], a[5]);
        if (s->kind == KIND_INT32) r = (uint64_t)(int64_t)(int32_t)r;
    }
    for (int j = 0; j < s->nargs && j < 6; j++) {
        if ((s->pointers >> j) & 1 && a[j] == (uint64_t)(uintptr_t)&host[j]) {
            uint64_t orig = 0;                       /* copy it back */
            c->reg_read(uc, c->regs[j], &orig);
            c->mem_write(uc, orig, &host[j], 8);
        }
    }
    if (s->kind != KIND_VOID) c->reg_write(uc, c->rax, &r);
}
""" % (KIND_INT32, KIND_VOID, KIND_DOUBLE_ARG)


class Slot(ctypes.Structure):
    _fields_ = [("fn", ctypes.c_uint64), ("kind", ctypes.c_int32), ("nargs", ctypes.c_int32),
                ("pointers", ctypes.c_uint32), ("pad", ctypes.c_uint32)]


class Counter(ctypes.Structure):
    _fields_ = [("base", ctypes.c_uint64), ("size", ctypes.c_uint64),
                ("counts", ctypes.c_void_p), ("sizes", ctypes.c_void_p)]


class Natives(ctypes.Structure):
    _fields_ = [("reg_read", ctypes.c_void_p), ("reg_write", ctypes.c_void_p),
                ("mem_read", ctypes.c_void_p), ("mem_write", ctypes.c_void_p),
                ("slot_base", ctypes.c_uint64), ("nslots", ctypes.c_uint64),
                ("slots", ctypes.c_void_p), ("emu_lo", ctypes.c_uint64),
                ("emu_hi", ctypes.c_uint64), ("site_keys", ctypes.c_void_p),
                ("site_counts", ctypes.c_void_p), ("site_mask", ctypes.c_uint64),
                ("regs", ctypes.c_int32 * 6), ("rax", ctypes.c_int32), ("rsp", ctypes.c_int32),
                ("xmm0", ctypes.c_int32), ("pad", ctypes.c_int32)]


@functools.cache
def hook_functions() -> dict[str, int]:
    """name -> address of each hook, compiled once (disk-cached like the stencils)."""

    lib = build_library(SOURCE)
    names = ["count_block", "call_native"]
    stencils = [lib[n] for n in names]
    _, size = layout(stencils, 0)
    memory = ExecutableMemory(size)
    memory.write(link(stencils, [{} for _ in stencils], memory.address))
    memory.seal()
    _keep.append(memory)
    placements, _ = layout(stencils, memory.address)
    return {n: p.code_address for n, p in zip(names, placements)}


_keep: list = []


def _address(f) -> int:
    return ctypes.cast(f, ctypes.c_void_p).value


def natives_context(slot_base: int, slots: list[tuple[int, str, str]], emu_range) -> tuple:
    """The `call_native` context for slots [(function address, result, argument kinds)]
    (capi.py letters); returns (struct, keepalive)."""
    table = (Slot * max(len(slots), 1))()
    for k, (fn, result, kinds) in enumerate(slots):
        if "d" in kinds:
            if kinds != "d" or result != "p":
                raise ValueError(f"unsupported native signature {result}({kinds})")
            kind = KIND_DOUBLE_ARG
        else:
            kind = {"p": KIND_INT, "q": KIND_INT, "i": KIND_INT32, "v": KIND_VOID}[result]
        if len(kinds) > 6 or result == "d":
            raise ValueError(f"unsupported native signature {result}({kinds})")
        pointers = sum(1 << j for j, c in enumerate(kinds) if c == "p")
        table[k] = Slot(fn, kind, len(kinds), pointers, 0)
    keys = (ctypes.c_uint64 * SITE_TABLE)()
    counts = (ctypes.c_uint64 * SITE_TABLE)()
    ctx = Natives()
    ctx.reg_read = _address(uclib.uc_reg_read)
    ctx.reg_write = _address(uclib.uc_reg_write)
    ctx.mem_read = _address(uclib.uc_mem_read)
    ctx.mem_write = _address(uclib.uc_mem_write)
    ctx.slot_base, ctx.nslots, ctx.slots = slot_base, len(slots), ctypes.addressof(table)
    ctx.emu_lo, ctx.emu_hi = emu_range
    ctx.site_keys, ctx.site_counts = ctypes.addressof(keys), ctypes.addressof(counts)
    ctx.site_mask = SITE_TABLE - 1
    for j, r in enumerate((X.UC_X86_REG_RDI, X.UC_X86_REG_RSI, X.UC_X86_REG_RDX,
                           X.UC_X86_REG_RCX, X.UC_X86_REG_R8, X.UC_X86_REG_R9)):
        ctx.regs[j] = r
    ctx.rax, ctx.rsp, ctx.xmm0 = X.UC_X86_REG_RAX, X.UC_X86_REG_RSP, X.UC_X86_REG_XMM0
    return ctx, (table, keys, counts)


def site_counts(keep) -> dict[int, int]:
    """Call site -> calls, from a `natives_context`'s table."""
    _, keys, counts = keep
    return {keys[i]: counts[i] for i in range(SITE_TABLE) if keys[i]}


def add_hook(uc, kind: int, function: int, context, begin: int, end: int) -> None:
    """Register C hook `function` (an address) with `context` (a ctypes struct)."""
    handle = ctypes.c_size_t()
    status = uclib.uc_hook_add(uc._uch, ctypes.byref(handle), kind, ctypes.c_void_p(function),
                               ctypes.c_void_p(ctypes.addressof(context)),
                               ctypes.c_uint64(begin), ctypes.c_uint64(end))
    if status != 0:
        # lazy: unicorn is slow to import; only this path needs it
        import unicorn

        raise unicorn.UcError(status)
