"""Expressions and conditions: each ``ast`` expression to the uops that compute it."""

from __future__ import annotations

import ast

from ..uops import U
from .syntax import BINOP_TOKENS, BUILTINS, CMP_TOKENS, UNARY_TOKENS


class Expressions:
    """Mixed into FunctionBuilder: ``expr`` returns the value number of a node."""

    def expr(self, node: ast.expr) -> int:
        self.at(node)
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node)
        return method(node)

    def expr_Constant(self, node: ast.Constant) -> int:
        v = node.value
        if v is None or v is Ellipsis or isinstance(v, (bool, int, float, str, bytes, complex)):
            return self.emit(U._LOAD_CONST, imms=(self.mc.constant(v),))
        raise self.fail(node, f"{type(v).__name__} literal")

    def expr_Name(self, node: ast.Name) -> int:
        return self.load_name(node)

    def expr_BinOp(self, node: ast.BinOp) -> int:
        op = BINOP_TOKENS.get(type(node.op))
        if op is None:
            raise self.fail(node, "matrix multiplication")
        lhs = self.expr(node.left)
        rhs = self.expr(node.right)
        self.at(node)
        return self.emit(U._BINARY_OP, [lhs, rhs], (op,))

    def expr_UnaryOp(self, node: ast.UnaryOp) -> int:
        if isinstance(node.op, ast.Not):
            cond = self.bool_value(node.operand)
            self.at(node)
            return self.emit(U._UNARY_NOT, [cond])
        v = self.expr(node.operand)
        self.at(node)
        return self.emit(U._UNARY_OP, [v], (UNARY_TOKENS[type(node.op)],))

    def expr_Compare(self, node: ast.Compare) -> int:
        if len(node.ops) == 1:
            lhs = self.expr(node.left)
            rhs = self.expr(node.comparators[0])
            self.at(node)
            return self.emit(U._COMPARE_OP, [lhs, rhs], (CMP_TOKENS[type(node.ops[0])],))
        return self.via_temp(node, lambda t, f: self.branch(node, t, f), bool_result=True)

    def expr_BoolOp(self, node: ast.BoolOp) -> int:
        result = self.temp()
        done = self.new_block()
        for i, operand in enumerate(node.values):
            v = self.expr(operand)
            self.emit(U._STORE_FAST, [v], (result,))
            if i == len(node.values) - 1:
                self.jump(done.label)
                break
            cond = self.emit(U._TO_BOOL, [v])
            nxt = self.new_block()
            if isinstance(node.op, ast.And):
                self.emit(U._BRANCH, [cond], targets=(nxt.label, done.label))
            else:
                self.emit(U._BRANCH, [cond], targets=(done.label, nxt.label))
            self.start(nxt)
        self.start(done)
        self.at(node)
        return self.emit(U._LOAD_FAST, imms=(result,))

    def expr_IfExp(self, node: ast.IfExp) -> int:
        result = self.temp()
        then, other, done = self.new_block(), self.new_block(), self.new_block()
        self.branch(node.test, then.label, other.label)
        for block, value in ((then, node.body), (other, node.orelse)):
            self.start(block)
            self.emit(U._STORE_FAST, [self.expr(value)], (result,))
            self.jump(done.label)
        self.start(done)
        self.at(node)
        return self.emit(U._LOAD_FAST, imms=(result,))

    def via_temp(self, node, branch, bool_result: bool) -> int:
        """Materialise a condition compiled as control flow into a value."""
        result = self.temp()
        yes, no, done = self.new_block(), self.new_block(), self.new_block()
        branch(yes.label, no.label)
        for block, value in ((yes, True), (no, False)):
            self.start(block)
            self.at(node)
            self.emit(U._STORE_FAST, [self.emit(U._LOAD_CONST, imms=(value,))], (result,))
            self.jump(done.label)
        self.start(done)
        return self.emit(U._LOAD_FAST, imms=(result,))

    def expr_Call(self, node: ast.Call) -> int:
        func = node.func
        plain = not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args)
        if not plain:
            if (isinstance(func, ast.Name) and func.id in self.mc.functions
                    and not self.mc.is_rebound(func.id)):
                what = "keyword arguments" if node.keywords else "starred arguments"
                raise self.fail(node.keywords[0] if node.keywords else node, what)
            return self.value_call(node)
        if isinstance(func, ast.Attribute):
            obj = self.expr(func.value)
            args = [self.expr(a) for a in node.args]
            self.at(node)
            return self.emit(U._CALL_METHOD, [obj, *args], (func.attr,))
        if not isinstance(func, ast.Name):
            return self.value_call(node)   # calls.py: any callee value
        name = func.id
        if (name in self.scope.locals or name in self.scope.globals
                or (self.renames and self.comprehension_local(name) is not None)):
            return self.value_call(node)
        if name in self.mc.functions and not self.mc.is_rebound(name):
            callee = self.mc.functions[name]
            before_def = self.scope.is_module and not self.mc.defined_before(name, node)
            if not before_def:
                args = [self.expr(a) for a in node.args]
                self.at(node)
                return self.emit(U._CALL_FUNCTION, args, (callee.name,))
            if name not in BUILTINS:  # called before its def has run
                self.at(node)  # NameError before any argument is evaluated, as CPython
                return self.emit(U._LOAD_GLOBAL, imms=(name,))
            # else the builtin it will shadow, as in CPython before the def runs
        if name in BUILTINS and not self.mc.is_rebound(name):
            args = [self.expr(a) for a in node.args]
            self.at(node)
            return self.emit(U._CALL_BUILTIN, args, (name,))
        return self.value_call(node)   # a global variable or any builtin

    def expr_Subscript(self, node: ast.Subscript) -> int:
        container = self.expr(node.value)
        index = self.expr(node.slice)
        self.at(node)
        return self.emit(U._BINARY_SUBSCR, [container, index])

    def expr_List(self, node: ast.List) -> int:
        if any(isinstance(e, ast.Starred) for e in node.elts):
            return self.starred_list(node.elts)   # data.py
        items = [self.expr(e) for e in node.elts]
        self.at(node)
        return self.emit(U._BUILD_LIST, items)

    def expr_Tuple(self, node: ast.Tuple) -> int:
        if any(isinstance(e, ast.Starred) for e in node.elts):
            lst = self.starred_list(node.elts)   # data.py
            self.at(node)
            return self.emit(U._LIST_TO_TUPLE, [lst])
        items = [self.expr(e) for e in node.elts]
        self.at(node)
        return self.emit(U._BUILD_TUPLE, items)

    # -- conditions -----------------------------------------------------------

    def bool_value(self, node: ast.expr) -> int:
        """A value that is certainly a bool: comparisons and ``not`` already are."""
        if isinstance(node, ast.Compare) or (
                isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)):
            return self.expr(node)
        v = self.expr(node)
        self.at(node)
        return self.emit(U._TO_BOOL, [v])

    def branch(self, node: ast.expr, yes: str, no: str) -> None:
        """Compile a condition as control flow, short-circuiting and/or/not."""
        self.at(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.branch(node.operand, no, yes)
        if isinstance(node, ast.BoolOp):
            for operand in node.values[:-1]:
                nxt = self.new_block()
                if isinstance(node.op, ast.And):
                    self.branch(operand, nxt.label, no)
                else:
                    self.branch(operand, yes, nxt.label)
                self.start(nxt)
            return self.branch(node.values[-1], yes, no)
        if isinstance(node, ast.Compare) and len(node.ops) > 1:
            # a < b < c: each middle operand is evaluated once and kept in a temp.
            lhs = self.expr(node.left)
            for i, (op, right) in enumerate(zip(node.ops, node.comparators)):
                rhs = self.expr(right)
                last = i == len(node.ops) - 1
                if not last:
                    keep = self.temp()
                    self.emit(U._STORE_FAST, [rhs], (keep,))
                self.at(node)
                cond = self.emit(U._COMPARE_OP, [lhs, rhs], (CMP_TOKENS[type(op)],))
                if last:
                    self.emit(U._BRANCH, [cond], targets=(yes, no))
                else:
                    nxt = self.new_block()
                    self.emit(U._BRANCH, [cond], targets=(nxt.label, no))
                    self.start(nxt)
                    lhs = self.emit(U._LOAD_FAST, imms=(keep,))
            return
        cond = self.bool_value(node)
        self.emit(U._BRANCH, [cond], targets=(yes, no))

