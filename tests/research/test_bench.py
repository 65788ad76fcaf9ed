"""workbench bench: shape of --json, notes, help."""

import json
import subprocess
import sys
from pathlib import Path

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
        assert set(row) == {"file", "config", "median_s", "ratio_vs_cpython"}
        assert row["file"] == str(p) and row["median_s"] > 0
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
    assert len(files) == 13
    programs = Path(workbench.__file__).resolve().parent / "benchmarks" / "programs"
    assert all(f.is_file() and f.is_relative_to(programs) for f in files), files
    assert [f.parent.name for f in files] == ["kernels"] * 8 + ["programs"] * 5


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
    for opt in ("--repeat", "--json", "--timeout", "--configs"):
        assert opt in out
