"""ModuleCompiler: a whole script to a Module; every ``def`` compiled statically."""

from __future__ import annotations

import ast
import math

from ..core import MODULE_FUNCTION, Function, Module
from ..limits import deep_recursion
from .bindings import bound_names, has_star_import
from .builder import FunctionBuilder, Scope
from .syntax import BUILTINS, FrontendError, UNSUPPORTED_NAMES, describe, unsupported


class ModuleCompiler:
    def __init__(self, source: str, filename: str):
        self.source, self.filename = source, filename
        self.functions: dict[str, ast.FunctionDef] = {}
        self.module_names: set[str] = set()   # names assigned at module level
        self.rebound: set[str] = set()         # names assigned anywhere but a def
        self.def_lines: dict[str, int] = {}
        self.bindings: dict[str, tuple[str, ast.AST]] = {}  # name -> its first binding
        self.constants: dict[tuple, object] = {}

    def constant(self, v):
        """One object per distinct literal in the module, as CPython's compiler merges
        them: ``a = 1000; b = 1000`` makes ``a is b`` true there too."""
        key = (type(v), v, math.copysign(1.0, v) if type(v) is float else 0)
        return self.constants.setdefault(key, v)

    def is_rebound(self, name: str) -> bool:
        return name in self.rebound

    def defined_before(self, name: str, node: ast.AST) -> bool:
        return self.def_lines.get(name, 1 << 30) < getattr(node, "lineno", 0)

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
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef):
                if stmt.name in self.functions:
                    raise unsupported(self.filename, stmt,
                                      f"redefinition of function '{stmt.name}'")
                self.functions[stmt.name] = stmt
                self.def_lines[stmt.name] = stmt.lineno
        self.collect_bindings(tree)
        clashes = [self.bindings[name] for name in self.functions if name in self.rebound]
        if clashes:
            name, node = min(clashes, key=lambda c: (c[1].lineno, c[1].col_offset))
            raise unsupported(self.filename, node,
                              f"global declaration of function '{name}'"
                              if isinstance(node, ast.Global) else
                              f"function '{name}' is also assigned as a variable")
        module = Module(self.filename)
        mscope = Scope(is_module=True)
        main = FunctionBuilder(self, MODULE_FUNCTION, [], mscope, None)
        main.body(tree.body)
        module.functions.append(main.finish())
        for node in self.functions.values():
            module.functions.append(self.compile_function(node))
        return module

    def check_nodes(self, tree: ast.Module) -> None:
        """Reject constructs outside the subset wherever they appear, up front."""
        _mark_method_callees(tree)
        for node in ast.walk(tree):
            if type(node) in UNSUPPORTED_NAMES and not (
                    isinstance(node, ast.Attribute) and self.is_method_callee(node)):
                raise unsupported(self.filename, node, describe(node))
            if isinstance(node, ast.FunctionDef):
                a = node.args
                if node.decorator_list:
                    raise unsupported(self.filename, node.decorator_list[0], "decorator")
                defaults = a.defaults + [d for d in a.kw_defaults if d is not None]
                if defaults:
                    raise unsupported(self.filename, defaults[0], "default argument")
                if a.vararg or a.kwarg:
                    raise unsupported(self.filename, a.vararg or a.kwarg,
                                      "*args or **kwargs parameter")
                if a.kwonlyargs or a.posonlyargs:
                    raise unsupported(self.filename, (a.posonlyargs or a.kwonlyargs)[0],
                                      "keyword-only or positional-only parameter")

    def is_method_callee(self, node: ast.Attribute) -> bool:
        return getattr(node, "_callee", False)

    def collect_bindings(self, tree: ast.Module) -> None:
        """Names bound at module level, or declared ``global`` in some function."""
        def bound(name: str, node: ast.AST) -> None:
            old = self.bindings.get(name)
            if old is None or (node.lineno, node.col_offset) < (old[1].lineno,
                                                                 old[1].col_offset):
                self.bindings[name] = (name, node)

        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef):
                for node in ast.walk(stmt):
                    if isinstance(node, ast.Global):
                        self.rebound.update(node.names)
                        for name in node.names:
                            bound(name, node)
                continue
            for name, node in bound_names(stmt):
                self.module_names.add(name)
                bound(name, node)
        self.rebound |= self.module_names
        if has_star_import(tree):   # any builtin may be rebound by the import
            self.rebound |= BUILTINS - self.functions.keys()

    def compile_function(self, node: ast.FunctionDef) -> Function:
        params = [a.arg for a in node.args.args]
        scope = Scope(is_module=False)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Global):
                scope.globals.update(sub.names)
        for name in scope.globals:
            if name in self.functions:
                raise unsupported(self.filename, node, f"global declaration of function '{name}'")
        stores = sorted((n.lineno, n.col_offset, name) for name, n in bound_names(node))
        scope.locals = (set(params) | {name for *_, name in stores}) - scope.globals
        b = FunctionBuilder(self, node.name, params, scope, node.lineno)
        for *_, name in stores:  # first-assignment order
            if name in scope.locals and name not in b.fn.locals:
                b.fn.locals.append(name)
        b.body(node.body)
        return b.finish()


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


def _mark_method_callees(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node.func._callee = True  # type: ignore[attr-defined]


def compile_source(source: str, filename: str = "<string>") -> Module:
    """Compile a Python script to a module of generic uop IR."""
    with deep_recursion():   # expressions compile recursively
        return ModuleCompiler(source, filename).compile()
