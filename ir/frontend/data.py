"""Data expressions: attributes, dict/set displays, starred items in displays, slices,
f-strings and the walrus, each in CPython's evaluation order."""

from __future__ import annotations

import ast

from ..uops import U

# FormattedValue.conversion: the character code of !s, !r, !a (-1: none)
_CONVERSIONS = {ord("s"): "str", ord("r"): "repr", ord("a"): "ascii"}


class DataExpressions:
    """Mixed into FunctionBuilder."""

    def expr_Attribute(self, node: ast.Attribute) -> int:
        owner = self.expr(node.value)
        self.at(node)
        return self.emit(U._LOAD_ATTR, [owner], (node.attr,))

    def expr_Slice(self, node: ast.Slice) -> int:
        parts = [self.expr(p) if p is not None else self.emit(U._LOAD_CONST, imms=(None,))
                 for p in (node.lower, node.upper, node.step)]
        self.at(node)
        return self.emit(U._BUILD_SLICE, parts)

    def expr_NamedExpr(self, node: ast.NamedExpr) -> int:
        v = self.expr(node.value)
        self.at(node)
        self.store_name(node.target.id, v)
        return v

    # -- displays -------------------------------------------------------------

    def starred_list(self, elts: list[ast.expr]) -> int:
        """``[a, *b, c]``: the items before the first star in one ``_BUILD_LIST``, then
        each starred iterable extended and each plain item appended, in order."""
        k = next(i for i, e in enumerate(elts) if isinstance(e, ast.Starred))
        lst = self.emit(U._BUILD_LIST, [self.expr(e) for e in elts[:k]])
        for e in elts[k:]:
            if isinstance(e, ast.Starred):
                v = self.expr(e.value)
                self.at(e)
                self.emit(U._LIST_EXTEND, [lst, v])
            else:
                v = self.expr(e)
                self.at(e)
                self.emit(U._CALL_METHOD, [lst, v], ("append",))
        return lst

    def expr_Dict(self, node: ast.Dict) -> int:
        result = None
        pending: list[int] = []

        def flush():
            nonlocal result, pending
            if not pending:
                return
            self.at(node)
            d = self.emit(U._BUILD_MAP, pending)
            if result is None:
                result = d
            else:
                self.emit(U._DICT_UPDATE, [result, d])
            pending = []

        for k, v in zip(node.keys, node.values):
            if k is None:   # **mapping
                flush()
                if result is None:
                    self.at(node)
                    result = self.emit(U._BUILD_MAP, [])
                m = self.expr(v)
                self.at(v)
                self.emit(U._DICT_UPDATE, [result, m])
            else:
                pending += [self.expr(k), self.expr(v)]
        flush()
        if result is None:
            self.at(node)
            result = self.emit(U._BUILD_MAP, [])
        return result

    def expr_Set(self, node: ast.Set) -> int:
        elts = node.elts
        k = next((i for i, e in enumerate(elts) if isinstance(e, ast.Starred)), len(elts))
        items = [self.expr(e) for e in elts[:k]]
        self.at(node)
        s = self.emit(U._BUILD_SET, items)
        for e in elts[k:]:
            if isinstance(e, ast.Starred):
                v = self.expr(e.value)
                self.at(e)
                self.emit(U._SET_UPDATE, [s, v])
            else:
                v = self.expr(e)
                self.at(e)
                self.emit(U._CALL_METHOD, [s, v], ("add",))
        return s

    # -- f-strings ------------------------------------------------------------

    def expr_JoinedStr(self, node: ast.JoinedStr) -> int:
        parts = [self.expr(v) for v in node.values]
        self.at(node)
        if len(parts) == 1 and isinstance(node.values[0], ast.FormattedValue):
            return parts[0]
        return self.emit(U._BUILD_STRING, parts)

    def expr_FormattedValue(self, node: ast.FormattedValue) -> int:
        v = self.expr(node.value)
        self.at(node)
        if node.conversion in _CONVERSIONS:
            v = self.emit(U._CONVERT_VALUE, [v], (_CONVERSIONS[node.conversion],))
        if node.format_spec is not None:
            spec = self.expr(node.format_spec)
        else:
            spec = self.emit(U._LOAD_CONST, imms=(self.mc.constant(""),))
        self.at(node)
        return self.emit(U._FORMAT_VALUE, [v, spec])
