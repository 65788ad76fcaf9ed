"""Turn clang's ELF object into stencils: one per function section `.text.NAME`.

Relocations become holes. Read-only sections a function refers to (constant pools such as
`.rodata.cst8`, tables in `.lrodata`) are copied into that stencil's private data, and
holes against them point there (value DATA). Two kinds of relocation need a word in the
data, as a static linker would add one:

* GOT-family (`R_X86_64_GOTPCREL`, `..GOTPCRELX`, `..REX_GOTPCRELX`; clang emits them
  with `-fpic`): the data gets an 8-byte slot holding the absolute value, and the
  instruction, which loads through `slot(%rip)`, gets a PC32 hole to that slot. Relaxing
  the instruction instead would rewrite opcodes; the slot is always correct.
* A rel32 call or jump (PLT32) to a value that is not JIT code (HELPER, EXTERN...): the
  callee may be more than 2 GiB away (natively a ctypes callback), so the call goes to a
  PLT-like stub in the data, `jmp *value(%rip)`. Jumps between stencils stay direct.

A trailing `jmp _JIT_CONTINUE` is dropped so that the next stencil simply follows.
"""

from __future__ import annotations

import io

from elftools.elf.constants import SH_FLAGS
from elftools.elf.descriptions import describe_reloc_type
from elftools.elf.elffile import ELFFile

from . import capi
from .compiler import StencilBuildError
from .patcher import PATCHERS, align
from .stencil import NEAR_VALUES, SYMBOLS, Hole, HoleValue, Stencil

GOT_KINDS = frozenset({"R_X86_64_GOTPCREL", "R_X86_64_GOTPCRELX", "R_X86_64_REX_GOTPCRELX"})
JUMP_KINDS = frozenset({"R_X86_64_PLT32", "R_X86_64_PC32"})
# jmp *2(%rip); int3; int3; then the 8-byte target (kept 8-aligned)
FAR_JUMP_STUB = b"\xff\x25\x02\x00\x00\x00\xcc\xcc"
JMP_REL32 = 0xE9


def read_stencils(obj: bytes) -> dict[str, Stencil]:
    """All functions of an x86-64 relocatable object (built with -ffunction-sections)."""
    elf = ELFFile(io.BytesIO(obj))
    if elf["e_machine"] != "EM_X86_64" or elf["e_type"] != "ET_REL":
        raise StencilBuildError("expected an x86-64 relocatable object file")
    symtab = elf.get_section_by_name(".symtab")
    if symtab is None:
        return {}
    relocations = {s["sh_info"]: list(s.iter_relocations())
                   for s in elf.iter_sections() if s["sh_type"] == "SHT_RELA"}
    stencils = {}
    for symbol in symtab.iter_symbols():
        if symbol["st_info"]["type"] != "STT_FUNC" or symbol["st_shndx"] == "SHN_UNDEF":
            continue
        index = symbol["st_shndx"]
        if elf.get_section(index).name != f".text.{symbol.name}" or symbol["st_value"]:
            raise StencilBuildError(f"{symbol.name} is not alone in .text.{symbol.name} "
                                    "(compile with -ffunction-sections)")
        stencils[symbol.name] = _Builder(elf, symtab, relocations, index, symbol.name).build()
    return stencils


