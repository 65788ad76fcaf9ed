"""The fuzz generator's expressions: literals and typed expressions over the variables
in scope (ints crossing 64 bits, floats with inf/nan/-0.0, bools, lists, calls).

Split from generator (a mixin of `Generator`, which has the statements, functions
and the program, and the helpers `on`, `pick`, `fresh`, `vars_of` these use).
"""

from __future__ import annotations

from dataclasses import dataclass

INT_LITERALS = [0, 1, 2, 3, 5, 7, 10, -1, -2, -3, -7, 13, 100, 255, 1000, -1000,
                2 ** 31 - 1, 2 ** 32, 2 ** 53 + 1, 2 ** 62, 2 ** 63 - 1, -2 ** 63, 2 ** 63,
                2 ** 64 + 3, 10 ** 20, -(10 ** 19)]
SMALL_INTS = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, -1, -2, -3, -5, 17, 31]
FLOAT_LITERALS = ["0.0", "-0.0", "0.5", "1.5", "-2.25", "3.0", "0.1", "1e-300", "1e300",
                  "1.7976931348623157e308", "5e-324", "1e16", "-7.75", "100.0"]
SPECIAL_FLOATS = ["float('inf')", "float('-inf')", "float('nan')"]
MODULI = [97, 1000003, 1000000007, 2 ** 61 - 1, 2 ** 64, 2 ** 64 + 13, 10 ** 20,
          2 ** 127 - 1, 2 ** 63]
CMP = ["<", "<=", ">", ">=", "==", "!="]


@dataclass
class Var:
    name: str
    kind: str        # int | big | float | num | bool | list
    level: int       # loop depth where it was defined
    role: str = "tmp"  # tmp | acc | loop | param | global
    length: int = 0  # lists: an upper bound of the length


class Scope:
    """Variables visible at a point; a nested block gets a child that it discards."""

    def __init__(self, parent: "Scope | None" = None):
        self.parent = parent
        self.vars: dict[str, Var] = {}
        self.iterated: set[str] = set() if parent is None else set(parent.iterated)

    def all(self) -> list[Var]:
        out = self.parent.all() if self.parent else []
        names = {v.name for v in self.vars.values()}
        return [v for v in out if v.name not in names] + list(self.vars.values())

    def add(self, v: Var) -> Var:
        self.vars[v.name] = v
        return v


