"""Register variants, boxed values, guards and runtime helpers on real kernels.

Kernels are compiled as the runtime makes tier-2 code (workbench.runtime.optimize: entry
dispatcher, profile-guided pipeline), run natively, and a side exit is finished in the
tier-1 interpreter exactly as workbench.runtime does; results must equal CPython's.
"""

import importlib.util
import struct
from pathlib import Path

import pytest

from backends.copy_and_patch.emitter import compile
from backends.interp.interpreter import UNBOUND, Interpreter
from backends.native.runner import NativeCode
from helpers import KERNELS_DIR
from passes.pipeline import parse_pipeline
from workbench.runtime import load_module
from workbench.runtime import optimize, warm_up

KERNELS = str(KERNELS_DIR)  # the in-repo kernels (workbench/benchmarks/programs)
PIPE = "specialize,typeprop,guardelim,dse,promote"
ALGOS = ("tos", "linear-scan", "graph-coloring")
PIPELINES = ["default", PIPE] + [f"{PIPE},regalloc{{algo={a}}}" for a in ALGOS] + [
    "default,regalloc{algo=linear-scan,regs=3}"]

# Reduced sizes: (kernel, function, args...)
CASES = [
    ("sum_loop", "sum_loop", [(0,), (7,), (3000,)]),
    ("fib_mod", "fib_mod", [(1,), (500,)]),
    ("mandelbrot", "mandelbrot", [(10, 8, 25)]),
    ("collatz", "collatz_len", [(27,), (1,)]),
    ("collatz", "longest", [(200,)]),
    ("fib_big", "fib", [(10,), (90,), (93,), (150,)]),
    ("gcd_sum", "gcd", [(1071, 462), (5, 0)]),
    ("gcd_sum", "gcd_sum", [(25,)]),
    ("sieve", "count_primes", [(2,), (500,)]),
    ("spectral_norm", "eval_a", [(3, 4)]),
    ("spectral_norm", "mul_av", [("v", 6)]),
    ("spectral_norm", "mul_atv", [("v", 6)]),
    ("spectral_norm", "spectral_norm", [(6,)]),
]


