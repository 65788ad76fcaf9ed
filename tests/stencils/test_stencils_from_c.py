"""Stencils from C: holes, dropped tail jumps, patching, data, GOT slots, cache."""

import struct

import capstone
import pytest

from backends.copy_and_patch import cache, compiler
from backends.copy_and_patch.compiler import StencilBuildError
from backends.copy_and_patch.patcher import PatchError, emit
from backends.copy_and_patch.stencil import HoleValue as V

MD = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
MD.detail = True


def disasm(blob, base, length=None):
    return list(MD.disasm(blob[:length], base))


def test_holes_have_kinds_values_and_offsets(library):
    add = library["add_operand"]
    assert [(h.kind, h.value, h.symbol) for h in add.holes] == [
        ("R_X86_64_64", V.OPERAND, "_JIT_OPERAND"),  # movabs $operand, %reg
        ("R_X86_64_PLT32", V.EXIT, "_JIT_EXIT"),  # jo/jmp to the side exit
    ]
    assert add.code[add.holes[0].offset - 2:add.holes[0].offset - 1] == b"\x48"  # REX.W movabs
    branch = library["branch_lt"]
    assert {(h.value, h.kind, h.addend) for h in branch.holes} == {
        (V.CONTINUE, "R_X86_64_PLT32", -4), (V.TARGET, "R_X86_64_PLT32", -4)}
    assert library["load3"].values == {V.SLOT0, V.SLOT1, V.SLOT2}
    assert library["ret_r0"].holes == () and library["jit_entry"].holes == ()


def test_trailing_jump_to_continue_is_dropped(library):
    for name in ("load3", "add_operand", "inc_r1", "load_const_float", "call_helper"):
        stencil = library[name]
        assert stencil.fallthrough, name
        assert all(h.value is not V.CONTINUE for h in stencil.holes), name
        last = disasm(stencil.code, 0)[-1]
        assert last.address + last.size == len(stencil.code)
        assert last.mnemonic != "jmp", name
    # branch_lt ends in `jmp TARGET` (kept) after `jge CONTINUE`
    assert not library["branch_lt"].fallthrough
    assert disasm(library["branch_lt"].code, 0)[-1].mnemonic == "jmp"


def test_patched_code_decodes_to_the_values(library):
    add = library["add_operand"]
    base, exit_ = 0x40_0000, 0x40_8000
    blob = emit(add, base, {V.OPERAND: 0x1122334455667788, V.EXIT: exit_})
    insns = disasm(blob, base, len(add.code))
    assert insns[0].mnemonic == "movabs" and insns[0].operands[1].imm == 0x1122334455667788
    jumps = [i for i in insns if i.mnemonic in ("jmp", "jo")]
    assert [i.operands[0].imm for i in jumps] == [exit_]

    branch = library["branch_lt"]
    blob = emit(branch, base, {V.TARGET: base - 0x100, V.CONTINUE: base + 0x1000})
    targets = {i.mnemonic: i.operands[0].imm for i in disasm(blob, base)
               if i.group(capstone.CS_GRP_JUMP)}
    assert targets == {"jge": base + 0x1000, "jmp": base - 0x100}


def test_constant_pool_is_copied_and_addressed_pc_relative(library):
    stencil = library["load_const_float"]
    assert {h.kind for h in stencil.holes} == {"R_X86_64_PC32"}
    assert {h.value for h in stencil.holes} == {V.DATA}
    base = 0x7000_1234  # unaligned on purpose: data is aligned by address
    blob = emit(stencil, base, {})
    constants = []
    for insn in disasm(blob, base, len(stencil.code)):
        for op in insn.operands:
            if op.type == capstone.x86.X86_OP_MEM and op.mem.base == capstone.x86.X86_REG_RIP:
                address = insn.address + insn.size + op.mem.disp
                assert address % 8 == 0 and address >= base + len(stencil.code)
                constants.append(struct.unpack_from("<d", blob, address - base)[0])
    assert sorted(constants) == [0.125, 2.5]


def test_static_table_goes_through_an_absolute_data_address(library):
    stencil = library["lookup"]
    (hole,) = stencil.holes
    assert (hole.kind, hole.value) == ("R_X86_64_64", V.DATA)
    assert struct.unpack_from("<8q", stencil.data, hole.addend) == (2, 3, 5, 7, 11, 13, 17, 19)


def test_helper_call_goes_through_a_far_jump_stub(library):
    stencil = library["call_helper"]
    (hole,) = stencil.holes
    assert (hole.kind, hole.value, hole.symbol) == ("R_X86_64_PC32", V.DATA, "_JIT_HELPER")
    (slot,) = stencil.data_holes
    assert (slot.kind, slot.value) == ("R_X86_64_64", V.HELPER)
    base, helper = 0x1000, 0x7FFF_0000_0000  # far beyond rel32 reach
    blob = emit(stencil, base, {V.HELPER: helper})
    call = next(i for i in disasm(blob, base, len(stencil.code)) if i.mnemonic == "call")
    stub = call.operands[0].imm
    jmp = disasm(blob[stub - base:], stub)[0]
    assert jmp.mnemonic == "jmp" and jmp.op_str == "qword ptr [rip + 2]"
    assert struct.unpack_from("<Q", blob, stub - base + 8)[0] == helper


