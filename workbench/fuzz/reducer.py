"""Shrinking a failing program while it keeps failing the same way.

``reduce(source, interesting, deadline)`` works on the Python AST:

1. delta debugging (ddmin's chunk removal) over every statement, outer ones first in
   pre-order, so whole functions and loops go before their insides; an emptied
   body becomes ``pass``;
2. one-at-a-time simplifications: a compound statement replaced by its body, an
   ``else`` dropped, an expression replaced by one of its operands, a list display
   losing elements;
3. literal shrinking: ints towards 0 (0, 1, halves), floats to 0.0/1.0/integers.

It repeats until nothing changes or the deadline passes.  ``interesting(text)``
decides (the campaign's test: the same mismatch against CPython); results are
cached by text.  Every candidate is re-rendered with ``ast.unparse``.
"""

from __future__ import annotations

import ast
import time
from typing import Callable, Iterator


class _Budget(Exception):
    pass


class Reducer:
    def __init__(self, interesting: Callable[[str], bool], deadline: float,
                 max_tests: int = 5000):
        self.interesting = interesting
        self.deadline = deadline
        self.max_tests = max_tests
        self.cache: dict[str, bool] = {}
        self.visited: set[str] = set()   # texts once accepted: never go back to one
        self.tests = 0

    def test(self, text: str) -> bool:
        if text in self.cache:
            return self.cache[text]
        if time.monotonic() > self.deadline or self.tests >= self.max_tests:
            raise _Budget
        try:
            compile(text, "<candidate>", "exec")
        except (SyntaxError, ValueError):
            self.cache[text] = False
            return False
        self.tests += 1
        ok = bool(self.interesting(text))
        self.cache[text] = ok
        return ok

    # -- the passes -------------------------------------------------------------

    def run(self, source: str) -> str:
        best = _render(ast.parse(source))
        if best != source and not self.test(best):
            best = source  # unparse changed the meaning (should not happen)
            return best
        self.cache[best] = True
        try:
            while True:
                before = best
                best = self.ddmin_statements(best)
                best = self.simplify(best)
                best = self.shrink_literals(best)
                if best == before:
                    break
        except _Budget:
            pass
        return best

    def ddmin_statements(self, text: str) -> str:
        n = len(_statements(ast.parse(text)))
        keep = list(range(n))
        chunks = 2
        while len(keep) >= 1:
            size = max(1, -(-len(keep) // chunks))
            removed_any = False
            for start in range(0, len(keep), size):
                cand_keep = keep[:start] + keep[start + size:]
                cand = _remove_statements(text, set(keep) - set(cand_keep) | _dropped(n, keep))
                if cand is not None and self.test(cand):
                    keep = cand_keep
                    removed_any = True
                    chunks = max(chunks - 1, 2)
                    break
            if not removed_any:
                if size == 1:
                    break
                chunks = min(len(keep), chunks * 2)
        final = _remove_statements(text, _dropped(n, keep))
        return final if final is not None else text

    def first_success(self, text: str, candidates: Callable[[ast.Module], Iterator]) -> str:
        """Greedily apply each candidate edit that keeps the failure, restarting after
        each success (positions move)."""
        changed = True
        while changed:
            changed = False
            tree = ast.parse(text)
            count = sum(1 for _ in candidates(tree))
            for k in range(count):
                tree = ast.parse(text)
                edits = list(candidates(tree))
                if k >= len(edits):
                    break
                cand = edits[k]()
                if cand is None or cand == text or cand in self.visited:
                    continue
                if self.test(cand):
                    text = cand
                    self.visited.add(text)
                    changed = True
                    break
        return text

    def simplify(self, text: str) -> str:
        return self.first_success(text, _simplifications)

    def shrink_literals(self, text: str) -> str:
        return self.first_success(text, _literal_edits)


def reduce(source: str, interesting: Callable[[str], bool], deadline: float,
           max_tests: int = 5000) -> tuple[str, int]:
    """The reduced program and the number of candidates tested."""
    r = Reducer(interesting, deadline, max_tests)
    return r.run(source), r.tests


# --------------------------------------------------------------------------- statements

_BODIES = ("body", "orelse")


def _render(tree: ast.AST) -> str:
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _statements(tree: ast.Module) -> list[ast.stmt]:
    """Every statement, pre-order."""
    out: list[ast.stmt] = []

    def visit(stmts: list[ast.stmt]) -> None:
        for s in stmts:
            out.append(s)
            for field in _BODIES:
                sub = getattr(s, field, None)
                if isinstance(sub, list) and sub and isinstance(sub[0], ast.stmt):
                    visit(sub)

    visit(tree.body)
    return out


def _dropped(n: int, keep: list[int]) -> set[int]:
    return set(range(n)) - set(keep)


def _remove_statements(text: str, drop: set[int]) -> str | None:
    tree = ast.parse(text)
    stmts = _statements(tree)
    doomed = {id(stmts[i]) for i in drop if i < len(stmts)}

    def filt(stmts: list[ast.stmt], required: bool) -> list[ast.stmt]:
        kept = [s for s in stmts if id(s) not in doomed]
        for s in kept:
            for field in _BODIES:
                sub = getattr(s, field, None)
                if isinstance(sub, list) and sub and isinstance(sub[0], ast.stmt):
                    setattr(s, field, filt(sub, field == "body"))
        if not kept and required:
            kept = [ast.Pass()]
        return kept

    tree.body = filt(tree.body, False)
    return _render(tree)


# --------------------------------------------------------------------------- edits

def _stmt_lists(tree: ast.AST) -> Iterator[tuple[ast.AST, str, list]]:
    for node in ast.walk(tree):
        for field in ("body", "orelse"):
            sub = getattr(node, field, None)
            if isinstance(sub, list) and sub and isinstance(sub[0], ast.stmt):
                yield node, field, sub


def _simplifications(tree: ast.Module) -> Iterator[Callable[[], str | None]]:
    """Edits, each a thunk over this (freshly parsed) tree that renders the result."""
    # compound statement -> its body / else part
    for parent, field, stmts in list(_stmt_lists(tree)):
        for i, s in enumerate(stmts):
            if isinstance(s, (ast.If, ast.For, ast.While)):
                for part in ("body", "orelse"):
                    if getattr(s, part):
                        yield _splice(tree, stmts, i, part)
            if isinstance(s, (ast.If, ast.For, ast.While)) and s.orelse:
                yield _drop_else(tree, s)
    # expression -> one of its operands
    for node in ast.walk(tree):
        for field, value in ast.iter_fields(node):
            if isinstance(value, ast.expr):
                for repl in _smaller_exprs(value):
                    yield _set_field(tree, node, field, value, repl)
            elif isinstance(value, list):
                for k, item in enumerate(value):
                    if isinstance(item, ast.expr):
                        for repl in _smaller_exprs(item):
                            yield _set_item(tree, value, k, repl)
        if isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) > 1 and \
                isinstance(node.ctx, ast.Load):
            for k in range(len(node.elts)):
                yield _del_item(tree, node.elts, k)


def _splice(tree, stmts, i, part):
    def edit():
        s = stmts[i]
        stmts[i:i + 1] = getattr(s, part)
        text = _render(tree)
        stmts[i:i + 1] = [s]
        return text
    return edit


def _drop_else(tree, s):
    def edit():
        old = s.orelse
        s.orelse = []
        text = _render(tree)
        s.orelse = old
        return text
    return edit


def _set_field(tree, node, field, old, new):
    def edit():
        setattr(node, field, new)
        text = _render(tree)
        setattr(node, field, old)
        return text
    return edit


def _set_item(tree, items, k, new):
    def edit():
        old = items[k]
        items[k] = new
        text = _render(tree)
        items[k] = old
        return text
    return edit


def _del_item(tree, items, k):
    def edit():
        old = items[k]
        del items[k]
        text = _render(tree)
        items.insert(k, old)
        return text
    return edit


def _smaller_exprs(e: ast.expr) -> list[ast.expr]:
    if isinstance(e, ast.BinOp):
        return [e.left, e.right]
    if isinstance(e, ast.UnaryOp):
        return [e.operand]
    if isinstance(e, ast.BoolOp):
        return list(e.values)
    if isinstance(e, ast.IfExp):
        return [e.body, e.orelse]
    if isinstance(e, ast.Compare) and len(e.ops) > 1:
        return [ast.Compare(e.left, e.ops[:1], e.comparators[:1])]
    if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and \
            e.func.id not in ("range", "print"):
        return [a for a in e.args if not isinstance(a, ast.Starred)]
    return []


def _literal_edits(tree: ast.Module) -> Iterator[Callable[[], str | None]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and type(node.value) in (int, float) and \
                not isinstance(node.value, bool):
            for v in _smaller_numbers(node.value):
                yield _set_const(tree, node, v)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value \
                and node.value not in ("inf", "-inf", "nan"):
            yield _set_const(tree, node, "")


def _set_const(tree, node, v):
    def edit():
        old = node.value
        node.value = v
        text = _render(tree)
        node.value = old
        return text
    return edit


def _smaller_numbers(v) -> list:
    """Candidates strictly closer to zero (so shrinking always terminates), boldest first."""
    if isinstance(v, int):
        out = [0, 1, -1]
        if abs(v) > 1 << 40:
            out += [1 << 32, (1 << 62), (1 << 63) - 1, 1 << 63, -(1 << 63), 1 << 64]
        d = abs(v) // 2
        while d:
            out.append(v - d if v > 0 else v + d)
            d //= 2
        return [x for x in dict.fromkeys(out)
                if abs(x) < abs(v) or (abs(x) == abs(v) and x > v)]
    if v != v or v in (float("inf"), float("-inf")):
        return [0.0, 1.0]
    out = [0.0, 1.0, float(int(v)), v / 2]
    return [x for x in dict.fromkeys(out) if abs(x) < abs(v)]
