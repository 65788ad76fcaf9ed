"""ModuleCompiler: a whole script to a Module, one IR function per scope."""

from __future__ import annotations

import ast
import math

from ..core import MODULE_FUNCTION, SUSPENDING_KINDS, Function, Module, Signature
from ..limits import deep_recursion
from ..uops import U
from .builder import FunctionBuilder
from .bindings import has_star_import, import_binding
from .scopes import GENEXPR_ITER, NAMESPACE, SENT, ScopeInfo, ScopeTree, cell_slot
from .syntax import BUILTINS, FrontendError, UNSUPPORTED_NAMES, describe, unsupported


class ModuleCompiler:
    """Compiles every scope of a script: the module body, each def, lambda and class
    body (in source order, each nested one after its parent), to a Module."""

    def __init__(self, source: str, filename: str):
        self.source, self.filename = source, filename
        self.constants: dict[tuple, object] = {}
        self.names: dict[int, str] = {}        # id(node) -> its function's IR name
        self.static: dict[str, str] = {}       # global name -> IR name of a plain def
        self.def_lines: dict[str, int] = {}
        self.module_bound: set[str] = set()    # bound at module level or declared global
        self.scopes: ScopeTree | None = None
        self.future_annotations = False   # from __future__ import annotations

    def constant(self, v):
        """One object per distinct literal in the module, as CPython's compiler merges
        them: ``a = 1000; b = 1000`` makes ``a is b`` true there too."""
        key = (type(v), v, math.copysign(1.0, v) if type(v) is float else 0)
        return self.constants.setdefault(key, v)

    def is_rebound(self, name: str) -> bool:
        """Is the global ``name`` bound by the script (so not surely the builtin)?"""
        return name in self.module_bound

    def static_callee(self, name: str) -> str | None:
        """The IR function a call of the global ``name`` surely reaches, if any: a
        plain module-level def that nothing else binds (``_CALL_FUNCTION``)."""
        return self.static.get(name)

    def defined_before(self, name: str, node: ast.AST) -> bool:
        return self.def_lines.get(name, 1 << 30) < getattr(node, "lineno", 0)

    def function_name(self, node: ast.AST) -> str:
        return self.names[id(node)]

    def compile(self) -> Module:
        try:
            compile(self.source, self.filename, "exec", dont_inherit=True)
            tree = ast.parse(self.source, self.filename)
        except SyntaxError as e:
            line = e.lineno or 1
            col = e.offset or 1
            raise FrontendError(f"{self.filename}:{line}:{col}: SyntaxError: {e.msg}") from None
        except ValueError as e:  # e.g. source with NUL bytes
            raise FrontendError(f"{self.filename}:1:1: {e}") from None
        _character_columns(tree, self.source)
        self.check_nodes(tree)
        self.tree = tree
        self.future_annotations = any(
            isinstance(s, ast.ImportFrom) and s.module == "__future__"
            and any(a.name == "annotations" for a in s.names) for s in tree.body)
        self.scopes = ScopeTree(tree, self.source, self.filename)
        self.collect_bindings(tree)
        order = self.name_scopes(self.scopes.module)
        module = Module(self.filename)
        main = FunctionBuilder(self, MODULE_FUNCTION, [], self.scopes.module, None)
        main.enter_scope(tree)
        main.body(tree.body)
        module.functions.append(main.finish())
        for info in order:
            module.functions.append(self.compile_scope(info))
        return module

    def check_nodes(self, tree: ast.Module) -> None:
        """Reject constructs outside the subset wherever they appear, up front."""
        for node in ast.walk(tree):
            if type(node) in UNSUPPORTED_NAMES:
                raise unsupported(self.filename, node, describe(node))
            if isinstance(node, ast.comprehension) and node.is_async:
                raise unsupported(self.filename, node.target, "async comprehension")

    def name_scopes(self, top: ScopeInfo) -> list[ScopeInfo]:
        """Unique IR names (the qualname, ``#2`` on for a second one), in source order."""
        order: list[ScopeInfo] = []
        used: dict[str, int] = {}

        def visit(info: ScopeInfo) -> None:
            for child in info.children:
                n = used[child.qualname] = used.get(child.qualname, 0) + 1
                self.names[id(child.node)] = child.qualname + (f"#{n}" if n > 1 else "")
                order.append(child)
            for child in info.children:
                visit(child)
        visit(top)
        order.sort(key=lambda i: (i.node.lineno, i.node.col_offset))
        for stmt in self.tree.body:
            if type(stmt) is ast.FunctionDef and _is_plain(stmt) \
                    and stmt.name not in self.module_bound:
                self.static[stmt.name] = self.names[id(stmt)]
                self.def_lines[stmt.name] = stmt.lineno
        return order

    def collect_bindings(self, tree: ast.Module) -> None:
        """Names bound more than once at module level, or declared ``global``: such a
        name may be rebound, so neither a def nor a builtin of that name is certain."""
        seen: set[str] = set()

        def bind(name: str) -> None:
            if name in seen:
                self.module_bound.add(name)
            seen.add(name)

        def visit(node: ast.AST, module_level: bool) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.Global):
                    for name in child.names:
                        bind(name)
                        self.module_bound.add(name)
                if not module_level:
                    visit(child, False)
                    continue
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    bind(child.name)
                    if child.name in seen and not (isinstance(child, ast.FunctionDef)
                                                   and child in tree.body):
                        self.module_bound.add(child.name)
                    visit(child, False)
                    continue
                if isinstance(child, ast.Lambda):
                    visit(child, False)
                    continue
                if isinstance(child, ast.Name) and not isinstance(child.ctx, ast.Load):
                    bind(child.id)
                    self.module_bound.add(child.id)
                elif isinstance(child, (ast.Import, ast.ImportFrom)):
                    for a in child.names:
                        if a.name != "*":
                            name = import_binding(a, isinstance(child, ast.Import))
                            bind(name)
                            self.module_bound.add(name)
                elif isinstance(child, ast.ExceptHandler) and child.name:
                    bind(child.name)
                    self.module_bound.add(child.name)
                visit(child, True)
        visit(tree, True)
        if has_star_import(tree):   # any builtin (or def) may be rebound by the import
            self.module_bound |= BUILTINS | seen

    def compile_scope(self, info: ScopeInfo) -> Function:
        node = info.node
        name = self.names[id(node)]
        if info.kind == "class":
            params = [NAMESPACE] + [cell_slot(n) for n in info.free]
            signature = Signature.of(len(params), free=tuple(info.free), kind="class")
        elif isinstance(node, ast.GeneratorExp):
            params = [GENEXPR_ITER] + [cell_slot(n) for n in info.free]
            signature = Signature.of(len(params), free=tuple(info.free), kind="generator")
        else:
            a = node.args
            positional = [x.arg for x in (*a.posonlyargs, *a.args)]
            params = positional + [x.arg for x in a.kwonlyargs]
            params += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
            params += [cell_slot(n) for n in info.free]
            signature = None
            kind = "generator" if _is_generator(node) else "function"
            if isinstance(node, ast.AsyncFunctionDef):
                if kind == "generator":
                    raise unsupported(self.filename, node, "async generator")
                kind = "coroutine"
            if self.static.get(getattr(node, "name", None)) != name:
                signature = Signature.of(
                    len(params), posonly=len(a.posonlyargs), defaults=len(a.defaults),
                    kwonly=len(a.kwonlyargs),
                    kwdefaults=tuple(x.arg for x, d in zip(a.kwonlyargs, a.kw_defaults)
                                     if d is not None),
                    varargs=a.vararg is not None, varkw=a.kwarg is not None,
                    free=tuple(info.free), kind=kind)
        b = FunctionBuilder(self, name, params, info, node.lineno)
        b.fn.signature = signature
        b.fn.locals += [cell_slot(n) for n in sorted(info.cells)
                        if cell_slot(n) not in b.fn.locals]
        if isinstance(node, ast.Lambda):
            stmts: list[ast.stmt] = [ast.copy_location(ast.Return(node.body), node.body)]
        elif isinstance(node, ast.GeneratorExp):
            stmts = genexpr_body(node)
        else:
            stmts = node.body
        for local in _binding_order(stmts) if info.kind != "class" else ():
            if local in info.locals and local not in info.cells and local not in b.fn.locals:
                b.fn.locals.append(local)
        if signature is not None and signature.kind in SUSPENDING_KINDS:
            b.fn.locals.append(SENT)
        b.enter_scope(node)
        b.body(stmts)
        b.leave_scope(node)
        return b.finish()


