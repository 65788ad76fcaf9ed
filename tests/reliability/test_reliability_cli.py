"""Hostile input at the command line: always one line on stderr, exit status 2, no traceback.

Pipelines strings and options, plugin files (missing, broken, raising, ending the
process, corrupting the IR), input files (missing, directories, binary, malformed)
and bad arguments, for every command that takes them.  (Malformed IR text and
unsupported Python are covered construct by construct in tests/ir and
tests/frontend; here they are checked through each command.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import one_line_error, plain_env, run_cli

DATA = Path(__file__).resolve().parent / "data"
BAD_PASSES = str(DATA / "bad_passes.py")

PROG = """\
def f(x):
    return x + 1


print("before")
t = 0
for i in range(100):
    t += f(i)
print(t)
"""


@pytest.fixture
def prog(tmp_path):
    (tmp_path / "prog.py").write_text(PROG)
    return tmp_path


def user_error(r) -> str:
    """The one line of a user error (exit status 2, nothing but that line on stderr)."""
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    return one_line_error(r.stderr)


# Each command with the arguments it needs before a pipeline/file is added.
COMMANDS = {
    "run": ["run"],
    "pipeline": ["pipeline"],
    "trace": ["trace"],
    "bisect": ["bisect"],
}

# --------------------------------------------------------------------------- pipelines

BAD_PIPELINES = [
    ("nope", "unknown pass 'nope'"),
    ("specialise", "did you mean 'specialize'?"),
    ("specialize,,dce", "pipeline:12: empty pass name"),
    (",", "empty pass name"),
    ("dce,", "empty pass name"),
    ("dce}", "unmatched '}'"),
    ("regalloc{algo=linear-scan", "missing '}'"),
    ("regalloc{algo={x}}", "nested '{'"),
    ("regalloc{regs=3}x", "text after '}'"),
    ("regalloc{colour=1}", "unknown option 'colour'"),
    ("regalloc{regs}", "option 'regs' needs '=value'"),
    ("regalloc{regs=many}", "option 'regs' wants int, got 'many'"),
    ("regalloc{algo=magic}", "option 'algo' must be one of"),
    ("default{x=1}", "unknown pass 'default'"),
    ("spécialize", "unknown pass 'spécialize'"),
    ("dce dse", "unknown pass 'dce dse'"),
]


@pytest.mark.parametrize("text, message", BAD_PIPELINES, ids=[t for t, _ in BAD_PIPELINES])
def test_bad_pipeline_in_pipeline(prog, text, message):
    assert message in user_error(run_cli("pipeline", "--passes", text, "prog.py", cwd=prog))


@pytest.mark.parametrize("command", ["run", "trace", "bisect"])
@pytest.mark.parametrize("text, message", BAD_PIPELINES[::3], ids=[t for t, _ in BAD_PIPELINES[::3]])
def test_bad_pipeline_elsewhere(prog, command, text, message):
    r = run_cli(*COMMANDS[command], "--passes", text, "prog.py", cwd=prog)
    assert message in user_error(r)
    assert r.stdout == ""  # nothing ran


@pytest.mark.parametrize("text, message", BAD_PIPELINES[::4], ids=[t for t, _ in BAD_PIPELINES[::4]])
def test_bad_pipeline_in_fuzz(tmp_path, text, message):
    r = run_cli("fuzz", "--passes", "", "--passes", text, "--programs", "1", cwd=tmp_path)
    assert message in user_error(r)
    assert not (tmp_path / "fuzz-reproducers").exists()


# --------------------------------------------------------------------------- options

BAD_OPTIONS = [
    (["run", "prog.py", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["run", "--backend", "jvm", "prog.py"], "argument --backend: invalid choice: 'jvm'"),
    (["trace", "--backend", "", "prog.py"], "argument --backend: invalid choice: ''"),
    (["pipeline", "--opt-bisect-limit", "many", "prog.py"],
     "argument --opt-bisect-limit: invalid int value: 'many'"),
    (["bisect"], "the following arguments are required: file"),
    (["bisect", "prog.py", "--timeout", "-1"], "argument --timeout: must be > 0, got '-1'"),
    (["bisect", "prog.py", "--backend", "gpu"], "argument --backend: invalid choice: 'gpu'"),
    (["fuzz", "--seconds", "abc"], "argument --seconds: not a number: 'abc'"),
    (["fuzz", "--seconds", "0"], "argument --seconds: must be > 0, got '0'"),
    (["fuzz", "--jobs", "0"], "argument --jobs: must be > 0, got '0'"),
    (["fuzz", "--jobs", "1.5"], "argument --jobs: not a number: '1.5'"),
    (["fuzz", "--programs", "-3"], "argument --programs: must be > 0"),
    (["fuzz", "--backends", "interp,jvm"], "unknown backend 'jvm' (choose from interp"),
    (["fuzz", "--backends", ","], "argument --backends: no backend given"),
    (["fuzz", "--seed", "x"], "argument --seed: invalid int value: 'x'"),
    (["fuzz", "--exclude", "nope", "--programs", "1"], "unknown feature 'nope' for --exclude"),
    (["fuzz", "--out", "prog.py", "--programs", "1"], "prog.py: not a directory (--out)"),
    (["fuzz", "--timeout", "nan"], "argument --timeout: must be > 0, got 'nan'"),
    (["fuzz", "stray"], "unrecognized arguments: stray"),
]


@pytest.mark.parametrize("args, message", BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_bad_options(prog, args, message):
    r = run_cli(*args, cwd=prog)
    assert message in user_error(r)
    assert r.stdout == ""


# --------------------------------------------------------------------------- input files

BAD_FILES = [
    # (file name, bytes or None for a directory, message)
    ("missing.py", "missing", "missing.py: no such file"),
    ("dir.py", None, "dir.py: is a directory"),
    ("bin.py", b"\x7fELF\x02\x01\x01\x00\xff\xfe\x00\x00", "bin.py: not UTF-8 text"),
    ("nul.py", b"print(1)\x00\n", "SyntaxError: source code string cannot contain null bytes"),
    ("syntax.py", b"def f(:\n", "syntax.py:1:7: SyntaxError"),
    ("match.py", b"match 1:\n    case 1:\n        pass\n", "match.py:1:1: unsupported: match statement"),
    ("match2.py", b"f = 1\nmatch f:\n    case _:\n        pass\n",
     "match2.py:2:1: unsupported: match statement"),
    ("bad.uop", b"module 'm'\nfunc @f( {\n", "bad.uop:2:10: expected a parameter name"),
    ("undef.uop", b"module 'm'\nfunc @f() {\nbb0:\n  _RETURN %0\n}\n",
     "%0 is used but never defined"),
    ("empty.uop", b"", "empty.uop:1:1: empty input"),
    ("junk.uop", b"\x00\x01\x02 garbage", "junk.uop:"),
]


def _make(tmp_path: Path, name: str, content) -> None:
    if content is None:
        (tmp_path / name).mkdir()
    elif content != "missing":
        (tmp_path / name).write_bytes(content)


@pytest.mark.parametrize("command", ["run", "pipeline", "trace"])
@pytest.mark.parametrize("name, content, message", BAD_FILES, ids=[f[0] for f in BAD_FILES])
def test_bad_input_file(tmp_path, command, name, content, message):
    _make(tmp_path, name, content)
    r = run_cli(*COMMANDS[command], name, cwd=tmp_path)
    assert message in user_error(r)


@pytest.mark.parametrize("name, content, message",
                         [f for f in BAD_FILES if f[0].endswith(".py")],
                         ids=[f[0] for f in BAD_FILES if f[0].endswith(".py")])
def test_bad_input_file_bisect(tmp_path, name, content, message):
    _make(tmp_path, name, content)
    assert message in user_error(run_cli("bisect", name, cwd=tmp_path))


def test_bisect_wants_python(tmp_path):
    (tmp_path / "f.uop").write_text("module 'm'\n")
    assert user_error(run_cli("bisect", "f.uop", cwd=tmp_path)) == (
        "f.uop: bisect needs a Python script (CPython runs it too)")


def test_empty_python_file_is_fine(tmp_path):
    (tmp_path / "e.py").write_text("")
    r = run_cli("run", "e.py", cwd=tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


# --------------------------------------------------------------------------- plugins

BAD_PLUGINS = [
    ("missing_plugin.py", "missing", "missing_plugin.py: no such file"),
    ("plugdir", None, "plugdir: is a directory"),
    ("syntax_plugin.py", b"def broken(:\n", "syntax_plugin.py:1:12: SyntaxError: "),
    ("nul_plugin.py", b"x = 1\x00\n", "nul_plugin.py:1:1: SyntaxError: source code string "
                                      "cannot contain null bytes"),
    ("raising_plugin.py", b"raise RuntimeError('no thanks')\n",
     "raising_plugin.py: plugin failed to load: RuntimeError: no thanks"),
    ("import_plugin.py", b"import does_not_exist_anywhere\n",
     "import_plugin.py: plugin failed to load: ModuleNotFoundError"),
    ("exit_plugin.py", b"import sys\nsys.exit(3)\n",
     "exit_plugin.py: plugin failed to load: it called sys.exit(3)"),
    ("noname_plugin.py", b"from passes.base import Pass\nfrom passes.registry import "
                         b"register_pass\n\n\n@register_pass\nclass X(Pass):\n    pass\n",
     "noname_plugin.py: plugin failed to load: PassError: pass class X has no name"),
    ("binary_plugin.py", b"\xff\xfe\xfd", "binary_plugin.py:"),
]


@pytest.mark.parametrize("command", ["run", "pipeline", "trace", "bisect", "passes", "fuzz"])
@pytest.mark.parametrize("name, content, message", BAD_PLUGINS, ids=[p[0] for p in BAD_PLUGINS])
def test_bad_plugin_file(prog, command, name, content, message):
    _make(prog, name, content)
    if command == "passes":
        args = ["passes", "--load", name]
    elif command == "fuzz":
        args = ["fuzz", "--load", name, "--programs", "1"]
    else:
        args = [*COMMANDS[command], "--load", name, "prog.py"]
    r = run_cli(*args, cwd=prog)
    assert message in user_error(r)
    assert r.stdout == ""


VERIFIER = ("verifier: after pass 'corrupt': @{fn} {where}: %9999 is used but never defined")


def test_corrupting_plugin_named_by_pipeline_verify_each(prog):
    r = run_cli("pipeline", "--load", BAD_PASSES, "--passes", "corrupt", "--verify-each",
                "prog.py", cwd=prog)
    assert user_error(r) == VERIFIER.format(
        fn="<module>", where="bb0:1 (_STORE_GLOBAL f %9999)")


@pytest.mark.parametrize("command", ["run", "trace"])
def test_corrupting_plugin_named_by_run_verify_each(prog, command):
    r = run_cli(command, "--load", BAD_PASSES, "--passes", "corrupt", "--verify-each",
                "prog.py", cwd=prog)
    assert user_error(r) == VERIFIER.format(fn="f", where="bb0:2 (%2 = _BINARY_OP + %9999, %1)")
    if command == "run":
        assert r.stdout == "before\n"  # the program ran until f got hot


@pytest.mark.parametrize("command", ["pipeline", "run", "trace"])
def test_raising_plugin_pass_is_named(prog, command):
    r = run_cli(command, "--load", BAD_PASSES, "--passes", "specialize,boom", "prog.py",
                cwd=prog)
    error = user_error(r)
    assert error.startswith("pass 'boom' failed on @")
    assert error.endswith(": ValueError: boom went the pass")


@pytest.mark.parametrize("how", ["--debug", "WORKBENCH_DEBUG=1"])
def test_debug_shows_a_raising_pass_s_own_traceback(prog, how):
    """--debug (or WORKBENCH_DEBUG=1, read by the CLI only) reaches the pass manager:
    the pass's own exception, not the one-line PassError."""
    flags = ["--debug"] if how == "--debug" else []
    env = plain_env() if flags else plain_env(WORKBENCH_DEBUG="1")
    r = run_cli("pipeline", "--load", BAD_PASSES, "--passes", "boom", *flags, "prog.py",
                cwd=prog, env=env)
    assert r.returncode == 1 and "Traceback" in r.stderr
    assert r.stderr.rstrip().splitlines()[-1] == "ValueError: boom went the pass"


def test_good_plugin_is_listed(prog):
    r = run_cli("passes", "--load", BAD_PASSES, cwd=prog)
    assert r.returncode == 0
    assert any(line.startswith("corrupt ") for line in r.stdout.splitlines())
