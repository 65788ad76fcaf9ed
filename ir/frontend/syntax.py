"""The frontend's vocabulary: operator tokens, the constructs it rejects, its error."""

from __future__ import annotations

import ast

from ..errors import WorkbenchError


BUILTINS = frozenset("""
    abs all any bin bool chr divmod float hex int isinstance len list max min oct ord
    pow print range repr reversed round sorted str sum tuple
""".split())

# Builtins that read the calling frame: the frontend gives them the script's (see
# Expressions.frame_builtin); a call with arguments needs no frame.
FRAME_BUILTINS = frozenset({"globals", "locals", "vars", "dir"})

BINOP_TOKENS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
    ast.Mod: "%", ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&",
    ast.BitOr: "|", ast.BitXor: "^",
}
CMP_TOKENS = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
    ast.Is: "is", ast.IsNot: "is_not", ast.In: "in", ast.NotIn: "not_in",
}
UNARY_TOKENS = {ast.USub: "neg", ast.UAdd: "pos", ast.Invert: "invert"}

UNSUPPORTED_NAMES = {
    ast.AsyncFor: "async for",
    ast.Match: "match statement",
    ast.TryStar: "try/except* statement",
}


class FrontendError(WorkbenchError):
    pass


def unsupported(filename: str, node: ast.AST, what: str) -> FrontendError:
    line = getattr(node, "lineno", 1)
    col = getattr(node, "col_offset", 0) + 1
    return FrontendError(f"{filename}:{line}:{col}: unsupported: {what}")


def describe(node: ast.AST) -> str:
    return UNSUPPORTED_NAMES.get(type(node), type(node).__name__)


