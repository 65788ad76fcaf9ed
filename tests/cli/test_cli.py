"""The ``workbench`` command: help, ``run``, ``pipeline``, and one-line errors with status 2."""

import os
import pty
import re
import select
import subprocess
import sys

import pytest

from helpers import (ANSI_ESCAPE, PYTHON, WORKBENCH, compile_program, one_line_error,
                     plain_env, run_cli)
from ir.printer import print_function, print_module

PROG = """\
def square(x):
    return x * x


def main():
    total = 0
    for i in range(4):
        total += square(i)
    print('total', total)


if __name__ == "__main__":
    main()
"""


@pytest.fixture
def prog(tmp_path):
    (tmp_path / "prog.py").write_text(PROG)
    return tmp_path


# --------------------------------------------------------------------------- help

@pytest.mark.parametrize("args, usage", [
    (["--help"], "usage: workbench "),
    (["-h"], "usage: workbench "),
    (["run", "--help"], "usage: workbench run "),
    (["pipeline", "--help"], "usage: workbench pipeline "),
])
def test_help(args, usage):
    r = run_cli(*args)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout.startswith(usage)
    assert not ANSI_ESCAPE.search(r.stdout)


def test_top_level_help_lists_commands():
    out = run_cli("--help").stdout
    assert "run" in out and "pipeline" in out


def test_run_help_mentions_its_arguments():
    out = run_cli("run", "--help").stdout
    assert "file" in out and "--backend" in out


def test_pipeline_help_mentions_function():
    assert "--function NAME" in run_cli("pipeline", "--help").stdout


def test_python_dash_m():
    r = subprocess.run([PYTHON, "-m", "workbench", "--help"], capture_output=True, text=True,
                       env=plain_env())
    assert r.returncode == 0 and r.stdout.startswith("usage: workbench ")


# --------------------------------------------------------------------------- run

def test_run(prog):
    r = run_cli("run", "prog.py", cwd=prog)
    assert (r.returncode, r.stdout, r.stderr) == (0, "total 14\n", "")


def test_run_defaults_to_the_jit(prog, tmp_path):
    """`run f.py` is `run --backend native f.py`: without a compiler for the stencils it
    says so about the native backend (and how to do without); interp still runs."""
    from workbench.cli import build_parser

    assert build_parser().parse_args(["run", "f.py"]).backend == "native"
    assert "(default: native)" in " ".join(run_cli("run", "--help").stdout.split())
    env = plain_env(WORKBENCH_CLANG=str(tmp_path / "no-clang"),
                    WORKBENCH_CACHE_DIR=str(tmp_path / "cache"))
    r = run_cli("run", "prog.py", cwd=prog, env=env)
    assert (r.returncode, r.stdout) == (2, "")
    error = one_line_error(r.stderr)
    assert error.startswith("--backend native: cannot build the stencil library: ")
    assert error.endswith("(--backend interp runs without it)")
    r = run_cli("run", "--backend", "interp", "prog.py", cwd=prog, env=env)
    assert (r.returncode, r.stdout, r.stderr) == (0, "total 14\n", "")


def test_run_ir_text(prog):
    text = print_module(compile_program(PROG, "prog.py"))
    (prog / "prog.uop").write_text(text)
    r = run_cli("run", "prog.uop", cwd=prog)
    assert (r.returncode, r.stdout, r.stderr) == (0, "total 14\n", "")


def test_run_output_is_not_buffered_away_before_an_error(tmp_path):
    (tmp_path / "e.py").write_text("print('a')\nprint('b')\nprint(1 // 0)\n")
    r = run_cli("run", "e.py", cwd=tmp_path)
    assert r.returncode == 1 and r.stdout == "a\nb\n"


# --------------------------------------------------------------------------- pipeline

def test_pipeline_prints_the_module(prog):
    r = run_cli("pipeline", "prog.py", cwd=prog)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == print_module(compile_program(PROG, "prog.py"))


@pytest.mark.parametrize("name", ["square", "main", "<module>"])
def test_pipeline_one_function(prog, name):
    r = run_cli("pipeline", "prog.py", "--function", name, cwd=prog)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == print_function(compile_program(PROG, "prog.py").function(name))
    assert r.stdout.startswith(f"func @{name}(") and r.stdout.count("func @") == 1


def test_pipeline_of_ir_text_roundtrips(prog):
    first = run_cli("pipeline", "prog.py", cwd=prog).stdout
    (prog / "prog.uop").write_text(first)
    second = run_cli("pipeline", "prog.uop", cwd=prog).stdout
    assert second == first


def test_pipeline_of_a_literal_too_long_for_decimal(tmp_path):
    (tmp_path / "big.py").write_text("x = 0x" + "f" * 5000 + "\nprint(x % 1000)\n")
    r = run_cli("pipeline", "big.py", cwd=tmp_path)
    assert (r.returncode, r.stderr) == (0, "")
    assert "_LOAD_CONST 0x" + "f" * 5000 + "\n" in r.stdout
    (tmp_path / "big.uop").write_text(r.stdout)
    r2 = run_cli("run", "big.uop", cwd=tmp_path)
    assert (r2.returncode, r2.stdout, r2.stderr) == (0, "375\n", "")


