"""Simple statements: ``import``, ``del``, ``assert`` and starred targets."""

from __future__ import annotations

import ast

from ..uops import U
from .bindings import import_binding
from .scopes import cell_slot


class SimpleStatements:
    """Mixed into FunctionBuilder."""

    def stmt_Import(self, node: ast.Import) -> None:
        for a in node.names:
            self.at(a)
            mod = self.emit(U._IMPORT_NAME, imms=(a.name, ()))
            if a.asname and "." in a.name:
                for part in a.name.split(".")[1:]:   # import a.b.c as d: d is a.b.c
                    mod = self.emit(U._IMPORT_FROM, [mod], (part,))
            self.store_name(import_binding(a, True), mod)

    def stmt_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            raise self.fail(node, "relative import")
        if node.names[0].name == "*":
            if self.scope.kind != "module":   # a SyntaxError anyway
                raise self.fail(node, "import * in a function")
            self.emit(U._IMPORT_STAR, imms=(node.module,))
            return
        mod = self.emit(U._IMPORT_NAME, imms=(node.module, tuple(a.name for a in node.names)))
        for a in node.names:
            self.at(a)
            self.store_name(import_binding(a, False), self.emit(U._IMPORT_FROM, [mod], (a.name,)))

    def stmt_Delete(self, node: ast.Delete) -> None:
        for t in node.targets:
            self.delete(t)

    def delete(self, target: ast.expr) -> None:
        self.at(target)
        if isinstance(target, ast.Name):
            self.delete_name(target)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for e in target.elts:
                self.delete(e)
        elif isinstance(target, ast.Subscript):
            container = self.expr(target.value)
            index = self.expr(target.slice)
            self.at(target)
            self.emit(U._DELETE_SUBSCR, [container, index])
        elif isinstance(target, ast.Attribute):
            owner = self.expr(target.value)
            self.at(target)
            self.emit(U._DELETE_ATTR, [owner], (target.attr,))
        else:
            raise self.fail(target, f"del of {type(target).__name__}")

    def delete_name(self, target: ast.Name) -> None:
        name = target.id
        kind = self.where(name)
        if kind == "fast":
            self.emit(U._DELETE_FAST, imms=(self.slot(name),))
        elif kind == "global":
            self.emit(U._DELETE_GLOBAL, imms=(name,))
        elif kind == "name":
            self.emit(U._DELETE_NAME, [self.namespace()], (name,))
        else:
            cell = self.emit(U._LOAD_FAST, imms=(cell_slot(name),))
            self.emit(U._DELETE_DEREF, [cell], (name,))

    def stmt_Assert(self, node: ast.Assert) -> None:
        fail, done = self.new_block(), self.new_block()
        self.branch(node.test, done.label, fail.label)
        self.start(fail)
        self.at(node)
        exc = self.emit(U._LOAD_ASSERTION_ERROR)
        if node.msg is not None:
            msg = self.expr(node.msg)
            self.at(node)
            exc = self.emit(U._CALL, [exc, msg], ((),))
        self.emit(U._RAISE, [exc])
        self.jump(done.label)
        self.start(done)

    def unpack_starred(self, target: ast.Tuple | ast.List, value: int) -> None:
        """``a, *b, c = v``: ``_UNPACK_EX`` gives the items and the middle list."""
        elts = target.elts
        k = next(i for i, e in enumerate(elts) if isinstance(e, ast.Starred))
        seq = self.emit(U._UNPACK_EX, [value], (k, len(elts) - k - 1))
        items = []
        for i in range(len(elts)):
            idx = self.emit(U._LOAD_CONST, imms=(i,))
            items.append(self.emit(U._BINARY_SUBSCR, [seq, idx]))
        for t, v in zip(elts, items):
            self.assign(t.value if isinstance(t, ast.Starred) else t, v)
