"""Optimized IR -> copy-and-patch stencils -> native x86-64, with exact side exits."""

import ctypes
import math

import capstone
import pytest

from backends.copy_and_patch.emitter import Unsupported, compile, sequentialize
from backends.copy_and_patch.stencil import HoleValue as V
from backends.interp.interpreter import UNBOUND, Interpreter
from backends.native.runner import NativeCode, Refused
from helpers import KERNELS_DIR
from jit_programs import FIB_MOD_PROMOTED, SUM_LOOP_FRAME, SUM_LOOP_PROMOTED
from ir.parser import parse_function
from ir.verifier import verify_function
from workbench.runtime import load_module

KERNELS = str(KERNELS_DIR)  # the in-repo kernels (workbench/benchmarks/programs)
INT64_MAX = (1 << 63) - 1


def native(text):
    fn = parse_function(text)
    verify_function(fn)
    return NativeCode(compile(fn))


def cpython_sum_loop(n):
    total = 0
    for i in range(n):
        total += i
    return total


def cpython_fib_mod(n, a=0, b=1, start=0):
    for _ in range(start, n):
        a, b = b, (a + b) % 1_000_000_007
    return a


def resume_tier1(kernel, name, code, result, globals_=None):
    """What the runtime does on a side exit: finish the call in the tier-1 interpreter."""
    _, index, values, frame_locals = result
    ex = code.blob.exits[index]
    interp = Interpreter(load_module(f"{KERNELS}/{kernel}.py"))
    interp.globals.update(globals_ or {})
    cf1 = interp.compile(name)
    frame = [frame_locals.get(local, UNBOUND) for local in cf1.fn.locals]
    vals = [None] * cf1.nvals
    for k, v in values.items():
        vals[k] = v
    return interp.execute(cf1, frame, ex.block, ex.index, vals)


@pytest.mark.parametrize("text", [SUM_LOOP_FRAME, SUM_LOOP_PROMOTED], ids=["frame", "promoted"])
def test_sum_loop_matches_cpython(text):
    code = native(text)
    for n in (0, 1, 7, 10**6):
        assert code.run({"n": n}, 0) == ("return", cpython_sum_loop(n))


def test_fib_mod_matches_cpython():
    code = native(FIB_MOD_PROMOTED)
    for n in (0, 1, 2, 10, 10**6):
        assert code.run({"n": n}, 0) == ("return", cpython_fib_mod(n))


def test_osr_entry_at_loop_header():
    code = native(SUM_LOOP_PROMOTED)
    state = {"n": 100, "total": 1000, "$cur0": 40, "$stop1": 100, "i": 39}
    assert code.run(state, 1) == ("return", 1000 + sum(range(40, 100)))
    code = native(SUM_LOOP_FRAME)
    assert code.run(state, 1) == ("return", 1000 + sum(range(40, 100)))


@pytest.mark.parametrize("text", [SUM_LOOP_FRAME, SUM_LOOP_PROMOTED], ids=["frame", "promoted"])
def test_sum_overflow_takes_exact_side_exit(text):
    code = native(text)
    start = INT64_MAX - 10
    state = {"n": 100, "total": start, "$cur0": 3, "$stop1": 100, "i": 2}
    result = code.run(state, 1)
    # 3 + 4 fit, + 5 overflows: exit before `total += i` with i == 5.
    assert result[0] == "exit"
    ex = code.blob.exits[result[1]]
    assert (ex.block, ex.index) == ("bb2", 7)
    assert result[2] == {10: start + 7, 11: 5}
    assert result[3]["total"] == start + 7 and result[3]["$cur0"] == 6
    assert result[3]["i"] == 5 and result[3]["$stop1"] == 100
    assert resume_tier1("sum_loop", "sum_loop", code, result) == start + sum(range(3, 100))


def test_fib_overflow_takes_exact_side_exit():
    code = native(FIB_MOD_PROMOTED)
    a = b = 1 << 62
    state = {"n": 50, "a": a, "b": b, "$cur0": 10, "$stop1": 50, "_": 9}
    result = code.run(state, 1)
    assert result[0] == "exit"
    ex = code.blob.exits[result[1]]
    assert (ex.block, ex.index) == ("bb2", 8)
    assert result[2] == {11: b, 12: a, 13: b}
    assert type(result[2][11]) is int
    assert resume_tier1("fib_mod", "fib_mod", code, result,
                        {"MOD": 1_000_000_007}) == cpython_fib_mod(50, a, b, 10)


def test_runner_refuses_what_words_cannot_hold():
    code = native(SUM_LOOP_PROMOTED)
    with pytest.raises(Refused):
        code.run({"n": 1 << 64}, 0)
    with pytest.raises(Refused):
        code.run({"n": 10.0}, 0)
    with pytest.raises(Refused):
        code.run({"n": True}, 0)