# --------------------------------------------------------------------------- opt-style dumps

def _final(prog, passes):
    r = run_cli("pipeline", "prog.py", "--passes", passes, cwd=prog)
    assert (r.returncode, r.stderr) == (0, "")
    return r.stdout


@pytest.mark.parametrize("flags", [["--print-after", "promote"], ["--print-after-all"],
                                   ["--print-changed"],
                                   ["--print-after", "specialize", "--print-after", "dce"]])
def test_dumps_go_to_stderr_and_the_final_ir_to_stdout(prog, flags):
    """As LLVM opt: instrumentation on stderr; stdout is the same final IR as without it."""
    final = _final(prog, "default")
    r = run_cli("pipeline", "prog.py", "--passes", "default", *flags, cwd=prog)
    assert r.returncode == 0, r.stderr
    assert r.stdout == final
    assert "***" not in r.stdout and "+++" not in r.stdout
    if "--print-changed" in flags:
        assert "--- @square before specialize\n+++ @square after specialize" in r.stderr
    else:
        default = ["specialize", "typeprop", "guardelim", "constfold", "dce", "dse",
                   "promote", "typeprop", "guardelim", "dce"]
        wanted = [f for f in flags if not f.startswith("--")] or default
        for fn in ("square", "main", "<module>"):
            for name in wanted:
                assert f"; *** IR after {name} on @{fn} ***\nfunc @{fn}(" in r.stderr
        # one dump per function each time a wanted pass runs
        assert r.stderr.count("; *** IR after") == 3 * sum(p in wanted for p in default)


def test_print_after_one_function(prog):
    r = run_cli("pipeline", "prog.py", "--passes", "specialize,promote", "--function",
                "square", "--print-after", "specialize", cwd=prog)
    assert r.returncode == 0 and r.stdout.startswith("func @square(")
    assert r.stderr.startswith("; *** IR after specialize on @square ***\nfunc @square(")
    assert r.stdout == run_cli("pipeline", "prog.py", "--passes", "specialize,promote",
                               "--function", "square", cwd=prog).stdout


BISECT_LINE = re.compile(r"BISECT: (running|NOT running) pass \((\d+)\) ([\w-]+) on function "
                         r"\(([\w<>]+)\): (.+)")


def _bisect_lines(prog, limit):
    r = run_cli("pipeline", "prog.py", "--passes", "default", "--opt-bisect-limit",
                str(limit), cwd=prog)
    assert r.returncode == 0, r.stderr
    assert "BISECT" not in r.stdout and r.stdout.startswith("module 'prog.py'")
    lines = r.stderr.splitlines()
    matches = [BISECT_LINE.fullmatch(line) for line in lines]
    assert all(matches), [line for line, m in zip(lines, matches) if not m]
    return r.stdout, [(m[1], int(m[2]), m[3], m[4], m[5]) for m in matches]


def test_opt_bisect_limit_says_what_ran_and_what_did_not(prog):
    """LLVM's words: the first N transformations run, the ones after are numbered on."""
    _, every = _bisect_lines(prog, 10_000)
    total = len(every)
    assert total > 4 and {v for v, *_ in every} == {"running"}
    assert [n for _, n, *_ in every] == list(range(1, total + 1))
    assert {fn for *_, fn, _ in every} == {"<module>", "square", "main"}
    assert "specialize" in {p for _, _, p, *_ in every}
    out, some = _bisect_lines(prog, 3)
    assert [(v, n) for v, n, *_ in some[:4]] == [("running", 1), ("running", 2),
                                                 ("running", 3), ("NOT running", 4)]
    assert {v for v, *_ in some[3:]} == {"NOT running"}
    assert [n for _, n, *_ in some] == list(range(1, len(some) + 1))
    assert some[:3] == every[:3]          # the same first three, counted the same way
    assert some[3][2:] == every[3][2:]    # the first one skipped is the 4th of the full run
    _, none = _bisect_lines(prog, 0)
    assert none and {v for v, *_ in none} == {"NOT running"} and none[0][1] == 1
    assert out != _final(prog, "default")


# --------------------------------------------------------------------------- errors

def _user_error(r) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stdout == ""
    return one_line_error(r.stderr)


def test_unknown_function(prog):
    r = run_cli("pipeline", "prog.py", "--function", "nope", cwd=prog)
    assert _user_error(r) == "prog.py: no function 'nope' (functions: <module>, square, main)"


@pytest.mark.parametrize("command", ["run", "pipeline"])
def test_missing_file(tmp_path, command):
    r = run_cli(command, "missing.py", cwd=tmp_path)
    assert _user_error(r) == "missing.py: no such file"


@pytest.mark.parametrize("command", ["run", "pipeline"])
def test_directory(tmp_path, command):
    (tmp_path / "d.py").mkdir()
    assert _user_error(run_cli(command, "d.py", cwd=tmp_path)) == "d.py: is a directory"


