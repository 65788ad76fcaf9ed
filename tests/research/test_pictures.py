"""CFG / interference / chart pictures and the CLI's --dot and --plot."""

import json

import pytest

import workbench as wb
from workbench import pictures
from workbench.cli import main

pytest.importorskip("matplotlib")


def test_cfg_dot_marks_loops_and_exits(small_py):
    res = wb.load(small_py).pipeline("default", function="fib_mod")
    dot = pictures.cfg_dot(res.fn)
    assert dot.startswith('digraph "fib_mod"')
    assert "style=dashed" in dot                  # the back edge
    assert pictures.GUARD_FILL in dot             # a block with exits
    assert pictures.HEADER_PEN in dot             # the loop header
    svg = pictures.cfg_picture(res.fn)
    assert "<svg" in svg._repr_svg_()


def test_matplotlib_fallback(small_py, monkeypatch):
    monkeypatch.setattr(pictures, "have_dot", lambda: False)
    res = wb.load(small_py).pipeline("default", function="fib_mod")
    assert "<svg" in pictures.cfg_picture(res.fn).text
    pic = pictures.interference_picture(res.fn, "graph-coloring", 3)
    assert "<svg" in pic.text and pic.source.startswith("graph interference")


def test_charts(small_py):
    prog = wb.load(small_py)
    res = prog.pipeline("default", function="sum_loop")
    assert "<svg" in res.plot_stats().text
    t = prog.trace()
    assert "<svg" in t.plot().text
    assert "<svg" in pictures.totals_chart({"a": t.totals, "b": t.totals}).text


def test_cli_dot_and_plot(small_py, tmp_path, capsys):
    dot = tmp_path / "cfg.dot"
    assert main(["pipeline", "--passes", "default", "--function", "fib_mod",
                 "--dot", str(dot), str(small_py)]) == 0
    assert dot.read_text().startswith('digraph "fib_mod"')
    svg = tmp_path / "cfg.svg"
    assert main(["pipeline", "--passes", "default", "--dot", str(svg), str(small_py)]) == 0
    assert "<svg" in svg.read_text()
    plot = tmp_path / "trace.svg"
    capsys.readouterr()
    assert main(["trace", "--json", "--plot", str(plot), str(small_py)]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["uops"] > 0
    assert "<svg" in plot.read_text()


def test_cli_dot_unwritable(small_py, tmp_path, capsys):
    bad = tmp_path / "missing" / "cfg.svg"
    assert main(["pipeline", "--passes", "default", "--dot", str(bad), str(small_py)]) == 2
    assert "cannot write" in capsys.readouterr().err
