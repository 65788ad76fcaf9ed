"""The interpreter's generated block code (backends/interp/blockcode.py) does what the
per-uop closures do: same output and exceptions as CPython, the same traceback lines, the
same tier-1 profile, side exits resuming at the right uop, and only block-private values
kept in Python locals."""

import json
import re
import textwrap

import pytest

import backends.interp.interpreter as interpreter
from backends.interp.blockcode import local_values
from backends.interp.interpreter import Interpreter
from backends.interp.profile import Profile
from helpers import cli_in_process, compile_program, run_cpython, run_python, run_workbench
from ir.uops import U

PROGRAMS = {
    "arith": """
        def f(n):
            t, x, s = 0, 1.5, ''
            for i in range(n):
                t = t + i * i - (i // 3) % 7
                x = x * 1.0001 + i / 4
                if i % 5 == 0:
                    s = s + str(i % 10)
            return t, round(x, 6), s
        print(f(200))
    """,
    "calls and globals": """
        K = 3
        def g(a, b):
            return a * K + b
        def f(n):
            global K
            acc = []
            for i in range(n):
                acc.append(g(i, len(acc)))
                if i == 40:
                    K = 5
            return sum(acc), acc[-3:]
        print(f(100))
    """,
    "containers": """
        def f(n):
            d = {}
            xs = [0] * n
            for i in range(n):
                xs[i] = (i, -i)
                d[i % 7] = d.get(i % 7, 0) + xs[i][0]
                a, b = xs[i]
                del a
            return sorted(d.items()), xs[n - 1]
        print(f(60))
    """,
    "big ints": """
        def f(n):
            t = 1
            for i in range(n):
                t = t * 3 + i
            return t % 1000003, t.bit_length()
        print(f(150))
    """,
    "exception in a hot block": """
        def f(xs, n):
            t = 0
            for i in range(n):
                y = xs[i] * 2
                t = t + y // (i - 30)
            return t
        print(f(list(range(100)), 50))
    """,
    "unbound local in a hot block": """
        def f(n):
            for i in range(n):
                if i == 25:
                    del v
                    print(v)
                v = i
            return v
        print(f(40))
    """,
}


def _run(source: str, hot: int, monkeypatch):
    monkeypatch.setattr(interpreter, "HOT_BLOCK", hot)
    return run_workbench(textwrap.dedent(source))


@pytest.mark.parametrize("name", PROGRAMS)
def test_generated_and_closure_paths_match_cpython(name, monkeypatch):
    source = textwrap.dedent(PROGRAMS[name])
    want = run_cpython(source)
    assert _run(source, 1, monkeypatch) == want          # every block generated at once
    assert _run(source, 10**9, monkeypatch) == want      # closures only


def test_hot_blocks_really_run_generated_code(monkeypatch):
    monkeypatch.setattr(interpreter, "HOT_BLOCK", 3)
    module = compile_program(textwrap.dedent(PROGRAMS["arith"]))
    interp = Interpreter(module, Profile())
    interp.run_main()
    cf = interp.compiled["f"]
    hot = [b for b in cf.blocks.values() if b.count >= 3]
    cold = [b for b in cf.blocks.values() if b.count < 3]
    assert hot and all(b.run is not None for b in hot)
    assert all(b.run is None for b in cold)


def test_profile_is_the_closures_profile(monkeypatch):
    def profile(hot):
        monkeypatch.setattr(interpreter, "HOT_BLOCK", hot)
        p = Profile()
        Interpreter(compile_program(textwrap.dedent(PROGRAMS["arith"])), p).run_main()
        return p.types

    assert profile(1) == profile(10**9)


@pytest.mark.parametrize("name", ["exception in a hot block", "unbound local in a hot block"])
def test_traceback_lines_from_generated_code(name, tmp_path, monkeypatch):
    monkeypatch.setattr(interpreter, "HOT_BLOCK", 1)
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(PROGRAMS[name]))
    want = run_python(path)
    status, out, err = cli_in_process("run", "--backend", "interp", path)
    where = re.compile(r'line (\d+), in (\S+)')
    assert (status, out, where.findall(err)) == \
        (want.returncode, want.stdout, where.findall(want.stderr))
    assert err.rstrip().splitlines()[-1] == want.stderr.rstrip().splitlines()[-1]


def test_side_exit_from_generated_tier2_code(tmp_path, monkeypatch):
    """Tier 2 on the interp backend: the int guard of a hot generated block fails once
    the value passes 64 bits; tier 1 resumes at that uop and the output is CPython's."""
    monkeypatch.setattr(interpreter, "HOT_BLOCK", 1)
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(PROGRAMS["big ints"]).replace("150", "3000"))
    want = run_python(path)
    status, out, err = cli_in_process("trace", "--json", "--backend", "interp", path)
    assert status == 0, err
    report = json.loads(out)
    assert report["totals"]["side_exits"] > 0
    status, out, err = cli_in_process("run", "--backend", "interp", path)
    assert (status, out) == (0, want.stdout)


def test_local_values_keep_what_others_read_in_vals():
    module = compile_program(textwrap.dedent("""
        def f(a, n):
            t = 0
            for i in range(n):
                t = t + (a * i + 1)
            return t
        print(f(2, 5))
    """))
    fn = next(f for f in module.functions if f.name == "f")
    local = local_values(fn)
    assert local
    uses = {}
    for b in fn.blocks:
        for i, u in enumerate(b.uops):
            for v in u.uses():
                uses.setdefault(v, []).append((b.label, i, u))
    for v, label in local.items():
        for where, i, u in uses.get(v, []):
            assert where == label and u is not next(
                b for b in fn.blocks if b.label == label).uops[-1]
            assert v in u.inputs
    # a value a terminator reads (the loop's condition) is never local
    for b in fn.blocks:
        for v in b.uops[-1].uses():
            assert v not in local
    assert all(u.name != U._RETURN or u.inputs[0] not in local
               for _, _, u in fn.uops())
