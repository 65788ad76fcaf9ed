"""The codebase's shape (issue 13): layers, no import cycles, no function-level import
but a deliberately lazy one (``# lazy: why``).  ``python tests/import_graph.py -v``
lists what these tests find."""

import import_graph

GRAPH = import_graph.read()


def where(imports) -> list[str]:
    return [f"{GRAPH.modules[i.module].relative_to(import_graph.ROOT)}:{i.line}"
            for i in imports]


def test_no_import_cycles():
    assert GRAPH.cycles() == []


def test_imports_follow_the_layers():
    """workbench -> backends, passes -> ir; backends and passes never import each other."""
    assert where(GRAPH.layer_violations()) == []


def test_function_level_imports_are_deliberately_lazy():
    assert where(GRAPH.local_imports(lazy=False)) == []


def test_the_graph_sees_what_it_should(tmp_path):
    """The reader itself: a cycle hidden behind a function-level import is a cycle; a
    marked lazy import is not an edge; a package's submodule is the edge's target."""
    for pkg in import_graph.PACKAGES:
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "ir" / "a.py").write_text("from . import b\n")
    (tmp_path / "ir" / "b.py").write_text("def f():\n    from .a import x\n")
    (tmp_path / "ir" / "c.py").write_text("def f():\n    # lazy: heavy\n    from . import a\n")
    (tmp_path / "passes" / "p.py").write_text("from backends import q\n")
    (tmp_path / "backends" / "q.py").write_text("")
    g = import_graph.read(tmp_path)
    assert g.cycles() == [["ir.a", "ir.b"]]
    assert [(i.module, i.lazy) for i in g.local_imports()] == [("ir.b", False), ("ir.c", True)]
    assert [i.module for i in g.layer_violations()] == ["passes.p"]


MAX_LINES = 600


def test_no_source_file_exceeds_600_lines():
    """One file, one job: every Python file of the project (packages, tests, notebooks'
    helpers; not hidden folders) stays within MAX_LINES lines."""
    root = import_graph.ROOT
    long = sorted(f"{p.relative_to(root)}: {n}" for p in root.rglob("*.py")
                  if not any(part.startswith(".") for part in p.relative_to(root).parts)
                  and (n := len(p.read_text().splitlines())) > MAX_LINES)
    assert long == []
