"""The project's own benchmark programs (workbench/benchmarks/programs/*.py) print CPython's
stdout on every backend (interp, native, Unicorn) with no passes ('': generic uops) and
with the default pipeline: at reduced sizes always (their hot loops and calls still tier
up), as shipped (full size) in the slow set."""

import importlib.util
from pathlib import Path

import pytest

import workbench
from helpers import (KERNELS, KERNELS_DIR, PROGRAM_SIZES, PROGRAMS, PROGRAMS_DIR,
                     reduced_source, run_cli, run_python)
from runtime_util import cli, expected, trace_json, write
from workbench.benchmarks import KERNEL_NAMES, PROGRAM_NAMES

NAMES = [p.stem for p in PROGRAMS]
BACKENDS = ["interp", "native", "unicorn"]
PIPELINES = ["", "default"]
PIPELINE_IDS = ["none", "default"]
PACKAGE = Path(workbench.__file__).resolve().parent


def _path(name: str) -> Path:
    return next(p for p in PROGRAMS if p.stem == name)


def test_the_programs_are_all_there_inside_the_package():
    assert NAMES == sorted(PROGRAM_NAMES) and len(NAMES) == 7
    assert [p.stem for p in KERNELS] == sorted(KERNEL_NAMES) and len(KERNELS) == 8
    assert sorted(PROGRAM_SIZES) == NAMES
    for folder in (PROGRAMS_DIR, KERNELS_DIR):
        assert folder.is_dir() and folder.is_relative_to(PACKAGE), folder
    for p in PROGRAMS + KERNELS:
        assert p.is_file() and p.resolve().is_relative_to(PACKAGE), p


@pytest.mark.parametrize("name", NAMES)
def test_reduced_sizes_apply(name):
    path = _path(name)
    src = reduced_source(path)
    assert src != path.read_text()
    out = expected(src)
    assert out.endswith("\n") and out.count("\n") == 1


@pytest.mark.parametrize("passes", PIPELINES, ids=PIPELINE_IDS)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", NAMES)
def test_program_stdout_is_cpython(tmp_path, name, backend, passes):
    source = reduced_source(_path(name))
    path = write(tmp_path, name, source)
    status, out, err = cli("run", "--backend", backend, "--passes", passes, path)
    assert (status, err) == (0, "")
    assert out == expected(source)


@pytest.mark.parametrize("name", NAMES)
def test_reduced_program_under_the_cli(name, tmp_path):
    """``workbench run f.py`` in its own process prints what ``python3 f.py`` prints."""
    f = tmp_path / f"{name}.py"
    f.write_text(reduced_source(_path(name)))
    want = run_python(f.name, cwd=tmp_path)
    got = run_cli("run", f.name, cwd=tmp_path)
    assert want.returncode == 0, want.stderr
    assert (got.returncode, got.stderr) == (0, "")
    assert got.stdout == want.stdout


@pytest.mark.parametrize("name", NAMES)
def test_hot_program_functions_run_as_machine_code(tmp_path, name):
    """At the reduced size every program still tiers up: its tier-2 functions are native
    code, and machine code ran."""
    path = write(tmp_path, name, reduced_source(_path(name)))
    report = trace_json(path, "--backend", "native")
    assert report["stdout"] == expected(path.read_text())
    assert report["functions"], name
    for v in report["functions"]:
        assert v["tier2"] == "native", (name, v)
        assert v["runs"] == v["returns"] + v["exits"] + v["yields"], (name, v)
    assert sum(v["runs"] for v in report["functions"]) > 0, name


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(f"prog_{path.stem}", path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


@pytest.mark.parametrize("size", ["full", "reduced"])
def test_sum_squares_big_passes_int64_mid_loop(size):
    """The running total leaves the int64 range well inside the loop, at both sizes."""
    path = _path("sum_squares_big")
    ((full, small),) = PROGRAM_SIZES["sum_squares_big"].items()
    n = int(full if size == "full" else small)
    scale = _module(path).scale_for(n)

    def total_after(k):  # the total once i = 0 .. k-1 are added
        return scale * scale * (k - 1) * k * (2 * k - 1) // 6

    assert ((n - 1) * scale) ** 2 < 2 ** 63  # each square itself fits in int64
    assert total_after(n) > 2 ** 63
    crossed = next(k for k in range(n + 1) if total_after(k) > 2 ** 63)
    assert 0.25 * n < crossed < 0.9 * n, (n, crossed)


def test_alloc_loop_big_ints_pass_2_64():
    m = _module(_path("alloc_loop"))
    assert m.BIG * 3 > 2 ** 64


# As shipped (CPython: 0.1-0.2 s each): native with no passes and with the default
# pipeline, and the interp backend with the default pipeline (the reference interpreter
# is some 100x slower than CPython: one pipeline there is enough at this size).  Unicorn
# runs list operations and calls through Python helpers (a hook each), a minute or more
# per program at full size, so CI runs it at the reduced size only (above), except on
# sum_squares_big, whose loop is int arithmetic.
FULL_SIZE = ([(n, "native", p) for n in NAMES for p in PIPELINES]
             + [(n, "interp", "default") for n in NAMES]
             + [("sum_squares_big", "unicorn", "default")])


@pytest.mark.slow
@pytest.mark.parametrize("name,backend,passes", FULL_SIZE,
                         ids=[f"{n}-{b}-{p or 'none'}" for n, b, p in FULL_SIZE])
def test_full_size_program(tmp_path, name, backend, passes):
    source = _path(name).read_text()
    path = write(tmp_path, name, source)
    status, out, err = cli("run", "--backend", backend, "--passes", passes, path)
    assert (status, err) == (0, "")
    assert out == expected(source)
