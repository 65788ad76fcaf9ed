"""pyperformance's pure-Python benchmarks (issue 14): the discovery finds the suite, the
pyperf shim prints what a pyperf-less run computes, and every benchmark of the suite
is in exactly one list: RUNS (CPython's output on every backend) or BLOCKED (the exact
error line it stops at today).  When a benchmark starts running, or stops at another
construct, its test fails until the lists say so."""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import runpy
import sys
import time
import types
from pathlib import Path

import pytest

from helpers import run_cli
from workbench.benchmarks import pyperformance_census as census_mod
from workbench.benchmarks import pyperformance_discovery as disc
from workbench.benchmarks import pyperformance_suite as ps

BENCHES = {b.name: b for b in disc.discover()}
SUITE = {b.name: b for b in disc.suite()}

# The benchmarks that print CPython's output on interp, native and unicorn (small sizes:
# pyperformance_suite.SMALL_ARGS).
RUNS = (
    "argparse_many_optionals", "argparse_subparsers", "barnes_hut", "chaos",
    "comprehensions", "coroutines", "deepcopy", "deltablue", "fannkuch", "float",
    "generators", "go", "hexiom", "logging", "mdp", "meteor_contest", "nbody", "nqueens",
    "pickle_pure_python", "pidigits", "pprint", "raytrace", "richards", "richards_super",
    "scimark", "spectral_norm", "typing_runtime_protocols", "unpack_sequence",
    "unpickle_pure_python",
)
# Of those, the ones with no small size: their sizes are fixed inside the script (no
# option, workload argument or size global makes them smaller, and their own checks
# expect the full result), so their native check is a slow test, and unicorn, which
# takes many minutes on them (richards > 200 s, generators > 7 min), does not run them.
# coroutines (fibonacci(25)) and mdp (evaluate(0.192), its result checked) fix theirs.
NO_SMALL_SIZE = {"coroutines", "generators", "mdp", "meteor_contest", "richards",
                 "richards_super"}
# (pickle_pure_python and unpickle_pure_python fix their size too, but run in seconds
# everywhere, unicorn included: they stay with the others.)

# The others, with the error line each stops at today (the script's path relative to
# pyperformance's benchmarks folder; a program's exception: its last traceback line).
# None today: the whole suite runs.
BLOCKED: dict[str, str] = {}


# -- discovery -----------------------------------------------------------------------

def test_discovery_finds_the_suite():
    assert len(BENCHES) >= 90          # every folder and variant of pyperformance 1.x
    assert len(SUITE) >= 20
    assert {"nbody", "richards", "go", "deltablue", "chaos", "raytrace", "fannkuch",
            "pickle_pure_python", "argparse_subparsers"} <= set(SUITE)
    for b in SUITE.values():
        assert b.script.is_file() and b.reasons == {}


@pytest.mark.parametrize("name, kind, why", [
    ("crypto_pyaes", "third-party", "requires pyaes"),
    ("yaml", "third-party", "requires pyyaml==6.0.1"),     # in requirements.txt only
    ("pathlib", "io", "temporary files (tempfile)"),
    ("python_startup", "io", "subprocesses (bench_command)"),
    ("async_generators", "io", "an asyncio event loop (bench_async_func)"),
    ("telco", "io", "files next to the script (__file__)"),
    ("json_dumps", "c-extension", "json (_json)"),
    ("pickle", "c-extension", "pickle (_pickle)"),
    ("regex_compile", "c-extension", "re (_sre)"),
])
def test_classification(name, kind, why):
    b = BENCHES[name]
    assert b.kind == kind
    assert why in b.reasons[kind]


def test_variants_carry_their_options():
    assert BENCHES["pickle_pure_python"].extra_opts == ("--pure-python", "pickle")
    assert BENCHES["pickle_pure_python"].kind == "suite"       # pickle's pure Python
    assert BENCHES["argparse_subparsers"].script == BENCHES["argparse_many_optionals"].script


def test_an_optional_output_file_is_not_io():
    """chaos and raytrace open a file only for ``--filename`` (no default)."""
    assert BENCHES["chaos"].kind == BENCHES["raytrace"].kind == "suite"
    opt = "p.add_argument('--filename'{})\nopen(filename, 'w')\n"
    assert disc._io_uses(ast.parse(opt.format(""))) == []
    assert disc._io_uses(ast.parse(opt.format(", default='x.ppm'"))) == ["files (open)"]
    assert disc._io_uses(ast.parse("open('data.txt')\n")) == ["files (open)"]


def test_the_c_accelerators_are_extensions():
    for mod, accel in disc.CEXT_MODULES.items():
        spec = importlib.util.find_spec(accel)
        assert spec is not None, accel
        assert spec.origin in ("built-in",) or spec.origin.endswith(".so"), (mod, spec.origin)


# -- the shim --------------------------------------------------------------------------

