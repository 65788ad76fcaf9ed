"""Which names are locals, cells, free variables, globals or class-namespace names in each
scope, read from CPython's own symbol table (the stdlib ``symtable``), so that names
resolve exactly as CPython's compiler resolves them.

One difference is deliberate: list, set and dict comprehensions are inlined into the
scope around them (as CPython 3.12 does, PEP 709), so their own scopes are folded into
that scope: a local that only a comprehension reads is a plain local there, not a cell.
Generator expressions, lambdas, functions and classes keep scopes of their own.
"""

from __future__ import annotations

import ast
import symtable
from dataclasses import dataclass, field

from ..scope_semantics import SENT  # noqa: F401  (where a resumed generator finds what send() passed)

# Scope-making nodes and the names the symbol table gives their blocks.
_COMPREHENSIONS = {ast.ListComp: "listcomp", ast.SetComp: "setcomp", ast.DictComp: "dictcomp"}
_SCOPED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)


NAMESPACE = "$ns"   # a class body's first parameter: the namespace it fills
GENEXPR_ITER = "$iter"   # a generator expression's parameter: its first iterator


def cell_slot(name: str) -> str:
    """The frame slot holding the cell of a local an inner scope reads (or of a free
    variable: the function object's closure passes those cells as parameters)."""
    return f"$cell_{name}"


def _table_name(node: ast.AST) -> str:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name
    if isinstance(node, ast.Lambda):
        return "lambda"
    if isinstance(node, ast.GeneratorExp):
        return "genexpr"
    return _COMPREHENSIONS[type(node)]


@dataclass
class ScopeInfo:
    """How one scope (the module, a function, a lambda, a class body) binds names."""

    kind: str                       # "module", "function" or "class"
    qualname: str
    table: symtable.SymbolTable
    node: ast.AST | None
    parent: "ScopeInfo | None"
    locals: set[str] = field(default_factory=set)    # bound here (params included)
    cells: set[str] = field(default_factory=set)     # locals an inner scope reads
    free: list[str] = field(default_factory=list)    # from enclosing functions, in order
    declared_global: set[str] = field(default_factory=set)
    children: list["ScopeInfo"] = field(default_factory=list)
    # Comprehension tables folded into this scope, by their node: a name bound there
    # (the loop variables) is the comprehension's own.
    comprehensions: dict[int, symtable.SymbolTable] = field(default_factory=dict)
    # The loop variables of an inlined comprehension that an inner scope captures: cells
    # made per comprehension, by the id of its node.
    comprehension_cells: dict[int, set[str]] = field(default_factory=dict)
    # The inlined comprehensions around this scope's node, innermost last.
    within: tuple[tuple[int, symtable.SymbolTable], ...] = ()

    def resolve(self, name: str) -> str:
        """"fast", "cell", "free", "global" or "name" (a class or module namespace)."""
        if name in self.cells:
            return "cell"
        if name in self.free:
            return "free"
        if self.kind == "module" or name in self.declared_global:
            return "global"
        if self.kind == "class":
            return "name"   # the namespace first, as CPython's LOAD_NAME/STORE_NAME
        return "fast" if name in self.locals else "global"


def _direct_scoped_children(node: ast.AST) -> list[ast.AST]:
    """Scope-making nodes whose block is a direct child of ``node``'s block, in source
    order: what the symbol table lists as that block's children."""
    found: list[ast.AST] = []

    def visit(n: ast.AST, top: bool) -> None:
        if not top and isinstance(n, _SCOPED):
            found.append(n)
            # What such a node evaluates in the enclosing block: decorators, defaults,
            # annotations, bases and keywords; a comprehension's first iterable.
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                a = n.args
                for d in [*a.defaults, *[d for d in a.kw_defaults if d is not None]]:
                    visit(d, False)
                if not isinstance(n, ast.Lambda):
                    for d in n.decorator_list:
                        visit(d, False)
                    for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
                        if arg is not None and arg.annotation is not None:
                            visit(arg.annotation, False)
                    if n.returns is not None:
                        visit(n.returns, False)
            elif isinstance(n, ast.ClassDef):
                for d in [*n.decorator_list, *n.bases, *[k.value for k in n.keywords]]:
                    visit(d, False)
            else:
                visit(n.generators[0].iter, False)
            return
        for child in ast.iter_child_nodes(n):
            visit(child, False)

    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        for s in node.body:
            visit(s, False)
    elif isinstance(node, ast.Lambda):
        visit(node.body, False)
    elif isinstance(node, ast.ClassDef):
        for s in node.body:
            visit(s, False)
    elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        gens = node.generators
        visit(gens[0].target, False)
        for cond in gens[0].ifs:
            visit(cond, False)
        for g in gens[1:]:
            visit(g.iter, False)
            visit(g.target, False)
            for cond in g.ifs:
                visit(cond, False)
        for part in ((node.key, node.value) if isinstance(node, ast.DictComp)
                     else (node.elt,)):
            visit(part, False)
    else:
        visit(node, True)
    found.sort(key=lambda n: (n.lineno, n.col_offset))
    return found


