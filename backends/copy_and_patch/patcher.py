"""Fill a stencil's holes for a given address: the "patch" in copy-and-patch.

Every relocation kind a stencil can hold has one patch function in `PATCHERS`, computing
what the ELF psABI says (S = value address, A = addend, P = the patched place). The
GOT-family kinds never get here: elf_reader turns them into PC32 holes to a data slot.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable, Mapping, Sequence

from .stencil import HoleValue, Stencil

PatchFunction = Callable[[bytearray, int, int, int, int], None]


class PatchError(ValueError):
    """A hole cannot be filled: missing value, or the result does not fit its field."""


def _fit(value: int, lo: int, hi: int, what: str) -> int:
    if not lo <= value <= hi:
        raise PatchError(f"{what} {value:#x} does not fit in 32 bits")
    return value


def _abs64(buf: bytearray, offset: int, s: int, p: int, a: int) -> None:
    struct.pack_into("<Q", buf, offset, (s + a) & 0xFFFF_FFFF_FFFF_FFFF)


def _pc64(buf: bytearray, offset: int, s: int, p: int, a: int) -> None:
    struct.pack_into("<Q", buf, offset, (s + a - p) & 0xFFFF_FFFF_FFFF_FFFF)


def _pc32(buf: bytearray, offset: int, s: int, p: int, a: int) -> None:
    struct.pack_into("<i", buf, offset, _fit(s + a - p, -(1 << 31), (1 << 31) - 1,
                                             "pc-relative displacement"))


def _abs32(buf: bytearray, offset: int, s: int, p: int, a: int) -> None:
    struct.pack_into("<I", buf, offset, _fit(s + a, 0, (1 << 32) - 1, "zero-extended value"))


def _abs32s(buf: bytearray, offset: int, s: int, p: int, a: int) -> None:
    struct.pack_into("<i", buf, offset, _fit(s + a, -(1 << 31), (1 << 31) - 1,
                                             "sign-extended value"))


# The one table: relocation kind -> how to patch it.
PATCHERS: dict[str, PatchFunction] = {
    "R_X86_64_64": _abs64,
    "R_X86_64_PC64": _pc64,
    "R_X86_64_PC32": _pc32,
    "R_X86_64_PLT32": _pc32,  # a PLT is only needed for far callees; elf_reader adds stubs
    "R_X86_64_32": _abs32,
    "R_X86_64_32S": _abs32s,
}


def patch(stencil: Stencil, code_address: int, data_address: int,
          values: Mapping[HoleValue, int],
          externs: Mapping[str, int] | None = None) -> tuple[bytes, bytes]:
    """The stencil's code and data with every hole filled, for the given addresses;
    `externs` gives the address of each interpreter symbol (EXTERN holes)."""
    addresses = {**values, HoleValue.CODE: code_address, HoleValue.DATA: data_address}
    end = code_address + len(stencil.code)
    if stencil.fallthrough and addresses.get(HoleValue.CONTINUE, end) != end:
        raise PatchError(f"{stencil.name}: its jump to CONTINUE was dropped, so CONTINUE "
                         "must be the address right after its code")
    code, data = bytearray(stencil.code), bytearray(stencil.data)
    for buf, base, holes in ((code, code_address, stencil.holes),
                             (data, data_address, stencil.data_holes)):
        for hole in holes:
            if hole.value is HoleValue.EXTERN:
                if externs is None or hole.symbol not in externs:
                    raise PatchError(f"{stencil.name}: no address given for {hole.symbol}")
                PATCHERS[hole.kind](buf, hole.offset, externs[hole.symbol],
                                    base + hole.offset, hole.addend)
                continue
            if hole.value not in addresses:
                raise PatchError(f"{stencil.name}: no value given for {hole.value.name} "
                                 f"({hole.symbol})")
            try:
                PATCHERS[hole.kind](buf, hole.offset, addresses[hole.value],
                                    base + hole.offset, hole.addend)
            except PatchError as e:
                raise PatchError(f"{stencil.name}: {hole}: {e}") from None
    return bytes(code), bytes(data)


def align(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment


def emit(stencil: Stencil, base_address: int, values: Mapping[HoleValue, int],
         externs: Mapping[str, int] | None = None) -> bytes:
    """One stencil on its own: patched code, then its data at the next aligned address."""
    data_address = align(base_address + len(stencil.code), stencil.data_alignment)
    code, data = patch(stencil, base_address, data_address, values, externs)
    return code + bytes(data_address - base_address - len(code)) + data


@dataclasses.dataclass(frozen=True)
class Placement:
    code_address: int
    data_address: int


def layout(stencils: Sequence[Stencil], base_address: int) -> tuple[list[Placement], int]:
    """Where each stencil goes when linked: all code back to back (so dropped tail jumps
    fall through), then each stencil's data, aligned. Returns placements and total size."""
    code_addresses, address = [], base_address
    for stencil in stencils:
        code_addresses.append(address)
        address += len(stencil.code)
    placements = []
    for stencil, code_address in zip(stencils, code_addresses):
        address = align(address, stencil.data_alignment)
        placements.append(Placement(code_address, address))
        address += len(stencil.data)
    return placements, address - base_address


def link(stencils: Sequence[Stencil], values: Sequence[Mapping[HoleValue, int]],
         base_address: int, externs: Mapping[str, int] | None = None) -> bytes:
    """Patch and concatenate stencils as `layout` places them; CONTINUE defaults to the
    next stencil. `values[i]` are the hole values of `stencils[i]`."""
    placements, size = layout(stencils, base_address)
    blob = bytearray(size)
    for stencil, place, given in zip(stencils, placements, values, strict=True):
        given = {HoleValue.CONTINUE: place.code_address + len(stencil.code), **given}
        code, data = patch(stencil, place.code_address, place.data_address, given, externs)
        start = place.code_address - base_address
        blob[start:start + len(code)] = code
        start = place.data_address - base_address
        blob[start:start + len(data)] = data
    return bytes(blob)