def pyperf_less(bench: str) -> dict:
    """The script's globals, run as a module (not ``__main__``: no Runner) with a
    ``pyperf`` that has nothing but ``perf_counter``."""
    stub = types.ModuleType("pyperf")
    stub.perf_counter = time.perf_counter
    saved = sys.modules.get("pyperf")
    sys.modules["pyperf"] = stub
    try:
        return runpy.run_path(str(BENCHES[bench].script), run_name="pyperf_less")
    finally:
        if saved is None:
            del sys.modules["pyperf"]
        else:
            sys.modules["pyperf"] = saved


def sha(value) -> str:
    return "sha256:" + hashlib.sha256(repr(value).encode()).hexdigest()[:16]


@functools.cache   # CPython's output: the reference of several tests, computed once
def shim_stdout(bench: str, small: bool, loops: int = 1) -> str:
    out = ps.run(BENCHES[bench], None, small, loops)
    assert out.status == 0, out.stderr
    return out.stdout


def test_the_shim_prints_what_a_pyperf_less_run_computes():
    assert ps.SMALL_ARGS["pidigits"][0] == "--digits"
    g = pyperf_less("pidigits")
    digits = g["calc_ndigits"](int(ps.SMALL_ARGS["pidigits"][1]))
    assert shim_stdout("pidigits", small=True) == f"pidigits: bench_func, 1 call, {sha(digits)}\n"
    assert (shim_stdout("pidigits", small=True, loops=2)
            == f"pidigits: bench_func, 2 calls, {sha([digits, digits])}\n")
    g = pyperf_less("richards")
    assert (shim_stdout("richards", small=True)
            == f"richards: bench_func, 1 call, {sha(g['Richards']().run(1))}\n")
    g = pyperf_less("nqueens")
    assert g["bench_n_queens"](8) is None
    assert shim_stdout("nqueens", small=True) == "nqueens: bench_func, 1 call, None\n"
    g = pyperf_less("fannkuch")         # --args fannkuch={0: 5}: its argument made small
    assert ps.SMALL_ARGS["fannkuch"] == ["--args", "fannkuch={0: 5}"]
    assert (shim_stdout("fannkuch", small=True)
            == f"fannkuch: bench_func, 1 call, {sha(g['fannkuch'](5))}\n")
    g = pyperf_less("nbody")
    assert isinstance(g["bench_nbody"](3, "sun", 20), float)   # a time: never printed
    assert shim_stdout("nbody", small=True, loops=3) == "nbody: bench_time_func, 3 loops\n"


def test_the_shim_digest_is_reproducible():
    spec = importlib.util.spec_from_file_location("shim_pyperf", ps.SHIM_DIR / "pyperf.py")
    shim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shim)
    assert shim.digest([1, (2,), "x", 1.5]) == sha([1, (2,), "x", 1.5])
    assert shim.digest({"b", "a"}) == "sha256:" + hashlib.sha256(
        b"set({'a', 'b'})").hexdigest()[:16]          # sorted, whatever the hash seed
    assert shim.digest(object()) == "<object>"
    assert shim.digest(None) == "None"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SUITE))
def test_the_suite_runs_on_cpython_with_the_shim(name):
    """Small and full sizes; every line printed is a ``bench_*`` line."""
    for small in (True, False):
        out = shim_stdout(name, small=small)
        lines = out.splitlines()
        assert lines and all(": bench_" in ln for ln in lines), out


# -- the workbench -------------------------------------------------------------------

def test_every_benchmark_is_in_exactly_one_list():
    assert not set(RUNS) & set(BLOCKED)
    assert sorted(set(RUNS) | set(BLOCKED)) == sorted(SUITE)


def test_blocked_exactly():
    for name, line in sorted(BLOCKED.items()):
        bench = SUITE[name]
        out = ps.run(bench, ["run", "--backend", "interp"], small=True)
        assert (out.status != 0, out.stdout, out.error_line(bench)) == (True, "", line), name


def same_as_cpython(name: str, backends: tuple[str, ...]) -> None:
    expected = shim_stdout(name, small=True)
    for backend in backends:
        out = ps.run(SUITE[name], ["run", "--backend", backend], small=True)
        assert (out.status, out.stdout, out.stderr) == (0, expected, ""), backend


def test_no_small_size_means_no_small_args():
    """Giving one of them a small size (pyperformance_suite.SMALL_ARGS) moves it out."""
    assert NO_SMALL_SIZE <= set(RUNS) - set(ps.SMALL_ARGS)


@pytest.mark.parametrize("name", sorted(set(RUNS) - NO_SMALL_SIZE))
def test_runs_natively(name):
    same_as_cpython(name, ("native",))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(RUNS) - NO_SMALL_SIZE))
def test_runs_on_interp_and_unicorn(name):
    same_as_cpython(name, ("interp", "unicorn"))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NO_SMALL_SIZE))
