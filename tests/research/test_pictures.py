"""CFG / interference / chart pictures and the CLI's --dot and --plot."""

import json

import pytest

import workbench as wb
from workbench import pictures
from workbench.cli import main


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


# --------------------------------------------------------------------------- no matplotlib

NO_MATPLOTLIB = """
import sys
sys.modules["matplotlib"] = None      # import matplotlib -> ImportError, as without it
from workbench import pictures
pictures.have_dot = lambda: False     # and without Graphviz
from workbench.cli import main
status = [main(["pipeline", "--passes", "default", "--function", "fib_mod", "--dot",
                sys.argv[2], sys.argv[1]]),
          main(["trace", "--passes", "default", "--plot", sys.argv[3], sys.argv[1]])]
print(status, sorted(m for m, mod in sys.modules.items()
                    if m.startswith("matplotlib") and mod is not None))
"""


def test_cli_pictures_need_no_matplotlib(small_py, tmp_path):
    """A base install (no matplotlib, no dot) draws the CFG and the trace chart."""
    import subprocess
    import sys
    import xml.etree.ElementTree as ET

    from helpers import plain_env

    cfg, hot = tmp_path / "cfg.svg", tmp_path / "hot.svg"
    r = subprocess.run([sys.executable, "-c", NO_MATPLOTLIB, str(small_py), str(cfg),
                        str(hot)], capture_output=True, text=True, env=plain_env(),
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "drawing needs" not in r.stderr
    assert r.stdout.splitlines()[-1] == "[0, 0] []"
    for path, words in ((cfg, ["@fib_mod", "bb0", "uops"]), (hot, ["_BINARY_OP_ADD_INT"])):
        text = path.read_text()
        root = ET.fromstring(text)                   # well-formed SVG
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        for w in words:
            assert w in text, (path.name, w)


def _text_of(svg: str) -> str:
    import xml.etree.ElementTree as ET

    return " ".join("".join(e.itertext()) for e in ET.fromstring(svg).iter()
                    if e.tag.endswith("text"))


def test_svg_cfg_without_dot(small_py, monkeypatch):
    monkeypatch.setattr(pictures, "have_dot", lambda: False)
    res = wb.load(small_py).pipeline("default", function="fib_mod")
    svg = pictures.cfg_picture(res.fn).text
    words = _text_of(svg)
    for b in res.fn.blocks:
        assert b.label in words
    assert 'stroke-dasharray="5,3"' in svg            # the back edge, dashed
    assert pictures.GUARD_FILL in svg and pictures.HEADER_PEN in svg


def test_interference_ranges_view(small_py, monkeypatch):
    """Default view: every value labelled with its location, live ranges + matrix."""
    monkeypatch.setattr(pictures, "have_dot", lambda: False)
    res = wb.load(small_py).pipeline("default", function="fib_mod")
    g, locs = pictures.interference(res.fn, "graph-coloring", 3)
    pic = pictures.interference_picture(res.fn, "graph-coloring", 3)
    words = _text_of(pic.text)
    for v in g.nodes:
        assert f"%{v} {locs.get(v) or '-'}" in words
    assert "interference matrix" in words and "live ranges" in words
    assert f"{g.number_of_edges()} edges" in words
    # one filled matrix cell per edge (a <title> names both values)
    assert sum(f"<title>%{a} and %{b}</title>" in pic.text or
               f"<title>%{b} and %{a}</title>" in pic.text for a, b in g.edges) == \
        g.number_of_edges()
    graph = pictures.interference_picture(res.fn, "graph-coloring", 3, view="graph")
    assert "<svg" in graph.text and graph.source == pic.source
    with pytest.raises(ValueError):
        pictures.interference_picture(res.fn, view="hairball")


def test_bar_chart_svg():
    pic = pictures.bar_chart(["tos", "linear-scan"], {"seconds": [0.5, 0.25]},
                             "wall time", "seconds")
    words = _text_of(pic.text)
    assert "wall time" in words and "tos" in words and "seconds" in words
    log = pictures.bar_chart(["a", "b"], {"x": [1, 1000], "y": [10, 0]}, "t",
                             horizontal=True, log=True)
    assert "1k" in _text_of(log.text) and "<title>a x: 1</title>" in log.text
