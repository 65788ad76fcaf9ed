"""``run --isolate`` / ``trace --isolate``: a crash of the child is one line and exit
status 2 (the session survives); anything else passes through exactly."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from helpers import one_line_error, run_cli

DATA = Path(__file__).resolve().parent / "data"
CRASH = str(DATA / "crash_pass.py")

PROG = """\
def f(x):
    return x + 1


print("before")
t = 0
for i in range(100):
    t += f(i)
print(t)
"""

CRASH_LINE = re.compile(r"workbench: compiled code crashed with SIGSEGV \(signal 11\) "
                        r"in (?P<uop>.+?) at (?P<addr>0x[0-9a-f]+|unknown address)"
                        r"(?P<where> \(@\S+(?: \S+)?\))?")


@pytest.fixture
def prog(tmp_path):
    (tmp_path / "prog.py").write_text(PROG)
    return tmp_path


def test_without_isolation_the_crash_kills_the_process(prog):
    r = run_cli("run", "--load", CRASH, "--passes", "segv", "prog.py", cwd=prog)
    assert r.returncode == -signal.SIGSEGV


@pytest.mark.parametrize("command", ["run", "trace"])
def test_isolated_crash_is_one_line_and_status_2(prog, command):
    r = run_cli(command, "--isolate", "--load", CRASH, "--passes", "segv", "prog.py", cwd=prog)
    assert r.returncode == 2
    line = one_line_error(r.stderr)
    assert CRASH_LINE.fullmatch(line), line
    if command == "run":
        assert r.stdout == "before\n"  # what the program printed before the crash


def test_isolated_crash_names_the_breadcrumb_uop(prog):
    """A real fault (a read of address 0) after the child noted where it was going:
    the uop and function come from the breadcrumb, the address from the fault."""
    r = run_cli("run", "--isolate", "--load", CRASH, "--passes", "nullread", "prog.py",
                cwd=prog)
    assert r.returncode == 2
    m = CRASH_LINE.fullmatch(one_line_error(r.stderr))
    assert m, r.stderr
    assert m.group("uop") == "_BINARY_OP_ADD_INT"
    assert m.group("where") == " (@f bb2:3)"
    assert m.group("addr").startswith("0x")


@pytest.mark.parametrize("args", [
    [],                                       # normal
    ["--passes", ""],
    ["--passes", "default"],
])
def test_isolation_passes_everything_through(prog, args):
    plain = run_cli("run", *args, "prog.py", cwd=prog)
    isolated = run_cli("run", "--isolate", *args, "prog.py", cwd=prog)
    assert (isolated.returncode, isolated.stdout, isolated.stderr) == (
        plain.returncode, plain.stdout, plain.stderr)
    assert plain.stdout == "before\n5050\n"


@pytest.mark.parametrize("source, status", [
    ("print(1)\nprint(1 // 0)\n", 1),       # the program's own exception: traceback, 1
    ("match 1:\n    case _:\n        pass\n", 2),   # a user error: one line, 2
    ("x = (\n", 2),
])
def test_isolation_passes_errors_through(tmp_path, source, status):
    (tmp_path / "p.py").write_text(source)
    plain = run_cli("run", "p.py", cwd=tmp_path)
    isolated = run_cli("run", "--iso", "p.py", cwd=tmp_path)  # an abbreviation works too
    assert plain.returncode == status
    assert (isolated.returncode, isolated.stdout, isolated.stderr) == (
        plain.returncode, plain.stdout, plain.stderr)


def test_isolated_trace_json_passes_through(prog):
    plain = run_cli("trace", "--json", "prog.py", cwd=prog)
    isolated = run_cli("trace", "--json", "--isolate", "prog.py", cwd=prog)
    assert isolated.returncode == plain.returncode == 0
    assert isolated.stdout == plain.stdout


def test_missing_file_under_isolation(tmp_path):
    r = run_cli("run", "--isolate", "nope.py", cwd=tmp_path)
    assert r.returncode == 2
    assert one_line_error(r.stderr) == "nope.py: no such file"


def test_crash_message_formats():
    from workbench.isolate import child_argv, crash_message

    assert crash_message(11, ({}, {})) == ("workbench: compiled code crashed with SIGSEGV "
                                           "(signal 11) in unknown uop at unknown address")
    assert crash_message(7, ({"uop": "_GUARD_TOS_INT", "address": 4096, "function": "f",
                              "where": "bb1:0"}, {})) == (
        "workbench: compiled code crashed with SIGBUS (signal 7) in _GUARD_TOS_INT at 0x1000 "
        "(@f bb1:0)")
    assert crash_message(11, ({"uop": "_LOAD_FAST", "address": 1},
                              {"pc": 0x2a, "uop": "_STORE_FAST", "function": "g",
                               "where": "bb0:2"})).endswith("in _STORE_FAST at 0x2a (@g bb0:2)")
    assert crash_message(9, ({}, {})) == ("workbench: the isolated run was killed by SIGKILL "
                                          "(signal 9)")
    assert child_argv(["run", "--isolate", "f.py"]) == ["run", "f.py"]
    assert child_argv(["run", "--isol", "--", "--isolate"]) == ["run", "--", "--isolate"]


def test_fault_address_maps_to_a_registered_uop():
    from workbench import isolate

    saved = list(isolate._code)
    try:
        isolate.register_code("f", 0x1000, 0x100, {0x1000: ("bb0", 0, "_LOAD_FAST", 1),
                                                  0x1010: ("bb0", 1, "_BINARY_OP_ADD_INT", 2),
                                                  0x1040: ("bb1", 0, "_RETURN", 3)})
        assert isolate.lookup(0x1017) == {"uop": "_BINARY_OP_ADD_INT", "function": "f",
                                          "where": "bb0:1"}
        assert isolate.lookup(0x1040)["uop"] == "_RETURN"
        assert isolate.lookup(0x1100) is None and isolate.lookup(0xfff) is None
    finally:
        isolate._code[:] = saved
