"""Runs every lit/FileCheck-style regression test under tests/checks, and tests the runner."""

from pathlib import Path

import pytest

from workbench.check import collect, filecheck, parse_directives, run_test
from workbench.cli import main

CHECKS = Path(__file__).parent / "checks"
FILES = collect([str(CHECKS)]) if CHECKS.is_dir() else []


@pytest.mark.parametrize("path", FILES, ids=[str(Path(f).relative_to(CHECKS)) for f in FILES])
def test_check_file(path):
    failure = run_test(path, workbench=main)
    assert failure is None, failure.render()


SAMPLE = """\
func @f(a) {
bb0:
  %0 = _LOAD_FAST a
  %1 = _BINARY_OP + %0, %0
  _RETURN %1
}
"""


def _checks(text):
    return parse_directives(text)[1]


def test_in_order_next_and_not():
    checks = _checks("# CHECK: func @f\n# CHECK: _LOAD_FAST a\n# CHECK-NEXT: _BINARY_OP +\n"
                     "# CHECK-NOT: _GUARD\n# CHECK: _RETURN\n")
    assert filecheck(SAMPLE, checks, "t") is None


def test_variables_and_regex():
    checks = _checks("# CHECK: [[V:%[0-9]+]] = _LOAD_FAST\n# CHECK: _BINARY_OP + [[V]], [[V]]\n"
                     "# CHECK: _RETURN {{%[0-9]+}}\n")
    assert filecheck(SAMPLE, checks, "t") is None


def test_failure_is_readable():
    checks = _checks("# CHECK: _LOAD_FAST a\n# CHECK-NEXT: _BINARY_OP -\n")
    failure = filecheck(SAMPLE, checks, "t.uop")
    assert failure is not None
    text = failure.render()
    assert "t.uop:2: error: CHECK-NEXT: expected string not found" in text
    assert "_BINARY_OP + %0, %0" in text  # the input shown where it was scanned


def test_check_not_fires():
    checks = _checks("# CHECK: _LOAD_FAST\n# CHECK-NOT: _BINARY_OP\n# CHECK: _RETURN\n")
    failure = filecheck(SAMPLE, checks, "t")
    assert failure is not None and "excluded string found" in failure.message


def test_changed_expectation_fails_with_diff(tmp_path):
    assert FILES, "no check files under tests/checks"
    src = FILES[0]
    text = Path(src).read_text()
    lines = text.splitlines()
    idx = next(i for i, l in enumerate(lines) if "CHECK:" in l or "CHECK-NEXT:" in l)
    lines[idx] = lines[idx] + "_THIS_IS_NOT_THERE"
    broken = tmp_path / Path(src).name
    broken.write_text("\n".join(lines) + "\n")
    failure = run_test(str(broken), workbench=main)
    assert failure is not None
    assert "expected string not found" in failure.render()


def test_check_prefix_selects_directives(tmp_path):
    """One file, two RUN lines: each filecheck stage checks only its own prefix."""
    text = ("# RUN: workbench pipeline %s | filecheck %s\n"
            "# RUN: workbench pipeline %s | filecheck --check-prefix=OTHER %s\n"
            "# CHECK: _BINARY_OP +\n# OTHER: _LOAD_FAST a\n# OTHER-NEXT: _BINARY_OP +\n")
    path = tmp_path / "t.uop"
    module = 'module "t"\n' + SAMPLE
    path.write_text(text + module)
    assert run_test(str(path), workbench=main) is None
    path.write_text(text.replace("OTHER-NEXT: _BINARY_OP +", "OTHER-NEXT: _RETURN") + module)
    failure = run_test(str(path), workbench=main)
    assert failure is not None and "OTHER-NEXT: expected string not found" in failure.message
