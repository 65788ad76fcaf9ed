"""Random programs in the frontend's subset, deterministic per seed.

``generate(seed)`` returns the source of one program.  What it exercises:

* ints that cross 64 bits (accumulators, literals near 2**63, ranges that cross
  it), floats including inf, -inf, nan and -0.0, bools used as numbers;
* branches (``if``/``elif``/``else``, chained comparisons, ``and``/``or``/``not``,
  conditional expressions), nested loops: ``range`` with 1-3 arguments and literal,
  negative or variable steps, loops over lists and tuples, ``while`` loops with
  ``break``/``continue``, ``for``/``else``;
* lists with in-range and negative indexes, stores, ``append``; tuples and
  unpacking; calls between functions and bounded recursion; globals read and
  written by functions, and rebound at module level;
* programs that end with ZeroDivisionError, IndexError, OverflowError or
  ValueError at an iteration after the code was optimized.

Every program is hot: its driver loop runs at least 100 times and calls every
function each iteration, so the tiered runtime (20 calls or 50 loop-header
arrivals) optimizes functions and loops, and enters loops through OSR.

Programs stay small and terminate: a work budget bounds loop trip counts, values
only grow through designated accumulators (additive, or reduced modulo a
constant), and lists are never appended to while something iterates them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .expressions import MODULI, Expressions, Scope, Var

BUDGET = 6000           # statements executed, roughly, by one program
MIN_HOT = 100           # driver loop iterations (tier-up needs 20 calls / 50 arrivals)

FEATURES = ("bigint", "float", "nan", "bool", "list", "tuple", "while", "recursion",
            "globals", "rebind_global", "fault", "print_in_loop", "polymorphic", "stepvar",
            "cfexpr", "deadfault")
# cfexpr: a conditional expression, ``and``/``or`` or a chained comparison as an
# operand inside a larger expression (they compile to control flow; elsewhere they
# appear only as a whole assignment's value or a condition).  deadfault: the value
# computed by a statement that raises after tier-up is never used.

@dataclass
class Func:
    name: str
    params: list[str]             # kinds
    ret: str                      # kind
    cost: int
    lines: list[str] = field(default_factory=list)
    global_writes: set[str] = field(default_factory=set)  # ``global`` names it assigns
    depth: int = 0                                          # recursive: deepest useful n


class Generator(Expressions):
    def __init__(self, seed: int, exclude: frozenset[str] | set[str] = frozenset()):
        self.seed = seed
        self.rng = random.Random(seed)
        self.exclude = frozenset(exclude)
        self.features: set[str] = set()
        self.counter = 0
        self.funcs: list[Func] = []
        self.globals: list[Var] = []
        self.written_globals: set[str] = set()
        self.cur: Func | None = None
        self.loop_depth = 0
        self.loop_vars: list[Var] = []   # innermost last

    # -- helpers ----------------------------------------------------------------

    def on(self, feature: str, p: float) -> bool:
        """Use ``feature`` with probability ``p`` (never when excluded)."""
        if feature in self.exclude:
            return False
        if self.rng.random() < p:
            self.features.add(feature)
            return True
        return False

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def pick(self, seq):
        return self.rng.choice(seq)

    def vars_of(self, scope: Scope, *kinds: str) -> list[Var]:
        return [v for v in scope.all() if v.kind in kinds]

    # -- budget -----------------------------------------------------------------

    budget_left = BUDGET
    trips = 1   # iterations of the enclosing loops, multiplied
    driver: Var | None = None

    def spend(self, n: int) -> None:
        self.budget_left -= n

    # -- statements -------------------------------------------------------------

    def block(self, scope: Scope, ind: str, budget: int, n_min: int = 1, n_max: int = 5,
              lines: list[str] | None = None) -> list[str]:
        out = [] if lines is None else lines
        saved = self.budget_left
        self.budget_left = budget
        n = self.rng.randint(n_min, n_max)
        for _ in range(n):
            if self.budget_left <= 0:
                break
            self.stmt(scope, ind, out)
        if len(out) == 0 or all(line.strip().startswith("#") for line in out):
            out.append(ind + "pass")
        used = budget - self.budget_left
        self.budget_left = saved
        return out, used

    def stmt(self, scope: Scope, ind: str, out: list[str]) -> None:
        r = self.rng.random()
        self.spend(1)
        accs = [v for v in scope.all() if v.role == "acc"]
        if r < 0.22 and accs:
            return self.acc_update(self.pick(accs), scope, ind, out)
        if r < 0.42:
            return self.assign_tmp(scope, ind, out)
        if r < 0.55:
            return self.if_stmt(scope, ind, out)
        if r < 0.70 and self.budget_left >= 6:
            return self.loop(scope, ind, out)
        if r < 0.78 and "list" not in self.exclude:
            return self.list_stmt(scope, ind, out)
        if r < 0.83 and self.loop_vars and self.cur_loop_ok():
            c = self.expr("bool", scope, 1)
            # the driver loop must stay hot: no break out of it
            jumps = ["continue"] if self.loop_vars[-1] is self.driver else ["break", "continue"]
            out.append(f"{ind}if {c}:")
            out.append(f"{ind}    {self.pick(jumps)}")
            return
        if r < 0.87 and "tuple" not in self.exclude:
            return self.tuple_stmt(scope, ind, out)
        if r < 0.91 and self.written_globals_here():
            g = self.pick(self.written_globals_here())
            out.append(f"{ind}{g} = ({g} * 3 + {self.expr('int', scope, 1)}) % "
                       f"{self.pick(MODULI)}")
            return
        if r < 0.94 and self.loop_vars and self.on("print_in_loop", 0.5):
            i = self.loop_vars[-1].name
            out.append(f"{ind}if {i} % {self.rng.randint(23, 61)} == {self.rng.randint(0, 5)}:")
            out.append(f"{ind}    print({self.print_args(scope)})")
            return
        return self.assign_tmp(scope, ind, out)

    def cur_loop_ok(self) -> bool:
        return self.loop_depth > 0

    def written_globals_here(self) -> list[str]:
        return sorted(self.cur.global_writes) if self.cur is not None else []

    def print_args(self, scope: Scope) -> str:
        vs = [v for v in scope.all() if v.kind != "list"]
        self.rng.shuffle(vs)
        return ", ".join([repr(self.fresh("p"))] + [v.name for v in vs[:3]])

    def assign_tmp(self, scope: Scope, ind: str, out: list[str]) -> None:
        kinds = ["int", "int", "int", "float", "num", "bool", "big"]
        kinds = [k for k in kinds if not (k in ("float", "num") and "float" in self.exclude)]
        kind = self.pick(kinds)
        name = self.fresh("t")
        e = self.expr(kind, scope, self.rng.randint(1, 3), top=True)
        out.append(f"{ind}{name} = {e}")
        scope.add(Var(name, kind, self.loop_depth))

    def acc_update(self, acc: Var, scope: Scope, ind: str, out: list[str]) -> None:
        n = acc.name
        if acc.kind == "big":
            e = self.expr("int", scope, 2)
            out.append(self.pick([f"{ind}{n} += {e}", f"{ind}{n} -= {e}",
                                  f"{ind}{n} = {n} + {e}", f"{ind}{n} ^= {e}"]))
        elif acc.kind == "int":
            e = self.expr("int", scope, 2)
            m = self.pick(MODULI)
            out.append(self.pick([f"{ind}{n} = ({n} * {self.rng.randint(2, 40)} + {e}) % {m}",
                                  f"{ind}{n} = ({n} + {e}) & {m - 1}",
                                  f"{ind}{n} = ({n} ^ {e}) % {m}"]))
        else:  # float
            e = self.expr("float", scope, 2)
            out.append(self.pick([f"{ind}{n} += {e}", f"{ind}{n} -= {e}",
                                  f"{ind}{n} = {n} * 0.5 + {e}",
                                  f"{ind}{n} = {n} * 1.0001 + {e}",
                                  f"{ind}{n} = max({n}, {e})", f"{ind}{n} = min({n}, {e})"]))

    def if_stmt(self, scope: Scope, ind: str, out: list[str]) -> None:
        c = self.expr("bool", scope, 2, top=True) if self.rng.random() < 0.8 else \
            self.expr(self.pick(["int", "float", "list"]), scope, 1)
        budget = max(1, self.budget_left)
        out.append(f"{ind}if {c}:")
        lines, used = self.block(Scope(scope), ind + "    ", budget, 1, 3)
        out.extend(lines)
        total = used
        if self.rng.random() < 0.3:
            out.append(f"{ind}elif {self.expr('bool', scope, 1)}:")
            lines, used = self.block(Scope(scope), ind + "    ", budget, 1, 2)
            out.extend(lines)
            total = max(total, used)
        if self.rng.random() < 0.5:
            out.append(f"{ind}else:")
            lines, used = self.block(Scope(scope), ind + "    ", budget, 1, 3)
            out.extend(lines)
            total = max(total, used)
        self.spend(total)

    def trip(self) -> int:
        """A trip count that fits the budget (the body gets budget // trip)."""
        left = self.budget_left
        options = [t for t in (2, 3, 5, 8, 12, 20, 30, 50, 60, 80, 120) if t * 2 <= left]
        return self.pick(options) if options else 1

    def loop(self, scope: Scope, ind: str, out: list[str]) -> None:
        t = self.trip()
        inner = Scope(scope)
        body_ind = ind + "    "
        kind = self.rng.random()
        lists = [v for v in self.vars_of(scope, "list") if v.length <= t and v.length > 0]
        header: list[str] = []
        pre_body: list[str] = []
        is_while = False
        if kind < 0.55:
            i = self.fresh("i")
            header.append(f"{ind}for {i} in {self.range_call(t, scope)}:")
            var = inner.add(Var(i, "int", self.loop_depth + 1, "loop"))
        elif kind < 0.7 and lists and "list" not in self.exclude:
            lst = self.pick(lists)
            i = self.fresh("v")
            header.append(f"{ind}for {i} in {lst.name}:")
            inner.iterated.add(lst.name)
            var = inner.add(Var(i, "big", self.loop_depth + 1, "loop"))
            t = lst.length
        elif kind < 0.78 and "tuple" not in self.exclude:
            i = self.fresh("v")
            items = [self.atom(self.pick(["int", "float", "bool"]), scope)
                     for _ in range(self.rng.randint(2, 4))]
            header.append(f"{ind}for {i} in ({', '.join(items)},):")
            var = inner.add(Var(i, "num", self.loop_depth + 1, "loop"))
            t = len(items)
        elif "while" not in self.exclude:
            self.features.add("while")
            is_while = True
            w = self.fresh("w")
            out.append(f"{ind}{w} = 0")
            if self.rng.random() < 0.5:
                header.append(f"{ind}while {w} < {t}:")
            else:
                header.append(f"{ind}while True:")
                pre_body.append(f"{body_ind}if {w} >= {t}:")
                pre_body.append(f"{body_ind}    break")
            pre_body.append(f"{body_ind}{w} += 1")
            var = inner.add(Var(w, "int", self.loop_depth + 1, "loop"))
        else:
            i = self.fresh("i")
            header.append(f"{ind}for {i} in range({t}):")
            var = inner.add(Var(i, "int", self.loop_depth + 1, "loop"))
        self.loop_depth += 1
        self.loop_vars.append(var)
        self.trips *= max(t, 1)
        body_budget = max(1, self.budget_left // max(t, 1))
        lines, used = self.block(inner, body_ind, body_budget, 1, 4)
        self.trips //= max(t, 1)
        self.loop_vars.pop()
        self.loop_depth -= 1
        out.extend(header)
        out.extend(pre_body)
        out.extend(lines)
        if not is_while and self.rng.random() < 0.1:
            out.append(f"{ind}else:")
            out.append(f"{body_ind}{self.acc_or_pass(scope)}")
        self.spend(t * max(used, 1))

    def acc_or_pass(self, scope: Scope) -> str:
        accs = [v for v in scope.all() if v.role == "acc" and v.kind == "big"]
        return f"{accs[0].name} += 1" if accs else "pass"

    def range_call(self, t: int, scope: Scope) -> str:
        r = self.rng.random()
        if r < 0.35:
            return f"range({t})"
        start = self.pick([0, 1, -5, 7, -100, 1000])
        if r < 0.45 and "bigint" not in self.exclude:
            self.features.add("bigint")
            start = self.pick([2 ** 63 - t // 2, -2 ** 63 - t // 2, 2 ** 62, 2 ** 64])
        if r < 0.6:
            return f"range({start}, {start + t})"
        step = self.pick([2, 3, 5, 10])
        if r < 0.72:
            return f"range({start}, {start + t * step}, {step})"
        if r < 0.84:
            return f"range({start + t * step}, {start}, -{step})"
        if "stepvar" in self.exclude:
            return f"range({t})"
        self.features.add("stepvar")
        a = self.expr("int", scope, 0)
        s = f"({a} % 3 + 1)"
        if self.rng.random() < 0.5:
            return f"range({start}, {start} + {t} * {s}, {s})"
        return f"range({start} + {t} * {s}, {start}, -{s})"

    def list_stmt(self, scope: Scope, ind: str, out: list[str]) -> None:
        lists = [v for v in self.vars_of(scope, "list") if v.role != "param"]
        r = self.rng.random()
        if not lists or r < 0.25:
            name = self.fresh("lst")
            n = self.rng.randint(1, 6)
            out.append(f"{ind}{name} = [{', '.join(self.expr('int', scope, 1) for _ in range(n))}]")
            scope.add(Var(name, "list", self.loop_depth, length=n))
            return
        lst = self.pick(lists)
        self.features.add("list")
        if r < 0.5 and lst.name not in scope.iterated:
            out.append(f"{ind}{lst.name}.append({self.expr('int', scope, 1)})")
            lst.length += self.trips
            return
        idx = self.pick([f"{self.expr('int', scope, 1)} % len({lst.name})", "-1", "0"])
        if r < 0.8:
            op = self.pick(["=", "+=", "-="])
            val = self.expr("int", scope, 1) if op == "=" else self.expr("int", scope, 1)
            if op != "=":  # keep elements from growing geometrically
                val = f"({val}) % 1000"
            out.append(f"{ind}{lst.name}[{idx}] {op} {val}")
            return
        name = self.fresh("t")
        out.append(f"{ind}{name} = {lst.name}[{idx}]")
        scope.add(Var(name, "big", self.loop_depth))

    def tuple_stmt(self, scope: Scope, ind: str, out: list[str]) -> None:
        self.features.add("tuple")
        r = self.rng.random()
        if r < 0.4:
            a, b = self.fresh("q"), self.fresh("r")
            out.append(f"{ind}{a}, {b} = divmod({self.expr('int', scope, 1)}, "
                       f"{self.safe_int_divisor(scope, 1)})")
            scope.add(Var(a, "int", self.loop_depth))
            scope.add(Var(b, "int", self.loop_depth))
        elif r < 0.7:
            a, b = self.fresh("x"), self.fresh("y")
            ka, kb = self.pick(["int", "float", "bool"]), self.pick(["int", "num"])
            tp = self.fresh("tp")
            out.append(f"{ind}{tp} = ({self.expr(ka, scope, 1)}, {self.expr(kb, scope, 1)})")
            out.append(f"{ind}{a}, {b} = {tp}")
            scope.add(Var(a, ka, self.loop_depth))
            scope.add(Var(b, kb, self.loop_depth))
        else:
            a, b = self.fresh("x"), self.fresh("y")
            out.append(f"{ind}{a}, {b} = {self.expr('int', scope, 1)}, "
                       f"{self.expr('float', scope, 1)}")
            out.append(f"{ind}{a}, {b} = {b}, {a}")
            scope.add(Var(a, "num", self.loop_depth))
            scope.add(Var(b, "num", self.loop_depth))

    # -- functions ----------------------------------------------------------------

    def function(self, index: int, budget: int) -> Func:
        name = f"f{index}"
        kinds = ["int", "int", "num", "float", "list", "bool"]
        kinds = [k for k in kinds if not (k in ("float", "num") and "float" in self.exclude)
                 and not (k == "list" and "list" in self.exclude)]
        params = [self.pick(kinds) for _ in range(self.rng.randint(1, 3))]
        ret = self.pick(["int", "big", "float", "num"] if "float" not in self.exclude
                        else ["int", "big"])
        f = Func(name, params, ret, 0)
        if self.globals and self.on("globals", 0.3):
            g = self.pick([g for g in self.globals if g.kind in ("int", "big")] or [None])
            if g is not None:
                f.global_writes.add(g.name)
                self.written_globals.add(g.name)
        self.cur = f
        scope = Scope()
        for gv in self.globals:
            scope.add(gv)
        pnames = []
        for k in params:
            p = self.fresh("a")
            pnames.append(p)
            scope.add(Var(p, k, 0, "param", length=3 if k == "list" else 0))
        lines = [f"def {name}({', '.join(pnames)}):"]
        if f.global_writes:
            lines.append(f"    global {', '.join(sorted(f.global_writes))}")
        self.accumulators(scope, "    ", lines)
        body, used = self.block(scope, "    ", budget, 2, 5)
        lines.extend(body)
        if self.on("fault", 0.12):
            self.fault(scope, "    ", lines, pnames, params)
        lines.append(f"    return {self.return_expr(ret, scope)}")
        f.cost = used + 3
        f.lines = lines
        self.cur = None
        return f

    def accumulators(self, scope: Scope, ind: str, lines: list[str]) -> None:
        kinds = ["big", "int"] + ([] if "float" in self.exclude else ["float"])
        for _ in range(self.rng.randint(1, 3)):
            k = self.pick(kinds)
            name = self.fresh("acc" if k != "float" else "fa")
            init = self.int_lit() if k != "float" else self.float_lit()
            if k == "int":
                init = str(self.rng.randint(0, 50))
            lines.append(f"{ind}{name} = {init}")
            scope.add(Var(name, k, 0, "acc"))

    def return_expr(self, ret: str, scope: Scope) -> str:
        accs = [v for v in scope.all() if v.role == "acc"]
        matching = [v for v in accs if (v.kind == ret) or (ret == "big" and v.kind == "int")
                    or (ret == "num" and v.kind in ("int", "float"))]
        if matching and self.rng.random() < 0.8:
            return self.pick(matching).name
        saved = self.budget_left
        self.budget_left = 0  # no calls here
        e = self.expr(ret, scope, 1)
        self.budget_left = saved
        return e

    def recursive(self, index: int) -> Func:
        self.features.add("recursion")
        name = f"rec{index}"
        form = self.rng.random()
        if form < 0.6:
            step = self.pick(["{n} * 2 % 1000003 + {n}", "{x} + {n}", "{x} * 3 - 1",
                              "{x} // 2 + {n}"] + ([] if "float" in self.exclude
                                                  else ["{x} * 1.5 + {n}"]))
            body = [f"def {name}(n, x):",
                    "    if n <= 0:",
                    "        return x",
                    f"    return {name}(n - 1, {step.format(n='n', x='x')})"]
            cost = 16
            depth = 15
        else:
            body = [f"def {name}(n, x):",
                    "    if n < 2:",
                    "        return x + n",
                    f"    return {name}(n - 1, x) + {name}(n - 2, x * 2 % 101)"]
            cost = 30
            depth = 7
        f = Func(name, ["rdepth", "int"], "big", cost, body, depth=depth)
        return f

    def fault(self, scope: Scope, ind: str, lines: list[str], pnames: list[str],
              kinds: list[str]) -> None:
        """A statement that raises once a value reaches a point after tier-up."""
        ints = [p for p, k in zip(pnames, kinds) if k == "int"]
        if not ints:
            return
        p = self.pick(ints)
        k = self.rng.randint(120, 400)
        lines.extend(self.fault_lines(p, k, scope, ind))

    def fault_lines(self, i: str, k: int, scope: Scope, ind: str) -> list[str]:
        """Raises when ``i`` reaches ``k`` (or passes it), computed every iteration
        before that without raising."""
        e = self.expr("int", scope, 1)
        z = self.fresh("z")
        choices = [
            f"{z} = {e} // ({i} - {k})",                              # ZeroDivisionError
            f"{z} = {e} % ({k} - {i})",
            f"{z} = {e} / ({i} - {k})",
            f"{z} = ({e} * 0.5) / ({i} - {k})",
            f"{z} = [1, 2, 3][max({i} - {k}, -1) + 3]",               # IndexError
            f"{z} = [1, 2, 3][-1 - ({i} >= {k}) * 3]",
            f"{z} = float(1 << max(0, {i} - {k} + 1024))",            # OverflowError
            f"{z} = 2.0 ** max(0, {i} - {k} + 1024)",
            f"{z} = int(1e308 * max(0, {i} - {k} + 1) * 10)",
            f"{z} = (1 << (1000 + max(0, {i} - {k}) * 30)) / 3",
            f"{z} = int(float('nan') if {i} == {k} else 1.5)",        # ValueError
            f"{z} = 1 << (({k} - {i}) % 64 - ({i} == {k}) * 65)",
        ]
        if "float" in self.exclude:
            choices = [c for c in choices if "float" not in c and "." not in c and "/" not in c]
        lines = [ind + self.pick(choices)]
        if self.rng.random() < 0.15:
            return [f"{ind}[1, 2, 3][max({i} - {k}, -1) + 3] = {e}"]  # IndexError (store)
        if not self.on("deadfault", 0.3):
            lines.append(f"{ind}if {z} == -12345:")                   # keep it used
            lines.append(f"{ind}    print({z})")
        return lines

    # -- the program --------------------------------------------------------------

    def program(self) -> str:
        rng = self.rng
        out = [f"# workbench fuzz program, seed {self.seed}"]
        for gi in range(rng.randint(0, 3)):
            kind = self.pick(["int", "big", "float"] if "float" not in self.exclude
                             else ["int", "big"])
            name = f"G{gi}"
            if kind == "float":
                out.append(f"{name} = {self.float_lit()}")
            else:
                out.append(f"{name} = {self.int_lit()}")
            self.globals.append(Var(name, kind, 0, "global"))
        nfuncs = rng.randint(1, 3)
        per_call = rng.choice([8, 15, 25, 40])
        for fi in range(nfuncs):
            if self.on("recursion", 0.25):
                self.funcs.append(self.recursive(fi))
            else:
                self.budget_left = per_call
                self.funcs.append(self.function(fi, per_call))
        for f in self.funcs:
            out.append("")
            out.append("")
            out.extend(f.lines)
        calls_cost = sum(f.cost for f in self.funcs) + 10
        hot = max(MIN_HOT, min(400, BUDGET // max(calls_cost, 1)))
        hot = rng.randint(MIN_HOT, max(MIN_HOT, hot))
        in_main = rng.random() < 0.5
        ind = "    " if in_main else ""
        body: list[str] = []
        scope = Scope()
        for gv in self.globals:
            scope.add(gv)
        self.accumulators(scope, ind, body)
        lst = self.fresh("lst")
        n = rng.randint(1, 6)
        body.append(f"{ind}{lst} = [{', '.join(self.int_lit() for _ in range(n))}]")
        scope.add(Var(lst, "list", 0, length=n))
        i = self.fresh("i")
        body.append(f"{ind}for {i} in range({hot}):")
        inner = Scope(scope)
        ivar = inner.add(Var(i, "int", 1, "loop"))
        self.driver = ivar
        self.loop_depth = 1
        self.loop_vars = [ivar]
        lind = ind + "    "
        accs = [v for v in scope.all() if v.role == "acc"]
        for f in self.funcs:
            if f.name.startswith("rec"):
                args = f"{i} % {f.depth + 1}, {self.expr('int', inner, 1)}"
                call = f"{f.name}({args})"
            else:
                call = f"{f.name}({', '.join(self.arg(k, inner, 1) for k in f.params)})"
            acc = self.pick(accs)
            if acc.kind == "big" and f.ret in ("int", "big"):
                body.append(f"{lind}{acc.name} += {call}")
            elif acc.kind == "float" and f.ret in ("float", "num", "int"):
                body.append(f"{lind}{acc.name} = {acc.name} * 0.5 + {call}")
            else:
                t = self.fresh("r")
                body.append(f"{lind}{t} = {call}")
                inner.add(Var(t, f.ret, 1))
                if acc.kind == "big":
                    body.append(f"{lind}{acc.name} += int(max(-1e18, min(1e18, {t})))")
        self.budget_left = max(4, (BUDGET - hot * calls_cost) // hot)
        lines, _ = self.block(inner, lind, self.budget_left, 1, 4)
        body.extend(lines)
        rebinding = [g for g in self.globals if g.name not in self.written_globals]
        if not in_main and rebinding and self.on("rebind_global", 0.25):
            g = self.pick(rebinding)
            val = self.float_lit() if g.kind == "float" else self.int_lit()
            body.append(f"{lind}if {i} == {rng.randint(MIN_HOT // 2, hot - 1)}:")
            body.append(f"{lind}    {g.name} = {val}")
        if self.on("fault", 0.15):
            body.extend(self.fault_lines(i, rng.randint(MIN_HOT + 10, hot + 60), inner, lind))
        if self.on("print_in_loop", 0.3):
            body.append(f"{lind}if {i} % {rng.randint(30, 90)} == {rng.randint(0, 9)}:")
            body.append(f"{lind}    print({self.print_args(inner)})")
        self.loop_depth = 0
        self.loop_vars = []
        finals = [v.name for v in scope.all() if v.role in ("acc", "global")]
        body.append(f"{ind}print({', '.join([repr('end')] + finals + [lst])})")
        if in_main:
            out += ["", "", "def main():"] + body + ["", "", "main()"]
        else:
            out += ["", ""] + body
        return "\n".join(out) + "\n"


def generate(seed: int, exclude: frozenset[str] | set[str] = frozenset()) -> str:
    """The source of program number ``seed`` (the same text for the same seed)."""
    return Generator(seed, exclude).program()


def features(seed: int, exclude: frozenset[str] | set[str] = frozenset()) -> set[str]:
    g = Generator(seed, exclude)
    g.program()
    return set(g.features)
