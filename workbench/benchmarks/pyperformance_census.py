"""What stops each benchmark of the pyperformance suite in the frontend: its first
unsupported construct, and the ones behind it.

    python -m workbench.benchmarks.pyperformance_census [--json]

The frontend stops at the first construct it does not support.  To see the ones behind
it, the census rewrites the script's ``ast`` so that every occurrence of that construct
is gone (an import becomes ``pass``, ``a.b`` becomes ``a``, a class's body moves to
module level, keyword arguments become positional, ...: each rewrite keeps the parts
that may hold more constructs), compiles it again with the real frontend, and so on
until it compiles.  The result is the sequence of constructs with how many places each
was rewritten in.  The first entry is exactly today's error; the later ones are a
close estimate (a rewrite can hide a construct or, rarely, cause one), for deciding
what to add next, never a test of behaviour.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from dataclasses import dataclass, field

from ir.frontend import UNSUPPORTED_NAMES, FrontendError, compile_source

from .pyperformance_discovery import Benchmark, suite

ERROR = re.compile(r"^(?P<file>.*):(?P<line>\d+):(?P<col>\d+): unsupported: (?P<what>.*)$")
MAX_STEPS = 200

# constructs the brief groups into areas (for "would run if ... worked")
AREAS = {
    "imports": {"import"},
    "attributes": {"attribute access"},
    "classes": {"class definition"},
    "closures": {"nested function", "function definition inside a compound statement",
                 "nonlocal statement"},
}
# everything the helpers are adding now (constructs, exceptions, main's functions and
# classes): what would still stop a benchmark after all of it
IN_PROGRESS = set().union(*AREAS.values()) | {
    "dict display", "set display", "slice", "f-string", "del statement",
    "starred expression", "starred arguments", "assert statement", "keyword arguments",
    "call of a non-builtin name", "call of a variable", "call of a computed function",
    "list comprehension", "set comprehension", "dict comprehension",
    "generator expression", "assignment expression (:=)", "bytes literal",
    "try statement", "raise statement", "with statement",
    "function used as a value", "lambda", "default argument", "decorator",
    "*args or **kwargs parameter", "keyword-only or positional-only parameter",
}


@dataclass
class Census:
    benchmark: str
    first_error: str                     # today's error line (the script's own path)
    blockers: list[tuple[str, int]] = field(default_factory=list)  # construct, places
    compiles: bool = False               # the rewritten script compiled in the end
    stuck: str = ""                      # why the census stopped early, if it did

    def constructs(self) -> list[str]:
        return [c for c, _ in self.blockers]


def census(bench: Benchmark) -> Census:
    source = bench.script.read_text(encoding="utf-8")
    name = bench.script.name
    result = Census(bench.name, "")
    text = source
    for _ in range(MAX_STEPS):
        try:
            compile_source(text, name)
        except FrontendError as e:
            msg = str(e)
        except Exception as e:  # a bug of the frontend's: the census stops there
            result.stuck = f"frontend crashed: {type(e).__name__}: {e}"
            return result
        else:
            result.compiles = True
            return result
        if not result.first_error:
            result.first_error = msg
        m = ERROR.match(msg)
        if m is None:
            result.stuck = msg
            return result
        tree = ast.parse(text)
        what = m["what"]
        n = Rewriter(tree, what, int(m["line"]), int(m["col"]) - 1).apply()
        if n == 0:
            result.stuck = f"cannot rewrite away: {what}"
            return result
        merged = False
        for i, (c, k) in enumerate(result.blockers):
            if c == construct_key(what):
                result.blockers[i] = (c, k + n)
                merged = True
        if not merged:
            result.blockers.append((construct_key(what), n))
        text = ast.unparse(ast.fix_missing_locations(tree))
    result.stuck = f"more than {MAX_STEPS} steps"
    return result


def construct_key(what: str) -> str:
    """The construct without its names: ``call of variable 'x'`` -> ``call of a variable``."""
    if what.startswith("call of variable"):
        return "call of a variable"
    if what.startswith("call of '"):
        return "call of a non-builtin name"
    if what.startswith("function '") and what.endswith("used as a value"):
        return "function used as a value"
    if what.startswith("function '") and "assigned as a variable" in what:
        return "function also assigned as a variable"
    if what.startswith("redefinition of function"):
        return "redefinition of a function"
    if what.startswith("global declaration of function"):
        return "global declaration of a function"
    return what


# construct -> the node types it names: the frontend's table (what it rejects today)
# over the constructs it rejected before (so a census of an older script still runs)
TYPES_OF: dict[str, list[type]] = {
    "import": [ast.Import, ast.ImportFrom], "class definition": [ast.ClassDef],
    "lambda": [ast.Lambda], "try statement": [ast.Try, ast.TryStar],
    "with statement": [ast.With], "dict display": [ast.Dict], "set display": [ast.Set],
    "list comprehension": [ast.ListComp], "set comprehension": [ast.SetComp],
    "dict comprehension": [ast.DictComp], "generator expression": [ast.GeneratorExp],
    "yield": [ast.Yield, ast.YieldFrom], "await": [ast.Await],
    "async function": [ast.AsyncFunctionDef], "async for": [ast.AsyncFor],
    "async with": [ast.AsyncWith], "del statement": [ast.Delete],
    "assert statement": [ast.Assert], "raise statement": [ast.Raise],
    "assignment expression (:=)": [ast.NamedExpr], "match statement": [ast.Match],
    "nonlocal statement": [ast.Nonlocal], "f-string": [ast.JoinedStr],
    "starred expression": [ast.Starred], "slice": [ast.Slice],
    "attribute access": [ast.Attribute],
}
for _t, _w in UNSUPPORTED_NAMES.items():
    if _t not in TYPES_OF.setdefault(_w, []):
        TYPES_OF[_w].append(_t)


class Rewriter(ast.NodeTransformer):
    """Removes every occurrence of one construct, keeping the sub-trees around it."""

    def __init__(self, tree: ast.Module, what: str, line: int, col: int):
        self.tree, self.what, self.line, self.col = tree, what, line, col
        self.count = 0
        self.types = tuple(TYPES_OF.get(what, ()))
        self.hoisted: list[ast.stmt] = []
        self.depth = 0

    def apply(self) -> int:
        w = self.what
        if w in ("decorator", "default argument", "*args or **kwargs parameter",
                 "keyword-only or positional-only parameter"):
            self.fix_signatures()
        elif w == "keyword arguments":
            for node in ast.walk(self.tree):
                if isinstance(node, ast.Call) and node.keywords:
                    node.args += [k.value for k in node.keywords]
                    node.keywords = []
                    self.count += 1
        elif (w.startswith("redefinition of function") or "assigned as a variable" in w
              or w.startswith("global declaration of function")):
            self.rename_function(w.split("'")[1])
        elif w.endswith("literal") or w == "matrix multiplication":
            self.at_position(lambda n: isinstance(n, (ast.Constant, ast.BinOp)))
        else:
            for node in ast.walk(self.tree):
                if isinstance(node, ast.Call):
                    node.func._callee = True  # type: ignore[attr-defined]
            self.visit(self.tree)
            self.tree.body += self.hoisted
            if self.count == 0:
                self.at_position(lambda n: isinstance(n, (ast.stmt, ast.expr)))
        return self.count

    # -- the constructs of UNSUPPORTED_NAMES, every call form and nested functions --
    def visit(self, node):
        if self.types and isinstance(node, self.types) and not (
                isinstance(node, ast.Attribute) and getattr(node, "_callee", False)):
            self.count += 1
            return self.replace(node)
        if isinstance(node, ast.Call) and self.call_matches(node):
            self.count += 1
            return ast.Tuple([self.visit(a) for a in node.args], ast.Load())
        if isinstance(node, ast.Name) and self.value_matches(node):
            self.count += 1
            return ast.Constant(None)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nested = self.depth > 0
            self.depth += 1
            node = self.generic_visit(node)
            self.depth -= 1
            if nested and self.what in AREAS["closures"]:
                self.count += 1
                node.name = f"{node.name}__nested{self.count}"
                self.hoisted.append(node)
                return ast.Pass()
            return node
        if isinstance(node, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
            self.depth += 1
            node = self.generic_visit(node)
            self.depth -= 1
            return node
        return self.generic_visit(node)

    def call_matches(self, node: ast.Call) -> bool:
        w, f = self.what, node.func
        if w == "call of a computed function":
            return not isinstance(f, (ast.Name, ast.Attribute))
        if w.startswith("call of variable '") or w.startswith("call of '"):
            return isinstance(f, ast.Name) and f.id == w.split("'")[1]
        return False

    def value_matches(self, node: ast.Name) -> bool:
        w = self.what
        return (w.startswith("function '") and w.endswith("used as a value")
                and node.id == w.split("'")[1] and isinstance(node.ctx, ast.Load)
                and not getattr(node, "_callee", False))

    def replace(self, node):
        """The construct's node without the construct, keeping its parts."""
        keep = self.visit
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Delete, ast.Match,
                             ast.Nonlocal)):
            return ast.Pass()
        if isinstance(node, ast.ClassDef):
            body = []
            for stmt in node.body:
                stmt = keep(stmt)
                if isinstance(stmt, ast.FunctionDef):
                    stmt.name = f"{node.name}__{stmt.name}"
                body += stmt if isinstance(stmt, list) else [stmt]
            return body
        if isinstance(node, ast.Attribute):
            if isinstance(node.ctx, (ast.Store, ast.Del)):   # x.a = v -> x[0] = v
                return ast.Subscript(keep(node.value), ast.Constant(0), node.ctx)
            return keep(node.value)
        if isinstance(node, (ast.Try, ast.TryStar)):
            body = node.body + [s for h in node.handlers for s in h.body]
            return [keep(s) for s in body + node.orelse + node.finalbody] or ast.Pass()
        if isinstance(node, (ast.With, ast.AsyncWith)):
            return ([ast.Expr(keep(i.context_expr)) for i in node.items]
                    + [keep(s) for s in node.body])
        if isinstance(node, ast.AsyncFunctionDef):   # its awaits go with it
            fn = ast.FunctionDef(node.name, node.args, node.body, node.decorator_list,
                                 node.returns, node.type_comment)
            for sub in ast.walk(fn):
                for name, value in ast.iter_fields(sub):
                    if isinstance(value, ast.Await):
                        setattr(sub, name, value.value)
            return keep(fn)
        if isinstance(node, ast.AsyncFor):
            return keep(ast.For(node.target, node.iter, node.body, node.orelse))
        if isinstance(node, ast.Assert):
            return ast.Expr(keep(node.test))
        if isinstance(node, ast.Raise):
            return ast.Expr(keep(node.exc)) if node.exc else ast.Pass()
        if isinstance(node, (ast.Dict,)):
            return ast.Tuple([keep(v) for v in [k for k in node.keys if k] + node.values],
                             ast.Load())
        if isinstance(node, ast.Set):
            return ast.Tuple([keep(v) for v in node.elts], ast.Load())
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            for g in node.generators:
                parts += [g.iter] + g.ifs
            return ast.Tuple([keep(p) for p in parts], ast.Load())
        if isinstance(node, (ast.Yield, ast.YieldFrom, ast.Await)):
            return keep(node.value) if node.value else ast.Constant(None)
        if isinstance(node, (ast.NamedExpr, ast.Starred)):
            return keep(node.value)
        if isinstance(node, ast.JoinedStr):
            return ast.Tuple([keep(v.value) for v in node.values
                              if isinstance(v, ast.FormattedValue)], ast.Load())
        return ast.Constant(0)    # a lambda, a slice

    # -- signatures, names, one place ------------------------------------------------
    def fix_signatures(self) -> None:
        for node in ast.walk(self.tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            a = node.args
            if self.what == "decorator" and not isinstance(node, ast.Lambda):
                self.count += bool(node.decorator_list)
                node.decorator_list = []
            elif self.what == "default argument":
                n = len(a.defaults) + sum(d is not None for d in a.kw_defaults)
                self.count += bool(n)
                a.defaults, a.kw_defaults = [], [None] * len(a.kwonlyargs)
            elif self.what == "*args or **kwargs parameter":
                extra = [x for x in (a.vararg, a.kwarg) if x is not None]
                self.count += bool(extra)
                a.args += extra
                a.vararg = a.kwarg = None
            else:
                self.count += bool(a.posonlyargs or a.kwonlyargs)
                a.args = a.posonlyargs + a.args + a.kwonlyargs
                a.posonlyargs, a.kwonlyargs, a.kw_defaults = [], [], []
        if self.what == "decorator":
            for node in ast.walk(self.tree):
                if isinstance(node, ast.ClassDef) and node.decorator_list:
                    self.count += 1
                    node.decorator_list = []

    def rename_function(self, name: str) -> None:
        """The later module-level definitions of ``name`` get names of their own."""
        seen = 0
        for stmt in self.tree.body:
            if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
                seen += 1
                if seen > 1 or "redefinition" not in self.what:
                    stmt.name = f"{name}__def{seen}"
                    self.count += 1

    def at_position(self, accept) -> None:
        """The outermost accepted node at the error's position, gone."""
        for parent in ast.walk(self.tree):
            for fieldname, value in ast.iter_fields(parent):
                items = value if isinstance(value, list) else [value]
                for i, child in enumerate(items):
                    if (isinstance(child, ast.AST) and accept(child)
                            and getattr(child, "lineno", None) == self.line
                            and getattr(child, "col_offset", None) == self.col):
                        new = ast.Pass() if isinstance(child, ast.stmt) else ast.Constant(0)
                        if isinstance(value, list):
                            value[i] = new
                        else:
                            setattr(parent, fieldname, new)
                        self.count += 1
                        return


def summary(results: list[Census]) -> dict:
    """Counts over the suite: benchmarks per first construct, and per construct
    anywhere in their sequence (most common first), and which would compile were the
    brief's areas (imports, attributes, classes, closures) done."""
    first: dict[str, int] = {}
    anywhere: dict[str, int] = {}
    for r in results:
        if r.blockers:
            first[r.blockers[0][0]] = first.get(r.blockers[0][0], 0) + 1
        for c in r.constructs():
            anywhere[c] = anywhere.get(c, 0) + 1
    out = {"first": _order(first), "anywhere": _order(anywhere)}
    for key, done in (("areas", set().union(*AREAS.values())), ("in_progress", IN_PROGRESS)):
        after = {}
        for r in results:
            rest = [c for c in r.constructs() if c not in done]
            after[r.benchmark] = rest[0] if rest else (None if r.compiles else r.stuck)
        counts: dict[str, int] = {}
        for c in after.values():
            if c:
                counts[c] = counts.get(c, 0) + 1
        out[f"first_after_{key}"] = after
        out[f"first_after_{key}_counts"] = _order(counts)
        out[f"would_compile_after_{key}"] = sorted(b for b, c in after.items() if c is None)
    return out


def _order(counts: dict[str, int]) -> dict[str, int]:
    """Most common first, then by name."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m workbench.benchmarks.pyperformance_census",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    results = [census(b) for b in suite()]
    s = summary(results)
    if args.json:
        sys.stdout.write(json.dumps({"benchmarks": [r.__dict__ for r in results],
                                     "summary": s}, indent=2) + "\n")
        return 0
    for r in results:
        if not r.blockers:
            print(f"{r.benchmark}: compiles")
            continue
        seq = ", ".join(f"{c} ({n})" for c, n in r.blockers)
        end = "then compiles" if r.compiles else f"then stopped: {r.stuck}"
        print(f"{r.benchmark}: {r.first_error}\n    {seq}; {end}")
    areas = "imports+attributes+classes+closures"
    for title, key in (("first construct", "first"), ("benchmarks needing", "anywhere"),
                       (f"first construct after {areas}", "first_after_areas_counts"),
                       ("first construct after all the work in progress",
                        "first_after_in_progress_counts")):
        print(f"\n{title}:")
        for c, n in s[key].items():
            print(f"  {n:3d}  {c}")
    for title, key in ((areas, "areas"), ("all the work in progress", "in_progress")):
        print(f"\nwould compile after {title}: "
              + (", ".join(s[f"would_compile_after_{key}"]) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
