"""Switches are parameters (issue 13): the library reads no environment variable; the
CLI reads WORKBENCH_CLANG, WORKBENCH_CACHE_DIR and WORKBENCH_DEBUG at its edge (the
defaults of ``--clang``, ``--stencil-cache`` and ``--debug``) and passes them on."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from backends.copy_and_patch import cache, compiler
from ir.frontend import compile_source
from passes.base import Pass, PassContext, PassError
from passes.manager import Instrumentation, PassManager
from workbench import api
from workbench.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ir", "passes", "backends", "workbench")

# Every module that touches os.environ / os.getenv, and why it may
READERS = {
    "workbench/arguments.py": "the CLI's edge: the flags' defaults",
    "workbench/cli.py": "the CLI's edge: is this process a child of --isolate?",
    "workbench/isolate.py": "the --isolate parent hands its child the crash-report path",
    "workbench/render.py": "NO_COLOR, the terminal convention, for coloured output",
    "workbench/bench.py": "CI: no progress line in a CI log",
    "workbench/benchmarks/pyperformance_suite.py": "a benchmark process's environment, "
                                                   "a copy of ours plus the shim's",
    "workbench/benchmarks/pyperf_shim/pyperf.py": "runs inside a benchmark process, "
                                                  "told its options by its parent",
}


def environment_readers() -> set[str]:
    found = set()
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            for n in ast.walk(ast.parse(path.read_text())):
                if (isinstance(n, ast.Attribute) and n.attr in ("environ", "getenv")
                        and isinstance(n.value, ast.Name) and n.value.id == "os") or (
                        isinstance(n, ast.ImportFrom) and n.module == "os"
                        and {a.name for a in n.names} & {"environ", "getenv"}):
                    found.add(path.relative_to(ROOT).as_posix())
    return found


def test_only_the_cli_edge_reads_the_environment():
    readers = environment_readers()
    assert sorted(readers) == sorted(READERS)
    assert not [r for r in readers if not r.startswith("workbench/")
                or r.startswith("workbench/runtime/")]


@pytest.fixture
def toolchain():
    """Leave the process's stencil compiler and cache as they were."""
    old_clang, old_dir = compiler.use_compiler(None), cache.use_cache_dir(None)
    compiler.use_compiler(old_clang)
    cache.use_cache_dir(old_dir)
    yield
    compiler.use_compiler(old_clang)
    cache.use_cache_dir(old_dir)


def test_the_library_ignores_the_environment(toolchain, monkeypatch, tmp_path):
    before = compiler.clang_command(), cache.cache_dir()
    monkeypatch.setenv("WORKBENCH_CLANG", str(tmp_path / "clang"))
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    assert (compiler.clang_command(), cache.cache_dir()) == before


def test_compiler_and_cache_are_arguments(toolchain, tmp_path):
    compiler.use_compiler(None)
    assert compiler.clang_command()[1:] == ["-m", "ziglang", "cc"]
    assert compiler.use_compiler("/opt/clang-19/bin/clang -v") is None
    assert compiler.clang_command() == ["/opt/clang-19/bin/clang", "-v"]
    assert compiler.use_compiler(["clang"]) == ("/opt/clang-19/bin/clang", "-v")
    assert compiler.clang_command() == ["clang"]
    cache.use_cache_dir(None)
    assert cache.cache_dir() == Path.home() / ".cache" / "uop-workbench" / "stencils"
    cache.use_cache_dir(tmp_path)
    assert cache.cache_dir() == tmp_path
    api.toolchain(clang="clang-20", stencil_cache=tmp_path / "c")
    assert (compiler.clang_command(), cache.cache_dir()) == (["clang-20"], tmp_path / "c")


@pytest.mark.parametrize("command", ["run", "trace", "pipeline", "asm", "bench", "fuzz"])
def test_the_flags_default_to_the_environment(monkeypatch, command):
    for var in ("WORKBENCH_CLANG", "WORKBENCH_CACHE_DIR", "WORKBENCH_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    need = {"bench": [], "fuzz": []}.get(command, ["f.py"])
    args = build_parser().parse_args([command, *need])
    assert (args.clang, args.stencil_cache, args.debug) == (None, None, False)
    monkeypatch.setenv("WORKBENCH_CLANG", "clang-19 -O0")
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", "/tmp/stencils")
    monkeypatch.setenv("WORKBENCH_DEBUG", "1")
    args = build_parser().parse_args([command, *need])
    assert (args.clang, args.stencil_cache, args.debug) == ("clang-19 -O0", "/tmp/stencils", True)
    args = build_parser().parse_args([command, "--clang", "c", "--stencil-cache", "d", *need])
    assert (args.clang, args.stencil_cache) == ("c", "d")


def test_the_cli_passes_its_flags_to_the_library(toolchain, tmp_path, capsys):
    """An unusable compiler named on the command line is the one the run reports."""
    prog = tmp_path / "prog.py"
    prog.write_text("print(1)\n")
    missing = tmp_path / "no-clang"
    status = main(["run", "--backend", "native", "--clang", str(missing),
                   "--stencil-cache", str(tmp_path / "cache"), str(prog)])
    err = capsys.readouterr().err
    assert status == 2, err
    assert f"compiler not found: '{missing}' (--clang / WORKBENCH_CLANG)" in err
    assert compiler.clang_command() == [str(missing)]
    assert cache.cache_dir() == tmp_path / "cache"


class Boom(Pass):
    name = "boom-switch"
    description = "raise (for the test of the debug switch)"

    def run(self, fn, ctx) -> bool:
        raise ValueError("boom")


def test_debug_is_a_pass_manager_argument():
    fn = compile_source("def f(x):\n    return x\n", "f.py").function("f")
    with pytest.raises(PassError, match="pass 'boom-switch' failed on @f: ValueError: boom"):
        PassManager([Boom()]).run_function(fn, PassContext())
    with pytest.raises(ValueError, match="^boom$"):
        PassManager([Boom()], Instrumentation(debug=True)).run_function(fn, PassContext())


def test_a_cluster_task_builds_stencils_as_its_submitter(toolchain, tmp_path):
    """A Dask worker is no child of the CLI: the task takes the settings with it."""
    from workbench import cluster

    compiler.use_compiler("clang-21")
    cache.use_cache_dir(tmp_path)
    settings = cluster.toolchain()
    compiler.use_compiler(None)   # as in a fresh worker process
    cache.use_cache_dir(None)
    seen = cluster.run_with_toolchain(
        settings, lambda a: (compiler.clang_command(), cache.cache_dir(), a), 7)
    assert seen == (["clang-21"], tmp_path, 7)
