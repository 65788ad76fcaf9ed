"""Expressions and conditions: each ``ast`` expression to the uops that compute it."""

from __future__ import annotations

import ast

from ..uops import U
from .scopes import NAMESPACE
from .syntax import BINOP_TOKENS, BUILTINS, CMP_TOKENS, FRAME_BUILTINS, UNARY_TOKENS


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
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            return self.value_call(node)   # calls.py: keywords, * and ** arguments
        if isinstance(func, ast.Attribute):
            obj = self.expr(func.value)
            args = [self.expr(a) for a in node.args]
            self.at(node)
            return self.emit(U._CALL_METHOD, [obj, *args], (func.attr,))
        if isinstance(func, ast.Name):
            direct = self.direct_call(func.id, node)
            if direct is not None:
                return direct
        return self.value_call(node)   # calls.py: any callee value, any builtin

    def direct_call(self, name: str, node: ast.Call) -> int | None:
        """A call the frontend resolves now: a plain module function
        (``_CALL_FUNCTION``), a builtin (``_CALL_BUILTIN``), ``super()`` in a method, or a
        builtin that reads the caller's namespace."""
        if self.where(name) not in ("global", "name") or (
                self.scope.kind == "class" and name in self.scope.locals):
            return None
        if name == "super":
            return self.zero_argument_super(node)
        if name in FRAME_BUILTINS and not self.mc.is_rebound(name) and not node.args:
            return self.frame_builtin(name, node)
        if name in ("eval", "exec") and not self.mc.is_rebound(name) and len(node.args) == 1:
            return self.evaluate_source(name, node)
        callee = self.mc.static_callee(name)
        if callee is not None:
            if self.scope.kind == "module" and not self.mc.defined_before(name, node):
                return None   # before its def has run: NameError, or the builtin shadowed
            args = [self.expr(a) for a in node.args]
            self.at(node)
            return self.emit(U._CALL_FUNCTION, args, (callee,))
        if name in BUILTINS and not self.mc.is_rebound(name):
            args = [self.expr(a) for a in node.args]
            self.at(node)
            return self.emit(U._CALL_BUILTIN, args, (name,))
        return None

    def frame_builtin(self, name: str, node: ast.Call) -> int:
        """``globals()``, and ``locals()``/``vars()`` where they are a namespace dict:
        CPython's builtins read the calling frame, which compiled code does not have."""
        self.at(node)
        if name == "globals" or self.scope.kind == "module":
            ns = self.emit(U._GLOBALS)
        elif self.scope.kind == "class":
            ns = self.emit(U._LOAD_FAST, imms=(NAMESPACE,))
        else:
            raise self.fail(node, f"{name}() in a function")
        # dir() is the sorted names (the real builtin ``sorted``, whatever the script binds)
        return self.emit(U._CALL_BUILTIN, [ns], ("sorted",)) if name == "dir" else ns

    def evaluate_source(self, name: str, node: ast.Call) -> int:
        """``eval(s)``/``exec(s)`` run in the script's globals (the builtin alone would
        take the helper's frame); inside a function they would need its locals too."""
        if self.scope.kind != "module":
            raise self.fail(node, f"{name}() without globals in a function")
        source = self.expr(node.args[0])
        self.at(node)
        ns = self.emit(U._GLOBALS)
        return self.emit(U._CALL_BUILTIN, [source, ns], (name,))

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

