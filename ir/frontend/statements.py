"""Statements other than loops and definitions: assignments, ``if``, ``return``."""

from __future__ import annotations

import ast

from ..uops import U
from .syntax import BINOP_TOKENS, describe


class Statements:
    """Mixed into FunctionBuilder: ``stmt`` emits the uops of one statement."""

    def body(self, stmts: list[ast.stmt]) -> None:
        for s in stmts:
            self.stmt(s)

    def stmt(self, node: ast.stmt) -> None:
        self.at(node)
        method = getattr(self, "stmt_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node)
        method(node)

    def stmt_Pass(self, node: ast.Pass) -> None:
        pass

    def stmt_Global(self, node: ast.Global) -> None:
        pass   # the scopes already say where each name lives

    def stmt_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant):
            return  # docstrings and other bare constants do nothing
        self.expr(node.value)

    def stmt_Assign(self, node: ast.Assign) -> None:
        if len(node.targets) == 1 and self.parallel_assign(node.targets[0], node.value):
            return
        v = self.expr(node.value)
        for t in node.targets:
            self.assign(t, v)

    def parallel_assign(self, target: ast.expr, value: ast.expr) -> bool:
        """``a, b = b, a + b`` without building a tuple (CPython's own shortcut)."""
        if not (isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, ast.Tuple)
                and len(target.elts) == len(value.elts)
                and not any(isinstance(e, ast.Starred) for e in (*target.elts, *value.elts))):
            return False
        values = [self.expr(e) for e in value.elts]
        for t, v in zip(target.elts, values):
            self.assign(t, v)
        return True

    def stmt_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.assign(node.target, self.expr(node.value))
        if isinstance(node.target, ast.Name) and node.simple \
                and self.scope.kind in ("module", "class"):
            # A module's or class's annotated name goes to its __annotations__ (what
            # dataclasses reads); a function's annotations of locals are not evaluated.
            if self.mc.future_annotations:
                note = self.emit(U._LOAD_CONST,
                                 imms=(self.mc.constant(ast.unparse(node.annotation)),))
            else:
                note = self.expr(node.annotation)
            self.at(node)
            self.emit(U._STORE_ANNOTATION, [self.namespace(), note], (node.target.id,))

    def assign(self, target: ast.expr, value: int) -> None:
        self.at(target)
        if isinstance(target, ast.Name):
            self.store_name(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if any(isinstance(e, ast.Starred) for e in target.elts):
                return self.unpack_starred(target, value)   # simple.py
            seq = self.emit(U._UNPACK_SEQUENCE, [value], (len(target.elts),))
            items = []
            for i in range(len(target.elts)):
                idx = self.emit(U._LOAD_CONST, imms=(i,))
                items.append(self.emit(U._BINARY_SUBSCR, [seq, idx]))
            for t, v in zip(target.elts, items):
                self.assign(t, v)
        elif isinstance(target, ast.Subscript):
            container = self.expr(target.value)
            index = self.expr(target.slice)
            self.at(target)
            self.emit(U._STORE_SUBSCR, [container, index, value])
        elif isinstance(target, ast.Attribute):
            owner = self.expr(target.value)
            self.at(target)
            self.emit(U._STORE_ATTR, [owner, value], (target.attr,))
        else:
            raise self.fail(target, f"assignment to {describe(target)}")

    def stmt_AugAssign(self, node: ast.AugAssign) -> None:
        op = BINOP_TOKENS.get(type(node.op))
        if op is None:
            raise self.fail(node, "matrix multiplication")
        op += "="
        target = node.target
        if isinstance(target, ast.Name):
            old = self.load_name(target)
            rhs = self.expr(node.value)
            self.at(node)
            self.store_name(target.id, self.emit(U._BINARY_OP, [old, rhs], (op,)))
        elif isinstance(target, ast.Subscript):
            container = self.expr(target.value)
            index = self.expr(target.slice)
            self.at(node)
            old = self.emit(U._BINARY_SUBSCR, [container, index])
            rhs = self.expr(node.value)
            self.at(node)
            new = self.emit(U._BINARY_OP, [old, rhs], (op,))
            self.emit(U._STORE_SUBSCR, [container, index, new])
        elif isinstance(target, ast.Attribute):
            owner = self.expr(target.value)
            self.at(node)
            old = self.emit(U._LOAD_ATTR, [owner], (target.attr,))
            rhs = self.expr(node.value)
            self.at(node)
            new = self.emit(U._BINARY_OP, [old, rhs], (op,))
            self.emit(U._STORE_ATTR, [owner, new], (target.attr,))
        else:
            raise self.fail(target, f"augmented assignment to {describe(target)}")

    def stmt_Return(self, node: ast.Return) -> None:
        if node.value is None:
            v = self.emit(U._LOAD_CONST, imms=(None,))
        else:
            v = self.expr(node.value)
        self.at(node)
        if self.unwinding:   # the finally bodies, __exit__ calls and handler ends left
            self.unwind(0)
            self.at(node)
        self.emit(U._RETURN, [v])

    def stmt_If(self, node: ast.If) -> None:
        then, done = self.new_block(), self.new_block()
        other = self.new_block() if node.orelse else done
        self.branch(node.test, then.label, other.label)
        self.start(then)
        self.body(node.body)
        self.jump(done.label)
        if node.orelse:
            self.start(other)
            self.body(node.orelse)
            self.jump(done.label)
        self.start(done)

