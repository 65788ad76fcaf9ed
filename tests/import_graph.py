"""The project's import graph, read from the source with ``ast`` (nothing is imported).

    python tests/import_graph.py [-v]

prints the counts issue 13 asks for: import cycles among the project's modules (every
import counts, at module level or inside a function, except a deliberately lazy one:
an import inside a function whose line, or the line above it, says ``# lazy: why``),
function-level imports with and without such a reason, and imports against the layer
order ``workbench -> backends/passes -> ir``.  ``tests/test_architecture.py`` holds the
project to them.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ir", "passes", "backends", "workbench")
# what each layer may import (besides itself); backends and passes are peers that do not
# import each other, so a pass never depends on how code is run
ALLOWED = {"ir": set(), "passes": {"ir"}, "backends": {"ir"},
           "workbench": {"ir", "passes", "backends"}}


@dataclass
class Import:
    module: str            # the importing module
    line: int
    targets: list[str]     # project modules it names
    local: bool            # inside a function (or class body)
    lazy: bool             # marked ``# lazy: why``


@dataclass
class Graph:
    modules: dict[str, Path] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)

    def cycles(self) -> list[list[str]]:
        g = nx.DiGraph()
        g.add_nodes_from(self.modules)
        for imp in self.imports:
            if imp.lazy:
                continue
            for t in imp.targets:
                if t != imp.module:
                    g.add_edge(imp.module, t)
        return sorted(sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1)

    def local_imports(self, lazy: bool | None = None) -> list[Import]:
        return [i for i in self.imports if i.local and (lazy is None or i.lazy == lazy)]

    def layer_violations(self) -> list[Import]:
        out = []
        for imp in self.imports:
            layer = imp.module.split(".")[0]
            if any(t.split(".")[0] != layer and t.split(".")[0] not in ALLOWED[layer]
                   for t in imp.targets):
                out.append(imp)
        return out


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(graph: Graph, module: str, node) -> list[str]:
    """The project modules an import statement names (a package's submodule when the
    name is one, else the package)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            base = module.split(".")
            if graph.modules[module].name != "__init__.py":
                base = base[:-1]
            base = base[:len(base) - node.level + 1]
            pkg = ".".join(base + ([node.module] if node.module else []))
        else:
            pkg = node.module or ""
        subs = [f"{pkg}.{a.name}" for a in node.names if f"{pkg}.{a.name}" in graph.modules]
        names = subs if len(subs) == len(node.names) else [pkg, *subs]
    out = []
    for name in names:
        while name and name not in graph.modules:
            name = name.rpartition(".")[0]
        if name:
            out.append(name)
    return out


def _module_level(tree):
    """ids of the nodes that run at import: not inside a function or class body."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                             ast.Lambda)):
            continue
        yield id(node)
        todo.extend(ast.iter_child_nodes(node))


def read(root: Path = ROOT) -> Graph:
    graph = Graph()
    root = Path(root)
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            graph.modules[_module_name(path, root)] = path
    for module, path in graph.modules.items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        tree = ast.parse(text)
        top = set(_module_level(tree))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            here = lines[node.lineno - 1]
            above = lines[node.lineno - 2] if node.lineno > 1 else ""
            lazy = "# lazy:" in here or above.strip().startswith("# lazy:")
            graph.imports.append(Import(module, node.lineno, _targets(graph, module, node),
                                        id(node) not in top, lazy))
    return graph


def main(argv: list[str]) -> int:
    g = read()
    cycles = g.cycles()
    unmarked = g.local_imports(lazy=False)
    print(f"{len(g.modules)} modules; import cycles: {len(cycles)}")
    for c in cycles:
        print("  cycle: " + " <-> ".join(c))
    print(f"function-level imports: {len(g.local_imports())} "
          f"({len(g.local_imports(lazy=True))} marked lazy, {len(unmarked)} not)")
    if "-v" in argv:
        for i in unmarked:
            print(f"  {g.modules[i.module].relative_to(ROOT)}:{i.line}")
    bad = g.layer_violations()
    print(f"imports against the layers: {len(bad)}")
    for i in bad:
        print(f"  {g.modules[i.module].relative_to(ROOT)}:{i.line} -> {', '.join(i.targets)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
