"""The JIT speed benchmark runs end to end and checks outputs (timings are not asserted)."""

import contextlib
import io
import json

from workbench.benchmarks import jit_speed

SCRIPT = """\
def tri(n):
    total = 0
    for i in range(n):
        total += i
    return total


if __name__ == "__main__":
    print(tri(3000))
"""


def test_split_main_makes_a_bench_function():
    src = jit_speed.split_main(SCRIPT)
    assert "def __bench__():\n    print(tri(3000))" in src
    assert jit_speed.split_main("print(1)\n") is None


def test_report_has_every_configuration_and_no_failure(tmp_path):
    path = tmp_path / "tri.py"
    path.write_text(SCRIPT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert jit_speed.main([str(path), "--repeat", "1", "--json", "--skip", "unicorn"]) == 0
    report = json.loads(out.getvalue())
    (row,) = report["steady"]
    assert set(row["configs"]) == {f"{b}+{p or 'none'}" for b, p in jit_speed.CONFIGS}
    assert all("seconds" in c for c in row["configs"].values()), row
    assert report["emission"]["uops"] > 0


def test_no_files_measures_the_project_programs(monkeypatch):
    """With no FILES the steady-state and emission figures cover the kernels and the
    larger programs shipped in the package (bench.default_files)."""
    from workbench import bench

    seen = {}
    monkeypatch.setattr(jit_speed, "steady_state",
                        lambda files, repeat, configs=None: seen.setdefault("steady", files)
                        and [])
    monkeypatch.setattr(jit_speed, "emission_speed",
                        lambda files, repeat: seen.setdefault("emission", files) and {})
    with contextlib.redirect_stdout(io.StringIO()):
        assert jit_speed.main(["--json", "--skip", "unicorn"]) == 0
    files = bench.default_files()
    assert len(files) == 15
    assert seen == {"steady": files, "emission": files}
