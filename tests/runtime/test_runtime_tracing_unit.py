"""backends.tracing and the Unicorn runner on their own: memory-operand classification,
address attribution, and UnicornCode agreeing with NativeCode on the same blob."""

from collections import Counter

import pytest

from backends.copy_and_patch.emitter import compile
from backends.native.runner import NativeCode
from backends.tracing import CodeMap, decode
from backends.unicorn_rt.runner import UnicornCode
from ir.parser import parse_function
from ir.verifier import verify_function

from jit_programs import SUM_LOOP_PROMOTED as SUM  # tests/ is on sys.path

INT64_MAX = (1 << 63) - 1


@pytest.fixture(scope="module")
def fn_blob():
    fn = parse_function(SUM)
    verify_function(fn)
    return fn, compile(fn)


def ops(hex_bytes):
    return [(i.text, i.loads, i.stores) for i in decode(bytes.fromhex(hex_bytes), 0).values()]


def test_memory_operands_from_capstone():
    assert ops("498b442408") == [("mov rax, qword ptr [r12 + 8]", 1, 0)]
    assert ops("4989442410") == [("mov qword ptr [r12 + 0x10], rax", 0, 1)]
    assert ops("4901442408") == [("add qword ptr [r12 + 8], rax", 1, 1)]
    assert ops("49837c240800") == [("cmp qword ptr [r12 + 8], 0", 1, 0)]
    assert ops("50" "58" "ffd7" "c3") == [("push rax", 0, 1), ("pop rax", 1, 0),
                                           ("call rdi", 0, 1), ("ret", 1, 0)]
    assert ops("488d0424" "0f1f440000") == [("lea rax, [rsp]", 0, 0),
                                             ("nop dword ptr [rax + rax]", 0, 0)]
    assert ops("ff742408") == [("push qword ptr [rsp + 8]", 1, 1)]


def test_code_map_owners(fn_blob):
    fn, blob = fn_blob
    cmap = CodeMap(blob, 0x1000)
    assert cmap.owner(0x1000).uop == "_ENTRY" and cmap.owner(0x1000).kind == "shim"
    for address, (block, index, name, line) in blob.address_map(0x1000).items():
        owner = cmap.owner(address)
        assert (owner.block, owner.index, owner.uop, owner.line) == (block, index, name, line)
        assert address in cmap.insns  # every uop starts on an instruction
    stubs = [cmap.owner(a) for a in cmap.exit_addr.values()]
    assert [(o.kind, o.uop, o.block) for o in stubs] == [
        ("exit", "_BINARY_OP_ADD_INT", "bb2")] * 2
    assert cmap.owner(0x1000 + blob.size + 64) is None


@pytest.mark.parametrize("state,entry", [({"n": 1000}, 0),
                                         ({"n": 100, "total": 7, "$cur0": 40, "$stop1": 100,
                                           "i": 39}, 1),
                                         ({"n": 100, "total": INT64_MAX - 10, "$cur0": 3,
                                           "$stop1": 100, "i": 2}, 1)],
                         ids=["return", "osr", "overflow-exit"])
def test_unicorn_runner_agrees_with_native(fn_blob, state, entry):
    fn, blob = fn_blob
    native = NativeCode(blob).run(dict(state), entry)
    blocks = UnicornCode(blob, "blocks")
    full = UnicornCode(blob, "full")
    assert blocks.run(dict(state), entry) == native == full.run(dict(state), entry)
    assert blocks.counts == full.counts and blocks.instructions == full.instructions > 0
    assert blocks.entries == Counter({entry: 1}) and blocks.runs == 1
    assert len(full.steps) == full.instructions
    cmap = CodeMap(blob, blocks.base, blocks.code)
    counts = cmap.uop_counts(fn, blocks.counts, blocks.entries)
    if native[0] == "return" and entry == 0:
        assert counts[("sum_loop", "_COMPARE_OP_INT")] == 1001
        assert counts[("sum_loop", "_BINARY_OP_ADD_INT")] == 2000
        assert counts[("sum_loop", "_JUMP")] == 1001  # bb0's and the back edge's
    cost = cmap.cost_by_uop(blocks.counts)
    assert sum(c.instructions for c in cost.values()) == blocks.instructions
    assert cost[("sum_loop", "_ENTRY")].instructions == 13  # the shim


def test_counts_accumulate_over_runs(fn_blob):
    fn, blob = fn_blob
    code = UnicornCode(blob, "blocks")
    code.run({"n": 10}, 0)
    once = code.instructions
    code.run({"n": 10}, 0)
    assert code.instructions == 2 * once and code.runs == 2
    quiet = UnicornCode(blob, "none")
    assert quiet.run({"n": 10}, 0) == ("return", 45) and quiet.instructions == 0
