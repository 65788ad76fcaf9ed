"""`python -m workbench.benchmarks.time_breakdown`: a run's own time summed by part of
the workbench, with the collector's time and the runtime's counts."""

from workbench.benchmarks.time_breakdown import CATEGORIES, OTHER, breakdown, main, report

PROGRAM = """
def f(n):
    t = 0
    for i in range(n):
        t = t + i * i
    return t
s = 0
for k in range(60):
    s = s + f(k)
print(s)
"""


def test_breakdown_of_a_tiered_run(tmp_path):
    path = tmp_path / "prog.py"
    path.write_text(PROGRAM)
    figures = breakdown(str(path), backend="interp")
    by = figures["by"]
    assert set(by) <= {c for c, _ in CATEGORIES} | {OTHER}
    assert by["interpreter"] > 0 and by["passes"] > 0          # tier 1 ran, f was optimized
    assert abs(sum(by.values()) - figures["profiled_s"]) < 1e-6
    assert figures["counts"]["functions optimized"] >= 1
    text = report("prog", figures)
    assert "interpreter" in text and "cyclic gc:" in text


def test_command_line(tmp_path, capsys):
    path = tmp_path / "prog.py"
    path.write_text(PROGRAM)
    assert main([str(path), "--backend", "interp"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}:") and "passes" in out
