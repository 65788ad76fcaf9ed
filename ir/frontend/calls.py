"""Calls of any value: the callee evaluated first (an attribute, a subscript, a call's
result, a variable, a builtin loaded with ``_LOAD_GLOBAL``), then the arguments, then
``_CALL`` (keyword names as ``names(...)``) or, with ``*``/``**`` arguments,
``_CALL_EX`` on the built argument list and keyword dict: CPython's CALL and
CALL_FUNCTION_EX, with their evaluation order and messages."""

from __future__ import annotations

import ast

from ..uops import U


class Calls:
    """Mixed into FunctionBuilder."""

    def value_call(self, node: ast.Call) -> int:
        callee = self.expr(node.func)
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords):
            return self.star_call(node, callee)
        args = [self.expr(a) for a in node.args]
        kws = [self.expr(k.value) for k in node.keywords]
        self.at(node)
        return self.emit(U._CALL, [callee, *args, *kws],
                         (tuple(k.arg for k in node.keywords),))

    def star_call(self, node: ast.Call, callee: int) -> int:
        a = node.args
        if len(a) == 1 and isinstance(a[0], ast.Starred):
            args = self.expr(a[0].value)   # checked by _CALL_EX, as CALL_FUNCTION_EX
        elif any(isinstance(e, ast.Starred) for e in a):
            args = self.starred_list(a)
        else:
            args = self.emit(U._BUILD_LIST, [self.expr(e) for e in a])
        kwargs = None
        group: list[int] = []

        def flush():
            nonlocal kwargs, group
            if not group and kwargs is not None:
                return
            self.at(node)
            d = self.emit(U._BUILD_MAP, group)
            if kwargs is None:
                kwargs = d
            else:
                self.emit(U._DICT_MERGE, [callee, kwargs, d])
            group = []

        for k in node.keywords:
            if k.arg is None:
                flush()
                m = self.expr(k.value)
                self.at(k)
                self.emit(U._DICT_MERGE, [callee, kwargs, m])
            else:
                group += [self.emit(U._LOAD_CONST, imms=(self.mc.constant(k.arg),)),
                          self.expr(k.value)]
        if group:
            flush()
        if kwargs is None:
            kwargs = self.emit(U._LOAD_CONST, imms=(None,))
        self.at(node)
        return self.emit(U._CALL_EX, [callee, args, kwargs])