GUARDED = """
func @f(x) {
bb0:
  %0:int = _LOAD_FAST x
  _GUARD_TOS_INT %0 exit(bb0:1, %0)
  _RETURN %0
}
"""
UNTYPED = """
func @f(x) {
bb0:
  %0 = _LOAD_FAST x
  _RETURN %0
}
"""
GENERIC = """
func @f(x) {
bb0:
  %0:int = _LOAD_FAST x
  %1:int = _BINARY_OP + %0, %0
  _RETURN %1
}
"""


def test_guard_untyped_and_generic_now_compile():
    guarded = native(GUARDED)
    assert guarded.run({"x": 5}) == ("return", 5)
    assert guarded.run({"x": 1 << 40}) == ("return", 1 << 40)
    untyped = native(UNTYPED)
    for x in (None, "s", [1, 2], 2.5, True, 1 << 70, -3):
        assert untyped.run({"x": x}) == ("return", x)
    generic = native(GENERIC)
    assert generic.run({"x": 21}) == ("return", 42)


def test_unsupported_entry_params():
    with pytest.raises(Unsupported, match="entry block"):
        compile(parse_function("""
func @f(x) {
entry0:
  _ENTRY ^bb0
bb0(%0:int):
  _RETURN %0
}
"""))


def binop_fn(uop, lt, rt, ot, exit_=True):
    ex = " exit(bb0:2, %0, %1)" if exit_ else ""
    return parse_function(f"""
func @f(a, b) {{
bb0:
  %0:{lt} = _LOAD_FAST a
  %1:{rt} = _LOAD_FAST b
  %2:{ot} = {uop} %0, %1{ex}
  _RETURN %2
}}
""")


INTS = [0, 1, -1, 2, -2, 3, -3, 7, -7, 10**18, -(10**18), INT64_MAX, -INT64_MAX - 1]