def test_runs_at_its_fixed_size(name):
    same_as_cpython(name, ("interp", "native"))


# -- the table -------------------------------------------------------------------------

LOOP = """def work(n):
    total = 0
    for i in range(n):
        if i % 3 == 0:
            total += i
    return total


print(work(20000))
"""


def fake(tmp_path: Path, name: str, source: str) -> disc.Benchmark:
    folder = tmp_path / f"bm_{name}"
    folder.mkdir()
    (folder / "run_benchmark.py").write_text(source)
    return disc.Benchmark(name, folder, folder / "run_benchmark.py", (), (), (), ())


def test_the_table_measures_a_program_that_runs(tmp_path):
    row = ps.measure(fake(tmp_path, "loop", LOOP), repeat=1)
    cfg = row["configs"]
    assert [n for n, _ in ps.CONFIGS] == list(cfg)
    assert cfg["cpython"]["ratio"] == 1.0
    assert all(c["best_s"] > 0 and c["ratio"] > 0 for c in cfg.values())
    assert row["trace"]["guards"] >= 1 and row["trace"]["side_exits"] >= 0
    line = ps.format_row(row)
    assert line.startswith("loop ") and line.count("x") >= 2


def test_the_table_shows_the_error_of_a_program_that_does_not_run(tmp_path):
    match = "match 1:\n    case 1:\n        print('one')\n"    # outside the subset
    row = ps.measure(fake(tmp_path, "m", match), repeat=1)
    assert row["trace"] is None
    line = "bm_m/run_benchmark.py:1:1: unsupported: match statement"
    assert all(c["error"] == line for n, c in row["configs"].items() if n != "cpython")
    assert ps.format_row(row).endswith("  " + line)
    bad = ps.measure(fake(tmp_path, "bad", "print(1 // 0)\n"), repeat=1)
    assert list(bad["configs"]) == ["cpython"]
    assert ps.format_row(bad).endswith("cpython: ZeroDivisionError: integer division or modulo by zero")


def test_the_table_command(capsys):
    assert ps.main(["--repeat", "1", "--small", "--only", "raytrace"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == ps.header()
    assert out[2].startswith("raytrace ") and out[2].count("x ") >= 2, out[2]   # ratios
    with pytest.raises(SystemExit):
        ps.main(["--only", "json_dumps"])       # not in the suite


# -- the census ------------------------------------------------------------------------

MATCH = """def f(x):
    match x:
        case 1:
            with open(__file__):
                return "one"
"""


def test_the_census_starts_at_todays_error_and_gets_through(tmp_path):
    """No benchmark of the suite stops in the frontend any more: a script that does."""
    r = census_mod.census(fake(tmp_path, "m", MATCH))
    assert r.first_error == "run_benchmark.py:2:5: unsupported: match statement"
    assert r.blockers == [("match statement", 1)] and r.compiles, r
    r = census_mod.census(SUITE["nbody"])
    assert (r.first_error, r.blockers, r.compiles) == ("", [], True)
    r = census_mod.census(SUITE["chaos"])                  # it has with and try now
    assert (r.first_error, r.blockers, r.compiles) == ("", [], True)
    s = census_mod.summary([census_mod.census(fake(tmp_path, "n", MATCH))])
    assert s["first"] == {"match statement": 1}
    assert s["first_after_in_progress"] == {"n": "match statement"}


def test_the_census_rewrites_what_the_frontend_stops_at():
    """Every construct of a script that uses many, one after another, then compiles."""
    src = ("import math\nclass A:\n    def f(self, x=1):\n        return {x: math.pi}\n"
           "print(A().f(k=2), [i for i in range(3)], f'{1}', lambda: 0)\n")
    tree = ast.parse(src)
    for what in ("import", "class definition", "default argument", "dict display",
                 "keyword arguments", "list comprehension", "f-string", "lambda"):
        assert census_mod.Rewriter(tree, what, 1, 0).apply() >= 1, what
    census_mod.compile_source(ast.unparse(ast.fix_missing_locations(tree)), "many.py")


@pytest.mark.slow
def test_the_census_gets_through_the_whole_suite():
    for b in SUITE.values():
        r = census_mod.census(b)
        assert r.compiles, (b.name, r.stuck)


def test_the_workbench_leaves_pickle_to_the_script(tmp_path):
    """The workbench's process has not imported pickle (nor _pickle) when the script runs
    (its stencil cache is marshal), so ``import pickle`` there is what CPython's is, and
    pickle_pure_python can ask for pickle without its C accelerator."""
    script = tmp_path / "p.py"
    script.write_text("import sys\n"
                      "print(sorted(m for m in sys.modules if 'pickle' in m))\n")
    for backend in ("interp", "native", "unicorn"):
        r = run_cli("run", "--backend", backend, str(script))
        assert (r.returncode, r.stdout, r.stderr) == (0, "[]\n", ""), backend