def test_not_utf8(tmp_path):
    (tmp_path / "b.py").write_bytes(b"x = 1\n\xff\xfe\n")
    assert _user_error(run_cli("run", "b.py", cwd=tmp_path)) == (
        "b.py: not UTF-8 text (invalid start byte at byte 6)")


@pytest.mark.parametrize("args, message", [
    (["run", "prog.py", "--bogus"], "workbench: error: unrecognized arguments: --bogus"),
    (["--bogus"], "workbench: error: the following arguments are required: COMMAND"),
    ([], "workbench: error: the following arguments are required: COMMAND"),
    (["run"], "workbench run: error: the following arguments are required: file"),
    # (``...``: the list of choices goes on)
    (["frob"], "workbench: error: argument COMMAND: invalid choice: 'frob' "
               "(choose from 'run', 'pipeline'..."),
    (["run", "--backend", "nope", "prog.py"],
     "workbench run: error: argument --backend: invalid choice: 'nope' (choose from 'interp'..."),
    (["pipeline", "prog.py", "--function"],
     "workbench pipeline: error: argument --function: expected one argument"),
])
def test_bad_options(prog, args, message):
    error = _user_error(run_cli(*args, cwd=prog))
    if message.endswith("..."):
        assert error.startswith(message[:-3]) and error.endswith(")")
    else:
        assert error == message


@pytest.mark.parametrize("source, message", [
    ("x = (\n", "bad.py:1:5: SyntaxError: '(' was never closed"),
    ("match 1:\n    case _:\n        pass\n", "bad.py:1:1: unsupported: match statement"),
    ("x = 1\nmatch x:\n    case 1:\n        pass\n", "bad.py:2:1: unsupported: match statement"),
    ("def f(x):\n    match x:\n        case _:\n            pass\n",
     "bad.py:2:5: unsupported: match statement"),
])
@pytest.mark.parametrize("command", ["run", "pipeline"])
def test_bad_python(tmp_path, command, source, message):
    (tmp_path / "bad.py").write_text(source)
    assert _user_error(run_cli(command, "bad.py", cwd=tmp_path)) == message


@pytest.mark.parametrize("text, message", [
    ("module 'm'\nfunc @f( {\n", "bad.uop:2:10: expected a parameter name, got '{'"),
    ("module 'm'\nfunc @f() {\nbb0:\n  _RETURN %0\n}\n",
     "verifier: @f bb0:0 (_RETURN %0): %0 is used but never defined"),
])
@pytest.mark.parametrize("command", ["run", "pipeline"])
def test_bad_ir_text(tmp_path, command, text, message):
    (tmp_path / "bad.uop").write_text(text)
    assert _user_error(run_cli(command, "bad.uop", cwd=tmp_path)) == message


# --------------------------------------------------------------------------- colour

def _run_on_a_terminal(args, cwd, env) -> str:
    """stdout of ``workbench ARGS`` written to a pseudo-terminal."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([WORKBENCH, *args], cwd=cwd, env=env, stdout=slave,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        os.close(slave)
        chunks = []
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                break
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        assert p.wait(timeout=30) == 0, p.stderr.read()
        p.stderr.close()
    finally:
        os.close(master)
    return b"".join(chunks).decode()


def test_piped_output_is_plain(prog):
    r = run_cli("pipeline", "prog.py", cwd=prog)
    assert r.returncode == 0 and not ANSI_ESCAPE.search(r.stdout)
    r = run_cli("pipeline", "prog.py", cwd=prog, env=plain_env(TERM="xterm-256color"))
    assert not ANSI_ESCAPE.search(r.stdout)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_terminal_output_is_coloured_unless_no_color(prog):
    env = plain_env(TERM="xterm-256color", COLUMNS="200")
    env.pop("NO_COLOR", None)
    coloured = _run_on_a_terminal(["pipeline", "prog.py"], prog, env)
    assert ANSI_ESCAPE.search(coloured)
    plain = _run_on_a_terminal(["pipeline", "prog.py"], prog, dict(env, NO_COLOR="1"))
    assert not ANSI_ESCAPE.search(plain)
    expected = print_module(compile_program(PROG, "prog.py"))
    assert plain.replace("\r\n", "\n") == expected


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_trace_table_on_an_80_column_terminal(tmp_path):
    """The brief's case: uop names were cut ('_BINARY_OP_MODULO_I…') at 80 columns."""
    (tmp_path / "fib.py").write_text(
        "def fib_mod(n):\n    a, b = 0, 1\n    for _ in range(n):\n"
        "        a, b = b, (a + b) % 1000000007\n    return a\n\n\nprint(fib_mod(100_000))\n")
    env = plain_env(TERM="xterm-256color", COLUMNS="80", LINES="50")
    env.pop("NO_COLOR", None)
    out = _run_on_a_terminal(["trace", "--backend", "unicorn", "--passes", "default,regalloc",
                              "fib.py"], tmp_path, env)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out).replace("\r\n", "\n")
    assert "_BINARY_OP_MODULO_INT" in plain and "_BINARY_OP_ADD_INT" in plain
    assert "…" not in plain
    assert max(len(line) for line in plain.splitlines()) <= 80
