"""List, set and dict comprehensions, inlined as loops of the enclosing function.

CPython 3.11 runs a comprehension as a nested function; here it is the same loops
lowered in place (PEP 709's inlining, as CPython 3.12 does), so its loops are the
enclosing function's and every pass sees them.  What the nested function gave is kept:
the comprehension's ``for`` targets are hidden ``$``-locals (the iteration variable
does not leak and does not clash with a local of the same name; nested comprehensions
get their own), the first iterable is evaluated in the enclosing scope before any of
them exists, and a walrus binds in the enclosing scope.
"""

from __future__ import annotations

import ast

from ..uops import U
from .bindings import bound_names


class _CompStep(ast.stmt):
    """The innermost statement of an inlined comprehension: add one element."""

    _fields = ("node", "result")


class Comprehensions:
    """Mixed into FunctionBuilder; ``self.renames`` is the stack of comprehension
    scopes (source name -> hidden local)."""

    def comprehension_local(self, name: str) -> str | None:
        for scope in reversed(self.renames):
            if name in scope:
                return scope[name]
        return None

    def expr_ListComp(self, node: ast.ListComp) -> int:
        return self.comprehension(node, U._BUILD_LIST)

    def expr_SetComp(self, node: ast.SetComp) -> int:
        return self.comprehension(node, U._BUILD_SET)

    def expr_DictComp(self, node: ast.DictComp) -> int:
        return self.comprehension(node, U._BUILD_MAP)

    def comprehension(self, node, build: str) -> int:
        gens = node.generators
        for g in gens:
            if g.is_async:
                raise self.fail(node, "async comprehension")
        first = gens[0].iter
        # The first iterable, in the enclosing scope (a range() call: its arguments, so
        # the loop stays a counted range loop).
        scope: dict[str, str] = {}
        if self.is_range_call(first):
            args = []
            for a in first.args:
                t = self.temp("arg")
                self.emit(U._STORE_FAST, [self.expr(a)], (t,))
                scope[t] = t
                args.append(ast.copy_location(ast.Name(t, ast.Load()), a))
            first = ast.copy_location(ast.Call(first.func, args, []), first)
        else:
            t = self.temp("iter")
            self.emit(U._STORE_FAST, [self.expr(first)], (t,))
            scope[t] = t
            first = ast.copy_location(ast.Name(t, ast.Load()), first)
        for g in gens:
            for name, _ in bound_names(g.target):
                if name not in scope:
                    scope[name] = self.temp(f"{name}_")
        self.at(node)
        result = self.temp("comp")
        self.emit(U._STORE_FAST, [self.emit(build, [])], (result,))
        body: ast.stmt = ast.copy_location(_CompStep(node, result), node)
        for i in reversed(range(len(gens))):
            g = gens[i]
            for cond in reversed(g.ifs):
                body = ast.copy_location(ast.If(cond, [body], []), cond)
            body = ast.copy_location(
                ast.For(g.target, first if i == 0 else g.iter, [body], []), g.target)
        self.renames.append(scope)
        try:
            self.stmt(body)
        finally:
            self.renames.pop()
        self.at(node)
        return self.emit(U._LOAD_FAST, imms=(result,))

    def stmt__CompStep(self, step: _CompStep) -> None:
        node = step.node
        if isinstance(node, ast.DictComp):
            key = self.expr(node.key)
            value = self.expr(node.value)
            self.at(node)
            d = self.emit(U._LOAD_FAST, imms=(step.result,))
            self.emit(U._STORE_SUBSCR, [d, key, value])
            return
        v = self.expr(node.elt)
        self.at(node)
        c = self.emit(U._LOAD_FAST, imms=(step.result,))
        self.emit(U._CALL_METHOD, [c, v], ("append" if isinstance(node, ast.ListComp)
                                           else "add",))
