"""Bugs the fuzzer found in other components, pinned by their reduced reproducers.

Each test asserts the right behaviour (the same as CPython).  The ones still open
are marked ``xfail(strict=True)`` with the diagnosis: when the bug is fixed the
test passes, strict xfail turns that into a failure, and the marker (and any
matching generator exclusion in test_reliability_fuzz) should go.  The others
were fixed after the fuzzer reported them and stay as regression tests.
"""

from __future__ import annotations

import pytest

from helpers import PYTHON, run_cli

import subprocess


def same_as_cpython(tmp_path, source: str, passes: str = "default") -> None:
    path = tmp_path / "repro.py"
    path.write_bytes(source.encode() if isinstance(source, str) else source)
    ref = subprocess.run([PYTHON, str(path)], capture_output=True, text=True, timeout=60)
    got = run_cli("run", "--backend", "interp", "--passes", passes, str(path))
    last = lambda s: (s.strip().splitlines() or [""])[-1]  # noqa: E731
    assert (got.stdout, got.returncode, last(got.stderr)) == (
        ref.stdout, ref.returncode, last(ref.stderr))


# Fixed (found by the fuzzer): ir/frontend: in `acc += (r if c else 0)` (and `a + (b if c
# else d)`, f(x, a or b), ...) the value loaded before the conditional expression is used
# after the blocks it creates, breaking the 'values never cross blocks' invariant;
# specialize's side exit does not carry it and tier 1 resumes with None (TypeError)
def test_value_crossing_blocks_in_augmented_assignment(tmp_path):
    same_as_cpython(tmp_path, """\
def f0(a1):
    return 0.0


def main():
    acc = 9223372036854775808
    for i in range(50):
        r = f0(i)
        acc += r if r < 0.0 else 0
    print(acc)


main()
""", passes="specialize")


# Fixed (found by the fuzzer): workbench/runtime.py + tiering.constant_globals: globals that
# only <module> writes are folded into optimized functions as 'watched' constants, but
# nothing watches them: rebinding the global at module level after tier-up leaves the old
# value in compiled code
def test_module_level_rebinding_of_a_constant_global(tmp_path):
    same_as_cpython(tmp_path, """\
K = 3


def f(x):
    return x * K


s = 0
for i in range(200):
    if i == 150:
        K = 5
    s += f(i)
print(s)
""", passes="specialize")


# Fixed (found by the fuzzer): passes/dce.py: an unused checked uop
# (_BINARY_OP_FLOOR_DIVIDE_INT, _MODULO_INT, _TRUEDIV_FLOAT, _BINARY_SUBSCR_LIST_INT,
# _LSHIFT_INT) is removed as pure, but its side exit is where tier 1 raises
# ZeroDivisionError/IndexError/ValueError (after promote has made the stored value unused)
@pytest.mark.parametrize("expr", ["x // (i - 60)", "x % (60 - i)", "x / (i - 60)",
                                  "[1, 2, 3][max(i - 60, -1) + 3]",
                                  "1 << ((60 - i) % 64 - (i == 60) * 65)"])
def test_dce_removes_a_uop_that_would_raise(tmp_path, expr):
    same_as_cpython(tmp_path, f"""\
def main():
    x = 5
    for i in range(100):
        z = {expr}
    print('done')


main()
""", passes="specialize,promote,dce")


# Fixed (found by the fuzzer): workbench/loader.py reads scripts as 'utf-8', not
# 'utf-8-sig': a UTF-8 byte-order mark, which CPython accepts, is a SyntaxError (U+FEFF)
def test_utf8_bom_script(tmp_path):
    same_as_cpython(tmp_path, b"\xef\xbb\xbfprint(1)\n")


# Fixed (found by the fuzzer): ir/frontend compiles expressions recursively: a sum of
# ~500 terms (fine for CPython) exhausts Python's recursion limit and ends as 'internal
# error: RecursionError' (status 70)
def test_long_expression(tmp_path):
    same_as_cpython(tmp_path, "x = " + " + ".join(["1"] * 600) + "\nprint(x)\n")


# Fixed (found by the fuzzer): backends/copy_and_patch/uop_stencils.py signalled a helper's
# error in band, as the word (1 << 64) - 1, i.e. the int64 -1, so a runtime helper whose raw
# int result is -1 (here _RANGE_STEP of a variable step -1) was taken for an error (and
# 0xFFFE << 48 for a side exit); helpers now report status in a frame word
@pytest.mark.parametrize("backend", ["native", "unicorn"])
def test_helper_result_minus_one_is_not_an_error(tmp_path, backend):
    path = tmp_path / "repro.py"
    path.write_text("""\
def f(a):
    for i in range(0, 0, -(a % 1 + 1)):
        pass
    return a


t = 0
for k in range(20):
    t += f(k)
print(t)
""")
    got = run_cli("run", "--backend", backend, "--passes", "default", str(path))
    assert (got.returncode, got.stdout, got.stderr) == (0, "190\n", "")


def test_unrelated_global_writes_do_not_reoptimize():
    import contextlib
    import io

    from ir.frontend import compile_source
    from workbench.runtime import Runtime

    src = """\
def f(n):
    t = 0
    for i in range(n):
        t += i * 3
    return t


s = 0
for k in range(100):
    s += f(k)
print(s)
"""
    rt = Runtime(compile_source(src, "p.py"), passes="default")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rt.run()
    assert out.getvalue() == "485100\n"
    compiled_f = [t2 for name, t2 in rt.all_tier2() if name == "f"]
    assert len(compiled_f) == 1