def genexpr_body(node: ast.GeneratorExp) -> list[ast.stmt]:
    """``(elt for t in it if c ...)`` as the body of its generator function:
    ``for t in $iter: if c: ... yield elt``, the first iterable being the argument."""
    inner: ast.stmt = ast.Expr(ast.Yield(node.elt))
    for i, comp in reversed(list(enumerate(node.generators))):
        for cond in reversed(comp.ifs):
            inner = ast.If(cond, [inner], [])
        it = ast.Name(GENEXPR_ITER, ast.Load()) if i == 0 else comp.iter
        inner = ast.For(comp.target, it, [inner], [])
    for n in ast.walk(ast.Module([inner], [])):
        if not hasattr(n, "lineno") and isinstance(n, (ast.stmt, ast.expr)):
            ast.copy_location(n, node)
    return [inner]


def _is_plain(node: ast.FunctionDef) -> bool:
    """A def that ``_CALL_FUNCTION`` may call directly: positional parameters only,
    and a call runs it (it is not a generator)."""
    a = node.args
    return not (node.decorator_list or a.defaults or a.kw_defaults or a.kwonlyargs
                or a.posonlyargs or a.vararg or a.kwarg or _is_generator(node))


def _is_generator(node: ast.AST) -> bool:
    """Does the body of this def (or genexpr) itself contain a yield?"""
    if isinstance(node, ast.GeneratorExp):
        return True
    if isinstance(node, ast.Lambda):
        todo = [node.body]
    else:
        todo = list(node.body)
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
                          ast.GeneratorExp)):
            continue
        todo.extend(ast.iter_child_nodes(n))
    return False


