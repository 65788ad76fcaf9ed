"""`workbench asm`: Compiler-Explorer-style listing of the compiled code."""

import re

from runtime_util import cli, kernel_source, write

SOURCE = """\
def f(n):
    t = 0
    for i in range(n):
        t += i * 3
    return t


print(f(60))
"""


def test_listing_has_lines_uops_and_instructions(tmp_path):
    path = write(tmp_path, "prog", SOURCE)
    status, out, err = cli("asm", path)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("; func @f: ") and "entries: bb0 @0x" in lines[0]
    assert "<module>" not in out  # the module body is not a tier-2 unit
    assert "; -- entry shim (jit_entry)" in out
    assert "  ; line 4: t += i * 3" in out
    assert "_BINARY_OP_ADD_INT" in out and "_BINARY_OP_MULTIPLY_INT" in out
    insn = re.compile(r"^    [0-9a-f]{6}:  ([0-9a-f]{2} )+\s+\S+")
    assert sum(bool(insn.match(line)) for line in lines) > 50
    assert re.search(r"\bmov(abs)? ", out) and re.search(r"\bjo\b|\bjno\b", out)
    assert "hole SLOT2=" in out and "-> exit:" in out and "; -- exit stub 0: resume tier 1" in out
    # source line, then uop, then its instructions
    i = lines.index("  ; line 4: t += i * 3")
    assert lines[i + 1].startswith("  %") or lines[i + 1].startswith("  _")
    assert insn.match(lines[i + 2])


def test_function_filter_and_generic_code(tmp_path):
    path = write(tmp_path, "prog", SOURCE)
    status, out, _ = cli("asm", "--passes", "", "--function", "f", path)
    assert status == 0 and out.count("; func @") == 1
    # generic uops call the C API from their stencils
    assert "_BINARY_OP +" in out and "call PyNumber_Add" in out
    status, out, err = cli("asm", "--function", "nope", path)
    assert status == 2 and out == "" and "no function 'nope'" in err


def test_refused_function_prints_the_reason(tmp_path):
    path = write(tmp_path, "mandelbrot", kernel_source("mandelbrot"))
    status, out, err = cli("asm", "--passes", "default,regalloc{regs=16}", path)
    assert (status, err) == (0, "")
    assert re.search(r"; func @mandelbrot: not compiled: .*registers", out)


def test_regalloc_listing_uses_registers(tmp_path):
    path = write(tmp_path, "prog", SOURCE)
    status, out, _ = cli("asm", "--passes", "default,regalloc{algo=linear-scan}", path)
    assert status == 0
    assert "@r0" in out and re.search(r"\br1[345]\b", out)