def python_module(kernel):
    spec = importlib.util.spec_from_file_location(f"k_{kernel}", f"{KERNELS}/{kernel}.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


_compiled = {}


def compiled(kernel, passes):
    key = (kernel, passes)
    if key not in _compiled:
        module = load_module(f"{KERNELS}/{kernel}.py")
        profile, globals_ = warm_up(module, budget=20_000)
        fns = {}
        for fn in module.functions:
            if fn.name != "<module>":
                fns[fn.name] = optimize(module, fn, parse_pipeline(passes), profile, globals_)
        _compiled[key] = (module, globals_, fns)
    return _compiled[key]


def run_native(module, globals_, opt, code, args, entry=0):
    """Call natively; finish a side exit in tier 1 (as the runtime does)."""
    frame = dict(zip(opt.fn.params, args))
    result = code.run(frame, entry)
    if result[0] == "return":
        return result[1], False
    _, index, values, frame_locals = result
    ex = code.blob.exits[index]
    interp = code.env
    cf1 = interp.compile(opt.fn.name)
    tier1_frame = [frame_locals.get(local, UNBOUND) for local in cf1.fn.locals]
    vals = [None] * cf1.nvals
    for k, v in values.items():
        vals[k] = v
    return interp.execute(cf1, tier1_frame, ex.block, ex.index, vals), True


def make_args(args, n_default=6):
    if args and args[0] == "v":   # spectral_norm's mul_av(v, out, n)
        n = args[1]
        return ([1.0 + 0.5 * k for k in range(n)], [0.0] * n, n)
    return args


@pytest.mark.parametrize("passes", PIPELINES)
@pytest.mark.parametrize("kernel,name,arglists", CASES, ids=[c[1] for c in CASES])
def test_kernel_function_native_equals_cpython(kernel, name, arglists, passes):
    module, globals_, fns = compiled(kernel, passes)
    opt = fns[name]
    blob = compile(opt.fn)            # every kernel function compiles
    interp = Interpreter(module)
    interp.globals.update(globals_)
    code = NativeCode(blob, env=interp)
    py = getattr(python_module(kernel), name)
    for args in arglists:
        native_args = make_args(args)
        py_args = make_args(args)
        got, _ = run_native(module, globals_, opt, code, native_args)
        want = py(*py_args)
        assert got == want and type(got) is type(want), (name, args, passes)
        assert native_args == py_args  # lists mutated alike (mul_av's out)


# --------------------------------------------------------------------------- registers

def unicorn_memory_ops(blob, frame_values, env):
    """(loads+stores executed, result word) of one call in Unicorn ("blocks" mode)."""
    import capstone
    from capstone import x86_const as XC

    from backends.copy_and_patch import capi
    from backends.native.helpers import from_word, to_word
    from backends.native.runner import HelperRuntime
    from backends.unicorn_rt.emulator import CODE_BASE, DATA_BASE, Emulator
    from backends.unicorn_rt.runner import FrameWords

    emu = Emulator(code_size=max(blob.size, 1 << 16))
    rt = HelperRuntime(blob, env)
    rt.enter(FrameWords(emu, DATA_BASE, "q"), FrameWords(emu, DATA_BASE, "d"))
    helper = emu.add_helper(rt.call, nargs=3)  # one address for every helper
    externs = {n: emu.add_native(n) if n in capi.FUNCTIONS else capi.address(n)
               for n in sorted(blob.externs)}
    code = blob.code(CODE_BASE, {"call": helper}, externs)
    emu.load(code)
    layout = blob.frame
    words = [0] * layout.words
    for name, t in layout.local_types.items():
        if name in frame_values:
            words[layout.local_word[name]] = to_word(frame_values[name], t)
    emu.write(DATA_BASE, struct.pack(f"<{layout.words}q", *words))
    res = emu.call(CODE_BASE, CODE_BASE + blob.entry_offset(0), DATA_BASE, mode="blocks")
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.detail = True
    mem = 0
    for insn in md.disasm(code, CODE_BASE):
        times = res.counts.get(insn.address, 0)
        if times and insn.mnemonic != "lea" and not insn.mnemonic.startswith("nop"):
            n = sum(1 for op in insn.operands if op.type == XC.X86_OP_MEM)
            n += insn.mnemonic in ("push", "pop", "call", "ret")
            mem += n * times
    status = struct.unpack("<q", struct.pack("<Q", res.rax))[0]
    value = from_word(struct.unpack("<q", emu.read(DATA_BASE + 8, 8))[0],
                      layout.value_types[blob.returns[-1 - status]])
    return mem, value


@pytest.mark.parametrize("kernel,name,args", [
    ("sum_loop", "sum_loop", (500,)), ("fib_mod", "fib_mod", (500,)),
    ("mandelbrot", "mandelbrot", (6, 6, 12))])
def test_register_variants_cut_memory_operands(kernel, name, args):
    want = getattr(python_module(kernel), name)(*args)
    counts = {}
    for label, passes in [("none", PIPE), ("linear-scan", f"{PIPE},regalloc"),
                          ("tos", f"{PIPE},regalloc{{algo=tos}}")]:
        module, globals_, fns = compiled(kernel, passes)
        blob = compile(fns[name].fn)
        if label != "none":
            assert blob.frame.nregs > 0
            assert any("__n" in s.name for s in blob.stencils)
        interp = Interpreter(module)
        interp.globals.update(globals_)
        mem, value = unicorn_memory_ops(blob, dict(zip(fns[name].fn.params, args)), interp)
        assert value == want
        counts[label] = mem
    assert counts["linear-scan"] <= 0.35 * counts["none"], counts
    assert counts["tos"] < counts["none"], counts


def test_register_values_reach_exits_exactly(tmp_path):
    # fib past int64 under linear scan: the overflow exit reads a, b from registers. The
    # profile must have seen only int64s (a site that saw bigger ints stays generic).
    path = tmp_path / "fib_small.py"
    path.write_text(Path(KERNELS, "fib_big.py").read_text().replace(
        "print(fib(20_000) % 1_000_000_007, fib(90), fib(93))", "print(fib(90))"))
    module = load_module(str(path))
    profile, globals_ = warm_up(module, budget=20_000)
    opt = optimize(module, module.function("fib"), parse_pipeline(f"{PIPE},regalloc"),
                   profile, globals_)
    blob = compile(opt.fn)
    assert any(ex for ex in blob.exits)
    interp = Interpreter(module)
    interp.globals.update(globals_)
    code = NativeCode(blob, env=interp)
    result = code.run({"n": 100}, 0)
    assert result[0] == "exit"
    python = python_module("fib_big")
    # fib(93) = fib(91) + fib(92) overflows int64: the exit carries both exactly.
    assert set(result[2].values()) == {python.fib(91), python.fib(92)}
    got, exited = run_native(module, globals_, opt, code, (100,))
    assert exited and got == python.fib(100)


# --------------------------------------------------------------------------- guards

GUARD_LOOP = '''
def acc(xs, n):
    total = 0
    for i in range(n):
        total = total + xs[i] * 2
    return total


if __name__ == "__main__":
    print(acc([1, 2, 3, 4, 5, 6, 7, 8], 8))
    for _ in range(30):
        acc([1, 2, 3, 4, 5, 6, 7, 8], 8)
'''


@pytest.mark.parametrize("passes", ["default", f"{PIPE},regalloc{{algo=linear-scan}}",
                                    f"{PIPE},regalloc{{algo=tos}}",
                                    "default,regalloc{algo=graph-coloring,regs=2}"])
def test_type_change_at_every_iteration_exits_exactly(tmp_path, passes):
    path = tmp_path / "guard_loop.py"
    path.write_text(GUARD_LOOP)
    module = load_module(str(path))
    profile, globals_ = warm_up(module)
    opt = optimize(module, module.function("acc"), parse_pipeline(passes), profile, globals_)
    blob = compile(opt.fn)
    interp = Interpreter(module)
    code = NativeCode(blob, env=interp)
    namespace = {}
    exec(GUARD_LOOP.split("if __name__")[0], namespace)
    n = 6
    exits = 0
    for k in range(n + 1):
        for odd in (2.5, "ab", 1 << 62, None):
            xs = [1, 2, 3, 4, 5, 6]
            if k < n:
                xs[k] = odd
            try:
                want = ("ok", namespace["acc"](list(xs), n))
            except TypeError as e:
                want = ("TypeError", str(e))
            try:
                value, exited = run_native(module, globals_, opt, code, (list(xs), n))
                got = ("ok", value)
                exits += exited
            except TypeError as e:
                got = ("TypeError", str(e))
            assert got == want and type(got[1]) is type(want[1]), (k, odd)
    assert exits >= n  # the guards really fired (at each iteration k)


def test_int_guard_is_exact_past_48_bits():
    from ir.parser import parse_function

    code = NativeCode(compile(parse_function("""
func @f(x) {
bb0:
  %0 = _LOAD_FAST x
  _GUARD_TOS_INT %0 exit(bb0:1, %0)
  %1:int = _LOAD_CONST 1
  %2:int = _BINARY_OP_ADD_INT %0, %1 exit(bb0:2, %0, %1)
  _RETURN %2
}
""")))
    for x in (0, -1, (1 << 47) - 1, 1 << 47, -(1 << 47) - 1, (1 << 62), -(1 << 63)):
        assert code.run({"x": x}) == ("return", x + 1)
    for x in (1 << 63, 1 << 80, 2.0, True, None, "s"):
        result = code.run({"x": x})
        assert result[0] == "exit" and result[2] == {0: x} and type(result[2][0]) is type(x)
    result = code.run({"x": (1 << 63) - 1})
    assert result[0] == "exit" and result[2] == {0: (1 << 63) - 1, 1: 1}


# --------------------------------------------------------------------------- helpers

HELPER_PROGRAM = '''
def div(a, b):
    return a // b


def pick(xs, i):
    return xs[i] + 1


def store(xs, i, v):
    xs[i] = v
    return len(xs)


def call_them(n):
    out = []
    for k in range(n):
        out.append(div(100, k + 1) + pick([5, 6, 7], k % 3))
    return out
'''


def helper_code(name, passes=""):
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(HELPER_PROGRAM)
    module = load_module(f.name)
    fn = module.function(name)
    opt = optimize(module, fn, parse_pipeline(passes), None, {})
    interp = Interpreter(module)
    return opt, NativeCode(compile(opt.fn), env=interp)


@pytest.mark.parametrize("passes", ["", "specialize,typeprop,regalloc"])
def test_helpers_propagate_python_exceptions(passes):
    _, div = helper_code("div", passes)
    assert div.run({"a": 7, "b": 2}) == ("return", 3)
    assert div.run({"a": 7.0, "b": 2}) == ("return", 3.0)
    assert div.run({"a": 1 << 70, "b": 3}) == ("return", (1 << 70) // 3)
    with pytest.raises(ZeroDivisionError):
        div.run({"a": 1, "b": 0})
    with pytest.raises(TypeError):
        div.run({"a": "x", "b": 2})
    _, pick = helper_code("pick", passes)
    assert pick.run({"xs": [1, 2, 3], "i": -1}) == ("return", 4)
    with pytest.raises(IndexError):
        pick.run({"xs": [1, 2, 3], "i": 3})
    _, store = helper_code("store", passes)
    xs = [0, 0]
    assert store.run({"xs": xs, "i": 1, "v": "z"}) == ("return", 2) and xs == [0, "z"]
    with pytest.raises(IndexError):
        store.run({"xs": xs, "i": 5, "v": 1})
    # the code still works after an exception (its references released, no state left)
    assert div.run({"a": 9, "b": 3}) == ("return", 3)


def test_helpers_call_functions_and_methods():
    _, code = helper_code("call_them")
    want = [100 // (k + 1) + [5, 6, 7][k % 3] + 1 for k in range(7)]
    assert code.run({"n": 7}) == ("return", want)
    with pytest.raises(TypeError):
        code.run({"n": "7"})
