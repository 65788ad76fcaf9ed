"""Stitched stencils running natively in W^X memory, entered through the SysV shim."""

import ctypes
import struct

import pytest

from backends.copy_and_patch import cache
from backends.copy_and_patch.patcher import layout
from backends.native.execmem import ExecutableMemory

INT64_MAX = (1 << 63) - 1


def mapping_permissions(address):
    with open("/proc/self/maps") as maps:
        for line in maps:
            span, perms = line.split()[:2]
            lo, hi = (int(x, 16) for x in span.split("-"))
            if lo <= address < hi:
                return perms
    raise LookupError(hex(address))


def test_write_xor_execute():
    with ExecutableMemory(100) as mem:
        assert mem.size == 4096 and mem.address % 4096 == 0
        mem.write(b"\xb8\x2a\x00\x00\x00\xc3")  # mov eax, 42; ret
        assert mapping_permissions(mem.address).startswith("rw-")
        with pytest.raises(PermissionError):
            mem.function(ctypes.c_int)
        mem.seal()
        assert mapping_permissions(mem.address).startswith("r-x")
        with pytest.raises(PermissionError):
            mem.write(b"\x90")
        assert mem.function(ctypes.c_int)() == 42
        mem.unseal()
        assert mapping_permissions(mem.address).startswith("rw-")
        mem.write(b"\x07", 1)
        mem.seal()
        assert mem.function(ctypes.c_int)() == 7
        with pytest.raises(ValueError):
            ExecutableMemory(10).write(b"x" * 5000)
    with pytest.raises(ValueError, match="freed"):
        mem.address


def run_native(library, programs, program, slots, labels=None):
    """Link at a fresh mapping, seal, call jit_entry(first stencil, frame)."""
    frame = (ctypes.c_int64 * 8)(*slots)
    mem = ExecutableMemory(layout([library[name] for name, _ in program], 0)[1])
    blob, where = programs.link(library, program, mem.address, labels)
    mem.write(blob)
    mem.seal()
    entry = mem.function(ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p)
    result = entry(where[program[1][0]], ctypes.addressof(frame))
    return result, list(frame)


def test_counted_loop(library, programs):
    result, _ = run_native(library, programs, programs.SUM_LOOP, [0, 0, 1_000_000])
    assert result == 499999500000


def test_overflow_takes_the_side_exit(library, programs):
    assert run_native(library, programs, programs.ADD_10, [5])[0] == 15
    result, frame = run_native(library, programs, programs.ADD_10, [INT64_MAX - 5])
    assert result == -7 and frame[0] == INT64_MAX - 5  # exit saw the un-added value
    result, frame = run_native(library, programs, programs.SUM_LOOP, [INT64_MAX - 10, 0, 100])
    assert result == -7 and frame[0] == INT64_MAX  # + 0+1+2+3+4 fits exactly, +5 does not


def test_float_constants_and_static_table(library, programs):
    bits, _ = run_native(library, programs, programs.FLOAT, [4])
    assert struct.unpack("<d", struct.pack("<q", bits))[0] == 4 * 2.5 + 0.125
    assert run_native(library, programs, programs.LOOKUP, [5])[0] == 13


def test_helper_is_a_ctypes_callback(library, programs):
    calls = []

    @ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)
    def helper(a, b):
        calls.append((a, b))
        return a * 1000 + b

    address = ctypes.cast(helper, ctypes.c_void_p).value
    result, _ = run_native(library, programs, programs.HELPER, [12, -3],
                           {"helper": address})
    assert result == 12 * 1000 - 3 and calls == [(12, -3)]


def test_gotpcrel_stencils_run(programs, private_cache, stencils_source):
    # -fpic loads _JIT_* values through the GOT; small tables stay rip-relative
    pic = cache.build_library(stencils_source, ("-fpic", "-mlarge-data-threshold=65536"))
    assert any(h.value.name == "DATA" for h in pic["add_operand"].holes)
    assert run_native(pic, programs, programs.ADD_10, [32])[0] == 42
