"""The README's samples are real: each command, run on the bundled examples, prints
exactly the text the README shows (when one fails, rerun the command from the
README's folder and paste its output)."""

import re
import shutil
from pathlib import Path

import pytest

from helpers import run_cli

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
EXAMPLES = REPO / "workbench" / "examples"


def sample(command: str) -> str:
    """The indented block after the paragraph that starts with `command`."""
    at = README.index(f"`{command}`")
    m = re.compile(r"\n\n((?:    .*\n|\n)+?)(?:\n(?! )|\Z)").search(README, at)
    assert m, command
    return "".join(line[4:] + "\n" for line in m.group(1).rstrip("\n").split("\n"))


def run(command: str, tmp_path: Path):
    """``command`` as the README means it: `fib_mod.py` is the bundled example (run in
    a copy of the examples folder, so pictures land there), other paths are the repo's."""
    for f in EXAMPLES.glob("*.py"):
        shutil.copy(f, tmp_path / f.name)
    args = command.split()[1:]
    args = [str(REPO / a) if (REPO / a).exists() and "/" in a else a for a in args]
    return run_cli(*args, cwd=tmp_path, timeout=300)


@pytest.mark.parametrize("command, stream", [
    ("workbench run fib_mod.py", "stdout"),
    ("workbench pipeline --passes default --function sum_loop workbench/examples/sum_loop.py",
     "stdout"),
    ("workbench pipeline --passes default,liveness,regalloc --function fib_mod --stats "
     "--dot cfg.svg fib_mod.py", "stderr"),
    ("workbench trace --backend unicorn --passes default,regalloc --plot hot.svg fib_mod.py",
     "stdout"),
    ("workbench trace --backend native fib_mod.py", "both"),
    ("workbench passes", "stdout"),
    ("workbench check tests/checks", "stdout"),
])
def test_readme_sample_is_real_output(command, stream, tmp_path):
    r = run(command, tmp_path)
    assert r.returncode == 0, r.stderr
    got = {"stdout": r.stdout, "stderr": r.stderr, "both": r.stderr + r.stdout}[stream]
    assert got == sample(command), f"README sample of `{command}` is stale"


def test_readme_asm_sample_is_the_first_lines(tmp_path):
    command = "workbench asm --function fib_mod --passes default,regalloc fib_mod.py"
    expected = sample(command).splitlines()
    assert expected[-1] == "..."
    r = run(command, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:len(expected) - 1] == expected[:-1]


def test_readme_pictures_are_written(tmp_path):
    run("workbench pipeline --passes default,liveness,regalloc --function fib_mod --stats "
        "--dot cfg.svg fib_mod.py", tmp_path)
    run("workbench trace --backend unicorn --passes default,regalloc --plot hot.svg "
        "fib_mod.py", tmp_path)
    assert (tmp_path / "cfg.svg").read_text().startswith("<svg")
    assert "_BINARY_OP_MODULO_INT" in (tmp_path / "hot.svg").read_text()


def test_readme_synopsis_lists_every_command_and_the_run_default():
    from workbench.cli import build_parser

    synopsis = README.split("## Commands", 1)[1].split("\n## ", 1)[0]
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name in commands:
        assert f"workbench {name}" in synopsis, name
    run_line = synopsis[synopsis.index("workbench run"):synopsis.index("workbench pipeline")]
    assert "--backend" in run_line and "native" in run_line and "the default" in run_line
    assert commands["run"].get_default("backend") == "native"
