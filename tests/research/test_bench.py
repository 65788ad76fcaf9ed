"""workbench bench: shape of --json, notes, help, and the pyperf suite of -o FILE."""

import json
import subprocess
import sys
from pathlib import Path

import pyperf  # a declared dependency: missing, the tests fail rather than skip
import pytest

from workbench import bench
from workbench.cli import main


def test_bench_json_shape(tmp_path):
    p = tmp_path / "tiny.py"
    p.write_text("x = 0\nfor i in range(50):\n    x += i\nprint(x)\n")
    r = subprocess.run([sys.executable, "-m", "workbench", "bench", "--repeat", "1", "--json",
                        "--configs", "interp,native+default", str(p)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert set(report) == {"results", "notes"}
    rows = report["results"]
    assert rows[0]["config"] == "cpython" and rows[0]["ratio_vs_cpython"] == 1.0
    for row in rows:
        assert set(row) == {"file", "config", "median_s", "ratio_vs_cpython", "values_s",
                            "warmups_s"}
        assert row["file"] == str(p) and row["median_s"] > 0
        assert len(row["values_s"]) == 1 and len(row["warmups_s"]) == 1  # --warmups 1
    configs = {row["config"] for row in rows}
    assert "interp" in configs
    assert "native+default" in configs or any("native" in n for n in report["notes"])
    assert r.stderr == ""  # piped: no progress bar


def test_bench_plain_table_and_failures(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.py"
    bad.write_text("print(1)\nraise SystemExit(3)\n")
    monkeypatch.setattr(bench, "configs", lambda boxed=False: [("cpython", [sys.executable])])
    assert main(["bench", "--repeat", "1", str(bad)]) == 0
    out = capsys.readouterr().out
    assert "median of 1" in out and "note:" in out and "exit status 3" in out


def test_bench_errors(capsys):
    assert main(["bench", "--repeat", "0", __file__]) == 2
    assert main(["bench", "/no/such.py"]) == 2
    assert main(["bench", "--configs", "warp", __file__]) == 2
    err = capsys.readouterr().err
    assert "--repeat" in err and "no such file" in err and "unknown warp" in err


def test_default_files_exist():
    files = bench.default_files()
    assert files and all(f.endswith(".py") for f in files)


def test_default_files_are_the_project_programs():
    """No FILES: the kernels, then the larger programs, all shipped inside the package."""
    import workbench
    from workbench.benchmarks import KERNEL_NAMES, PROGRAM_NAMES

    files = [Path(f) for f in bench.default_files()]
    assert [f.stem for f in files] == sorted(KERNEL_NAMES) + sorted(PROGRAM_NAMES)
    assert len(files) == 15
    programs = Path(workbench.__file__).resolve().parent / "benchmarks" / "programs"
    assert all(f.is_file() and f.is_relative_to(programs) for f in files), files
    assert [f.parent.name for f in files] == ["kernels"] * 8 + ["programs"] * 7


def test_missing_default_program_is_an_error(tmp_path, monkeypatch, capsys):
    """An incomplete install fails with one line instead of timing fewer programs."""
    import workbench.benchmarks as programs

    for name in programs.PROGRAM_NAMES[1:]:
        (tmp_path / f"{name}.py").write_text("print(1)\n")
    monkeypatch.setattr(programs, "PROGRAMS_DIR", tmp_path)
    assert main(["bench", "--repeat", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "default programs are incomplete" in err
    assert f"missing: {programs.PROGRAM_NAMES[0]}" in err


def test_help_is_complete(capsys):
    for cmd in ("bench", "pipeline", "trace"):
        try:
            main([cmd, "--help"])
        except SystemExit as e:
            assert e.code == 0
        out = capsys.readouterr().out
        assert "usage: workbench " + cmd in out
    try:
        main(["bench", "--help"])
    except SystemExit:
        pass
    out = capsys.readouterr().out
    for opt in ("--repeat", "--json", "--timeout", "--configs", "--warmups", "-o", "--output"):
        assert opt in out


# -- -o FILE: a pyperf suite ----------------------------------------------------------------
def _report(files_configs, scale=1.0, warmups=1):
    rows = []
    for f, config in files_configs:
        values = [scale * v for v in (0.30, 0.31, 0.32)]
        rows.append({"file": f, "config": config, "median_s": values[1],
                     "ratio_vs_cpython": None, "values_s": values,
                     "warmups_s": [0.9] * warmups})
    return {"results": rows, "notes": []}


def test_pyperf_suite_names_values_and_metadata():
    report = _report([("a/fib_mod.py", "cpython"), ("a/fib_mod.py", "native+default"),
                      ("a/fib_mod.py", "native"),
                      ("a/fib_mod.py", "native+regalloc(linear-scan)")])
    suite = bench.to_pyperf_suite(report)
    assert isinstance(suite, pyperf.BenchmarkSuite)
    assert suite.get_benchmark_names() == [
        "fib_mod[cpython]", "fib_mod[native+default]", "fib_mod[native]",
        "fib_mod[native+regalloc(linear-scan)]"]
    b = suite.get_benchmark("fib_mod[native+regalloc(linear-scan)]")
    assert b.get_values() == (0.30, 0.31, 0.32)
    assert b.get_unit() == "second" and b.get_loops() == 1
    (run,) = b.get_runs()
    assert run.warmups == ((1, 0.9),)
    meta = b.get_metadata()
    assert meta["backend"] == "native" and meta["boxed"] == "false"
    assert meta["pipeline"] == "default,regalloc{algo=linear-scan}"
    assert meta["commit"] == bench.workbench_commit()
    assert meta["command"].endswith("--passes 'default,regalloc{algo=linear-scan}' a/fib_mod.py")
    for key in ("python_implementation", "python_version", "cpu_count", "cpu_model_name"):
        if key != "cpu_model_name" or "cpu_model_name" in meta:  # not on every CPU
            assert key in meta, key
    assert meta["python_implementation"] == sys.implementation.name
    assert suite.get_benchmark("fib_mod[native]").get_metadata()["pipeline"] == "none"
    cp = suite.get_benchmark("fib_mod[cpython]").get_metadata()
    assert cp["backend"] == "cpython" and cp["pipeline"] == "-"


def test_pyperf_suite_boxed_and_same_stems():
    report = _report([("a/k.py", "native+default+boxed"), ("b/k.py", "native+default+boxed")],
                     warmups=0)
    suite = bench.to_pyperf_suite(report, boxed=True)
    assert suite.get_benchmark_names() == ["a/k.py[native+default+boxed]",
                                           "b/k.py[native+default+boxed]"]
    b = suite.get_benchmarks()[0]
    assert b.get_metadata()["boxed"] == "true" and not b.get_runs()[0].warmups


def test_pyperf_suite_pypy_has_its_own_python_metadata(monkeypatch):
    monkeypatch.setattr(bench, "configs", lambda boxed=False: [
        ("cpython", [sys.executable]), ("pypy3", ["/opt/pypy/bin/pypy3"])])
    monkeypatch.setattr(bench, "_python_metadata", lambda exe: {
        "python_implementation": "pypy", "python_version": "3.10.14 (64-bit)",
        "python_executable": exe})
    suite = bench.to_pyperf_suite(_report([("k.py", "cpython"), ("k.py", "pypy3")]))
    cp, pp = (b.get_metadata() for b in suite.get_benchmarks())
    assert pp["python_implementation"] == "pypy" and pp["backend"] == "pypy3"
    assert pp["python_executable"] == "/opt/pypy/bin/pypy3" and "python_compiler" not in pp
    assert cp["python_executable"] == sys.executable and "python_compiler" in cp


def test_commit_is_head_or_unknown():
    commit = bench.workbench_commit()
    assert commit == "unknown" or (len(commit) == 40 and int(commit, 16) >= 0)


@pytest.mark.parametrize("path, why", [("no/such/dir/x.json", "No such file or directory"),
                                       (".", "Is a directory"),
                                       ("f.py/x.json", "Not a directory")])
def test_bad_output_path_is_one_line_before_any_run(path, why, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.py").write_text("print(1)\n")
    monkeypatch.setattr(bench, "run_bench", lambda *a, **k: pytest.fail("ran"))
    assert main(["bench", "--repeat", "1", "-o", path, "f.py"]) == 2
    err = capsys.readouterr().err
    assert err == f"{path}: cannot write: {why}\n"


def test_bench_output_is_a_pyperf_suite_show_and_compare_to_read(tmp_path):
    """One real run (a tiny program, --repeat 2, two configurations) -> a.json; b.json the
    same benchmarks 2x slower; pyperf loads, shows and compares them."""
    p = tmp_path / "tiny.py"
    p.write_text("x = 0\nfor i in range(50):\n    x += i\nprint(x)\n")
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    r = subprocess.run([sys.executable, "-m", "workbench", "bench", "--repeat", "2",
                        "--configs", "native+default", "--json", "--output", str(a), str(p)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    suite = pyperf.BenchmarkSuite.load(str(a))
    names = suite.get_benchmark_names()
    assert names == [f"tiny[{row['config']}]" for row in report["results"]]
    assert names[0] == "tiny[cpython]"
    for row in report["results"]:  # the table's runs are the suite's
        bm = suite.get_benchmark(f"tiny[{row['config']}]")
        assert list(bm.get_values()) == row["values_s"] and len(row["values_s"]) == 2
        assert [w for _, w in bm.get_runs()[0].warmups] == row["warmups_s"]
    slower = dict(report, results=[dict(row, values_s=[2 * v for v in row["values_s"]])
                                   for row in report["results"]])
    bench.write_pyperf(slower, str(b))

    show = subprocess.run([sys.executable, "-m", "pyperf", "show", str(a)],
                          capture_output=True, text=True, timeout=60)
    assert show.returncode == 0, show.stderr
    for name in names:  # "NAME: Mean +- std dev: ...", or a section with a stability warning
        assert f"{name}: Mean +- std dev: " in show.stdout or f"{name}\n----" in show.stdout
    assert show.stdout.count("Mean +- std dev: ") == len(names)
    cmp = subprocess.run([sys.executable, "-m", "pyperf", "compare_to", "-v", str(a), str(b)],
                         capture_output=True, text=True, timeout=60)
    assert cmp.returncode == 0, cmp.stderr
    for name in names:
        assert name in cmp.stdout
    assert "Mean +- std dev: [a] " in cmp.stdout and "2.00x slower" in cmp.stdout
