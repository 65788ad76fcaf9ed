"""workbench.api / views / pictures: the notebook API."""

import subprocess
import sys

import pytest

import workbench as wb
from ir.errors import WorkbenchError

EXPECTED = "44850\n" 


def test_import_workbench_is_cheap():
    code = ("import sys, workbench; workbench.load; "
            "print(sorted(m for m in ('matplotlib', 'pandas', 'networkx', 'rich', 'IPython') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_load_function_and_html(small_py):
    prog = wb.load(small_py)
    assert prog.functions == ["<module>", "sum_loop", "fib_mod"]
    ir = prog.function("sum_loop")
    assert "func @sum_loop" in str(ir)
    html = ir._repr_html_()
    assert "<pre" in html and "_STORE_FAST" in html and "color:" in html
    with pytest.raises(KeyError):
        prog.function("nope")


def test_pipeline_snapshots_and_diff(small_py):
    prog = wb.load(small_py)
    res = prog.pipeline("specialize,typeprop,guardelim", function="sum_loop")
    assert [s.pass_name for s in res.steps] == ["specialize", "typeprop", "guardelim"]
    assert res.steps[0].changed
    assert "_GUARD" in res.steps[0].text and "_GUARD" not in res.before
    assert res.after == res.steps[-1].text
    rows = res.stats_rows()
    assert rows[0]["pass"] == "(before)" and rows[1]["guards"] > rows[0]["guards"]
    d = res.diff("specialize").html
    assert "background:#e6f6e6" in d  # added lines
    html = res._repr_html_()
    assert "<table" in html and "<details" in html and "onclick" in html
    assert "changed: specialize" in repr(res)


def test_pipeline_bad_pass(small_py):
    with pytest.raises(WorkbenchError):
        wb.load(small_py).pipeline("nonsense")


def test_run_and_trace(small_py):
    prog = wb.load(small_py)
    out = prog.run()
    assert out == prog.run_cpython() == "44850\n" + str(_fib(200)) + "\n"
    t = prog.trace(passes="default")
    assert t.stdout == out and t.backend == "interp"
    assert t.totals["uops"] > 0 and t.per_uop[0]["count"] >= t.per_uop[-1]["count"]
    html = t._repr_html_()
    assert "<table" in html and "sort" in html
    assert "background:rgb(" in t.heatmap("sum_loop").html
    assert t.site_rows()[0]["count"] > 0
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install pandas"):
            t.to_pandas()
    else:
        assert len(t.to_pandas()) == len(t.per_uop)


def test_program_error_is_cpython_shaped():
    prog = wb.from_source("def f(x):\n    return 1 // x\n\nprint(f(0))\n", "boom.py")
    with pytest.raises(wb.ProgramError) as e:
        prog.run()
    assert e.value.traceback.rstrip().endswith("ZeroDivisionError: integer division or modulo by zero")


def test_unicorn_trace_and_compile(small_py):
    prog = wb.load(small_py)
    t = prog.trace(backend="unicorn", passes="default,regalloc")  # the library must build
    assert t.totals["instructions"] > 0
    assert any("instructions" in r for r in t.site_rows())
    c = prog.compile("sum_loop", passes="default,regalloc")
    assert c.size > 0 and "_BINARY_OP_ADD_INT" in c.code_of("_BINARY_OP_ADD_INT")
    assert "<pre" in c._repr_html_()


def _fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) % 1000003
    return a