class _Builder:
    """Collects one stencil: its holes, and the data (sections, slots, stubs) they need."""

    def __init__(self, elf: ELFFile, symtab, relocations: dict, text_index: int, name: str):
        self.elf, self.symtab, self.relocations = elf, symtab, relocations
        self.text_index, self.name = text_index, name
        self.data = bytearray()
        self.data_holes: list[Hole] = []
        self.data_alignment = 8
        self.copied: dict[int, int] = {}  # section index -> its offset in data
        self.slots: dict[tuple, int] = {}  # (prefix, value, addend) -> offset in data

    def build(self) -> Stencil:
        code = self.elf.get_section(self.text_index).data()
        holes = [self.hole(r, 0) for r in self.relocations.get(self.text_index, [])]
        end = len(code) - 4
        fallthrough = len(code) >= 5 and code[-5] == JMP_REL32 and any(
            h.offset == end and h.kind in JUMP_KINDS and h.value is HoleValue.CONTINUE
            and h.addend == -4 for h in holes)
        if fallthrough:
            code = code[:-5]
            holes = [h for h in holes if h.offset != end]
        return Stencil(self.name, bytes(code), tuple(sorted(holes, key=lambda h: h.offset)),
                       bytes(self.data), tuple(self.data_holes), self.data_alignment,
                       fallthrough)

    def hole(self, relocation, base: int) -> Hole:
        """The hole for one relocation of a section placed at `base` in its buffer."""
        kind = describe_reloc_type(relocation["r_info_type"], self.elf)
        offset, addend = base + relocation["r_offset"], relocation["r_addend"]
        value, symbol, symbol_offset = self.resolve(relocation["r_info_sym"])
        if kind in GOT_KINDS:
            slot = self.slot(b"", value, symbol, symbol_offset)
            return Hole(offset, "R_X86_64_PC32", HoleValue.DATA, symbol, slot + addend)
        if kind == "R_X86_64_PLT32" and value not in NEAR_VALUES:
            stub = self.slot(FAR_JUMP_STUB, value, symbol, symbol_offset)
            return Hole(offset, "R_X86_64_PC32", HoleValue.DATA, symbol, stub + addend)
        if kind not in PATCHERS:
            raise StencilBuildError(f"{self.name}: unsupported relocation {kind} "
                                    f"against {symbol or value.name}")
        return Hole(offset, kind, value, symbol, symbol_offset + addend)

    def resolve(self, index: int) -> tuple[HoleValue, str | None, int]:
        """A symbol as (value, C name, offset from the value)."""
        sym = self.symtab.get_symbol(index)
        shndx = sym["st_shndx"]
        if shndx == "SHN_UNDEF":
            if sym.name in SYMBOLS:
                return SYMBOLS[sym.name], sym.name, 0
            if capi.known(sym.name):
                return HoleValue.EXTERN, sym.name, 0
            raise StencilBuildError(
                f"{self.name} refers to {sym.name!r}: stencils may only use _JIT_* symbols "
                "and the interpreter symbols listed in capi.py (clang calls memcpy/memset "
                "for large copies; call those through a helper)")
        if shndx == self.text_index:
            return HoleValue.CODE, None, sym["st_value"]
        if not isinstance(shndx, int):
            raise StencilBuildError(f"{self.name}: symbol {sym.name!r} is {shndx}")
        section = self.elf.get_section(shndx)
        flags = section["sh_flags"]
        if flags & SH_FLAGS.SHF_EXECINSTR:
            raise StencilBuildError(
                f"{self.name} refers to code in {section.name}: a stencil cannot call another "
                "function; make it `static inline __attribute__((always_inline))`")
        if flags & SH_FLAGS.SHF_WRITE or not flags & SH_FLAGS.SHF_ALLOC:
            raise StencilBuildError(f"{self.name} uses writable data in {section.name}: "
                                    "stencil data is read-only (make it const)")
        return HoleValue.DATA, None, self.copy(shndx) + sym["st_value"]

    def copy(self, index: int) -> int:
        """Offset in data of a copy of read-only section `index` (copied once)."""
        if index not in self.copied:
            section = self.elf.get_section(index)
            alignment = max(section["sh_addralign"], 1)
            self.data_alignment = max(self.data_alignment, alignment)
            offset = self.pad(alignment)
            self.copied[index] = offset
            nobits = section["sh_type"] == "SHT_NOBITS"
            self.data += bytes(section["sh_size"]) if nobits else section.data()
            for relocation in self.relocations.get(index, []):
                self.data_holes.append(self.hole(relocation, offset))
        return self.copied[index]

    def slot(self, prefix: bytes, value: HoleValue, symbol: str | None, addend: int) -> int:
        """Offset in data of `prefix` followed by the 8-byte absolute `value + addend`:
        a GOT entry (no prefix) or a far-jump stub."""
        key = (prefix, value, symbol, addend)
        if key not in self.slots:
            offset = self.pad(8)
            self.data += prefix + bytes(8)
            self.data_holes.append(Hole(offset + len(prefix), "R_X86_64_64", value, symbol,
                                        addend))
            self.slots[key] = offset
        return self.slots[key]

    def pad(self, alignment: int) -> int:
        self.data += bytes(align(len(self.data), alignment) - len(self.data))
        return len(self.data)
