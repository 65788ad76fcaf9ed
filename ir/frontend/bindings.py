"""Which names a statement binds: what makes a name local to a function (or a module
name), as CPython's symbol table sees it for the constructs the frontend compiles."""

from __future__ import annotations

import ast
from typing import Iterator


def bound_names(tree: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """(name, node) for each binding in ``tree``: assignment targets (``ast.Name`` in a
    store context, walrus targets included), ``del`` targets and import aliases; not
    the targets of a comprehension's ``for``, which are the comprehension's own (hidden
    locals, see comprehensions.py)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            yield node.id, node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                if a.name != "*":
                    yield import_binding(a, isinstance(node, ast.Import)), a
        if isinstance(node, ast.comprehension):
            todo.extend([node.iter, *node.ifs])
            continue
        todo.extend(ast.iter_child_nodes(node))


def import_binding(alias: ast.alias, plain_import: bool) -> str:
    """``import a.b.c`` binds ``a``; ``import a.b as c`` and ``from m import x as c``
    bind ``c``."""
    if alias.asname:
        return alias.asname
    return alias.name.split(".")[0] if plain_import else alias.name


def has_star_import(tree: ast.AST) -> bool:
    return any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)
               for n in ast.walk(tree))
