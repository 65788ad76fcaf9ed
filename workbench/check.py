"""A lit + FileCheck runner that needs neither installed: ``workbench check PATH...``.

A test file carries its own command and expectations in comment lines::

    # RUN: workbench pipeline --passes specialize,typeprop %s | filecheck %s
    # CHECK-LABEL: func @sum_loop
    # CHECK: _BINARY_OP_ADD_INT
    # CHECK-NEXT: _STORE_FAST
    # CHECK-NOT: _GUARD_TOS_INT

Directives follow LLVM FileCheck: CHECK (in order), CHECK-NEXT (the next line),
CHECK-SAME (the same line), CHECK-NOT (not between the surrounding matches),
CHECK-LABEL (splits the input into regions), CHECK-EMPTY; ``{{regex}}`` and
``[[VAR:regex]]`` / ``[[VAR]]`` in patterns; horizontal whitespace is fuzzy.
``filecheck --check-prefix=P`` (or ``--check-prefixes=P,Q``) checks the ``P:``,
``P-NEXT:``, ... lines instead, so one file can hold several RUN lines' expectations.
``workbench`` commands run through the ``workbench`` callable ``run_test`` is given (the
CLI passes its own ``main``: in-process), else as ``python -m workbench`` in a child;
``not`` before a command expects failure.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ir.errors import WorkbenchError


DIRECTIVE = re.compile(r"(?:#|//|;)\s*([A-Z][A-Z0-9_-]*?)(-NEXT|-NOT|-SAME|-LABEL|-EMPTY)?:(.*)$")
DEFAULT_PREFIX = "CHECK"
TEST_SUFFIXES = (".uop", ".py")


@dataclass
class Directive:
    kind: str          # CHECK, CHECK-NEXT, ... whatever the prefix (compared by kind)
    pattern: str
    line: int
    prefix: str = DEFAULT_PREFIX


@dataclass
class CheckFailure:
    path: str
    line: int
    message: str
    context: str

    def render(self) -> str:
        return f"{self.path}:{self.line}: error: {self.message}\n{self.context}"


def parse_directives(text: str) -> tuple[list[str], list[Directive]]:
    runs: list[str] = []
    checks: list[Directive] = []
    for n, line in enumerate(text.splitlines(), 1):
        m = DIRECTIVE.search(line)
        if not m:
            continue
        prefix, suffix, body = m.group(1), m.group(2) or "", m.group(3)
        if prefix == "RUN" and not suffix:
            if runs and runs[-1].endswith("\\"):
                runs[-1] = runs[-1][:-1] + " " + body.strip()
            else:
                runs.append(body.strip())
        else:
            checks.append(Directive(DEFAULT_PREFIX + suffix, body.strip(), n, prefix))
    return runs, checks


def compile_pattern(pattern: str, variables: dict[str, str]) -> tuple[re.Pattern, list[str]]:
    """FileCheck pattern to a regex; returns the regex and the variables it defines."""
    out, defines, i = [], [], 0
    while i < len(pattern):
        if pattern.startswith("{{", i):
            j = pattern.index("}}", i + 2)
            out.append("(?:" + pattern[i + 2:j] + ")")
            i = j + 2
        elif pattern.startswith("[[", i):
            j = pattern.index("]]", i + 2)
            body = pattern[i + 2:j]
            name, colon, regex = body.partition(":")
            if colon:
                out.append(f"(?P<{name}>{regex})")
                defines.append(name)
            else:
                if name not in variables:
                    raise KeyError(name)
                out.append(re.escape(variables[name]))
            i = j + 2
        elif pattern[i] in " \t":
            while i < len(pattern) and pattern[i] in " \t":
                i += 1
            out.append(r"[ \t]+")
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out)), defines


def filecheck(output: str, checks: list[Directive], path: str) -> CheckFailure | None:
    lines = output.splitlines()
    variables: dict[str, str] = {}
    pos = 0                     # next line to search
    last_line = -1              # line of the previous positive match
    pending_not: list[Directive] = []

    def context(at: int, pattern: str) -> str:
        start = max(0, at)
        shown = lines[start:start + 8]
        near = difflib.get_close_matches(pattern, lines[start:], n=1, cutoff=0.4)
        text = "scanning from here:\n" + "".join(f"  {start + k + 1:>4} | {s}\n"
                                                 for k, s in enumerate(shown))
        if near:
            text += f"possible intended match:\n  {near[0]}\n"
        return text

    def find(regex: re.Pattern, start: int, end: int) -> tuple[int, re.Match] | None:
        for k in range(start, min(end, len(lines))):
            m = regex.search(lines[k])
            if m:
                return k, m
        return None

    def check_nots(end: int) -> CheckFailure | None:
        for d in pending_not:
            regex, _ = compile_pattern(d.pattern, variables)
            hit = find(regex, pos, end)
            if hit is not None:
                return CheckFailure(path, d.line, f"CHECK-NOT: excluded string found: "
                                    f"'{d.pattern}'", f"  {hit[0] + 1:>4} | {lines[hit[0]]}\n")
        pending_not.clear()
        return None

    for d in checks:
        try:
            regex, defines = compile_pattern(d.pattern, variables)
        except KeyError as e:
            return CheckFailure(path, d.line, f"undefined variable {e.args[0]}", "")
        except (re.error, ValueError) as e:
            return CheckFailure(path, d.line, f"bad pattern: {e}", "")
        if d.kind == "CHECK-NOT":
            pending_not.append(d)
            continue
        if d.kind in ("CHECK", "CHECK-LABEL"):
            hit = find(regex, pos, len(lines))
        elif d.kind == "CHECK-NEXT":
            hit = find(regex, last_line + 1, last_line + 2)
        elif d.kind == "CHECK-SAME":
            hit = find(regex, last_line, last_line + 1) if last_line >= 0 else None
        else:  # CHECK-EMPTY
            k = last_line + 1
            hit = (k, None) if k < len(lines) and not lines[k].strip() else None
        if hit is None:
            where = {"CHECK-NEXT": "on the line after the previous match",
                     "CHECK-SAME": "on the same line as the previous match",
                     "CHECK-EMPTY": "an empty next line"}.get(d.kind, "in input")
            start = last_line + 1 if d.kind != "CHECK" else pos
            shown = d.prefix + d.kind[len(DEFAULT_PREFIX):]
            return CheckFailure(path, d.line, f"{shown}: expected string not found {where}: "
                                f"'{d.pattern}'", context(start, d.pattern))
        k, m = hit
        failure = check_nots(k)
        if failure:
            return failure
        if m is not None:
            for name in defines:
                variables[name] = m.group(name)
        last_line = k
        pos = k + 1 if d.kind != "CHECK-SAME" else k
    return check_nots(len(lines))


def _run_command(cmd: str, path: str, workbench=None) -> tuple[int, str, str]:
    argv = shlex.split(cmd)
    if argv and argv[0] == "workbench" and workbench is not None:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = workbench(argv[1:])
            except SystemExit as e:  # argparse
                code = e.code if isinstance(e.code, int) else 2
        return code, out.getvalue(), err.getvalue()
    if argv and argv[0] == "workbench":
        cmd = shlex.join([sys.executable, "-m", "workbench", *argv[1:]])
    p = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=600,
                       cwd=os.path.dirname(path) or ".")
    return p.returncode, p.stdout, p.stderr


def _check_prefixes(args: list[str]) -> set[str]:
    """The directive prefixes a ``filecheck`` stage checks (CHECK unless told)."""
    out: set[str] = set()
    for i, a in enumerate(args):
        for flag in ("--check-prefix", "--check-prefixes"):
            if a == flag and i + 1 < len(args):
                out.update(args[i + 1].split(","))
            elif a.startswith(flag + "="):
                out.update(a.split("=", 1)[1].split(","))
    return out or {DEFAULT_PREFIX}


def run_test(path: str, workbench=None) -> CheckFailure | None:
    """Run one test file's RUN lines and check their output; ``workbench``: a callable
    ``argv -> status`` that runs a ``workbench`` command in this process."""
    text = Path(path).read_text(encoding="utf-8")
    runs, checks = parse_directives(text)
    if not runs:
        return CheckFailure(path, 1, "no RUN: line", "")
    for run in runs:
        cmd = run.replace("%s", shlex.quote(path))
        stages = [s.strip() for s in cmd.split("|")]
        first, rest = stages[0], stages[1:]
        expect_fail = first.startswith("not ")
        if expect_fail:
            first = first[4:].strip()
        merge_stderr = first.endswith("2>&1")
        if merge_stderr:
            first = first[:-4].strip()
        code, out, err = _run_command(first, path, workbench)
        if merge_stderr:
            out = out + err
        if expect_fail and code == 0:
            return CheckFailure(path, 1, f"command succeeded but 'not' expects failure: {first}",
                                out)
        if not expect_fail and code != 0:
            return CheckFailure(path, 1, f"command failed with status {code}: {first}",
                                err[-2000:])
        for stage in rest:
            tool = shlex.split(stage)
            if not tool or tool[0].lower() != "filecheck":
                return CheckFailure(path, 1, f"unsupported pipeline stage '{stage}'", "")
            prefixes = _check_prefixes(tool[1:])
            failure = filecheck(out, [c for c in checks if c.prefix in prefixes], path)
            if failure:
                return failure
    return None


def collect(paths: list[str]) -> list[str]:
    found: list[str] = []
    for p in paths:
        pp = Path(p)
        if pp.is_dir():
            found.extend(str(f) for f in sorted(pp.rglob("*"))
                         if f.suffix in TEST_SUFFIXES and f.is_file())
        elif pp.is_file():
            found.append(str(pp))
        else:

            raise WorkbenchError(f"{p}: no such file or directory")
    return found
