"""``workbench stencils build|list|show``: the library, and one stencil's disassembly with
its holes marked on the instructions they patch."""

import contextlib
import io
import re

import capstone


def cli(*args) -> tuple[int, str, str]:
    """``workbench ARGS`` in this process: (status, stdout, stderr)."""
    from workbench.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()

FIB = """\
def fib_mod(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) % 1000
    return a


print(fib_mod(500))
"""


def test_build_reports_the_library():
    status, out, err = cli("stencils", "build")
    assert (status, err) == (0, "")
    assert re.match(r"\d+ stencils (loaded from the cache|built in [\d.]+ s) \(.+\); key ", out)


def test_list_names_every_base_stencil():
    from backends.copy_and_patch.uop_stencils import library

    status, out, _ = cli("stencils", "list")
    assert status == 0
    names = {line.split()[0] for line in out.splitlines()[1:]}
    assert names == set(library())
    assert "_BINARY_OP_ADD_INT" in names and "_JUMP" in names


def test_show_marks_each_hole_on_the_instruction_it_patches():
    from backends.copy_and_patch.uop_stencils import library

    stencil = library()["_BINARY_OP_ADD_INT"]
    status, out, _ = cli("stencils", "show", "_BINARY_OP_ADD_INT")
    assert status == 0
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    decoded = list(md.disasm_lite(stencil.code, 0))
    lines = out.splitlines()[1:]
    assert len(lines) == len(decoded)
    for line, (address, size, mnemonic, _) in zip(lines, decoded):
        assert line.strip().startswith(f"{address:04x}:") and mnemonic in line
        for h in stencil.holes:
            if address <= h.offset < address + size:
                assert f"hole {h.value.name}" in line and f"@{h.offset:#x}" in line
    assert "hole EXIT" in out and "hole SLOT0" in out


def test_show_a_comparison_shows_one_stencil_per_operator():
    status, out, _ = cli("stencils", "show", "_COMPARE_OP_INT")
    assert status == 0
    assert {f"_COMPARE_OP_INT_{op}:" for op in ("LT", "LE", "GT", "GE", "EQ", "NE")} <= \
        {line.split()[0] for line in out.splitlines() if line and not line[0].isspace()}


def test_variants_of_a_program(tmp_path):
    path = tmp_path / "fib.py"
    path.write_text(FIB)
    status, out, _ = cli("stencils", "list", path, "--passes", "default,regalloc")
    assert status == 0
    variants = [line.split()[0] for line in out.splitlines()[1:]]
    assert any(v.startswith("_BINARY_OP_ADD_INT__n") for v in variants)
    status, out, _ = cli("stencils", "show", "_BINARY_OP_ADD_INT", path,
                         "--passes", "default,regalloc")
    assert status == 0 and out.startswith("_BINARY_OP_ADD_INT__n")


def test_unknown_stencil_is_a_one_line_error():
    status, out, err = cli("stencils", "show", "_BINARY_OP_ADD_INTT")
    assert (status, out) == (2, "")
    assert err.startswith("no stencil '_BINARY_OP_ADD_INTT'; did you mean _BINARY_OP_ADD_INT")
    assert err.count("\n") == 1