def _pair(table: symtable.SymbolTable, node: ast.AST):
    """(child table, child node) pairs of one block, matched by name and line in order."""
    nodes = _direct_scoped_children(node)
    tables = list(table.get_children())
    by_key: dict[tuple[str, int], list] = {}
    for t in tables:
        by_key.setdefault((t.get_name(), t.get_lineno()), []).append(t)
    pairs = []
    for n in nodes:
        queue = by_key.get((_table_name(n), n.lineno))
        if not queue:
            raise AssertionError(f"no symbol table for {_table_name(n)} at line {n.lineno}")
        pairs.append((queue.pop(0), n))
    return pairs


class ScopeTree:
    """Every scope of a module, by the id of the node that makes it (None: the module)."""

    def __init__(self, tree: ast.Module, source: str, filename: str):
        top = symtable.symtable(source, filename, "exec")
        self.by_node: dict[int, ScopeInfo] = {}
        self.module = ScopeInfo("module", "", top, None, None)
        self.module.locals = {s.get_name() for s in top.get_symbols() if s.is_local()}
        self._build(self.module, top, tree)
        self._place_cells(self.module)

    def of(self, node: ast.AST) -> ScopeInfo:
        return self.by_node[id(node)]

    def _build(self, scope: ScopeInfo, table: symtable.SymbolTable, node: ast.AST,
               within: tuple = ()) -> None:
        for child_table, child in _pair(table, node):
            if type(child) in _COMPREHENSIONS:
                # Inlined: the comprehension's inner scopes are children of ``scope``.
                scope.comprehensions[id(child)] = child_table
                self._build(scope, child_table, child, (*within, (id(child), child_table)))
            else:
                self._build_one(scope, child_table, child, within)

    def _build_one(self, scope: ScopeInfo, table: symtable.SymbolTable, child,
                   within: tuple) -> None:
        kind = "class" if isinstance(child, ast.ClassDef) else "function"
        name = {ast.Lambda: "<lambda>", ast.GeneratorExp: "<genexpr>"}.get(
            type(child), _table_name(child))
        prefix = scope.qualname + (".<locals>" if scope.kind == "function" else "")
        info = ScopeInfo(kind, f"{prefix}.{name}" if prefix else name, table, child, scope,
                         within=within)
        for s in table.get_symbols():
            n = s.get_name()
            if s.is_declared_global():
                info.declared_global.add(n)
            elif s.is_free():
                info.free.append(n)
            elif s.is_local() or s.is_parameter():
                info.locals.add(n)
        if isinstance(child, ast.GeneratorExp):
            info.locals.add(GENEXPR_ITER)   # the symbol table's ".0"
        scope.children.append(info)
        self.by_node[id(child)] = info
        self._build(info, table, child)

    def _place_cells(self, scope: ScopeInfo) -> None:
        """A local is a cell when an inner (non-inlined) scope has it free; a class body
        has a ``__class__`` cell when a method uses ``super()`` or ``__class__``."""
        for child in scope.children:
            self._place_cells(child)
            for name in child.free:
                owner = _comprehension_binding(child.within, name)
                if owner is not None:
                    scope.comprehension_cells.setdefault(owner, set()).add(name)
                elif scope.kind == "class" and name == "__class__":
                    scope.cells.add(name)
                elif scope.kind == "function" and name in scope.locals:
                    scope.cells.add(name)
                elif name not in scope.free and scope.kind != "module" and not (
                        scope.kind == "function" and name in scope.locals):
                    scope.free.append(name)   # passed through this scope


def _comprehension_binding(within: tuple, name: str) -> int | None:
    """The innermost inlined comprehension around a scope that binds ``name``."""
    for node_id, table in reversed(within):
        try:
            sym = table.lookup(name)
        except KeyError:
            continue
        if sym.is_local() and not sym.is_free():
            return node_id
    return None
