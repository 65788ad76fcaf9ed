"""Execute every notebook in notebooks/ (stored without outputs) with nbclient."""

from pathlib import Path

# the test extra's notebook stack: missing, these tests fail rather than skip
import ipykernel  # noqa: F401  (the kernel nbclient starts)
import nbclient
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
FILES = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_there_are_notebooks():
    assert {p.name for p in FILES} >= {"tour.ipynb", "regalloc.ipynb", "new_pass.ipynb",
                                       "tracing.ipynb"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, \
                f"{path.name}: store notebooks without outputs"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_notebook_runs(path):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    if path.name in CHECKS:
        CHECKS[path.name](nb)


def _outputs(cell, kind: str) -> str:
    return "".join(o.get("data", {}).get(kind, "") for o in cell.outputs)


def _check_regalloc(nb) -> None:
    """The time chart is of the compiled code in steady state at a size where warm-up
    does not dominate; the interference picture is the ranges + matrix view."""
    cells = [c for c in nb.cells if c.cell_type == "code"]
    timing = next(c for c in cells if "steady_workbench" in c.source)
    html = _outputs(timing, "text/html")
    assert "steady state, native, poly(1,000,000)" in html or \
        "steady state, interp, poly(20,000)" in html, html
    assert "steady-state time per call" in _outputs(timing, "image/svg+xml")
    for name in ("no regalloc", "tos", "linear-scan", "graph-coloring"):
        assert name in html
    picture = _outputs(cells[-1], "image/svg+xml")
    assert "interference of @poly" in picture and "interference matrix" in picture
    assert "live ranges over the block layout" in picture


CHECKS = {"regalloc.ipynb": _check_regalloc}