class Expressions:
    """`Generator`'s expressions, by kind."""

    # -- literals ---------------------------------------------------------------

    def int_lit(self) -> str:
        r = self.rng.random()
        if r < 0.7 or "bigint" in self.exclude:
            v = self.pick(SMALL_INTS)
        else:
            self.features.add("bigint")
            v = self.pick(INT_LITERALS)
        return f"({v})" if v < 0 else str(v)

    def float_lit(self) -> str:
        if not self.exclude & {"float", "nan"} and self.rng.random() < 0.12:
            self.features.add("nan")
            return self.pick(SPECIAL_FLOATS)
        s = self.pick(FLOAT_LITERALS)
        return f"({s})" if s.startswith("-") else s

    # -- expressions ------------------------------------------------------------

    def expr(self, kind: str, scope: Scope, depth: int = 2, top: bool = False) -> str:
        """An expression of ``kind``; ``top``: the whole value of an assignment or a
        condition, where control-flow expressions are always fine."""
        self._top = top
        if depth <= 0 or self.rng.random() < 0.3:
            return self.atom(kind, scope)
        return getattr(self, "expr_" + kind)(scope, depth - 1)

    _top = False

    def cf(self) -> bool:
        """May this expression compile to control flow (if/else, and/or, a<b<c)?
        Call first thing in a production, before generating operands."""
        top, self._top = self._top, False
        if top:
            return True
        if "cfexpr" in self.exclude:
            return False
        self.features.add("cfexpr")
        return True

    def atom(self, kind: str, scope: Scope) -> str:
        if kind == "num":
            kind = self.pick(["int", "int", "float", "bool"] if "float" not in self.exclude
                             else ["int", "bool"])
            cands = self.vars_of(scope, kind, "num")
        elif kind == "big":
            cands = self.vars_of(scope, "big", "int")
        elif kind == "float" and "float" in self.exclude:
            return self.atom("int", scope)
        else:
            cands = self.vars_of(scope, kind)
        if cands and self.rng.random() < 0.75:
            return self.pick(cands).name
        if kind in ("int", "big"):
            return self.int_lit()
        if kind == "float":
            return self.float_lit()
        if kind == "bool":
            return self.pick(["True", "False"])
        if kind == "list":
            return "[" + ", ".join(self.int_lit() for _ in range(self.rng.randint(1, 4))) + "]"
        raise AssertionError(kind)

    def safe_int_divisor(self, scope: Scope, depth: int) -> str:
        a = self.expr("int", scope, depth)
        return self.pick([f"({a} % 7 + 1)", f"(abs({a}) + 1)", f"({a} | 1)",
                          str(self.pick([2, 3, 7, 10, -3, -1, 13]))]).replace("(-", "(-")

    def safe_float_divisor(self, scope: Scope, depth: int) -> str:
        return f"(abs({self.expr('num', scope, depth)}) + 0.5)"

    def expr_int(self, scope: Scope, d: int) -> str:
        cf = self.cf()
        r = self.rng.random()
        e = lambda: self.expr("int", scope, d)  # noqa: E731
        lists = self.vars_of(scope, "list")
        if r < 0.30:
            return f"({e()} {self.pick(['+', '-', '*', '+', '-'])} {e()})"
        if r < 0.40:
            return f"({e()} {self.pick(['//', '%'])} {self.safe_int_divisor(scope, d)})"
        if r < 0.48:
            return f"({e()} {self.pick(['&', '|', '^'])} {e()})"
        if r < 0.54:
            shift = self.pick([str(self.rng.randint(0, 70)), f"({e()} % 16)"])
            return f"({e()} {self.pick(['<<', '>>'])} {shift})"
        if r < 0.60:
            return self.pick([f"(-{e()})", f"(~{e()})", f"abs({e()})"])
        if r < 0.65:
            return f"{self.pick(['min', 'max'])}({e()}, {e()})"
        if r < 0.68:
            return f"({e()} ** {self.rng.randint(0, 3)})"
        if r < 0.76 and lists and "list" not in self.exclude:
            lst = self.pick(lists).name
            self.features.add("list")
            return self.pick([f"len({lst})", f"{lst}[{e()} % len({lst})]", f"{lst}[-1]",
                              f"{lst}[-({e()} % len({lst})) - 1]"])
        if r < 0.80 and "float" not in self.exclude:
            f = self.expr("float", scope, d)
            return f"int(max(-1e15, min(1e15, {f})))"
        if r < 0.85 and "bool" not in self.exclude:
            self.features.add("bool")
            return f"({self.expr('bool', scope, d)} + {e()})"
        if r < 0.90 and cf:
            return f"({e()} if {self.expr('bool', scope, d)} else {e()})"
        call = self.call_expr("int", scope, d)
        return call or f"({e()} + {e()})"

    def expr_big(self, scope: Scope, d: int) -> str:
        r = self.rng.random()
        e = lambda: self.expr("big", scope, d)  # noqa: E731
        if r < 0.4:
            return f"({e()} {self.pick(['+', '-'])} {self.expr('int', scope, d)})"
        if r < 0.55:
            return f"({e()} // {self.safe_int_divisor(scope, d)})"
        if r < 0.65:
            return f"({e()} >> {self.rng.randint(0, 40)})"
        if r < 0.75:
            return f"{self.pick(['max', 'min'])}({e()}, {e()})"
        if r < 0.85:
            lists = self.vars_of(scope, "list")
            if lists:
                return f"sum({self.pick(lists).name})"
        return self.call_expr("big", scope, d) or self.expr("int", scope, d)

    def expr_float(self, scope: Scope, d: int) -> str:
        if "float" in self.exclude:
            return self.expr("int", scope, d)
        self.features.add("float")
        cf = self.cf()
        r = self.rng.random()
        f = lambda: self.expr("float", scope, d)  # noqa: E731
        if r < 0.30:
            return f"({f()} {self.pick(['+', '-', '*'])} {f()})"
        if r < 0.42:
            return f"({f()} {self.pick(['/', '/', '//', '%'])} {self.safe_float_divisor(scope, d)})"
        if r < 0.52:
            return f"({f()} {self.pick(['+', '-', '*'])} {self.expr('int', scope, d)})"
        if r < 0.58:
            return f"({self.expr('int', scope, d)} / {self.safe_int_divisor(scope, d)})"
        if r < 0.64:
            return f"float({self.expr('int', scope, d)})"
        if r < 0.72:
            return self.pick([f"abs({f()})", f"(-{f()})", f"round({f()}, 2)",
                              f"(abs({f()}) ** 0.5)"])
        if r < 0.78:
            return f"{self.pick(['min', 'max'])}({f()}, {f()})"
        if r < 0.86 and cf:
            return f"({f()} if {self.expr('bool', scope, d)} else {f()})"
        return self.call_expr("float", scope, d) or f"({f()} * 0.5)"

    def expr_num(self, scope: Scope, d: int) -> str:
        cf = self.cf()
        r = self.rng.random()
        n = lambda: self.expr("num", scope, d)  # noqa: E731
        if r < 0.35:
            return self.expr(self.pick(["int", "float", "bool"]), scope, d)
        if r < 0.6:
            return f"({n()} {self.pick(['+', '-', '*'])} {n()})"
        if r < 0.68 and "float" not in self.exclude:
            return f"({n()} / {self.safe_float_divisor(scope, d)})"
        if r < 0.76 and cf:
            return f"({n()} {self.pick(['and', 'or'])} {n()})"
        if r < 0.86 and cf:
            self.features.add("polymorphic")
            return f"({n()} if {self.expr('bool', scope, d)} else {n()})"
        if r < 0.92:
            return f"{self.pick(['min', 'max'])}({n()}, {n()})"
        return self.call_expr("num", scope, d) or n()

    def expr_bool(self, scope: Scope, d: int) -> str:
        cf = self.cf()
        r = self.rng.random()
        if r < 0.35:
            k = self.pick(["int", "int", "float", "num", "big"])
            return f"({self.expr(k, scope, d)} {self.pick(CMP)} {self.expr(k, scope, d)})"
        if r < 0.45 and cf:
            a, b, c = (self.expr("int", scope, d) for _ in range(3))
            return f"({a} {self.pick(CMP[:4])} {b} {self.pick(CMP[:4])} {c})"
        if r < 0.55:
            return f"({self.expr('int', scope, d)} % {self.rng.randint(2, 9)} == " \
                   f"{self.rng.randint(0, 1)})"
        if r < 0.65:
            return f"(not {self.expr('bool', scope, d)})"
        if r < 0.75 and cf:
            op = self.pick(["and", "or"])
            return f"({self.expr('bool', scope, d)} {op} {self.expr('bool', scope, d)})"
        if r < 0.82:
            lists = self.vars_of(scope, "list")
            if lists:
                return f"({self.expr('int', scope, d)} {self.pick(['in', 'not in'])} " \
                       f"{self.pick(lists).name})"
        if r < 0.88:
            f = self.expr("float", scope, d)
            return f"({f} != {f})" if self.rng.random() < 0.5 else f"bool({f})"
        return f"bool({self.expr('int', scope, d)})"

    def expr_list(self, scope: Scope, d: int) -> str:
        return self.atom("list", scope)

    def call_expr(self, kind: str, scope: Scope, d: int) -> str | None:
        """A call to an earlier function returning ``kind`` (cheap ones only in loops)."""
        ok = {"int": ("int",), "big": ("big", "int"), "float": ("float",),
              "num": ("int", "float", "num")}[kind]
        limit = max(1, self.budget_left // 4)
        cands = [f for f in self.funcs if f.ret in ok and f.cost <= limit]
        if not cands or self.rng.random() < 0.5:
            return None
        f = self.pick(cands)
        self.spend(f.cost)
        return f"{f.name}({', '.join(self.arg(k, scope, d) for k in f.params)})"

    def arg(self, kind: str, scope: Scope, d: int) -> str:
        if kind == "list":
            lists = self.vars_of(scope, "list")
            return self.pick(lists).name if lists else self.atom("list", scope)
        if kind == "num" and "float" not in self.exclude and self.on("polymorphic", 0.4):
            i = self.pick(self.loop_vars).name if self.loop_vars else self.int_lit()
            # an int most of the time, a float every few calls
            return f"({i} * (1 + ({i} % {self.rng.randint(2, 11)} == 0) * 0.5))"
        return self.expr(kind, scope, max(d, 0))