@pytest.mark.parametrize("uop,op", [
    ("_BINARY_OP_ADD_INT", lambda a, b: a + b), ("_BINARY_OP_SUBTRACT_INT", lambda a, b: a - b),
    ("_BINARY_OP_MULTIPLY_INT", lambda a, b: a * b),
    ("_BINARY_OP_FLOOR_DIVIDE_INT", lambda a, b: a // b),
    ("_BINARY_OP_MODULO_INT", lambda a, b: a % b)])
def test_int_ops_exact_or_exit(uop, op):
    code = NativeCode(compile(binop_fn(uop, "int", "int", "int")))
    for a in INTS:
        for b in INTS:
            result = code.run({"a": a, "b": b})
            try:
                expected = op(a, b)
            except ZeroDivisionError:
                expected = None
            if expected is None or not -INT64_MAX - 1 <= expected <= INT64_MAX or (
                    "DIVIDE" in uop or "MODULO" in uop) and (a, b) == (-INT64_MAX - 1, -1):
                assert result[0] == "exit" and result[2] == {0: a, 1: b}, (a, b)
            else:
                assert result == ("return", expected), (a, b)


@pytest.mark.parametrize("uop,op,ot", [
    ("_BINARY_OP_AND_INT", lambda a, b: a & b, "int"),
    ("_BINARY_OP_XOR_INT", lambda a, b: a ^ b, "int"),
    ("_COMPARE_OP_INT <", lambda a, b: a < b, "bool"),
    ("_COMPARE_OP_INT !=", lambda a, b: a != b, "bool")])
def test_int_pure_ops(uop, op, ot):
    code = NativeCode(compile(binop_fn(uop, "int", "int", ot, exit_=False)))
    for a in INTS:
        for b in INTS:
            result = code.run({"a": a, "b": b})
            assert result == ("return", op(a, b)) and type(result[1]) is type(op(a, b))


FLOATS = [0.0, -0.0, 1.5, -2.25, 1e300, float("inf"), float("nan")]


@pytest.mark.parametrize("uop,op,ot", [
    ("_BINARY_OP_ADD_FLOAT", lambda a, b: a + b, "float"),
    ("_BINARY_OP_MULTIPLY_FLOAT", lambda a, b: a * b, "float"),
    ("_COMPARE_OP_FLOAT <=", lambda a, b: a <= b, "bool"),
    ("_COMPARE_OP_FLOAT ==", lambda a, b: a == b, "bool")])
def test_float_ops(uop, op, ot):
    code = NativeCode(compile(binop_fn(uop, "float", "float", ot, exit_=False)))
    for a in FLOATS:
        for b in FLOATS:
            kind, got = code.run({"a": a, "b": b})
            want = op(a, b)
            assert type(got) is type(want)
            assert got == want or (math.isnan(got) and math.isnan(want)), (a, b)


def test_int_to_float_exits_past_2_53():
    code = NativeCode(compile(parse_function("""
func @f(a) {
bb0:
  %0:int = _LOAD_FAST a
  %1:float = _INT_TO_FLOAT %0 exit(bb0:1, %0)
  %2:float = _LOAD_CONST 0.5
  %3:float = _BINARY_OP_ADD_FLOAT %1, %2
  _RETURN %3
}
""")))
    assert code.run({"a": -3}) == ("return", -2.5)
    assert code.run({"a": 1 << 53}) == ("return", float(1 << 53) + 0.5)
    assert code.run({"a": (1 << 53) + 1})[:3] == ("exit", 0, {0: (1 << 53) + 1})


def test_sequentialize_breaks_cycles():
    assert sequentialize([(1, 2), (2, 1)], 9) == [(9, 2), (2, 1), (1, 9)]
    assert sequentialize([(1, 2), (2, 3)], 9) == [(1, 2), (2, 3)]
    assert sequentialize([(1, 1)], 9) == []


SWAP = """
func @swap(n, x, y) {
bb0:
  %0:int = _LOAD_FAST x
  %1:int = _LOAD_FAST y
  %2:int = _LOAD_CONST 0
  %3:int = _LOAD_FAST n
  _JUMP ^bb1(%0, %1, %2)
bb1(%10:int, %11:int, %12:int):
  %13:bool = _COMPARE_OP_INT < %12, %3
  _BRANCH %13, ^bb2, ^bb3
bb2:
  %14:int = _LOAD_CONST 1
  %15:int = _BINARY_OP_ADD_INT %12, %14 exit(bb2:0, %12)
  %16:int = _LOAD_CONST 10
  %17:int = _BINARY_OP_MULTIPLY_INT %10, %16 exit(bb2:0, %12)
  _JUMP ^bb1(%11, %17, %15)
bb3:
  %18:bool = _UNARY_NOT %13
  _BRANCH %18, ^bb4(%10), ^bb4(%11)
bb4(%19:int):
  _RETURN %19
}
"""


def test_block_params_parallel_moves_and_branch_edges():
    def ref(n, x, y):
        for _ in range(n):
            x, y = y, x * 10
        return x
    code = native(SWAP)
    for n in range(6):
        assert code.run({"n": n, "x": 1, "y": 2}) == ("return", ref(n, 1, 2))


def mapping_permissions(address):
    with open("/proc/self/maps") as maps:
        for line in maps:
            span, perms = line.split()[:2]
            lo, hi = (int(x, 16) for x in span.split("-"))
            if lo <= address < hi:
                return perms
    raise LookupError(hex(address))


def test_code_is_rx_after_sealing():
    code = native(SUM_LOOP_PROMOTED)
    assert code.memory.sealed
    assert mapping_permissions(code.base).startswith("r-x")
    with pytest.raises(PermissionError):
        code.memory.write(b"\x90")


def test_patched_holes_decode_with_capstone():
    code = native(SUM_LOOP_PROMOTED)
    blob = code.blob
    raw = code.memory.read(0, blob.size)
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.detail = True
    insns = {i.address: i for i in md.disasm(raw, code.base)}
    amap = code.address_map()
    # Every uop's stencil starts at an instruction boundary.
    assert set(amap) <= set(insns)
    assert ("bb2", 1, "_BINARY_OP_ADD_INT") in {site[:3] for site in amap.values()}
    exit_stubs = {code.base + blob.label_offset(f"exit:{k}") for k in range(len(blob.exits))}
    blocks = {code.base + blob.label_offset(f"block:{b}") for b in ("bb1", "bb2", "bb3")}
    branch_targets = set()
    movabs, disps = [], set()
    for i in insns.values():
        if i.mnemonic.startswith("j"):
            branch_targets.add(int(i.op_str, 16))
        if i.mnemonic == "movabs":
            movabs.append(int(i.op_str.split(", ")[1], 16))
        for op in i.operands:   # frame slots: [r12 + disp32] (R_X86_64_32S holes)
            if op.type == capstone.x86.X86_OP_MEM and op.mem.base == capstone.x86.X86_REG_R12:
                disps.add(op.mem.disp)
    assert exit_stubs <= branch_targets  # jo/jno to each stub
    assert blocks & branch_targets  # the loop back edge, the branch
    assert branch_targets <= set(insns)  # every jump lands on an instruction
    # Slot offsets are the frame layout's byte offsets.
    layout = blob.frame
    assert 8 * layout.value_word[30] in disps and 8 * layout.local_word["$cur0"] in disps
    # Each patched hole of the _LOAD_CONST 1 holds the constant.
    for stencil, values, off in zip(blob.stencils, blob.values, blob.offsets):
        if stencil.name == "_LOAD_CONST" and values[V.OPERAND] == 1:
            first = insns[code.base + off]
            nxt = insns[first.address + first.size]
            assert first.mnemonic == "movabs" and first.operands[1].imm == 1
            assert nxt.operands[0].mem.disp == values[V.SLOT2]


def test_return_via_shim_preserves_callee_saved():
    # Many calls in a row: a clobbered callee-saved register would crash the interpreter.
    code = native(SUM_LOOP_FRAME)
    assert all(code.run({"n": k}, 0) == ("return", cpython_sum_loop(k)) for k in range(200))
    assert ctypes.sizeof(ctypes.c_int64) == 8