def _binding_order(stmts: list[ast.stmt]) -> list[str]:
    """Names a scope binds, in the order of their first binding in the source."""
    found: list[tuple[int, int, str]] = []

    def visit(n: ast.AST) -> None:
        for child in ast.iter_child_nodes(n):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                found.append((child.lineno, child.col_offset, child.id))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.append((child.lineno, child.col_offset, child.name))
                continue
            elif isinstance(child, ast.Lambda):
                continue
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend((child.lineno, child.col_offset,
                              import_binding(a, isinstance(child, ast.Import)))
                             for a in child.names if a.name != "*")
            elif isinstance(child, ast.ExceptHandler) and child.name:
                found.append((child.lineno, child.col_offset, child.name))
            visit(child)

    for stmt in stmts:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.append((stmt.lineno, stmt.col_offset, stmt.name))
            continue
        visit(ast.Module(body=[stmt], type_ignores=[]))
    return [name for *_, name in sorted(found)]


def _character_columns(tree: ast.AST, source: str) -> None:
    """``ast`` columns count UTF-8 bytes; make them count characters, as CPython's
    own messages (and every editor) do, so non-ASCII lines get the right column."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if line is None or not 0 < line <= len(lines) or lines[line - 1].isascii():
            continue
        encoded = lines[line - 1].encode("utf-8")
        node.col_offset = len(encoded[:node.col_offset].decode("utf-8", "replace"))


def compile_source(source: str, filename: str = "<string>") -> Module:
    """Compile a Python script to a module of generic uop IR."""
    with deep_recursion():   # expressions compile recursively
        return ModuleCompiler(source, filename).compile()
