"""``--cluster`` (workbench.cluster): fuzz and bench on a local Dask cluster give the
results of ``--jobs`` / a serial run; a bad SPEC, an unreachable scheduler and a
missing Dask are one-line errors with exit status 2; Dask stays out of stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import distributed  # noqa: F401  (the test extra installs Dask: without it these fail, never skip)
from helpers import PYTHON, one_line_error, plain_env

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "reliability" / "data"


def workbench(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m workbench ARGS`` from this checkout (the Dask workers inherit
    PYTHONPATH, so they import the same code)."""
    return subprocess.run([PYTHON, "-m", "workbench", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          env=plain_env(PYTHONPATH=str(REPO)))


def test_fuzz_on_a_local_cluster_finds_what_jobs_finds(tmp_path):
    """Six programs with a broken pass: the same programs, runs and mismatches on two
    Dask workers as with --jobs 2; the reduction's reproducer is written into --out."""
    common = ["fuzz", "--load", DATA / "broken_add.py", "--backends", "interp",
              "--passes", "", "--passes", "specialize,breakadd", "--programs", "6",
              "--seed", "100", "--json", "--reduce-seconds", "3"]
    jobs = workbench(*common, "--jobs", "2", "--max-reductions", "0",
                     "--out", tmp_path / "jobs", cwd=tmp_path)
    dask = workbench(*common, "--cluster", "local:2", "--max-reductions", "1",
                     "--out", tmp_path / "dask", cwd=tmp_path)
    assert jobs.returncode == dask.returncode == 1, dask.stderr
    a, b = json.loads(jobs.stdout), json.loads(dask.stdout)  # stdout: the JSON only
    assert (a["programs"], a["runs"], a["mismatches"]) == (6, 12, 3)
    assert (b["programs"], b["runs"], b["mismatches"]) == (6, 12, 3)
    assert b["details"] == a["details"]
    assert "distributed" not in dask.stderr  # no Dask log lines
    [repro] = b["reproducers"]
    assert Path(repro).parent == tmp_path / "dask"
    assert Path(repro).read_text().startswith("# workbench fuzz reproducer (program seed ")


def test_bench_on_a_local_cluster_gives_the_serial_rows(tmp_path):
    ok, bad = tmp_path / "tiny.py", tmp_path / "bad.py"
    ok.write_text("x = 0\nfor i in range(50):\n    x += i\nprint(x)\n")
    bad.write_text("print(1)\nraise SystemExit(3)\n")
    args = ["bench", "--repeat", "1", "--configs", "interp", "--json", ok, bad]
    serial = workbench(*args, cwd=tmp_path)
    dask = workbench(*args, "--cluster", "local:1", cwd=tmp_path)
    assert serial.returncode == dask.returncode == 0, dask.stderr
    a, b = json.loads(serial.stdout), json.loads(dask.stdout)

    def rows(report):
        return [(r["file"], r["config"]) for r in report["results"]]

    assert rows(b) == rows(a) == [(str(ok), "cpython"), (str(ok), "interp")]
    assert b["notes"] == a["notes"] and len(a["notes"]) == 2
    assert dask.stderr == ""


def test_bench_task_runs_a_copy_when_the_worker_lacks_the_script(tmp_path):
    """A worker on another machine gets the script's text: same rows, same file name."""
    from workbench.bench import bench_task

    missing = str(tmp_path / "elsewhere" / "p.py")
    rows, notes = bench_task((missing, "print(6 * 7)\n"), ["cpython"], 1, 60, False)
    assert [(r["file"], r["config"]) for r in rows] == [(missing, "cpython")] and not notes


def test_a_crash_in_a_cluster_task_is_a_mismatch(tmp_path):
    """cluster_task, as a Dask worker runs it: a run that kills the forked worker loop
    is a mismatch of that configuration, and the next task gets a fresh loop."""
    import faulthandler

    from workbench.fuzz import campaign, cluster

    settings = campaign.Settings(backends=("interp",), pipelines=("", "segv"),
                                 loads=(str(DATA / "crash_pass.py"),))
    dump = faulthandler.is_enabled()  # pytest's: the forked loop would print the crash
    faulthandler.disable()
    try:
        kind, seed, runs, found, skipped = cluster.cluster_task(("program", 9), settings)
        assert (kind, seed, runs, skipped) == ("done", 9, 2, False)
        [m] = found
        assert (m.passes, m.got.status) == ("segv", -11) and m.ref.status == 0
        again = cluster.cluster_task(("program", 10), settings)
        assert again[2] == 2 and len(again[3]) == 1
    finally:
        for w in cluster._IDLE:
            w.kill()
        cluster._IDLE.clear()
        if dump:
            faulthandler.enable(file=sys.__stderr__)


@pytest.mark.parametrize("spec, message", [
    ("local:0", "--cluster local:0: local:N needs a number of worker processes N >= 1"),
    ("local:x", "--cluster local:x: local:N needs a number of worker processes N >= 1"),
    ("foo", "--cluster foo: expected local, local:N or tcp://HOST:PORT"),
    ("tcp://nohost", "--cluster tcp://nohost: expected tcp://HOST:PORT"),
])
def test_bad_cluster_spec_is_a_one_line_error(spec, message, tmp_path, capsys):
    from workbench.cli import main

    assert main(["fuzz", "--cluster", spec, "--programs", "1", "--out",
                 str(tmp_path)]) == 2
    assert one_line_error(capsys.readouterr().err) == message
    assert main(["bench", "--cluster", spec, __file__]) == 2
    assert one_line_error(capsys.readouterr().err) == message


def test_jobs_with_cluster_is_an_error(tmp_path, capsys):
    from workbench.cli import main

    assert main(["fuzz", "--cluster", "local:1", "--jobs", "2", "--out", str(tmp_path)]) == 2
    assert "--jobs and --cluster" in one_line_error(capsys.readouterr().err)


def test_unreachable_scheduler_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    import socket

    from workbench import cluster
    from workbench.cli import main

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1.0)
    spec = f"tcp://127.0.0.1:{port}"
    assert main(["fuzz", "--cluster", spec, "--programs", "1", "--out", str(tmp_path)]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert err.startswith(f"--cluster {spec}: cannot reach the Dask scheduler at {spec}")


def test_without_dask_cluster_names_the_extra(tmp_path, capsys, monkeypatch):
    from workbench.cli import main

    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    assert main(["fuzz", "--cluster", "local:1", "--programs", "1", "--out",
                 str(tmp_path)]) == 2
    assert one_line_error(capsys.readouterr().err) == \
        "--cluster needs Dask: pip install 'uop-workbench[cluster]'"


def test_dask_is_imported_only_for_cluster(tmp_path):
    code = ("import sys; from workbench.cli import main; "
            "main(['fuzz', '--programs', '1', '--backends', 'interp', '--passes', '', "
            f"'--jobs', '1', '--out', {str(tmp_path)!r}]); "
            "sys.exit(int('distributed' in sys.modules or 'dask' in sys.modules))")
    r = subprocess.run([PYTHON, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                       timeout=60, env=plain_env(PYTHONPATH=str(REPO)))
    assert r.returncode == 0, r.stderr