def test_out_of_range_rel32_is_a_clear_error(library):
    with pytest.raises(PatchError, match="add_operand.*EXIT.*does not fit in 32 bits"):
        emit(library["add_operand"], 0x1000, {V.OPERAND: 1, V.EXIT: 1 << 40})
    with pytest.raises(PatchError, match="no value given for OPERAND"):
        emit(library["add_operand"], 0x1000, {V.EXIT: 0x2000})
    with pytest.raises(PatchError, match="CONTINUE must be the address right after"):
        emit(library["inc_r1"], 0x1000, {V.OPARG: 1, V.CONTINUE: 0x9000})


def test_gotpcrel_becomes_a_data_slot(private_cache, stencils_source):
    source = stencils_source.split("STENCIL int64_t add_r0_r1")[0]  # up to add_operand
    pic = cache.build_library(source, ("-fpic",))  # -fpic makes clang load via the GOT
    stencil = pic["add_operand"]
    (operand,) = [h for h in stencil.holes if h.symbol == "_JIT_OPERAND"]
    assert (operand.kind, operand.value) == ("R_X86_64_PC32", V.DATA)
    (slot,) = stencil.data_holes
    assert (slot.kind, slot.value) == ("R_X86_64_64", V.OPERAND)
    base = 0x10_0000
    blob = emit(stencil, base, {V.OPERAND: 42, V.EXIT: base})
    (insn,) = [i for i in disasm(blob, base, len(stencil.code)) if "rip" in i.op_str]
    address = insn.address + insn.size + insn.operands[1].mem.disp
    assert struct.unpack_from("<q", blob, address - base)[0] == 42


def test_unknown_symbol_and_clang_errors_are_reported(private_cache):
    with pytest.raises(StencilBuildError, match="refers to 'memcpy'"):
        cache.build_library("void f(char *a, char *b, long n) { __builtin_memcpy(a, b, n); }")
    with pytest.raises(StencilBuildError, match=r"clang failed(?s:.*)error: expected"):
        compiler.compile_c("int f( {")


def test_second_build_is_a_cache_hit(private_cache, library, stencils_source, monkeypatch):
    def no_compiler(*args):
        raise AssertionError("compiler was called")

    monkeypatch.setattr(cache, "_memory", {})  # force the disk path, as a new process would
    monkeypatch.setattr(compiler, "compile_c", no_compiler)
    monkeypatch.setattr(compiler.subprocess, "run", no_compiler)
    again = cache.build_library(stencils_source)
    assert again.stencils == library.stencils and again.key == library.key
    assert list(private_cache.glob("*.tmp")) == []
    assert cache.library_key(stencils_source, ("-DX",)) != library.key


def test_small_data_model_gives_32bit_absolute_addresses(private_cache, stencils_source):
    # what -mlarge-data-threshold=0 (in CFLAGS) avoids: tables addressed as [disp32 + index]
    small = cache.build_library(stencils_source, ("-mlarge-data-threshold=65536",))
    (hole,) = small["lookup"].holes
    assert (hole.kind, hole.value) == ("R_X86_64_32S", V.DATA)
    blob = emit(small["lookup"], 0x10_0000, {})
    code = disasm(blob, 0x10_0000, len(small["lookup"].code))
    (load,) = [i for i in code if i.mnemonic == "mov"]
    table = load.operands[1].mem.disp
    assert struct.unpack_from("<2q", blob, table - 0x10_0000) == (2, 3)
    with pytest.raises(PatchError, match="sign-extended value"):
        emit(small["lookup"], 0x7FFF_0000_0000, {})


def test_each_part_is_cached_on_its_own(private_cache, monkeypatch):
    """build_each: a set that shares parts with one built before compiles the new
    parts only, in one compiler run; a set of known parts compiles nothing."""
    prelude = "#include <stdint.h>\n"
    part = {n: f"int64_t {n}(int64_t x) {{ return x * {k + 3}; }}\n"
            for k, n in enumerate(["mul_a", "mul_b", "mul_c"])}
    compiled = []
    real = compiler.compile_c

    def counting(source, extra_flags=()):
        compiled.append(sorted(n for n in part if f" {n}(" in source))
        return real(source, extra_flags)

    monkeypatch.setattr(compiler, "compile_c", counting)
    first = cache.build_each(prelude, {n: part[n] for n in ("mul_a", "mul_b")})
    assert compiled == [["mul_a", "mul_b"]] and sorted(first) == ["mul_a", "mul_b"]
    monkeypatch.setattr(cache, "_memory", {})   # the disk, as a new process finds it
    second = cache.build_each(prelude, {n: part[n] for n in ("mul_b", "mul_c")})
    assert compiled == [["mul_a", "mul_b"], ["mul_c"]]
    assert second["mul_b"] == first["mul_b"] and second["mul_c"].name == "mul_c"
    cache.build_each(prelude, dict(part))
    assert len(compiled) == 2
