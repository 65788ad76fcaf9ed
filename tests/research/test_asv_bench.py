"""The asv benchmarks (workbench/benchmarks/asv_bench, asv.conf.json) run without asv:
one time_ and one track_ benchmark called directly, the sizes and the config checked."""

import json
import re
from pathlib import Path

from workbench.benchmarks import KERNEL_NAMES, PROGRAM_NAMES
from workbench.benchmarks.asv_bench import programs as asvb

REPO = Path(__file__).resolve().parents[2]


def test_every_program_has_a_small_size():
    assert set(asvb.PROGRAMS) == set(KERNEL_NAMES) | set(PROGRAM_NAMES)
    for name in asvb.PROGRAMS:
        src = asvb.small_source(name)  # raises if a size is not in the main block
        assert src != asvb.program_path(name).read_text(), name


def test_params_and_units():
    for cls in (asvb.TimeNative, asvb.Unicorn):
        assert cls.param_names == ("program", "pipeline")
        assert cls.params == (list(asvb.PROGRAMS), list(asvb.PIPELINES))
    assert asvb.PIPELINES["default+regalloc(linear-scan)"] == "default,regalloc{algo=linear-scan}"
    tracks = [n for n in dir(asvb.Unicorn) if n.startswith("track_")]
    assert sorted(tracks) == ["track_calls", "track_guards", "track_instructions",
                              "track_loads", "track_stores"]
    for n in tracks:
        assert getattr(asvb.Unicorn, n).unit == n.removeprefix("track_")


def test_time_benchmark_runs():
    b = asvb.TimeNative()
    b.setup("fib_mod", "default+regalloc(linear-scan)")  # checks the output
    assert b.time_run("fib_mod", "default+regalloc(linear-scan)") is None


def test_track_benchmarks_count():
    b = asvb.Unicorn()
    cache = {("sum_loop", "default"): asvb.unicorn_totals("sum_loop", "default")}
    b.setup(cache, "sum_loop", "default")
    counts = {n: getattr(b, f"track_{n}")(cache, "sum_loop", "default")
              for n in ("instructions", "loads", "stores", "guards", "calls")}
    assert all(isinstance(v, int) and v >= 0 for v in counts.values()), counts
    assert counts["instructions"] > max(20_000, counts["loads"]) and counts["loads"] > 0


def test_asv_conf_points_at_the_package():
    text = (REPO / "asv.conf.json").read_text()
    conf = json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.M))  # asv allows // comments
    assert conf["project"] == "uop-workbench" and conf["repo"] == "."
    assert conf["environment_type"] == "virtualenv"
    assert (REPO / conf["benchmark_dir"] / "programs.py").is_file()
    for key in ("env_dir", "results_dir", "html_dir"):
        assert conf[key].startswith(".asv/")
    assert ".asv/" in (REPO / ".gitignore").read_text().splitlines()
