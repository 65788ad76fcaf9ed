"""Python source (via ``ast``) to generic uop IR.

The frontend keeps every SSA value inside the block that defines it; whatever
crosses a block boundary goes through a frame local (user locals, or hidden
``$``-temporaries for ``and``/``or``/conditional expressions and loop state).  So
the generic IR needs no phis, a block boundary is a point where the whole state
is in the frame (the tiered runtime enters and leaves there), and ``promote`` has
real work to do.

``for`` loops are lowered to counted loops over hidden locals: ``range`` loops to
int arithmetic (``$cur < $stop``), other loops to index loops over the sequence
(``$idx < len($seq)``, which is exactly how CPython's list iterator behaves).
Every later pass and the JIT then see plain int arithmetic, not iterators.

Anything outside the supported subset is rejected with
``file:line:col: unsupported: <construct>``.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field

from .cfg import predecessors, reverse_postorder
from .core import MODULE_FUNCTION, Block, Function, Module, Target, Uop
from .errors import WorkbenchError
from .limits import deep_recursion
from .uops import UOPS, U


BUILTINS = frozenset("""
    abs all any bin bool chr divmod float hex int isinstance len list max min oct ord
    pow print range repr reversed round sorted str sum tuple
""".split())

_BINOP_TOKENS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
    ast.Mod: "%", ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&",
    ast.BitOr: "|", ast.BitXor: "^",
}
_CMP_TOKENS = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
    ast.Is: "is", ast.IsNot: "is_not", ast.In: "in", ast.NotIn: "not_in",
}
_UNARY_TOKENS = {ast.USub: "neg", ast.UAdd: "pos", ast.Invert: "invert"}

_UNSUPPORTED_NAMES = {
    ast.Import: "import", ast.ImportFrom: "import", ast.ClassDef: "class definition",
    ast.Lambda: "lambda", ast.Try: "try statement", ast.With: "with statement",
    ast.Dict: "dict display", ast.Set: "set display", ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension", ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression", ast.Yield: "yield", ast.YieldFrom: "yield",
    ast.Await: "await", ast.AsyncFunctionDef: "async function", ast.AsyncFor: "async for",
    ast.AsyncWith: "async with", ast.Delete: "del statement", ast.Assert: "assert statement",
    ast.Raise: "raise statement", ast.NamedExpr: "assignment expression (:=)",
    ast.Match: "match statement", ast.Nonlocal: "nonlocal statement",
    ast.JoinedStr: "f-string", ast.Starred: "starred expression", ast.Slice: "slice",
    ast.Attribute: "attribute access", ast.TryStar: "try statement",
}


class FrontendError(WorkbenchError):
    pass


def unsupported(filename: str, node: ast.AST, what: str) -> FrontendError:
    line = getattr(node, "lineno", 1)
    col = getattr(node, "col_offset", 0) + 1
    return FrontendError(f"{filename}:{line}:{col}: unsupported: {what}")


def describe(node: ast.AST) -> str:
    return _UNSUPPORTED_NAMES.get(type(node), type(node).__name__)


@dataclass
class _Loop:
    head: str        # where ``continue`` goes
    exit: str        # where ``break`` goes


@dataclass
class _Scope:
    """How names resolve inside one function (or the module body)."""

    is_module: bool
    locals: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)


class FunctionBuilder:
    """Emits the uops of one function, block by block."""

    def __init__(self, module_compiler: "ModuleCompiler", name: str, params: list[str],
                 scope: _Scope, line: int | None):
        self.mc = module_compiler
        self.filename = module_compiler.filename
        self.fn = Function(name, list(params), list(params), line=line)
        self.scope = scope
        self.next_value = 0
        self.next_label = 0
        self.next_temp = 0
        self.loops: list[_Loop] = []
        self.line: int | None = line
        self.block = self.new_block()
        self.fn.blocks.append(self.block)

    # -- emission -------------------------------------------------------------

    def new_block(self) -> Block:
        b = Block(f"bb{self.next_label}")
        self.next_label += 1
        return b

    def start(self, b: Block) -> None:
        self.fn.blocks.append(b)
        self.block = b

    def emit(self, name: str, inputs=(), imms=(), targets=()) -> int | None:
        d = UOPS[name]
        out = None
        if d.output:
            out = self.next_value
            self.next_value += 1
        self.block.uops.append(Uop(name, list(inputs), out, tuple(imms),
                                   [Target(t) for t in targets], None, self.line))
        if d.is_terminator:
            # Code after a terminator (after break/return) is unreachable; it goes in
            # a fresh block that pruning removes.
            self.block = self.new_block()
            self.fn.blocks.append(self.block)
        return out

    def jump(self, label: str) -> None:
        self.emit(U._JUMP, targets=(label,))

    def temp(self, stem: str = "t") -> str:
        name = f"${stem}{self.next_temp}"
        self.next_temp += 1
        self.fn.locals.append(name)
        return name

    def fail(self, node: ast.AST, what: str | None = None) -> FrontendError:
        return unsupported(self.filename, node, what or describe(node))

    def at(self, node: ast.AST) -> None:
        if hasattr(node, "lineno"):
            self.line = node.lineno

    # -- names ----------------------------------------------------------------

    def load_name(self, node: ast.Name) -> int:
        name = node.id
        if name in self.scope.locals:
            return self.emit(U._LOAD_FAST_CHECK, imms=(name,))
        if name in self.mc.functions and not self.mc.is_rebound(name):
            raise self.fail(node, f"function '{name}' used as a value")
        return self.emit(U._LOAD_GLOBAL, imms=(name,))

    def store_name(self, name: str, value: int) -> None:
        if name in self.scope.locals:
            self.emit(U._STORE_FAST, [value], (name,))
        else:
            self.emit(U._STORE_GLOBAL, [value], (name,))

    # -- expressions ----------------------------------------------------------

    def expr(self, node: ast.expr) -> int:
        self.at(node)
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node)
        return method(node)

    def expr_Constant(self, node: ast.Constant) -> int:
        v = node.value
        if v is None or isinstance(v, (bool, int, float, str)):
            return self.emit(U._LOAD_CONST, imms=(self.mc.constant(v),))
        raise self.fail(node, f"{type(v).__name__} literal")

    def expr_Name(self, node: ast.Name) -> int:
        return self.load_name(node)

    def expr_BinOp(self, node: ast.BinOp) -> int:
        op = _BINOP_TOKENS.get(type(node.op))
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
        return self.emit(U._UNARY_OP, [v], (_UNARY_TOKENS[type(node.op)],))

    def expr_Compare(self, node: ast.Compare) -> int:
        if len(node.ops) == 1:
            lhs = self.expr(node.left)
            rhs = self.expr(node.comparators[0])
            self.at(node)
            return self.emit(U._COMPARE_OP, [lhs, rhs], (_CMP_TOKENS[type(node.ops[0])],))
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
        if node.keywords:
            raise self.fail(node.keywords[0], "keyword arguments")
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise self.fail(a, "starred arguments")
        func = node.func
        if isinstance(func, ast.Attribute):
            obj = self.expr(func.value)
            args = [self.expr(a) for a in node.args]
            self.at(node)
            return self.emit(U._CALL_METHOD, [obj, *args], (func.attr,))
        if not isinstance(func, ast.Name):
            raise self.fail(func, "call of a computed function")
        name = func.id
        if name in self.scope.locals or name in self.scope.globals:
            raise self.fail(func, f"call of variable '{name}'")
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
        if name in self.mc.module_names:
            raise self.fail(func, f"call of variable '{name}'")
        raise self.fail(func, f"call of '{name}'")

    def expr_Subscript(self, node: ast.Subscript) -> int:
        if isinstance(node.slice, ast.Slice):
            raise self.fail(node.slice, "slice")
        container = self.expr(node.value)
        index = self.expr(node.slice)
        self.at(node)
        return self.emit(U._BINARY_SUBSCR, [container, index])

    def expr_List(self, node: ast.List) -> int:
        items = [self.expr(e) for e in node.elts]
        self.at(node)
        return self.emit(U._BUILD_LIST, items)

    def expr_Tuple(self, node: ast.Tuple) -> int:
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
                cond = self.emit(U._COMPARE_OP, [lhs, rhs], (_CMP_TOKENS[type(op)],))
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

    # -- statements -----------------------------------------------------------

    def body(self, stmts: list[ast.stmt]) -> None:
        for s in stmts:
            self.stmt(s)

    def stmt(self, node: ast.stmt) -> None:
        self.at(node)
        method = getattr(self, "stmt_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node)
        method(node)

    def stmt_Pass(self, node: ast.Pass) -> None:
        pass

    def stmt_Global(self, node: ast.Global) -> None:
        if self.scope.is_module:
            return  # a no-op at module level, as in CPython

    def stmt_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant):
            return  # docstrings and other bare constants do nothing
        self.expr(node.value)

    def stmt_Assign(self, node: ast.Assign) -> None:
        if len(node.targets) == 1 and self.parallel_assign(node.targets[0], node.value):
            return
        v = self.expr(node.value)
        for t in node.targets:
            self.assign(t, v)

    def parallel_assign(self, target: ast.expr, value: ast.expr) -> bool:
        """``a, b = b, a + b`` without building a tuple (CPython's own shortcut)."""
        if not (isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, ast.Tuple)
                and len(target.elts) == len(value.elts)
                and not any(isinstance(e, ast.Starred) for e in (*target.elts, *value.elts))):
            return False
        values = [self.expr(e) for e in value.elts]
        for t, v in zip(target.elts, values):
            self.assign(t, v)
        return True

    def stmt_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is None:
            return
        self.assign(node.target, self.expr(node.value))

    def assign(self, target: ast.expr, value: int) -> None:
        self.at(target)
        if isinstance(target, ast.Name):
            self.store_name(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if any(isinstance(e, ast.Starred) for e in target.elts):
                raise self.fail(target, "starred assignment")
            seq = self.emit(U._UNPACK_SEQUENCE, [value], (len(target.elts),))
            items = []
            for i in range(len(target.elts)):
                idx = self.emit(U._LOAD_CONST, imms=(i,))
                items.append(self.emit(U._BINARY_SUBSCR, [seq, idx]))
            for t, v in zip(target.elts, items):
                self.assign(t, v)
        elif isinstance(target, ast.Subscript):
            if isinstance(target.slice, ast.Slice):
                raise self.fail(target.slice, "slice")
            container = self.expr(target.value)
            index = self.expr(target.slice)
            self.at(target)
            self.emit(U._STORE_SUBSCR, [container, index, value])
        else:
            raise self.fail(target, f"assignment to {describe(target)}")

    def stmt_AugAssign(self, node: ast.AugAssign) -> None:
        op = _BINOP_TOKENS.get(type(node.op))
        if op is None:
            raise self.fail(node, "matrix multiplication")
        op += "="
        target = node.target
        if isinstance(target, ast.Name):
            old = self.load_name(target)
            rhs = self.expr(node.value)
            self.at(node)
            self.store_name(target.id, self.emit(U._BINARY_OP, [old, rhs], (op,)))
        elif isinstance(target, ast.Subscript) and not isinstance(target.slice, ast.Slice):
            container = self.expr(target.value)
            index = self.expr(target.slice)
            self.at(node)
            old = self.emit(U._BINARY_SUBSCR, [container, index])
            rhs = self.expr(node.value)
            self.at(node)
            new = self.emit(U._BINARY_OP, [old, rhs], (op,))
            self.emit(U._STORE_SUBSCR, [container, index, new])
        else:
            raise self.fail(target, f"augmented assignment to {describe(target)}")

    def stmt_Return(self, node: ast.Return) -> None:
        if node.value is None:
            v = self.emit(U._LOAD_CONST, imms=(None,))
        else:
            v = self.expr(node.value)
        self.at(node)
        self.emit(U._RETURN, [v])

    def stmt_If(self, node: ast.If) -> None:
        then, done = self.new_block(), self.new_block()
        other = self.new_block() if node.orelse else done
        self.branch(node.test, then.label, other.label)
        self.start(then)
        self.body(node.body)
        self.jump(done.label)
        if node.orelse:
            self.start(other)
            self.body(node.orelse)
            self.jump(done.label)
        self.start(done)

    def loop(self, head: Block, body: Block, orelse: list[ast.stmt], exit: Block,
             stmts: list[ast.stmt], else_block: Block | None) -> None:
        self.loops.append(_Loop(head.label, exit.label))
        self.body(stmts)
        self.loops.pop()
        self.jump(head.label)
        if else_block is not None:
            self.start(else_block)
            self.body(orelse)
            self.jump(exit.label)
        self.start(exit)

    def stmt_While(self, node: ast.While) -> None:
        head, body, exit = self.new_block(), self.new_block(), self.new_block()
        else_block = self.new_block() if node.orelse else None
        self.jump(head.label)
        self.start(head)
        self.branch(node.test, body.label, (else_block or exit).label)
        self.start(body)
        self.loop(head, body, node.orelse, exit, node.body, else_block)

    def stmt_For(self, node: ast.For) -> None:
        it = node.iter
        is_range = (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
                    and it.func.id == "range" and not it.keywords
                    and 1 <= len(it.args) <= 3
                    and not any(isinstance(a, ast.Starred) for a in it.args)
                    and "range" not in self.scope.locals and not self.mc.is_rebound("range")
                    and ("range" not in self.mc.functions
                         or self.scope.is_module and not self.mc.defined_before("range", it)))
        head, body, exit = self.new_block(), self.new_block(), self.new_block()
        else_block = self.new_block() if node.orelse else None
        after = (else_block or exit).label
        if is_range:
            self.range_loop(node, it, head, body, after)
        else:
            self.seq_loop(node, head, body, after)
        self.loop(head, body, node.orelse, exit, node.body, else_block)

    def range_loop(self, node: ast.For, it: ast.Call, head: Block, body: Block,
                   after: str) -> None:
        args = [self.expr(a) for a in it.args]
        self.at(it)
        bounds = [self.emit(U._RANGE_ARG, [a]) for a in args[:2]]
        if len(bounds) == 1:
            bounds.insert(0, self.emit(U._LOAD_CONST, imms=(0,)))
        step_const: int | None = 1
        if len(args) == 3:
            s = it.args[2]
            literal = s.value if isinstance(s, ast.Constant) else (
                -s.operand.value if isinstance(s, ast.UnaryOp) and isinstance(s.op, ast.USub)
                and isinstance(s.operand, ast.Constant) else None)
            if type(literal) is int and literal != 0:
                step_const = literal
            else:
                step_const = None
                step = self.emit(U._RANGE_STEP, [args[2]])
        cur, stop = self.temp("cur"), self.temp("stop")
        self.emit(U._STORE_FAST, [bounds[0]], (cur,))
        self.emit(U._STORE_FAST, [bounds[1]], (stop,))
        if step_const is None:
            step_local = self.temp("step")
            self.emit(U._STORE_FAST, [step], (step_local,))
        self.jump(head.label)
        self.start(head)
        c = self.emit(U._LOAD_FAST, imms=(cur,))
        s = self.emit(U._LOAD_FAST, imms=(stop,))
        if step_const is None:
            st = self.emit(U._LOAD_FAST, imms=(step_local,))
            cond = self.emit(U._RANGE_HAS_NEXT, [c, s, st])
        else:
            cond = self.emit(U._COMPARE_OP, [c, s], ("<" if step_const > 0 else ">",))
        self.emit(U._BRANCH, [cond], targets=(body.label, after))
        self.start(body)
        c = self.emit(U._LOAD_FAST, imms=(cur,))
        if step_const is None:
            inc = self.emit(U._LOAD_FAST, imms=(step_local,))
        else:
            inc = self.emit(U._LOAD_CONST, imms=(step_const,))
        self.emit(U._STORE_FAST, [self.emit(U._BINARY_OP, [c, inc], ("+",))], (cur,))
        self.assign(node.target, c)

    def seq_loop(self, node: ast.For, head: Block, body: Block, after: str) -> None:
        v = self.expr(node.iter)
        self.at(node.iter)
        seq, idx = self.temp("seq"), self.temp("idx")
        self.emit(U._STORE_FAST, [self.emit(U._ITER_SEQ, [v])], (seq,))
        self.emit(U._STORE_FAST, [self.emit(U._LOAD_CONST, imms=(0,))], (idx,))
        self.jump(head.label)
        self.start(head)
        i = self.emit(U._LOAD_FAST, imms=(idx,))
        n = self.emit(U._CALL_BUILTIN, [self.emit(U._LOAD_FAST, imms=(seq,))], ("len",))
        cond = self.emit(U._COMPARE_OP, [i, n], ("<",))
        self.emit(U._BRANCH, [cond], targets=(body.label, after))
        self.start(body)
        s = self.emit(U._LOAD_FAST, imms=(seq,))
        i = self.emit(U._LOAD_FAST, imms=(idx,))
        item = self.emit(U._BINARY_SUBSCR, [s, i])
        one = self.emit(U._LOAD_CONST, imms=(1,))
        self.emit(U._STORE_FAST, [self.emit(U._BINARY_OP, [i, one], ("+",))], (idx,))
        self.assign(node.target, item)

    def stmt_Break(self, node: ast.Break) -> None:
        self.jump(self.loops[-1].exit)

    def stmt_Continue(self, node: ast.Continue) -> None:
        self.jump(self.loops[-1].head)

    def stmt_FunctionDef(self, node: ast.FunctionDef) -> None:
        if not self.scope.is_module:
            raise self.fail(node, "nested function")
        if self.mc.functions.get(node.name) is not node:
            raise self.fail(node, "function definition inside a compound statement")
        # Module functions are compiled statically; the def itself does nothing here.

    # -- finishing ------------------------------------------------------------

    def finish(self) -> Function:
        self.emit(U._RETURN, [self.emit(U._LOAD_CONST, imms=(None,))])
        fn = self.fn
        _prune_unreachable(fn)
        self.localize_values()
        _mark_checked_loads(fn)
        _renumber(fn)
        return fn

    def localize_values(self) -> None:
        """Route every value used outside its defining block through a hidden local.

        An operand evaluated before a conditional expression (``a + (b if c else d)``,
        ``f(x, y or z)``) is used after the blocks that expression creates; the generic
        IR promises that values never cross blocks, so it is stored right after its
        definition and loaded again in the block that uses it.
        """
        fn = self.fn
        home = {u.output: b.label for b in fn.blocks for u in b.uops if u.output is not None}
        crossing = sorted({v for b in fn.blocks for u in b.uops for v in u.inputs
                           if home[v] != b.label})
        temps = {v: self.temp("v") for v in crossing}
        for b in fn.blocks:
            uops: list[Uop] = []
            loaded: dict[int, int] = {}
            for u in b.uops:
                for i, v in enumerate(u.inputs):
                    if v in temps and home[v] != b.label:
                        if v not in loaded:
                            loaded[v] = self.next_value
                            self.next_value += 1
                            uops.append(Uop(U._LOAD_FAST, [], loaded[v], (temps[v],),
                                            line=u.line))
                        u.inputs[i] = loaded[v]
                uops.append(u)
                if u.output in temps:
                    uops.append(Uop(U._STORE_FAST, [u.output], None, (temps[u.output],),
                                    line=u.line))
            b.uops = uops


def _prune_unreachable(fn: Function) -> None:
    # Empty trailing blocks have no terminator; they are unreachable by construction.
    fn.blocks = [b for b in fn.blocks if b.uops]
    live = set(reverse_postorder(fn))
    fn.blocks = [b for b in fn.blocks if b.label in live]


def _mark_checked_loads(fn: Function) -> None:
    """``_LOAD_FAST_CHECK`` becomes ``_LOAD_FAST`` where the local is surely bound."""

    order = reverse_postorder(fn)
    preds = predecessors(fn)
    blocks = fn.block_map()
    everything = frozenset(fn.locals)
    out: dict[str, frozenset[str]] = {b: everything for b in order}
    entry_in = frozenset(fn.params)

    def transfer(label: str, bound: frozenset[str], rewrite: bool) -> frozenset[str]:
        cur = set(bound)
        for u in blocks[label].uops:
            if u.name == U._STORE_FAST:
                cur.add(u.imms[0])
            elif u.name == U._LOAD_FAST_CHECK:
                if rewrite and u.imms[0] in cur:
                    u.name = U._LOAD_FAST
                cur.add(u.imms[0])  # after a successful load it is bound
        return frozenset(cur)

    def block_in(label: str) -> frozenset[str]:
        if label == order[0]:
            return entry_in
        acc = everything
        for p in preds[label]:
            if p in out:
                acc = acc & out[p]
        return acc

    changed = True
    while changed:
        changed = False
        for label in order:
            new = transfer(label, block_in(label), False)
            if new != out[label]:
                out[label] = new
                changed = True
    for label in order:
        transfer(label, block_in(label), True)


def _renumber(fn: Function) -> None:
    """Dense value numbers and block labels in layout order, for readable text."""
    labels = {b.label: f"bb{i}" for i, b in enumerate(fn.blocks)}
    values: dict[int, int] = {}
    for b in fn.blocks:
        b.label = labels[b.label]
        for u in b.uops:
            u.inputs = [values[v] for v in u.inputs]
            for t in u.targets:
                t.block = labels[t.block]
            if u.output is not None:
                values[u.output] = len(values)
                u.output = values[u.output]


class ModuleCompiler:
    def __init__(self, source: str, filename: str):
        self.source, self.filename = source, filename
        self.functions: dict[str, ast.FunctionDef] = {}
        self.module_names: set[str] = set()   # names assigned at module level
        self.rebound: set[str] = set()         # names assigned anywhere but a def
        self.def_lines: dict[str, int] = {}
        self.bindings: dict[str, tuple[str, ast.AST]] = {}  # name -> its first binding
        self.constants: dict[tuple, object] = {}

    def constant(self, v):
        """One object per distinct literal in the module, as CPython's compiler merges
        them: ``a = 1000; b = 1000`` makes ``a is b`` true there too."""
        key = (type(v), v, math.copysign(1.0, v) if type(v) is float else 0)
        return self.constants.setdefault(key, v)

    def is_rebound(self, name: str) -> bool:
        return name in self.rebound

    def defined_before(self, name: str, node: ast.AST) -> bool:
        return self.def_lines.get(name, 1 << 30) < getattr(node, "lineno", 0)

    def compile(self) -> Module:
        try:
            compile(self.source, self.filename, "exec", dont_inherit=True)
            tree = ast.parse(self.source, self.filename)
        except SyntaxError as e:
            line = e.lineno or 1
            col = e.offset or 1
            raise FrontendError(f"{self.filename}:{line}:{col}: SyntaxError: {e.msg}") from None
        except ValueError as e:  # e.g. source with NUL bytes
            raise FrontendError(f"{self.filename}:1:1: {e}") from None
        _character_columns(tree, self.source)
        self.check_nodes(tree)
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef):
                if stmt.name in self.functions:
                    raise unsupported(self.filename, stmt,
                                      f"redefinition of function '{stmt.name}'")
                self.functions[stmt.name] = stmt
                self.def_lines[stmt.name] = stmt.lineno
        self.collect_bindings(tree)
        clashes = [self.bindings[name] for name in self.functions if name in self.rebound]
        if clashes:
            name, node = min(clashes, key=lambda c: (c[1].lineno, c[1].col_offset))
            raise unsupported(self.filename, node,
                              f"global declaration of function '{name}'"
                              if isinstance(node, ast.Global) else
                              f"function '{name}' is also assigned as a variable")
        module = Module(self.filename)
        mscope = _Scope(is_module=True)
        main = FunctionBuilder(self, MODULE_FUNCTION, [], mscope, None)
        main.body(tree.body)
        module.functions.append(main.finish())
        for node in self.functions.values():
            module.functions.append(self.compile_function(node))
        return module

    def check_nodes(self, tree: ast.Module) -> None:
        """Reject constructs outside the subset wherever they appear, up front."""
        _mark_method_callees(tree)
        for node in ast.walk(tree):
            if type(node) in _UNSUPPORTED_NAMES and not (
                    isinstance(node, ast.Attribute) and self.is_method_callee(node)):
                raise unsupported(self.filename, node, describe(node))
            if isinstance(node, ast.FunctionDef):
                a = node.args
                if node.decorator_list:
                    raise unsupported(self.filename, node.decorator_list[0], "decorator")
                defaults = a.defaults + [d for d in a.kw_defaults if d is not None]
                if defaults:
                    raise unsupported(self.filename, defaults[0], "default argument")
                if a.vararg or a.kwarg:
                    raise unsupported(self.filename, a.vararg or a.kwarg,
                                      "*args or **kwargs parameter")
                if a.kwonlyargs or a.posonlyargs:
                    raise unsupported(self.filename, (a.posonlyargs or a.kwonlyargs)[0],
                                      "keyword-only or positional-only parameter")

    def is_method_callee(self, node: ast.Attribute) -> bool:
        return getattr(node, "_callee", False)

    def collect_bindings(self, tree: ast.Module) -> None:
        """Names bound at module level, or declared ``global`` in some function."""
        def bound(name: str, node: ast.AST) -> None:
            old = self.bindings.get(name)
            if old is None or (node.lineno, node.col_offset) < (old[1].lineno,
                                                                 old[1].col_offset):
                self.bindings[name] = (name, node)

        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef):
                for node in ast.walk(stmt):
                    if isinstance(node, ast.Global):
                        self.rebound.update(node.names)
                        for name in node.names:
                            bound(name, node)
                continue
            for node in ast.walk(stmt):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    self.module_names.add(node.id)
                    bound(node.id, node)
        self.rebound |= self.module_names

    def compile_function(self, node: ast.FunctionDef) -> Function:
        params = [a.arg for a in node.args.args]
        scope = _Scope(is_module=False)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Global):
                scope.globals.update(sub.names)
        for name in scope.globals:
            if name in self.functions:
                raise unsupported(self.filename, node, f"global declaration of function '{name}'")
        stores = sorted((n.lineno, n.col_offset, n.id) for n in ast.walk(node)
                        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
        scope.locals = (set(params) | {name for *_, name in stores}) - scope.globals
        b = FunctionBuilder(self, node.name, params, scope, node.lineno)
        for *_, name in stores:  # first-assignment order
            if name in scope.locals and name not in b.fn.locals:
                b.fn.locals.append(name)
        b.body(node.body)
        return b.finish()


def _character_columns(tree: ast.AST, source: str) -> None:
    """``ast`` columns count UTF-8 bytes; make them count characters, as CPython's
    own messages (and every editor) do, so non-ASCII lines get the right column."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if line is None or not 0 < line <= len(lines) or lines[line - 1].isascii():
            continue
        encoded = lines[line - 1].encode("utf-8")
        node.col_offset = len(encoded[:node.col_offset].decode("utf-8", "replace"))


def _mark_method_callees(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node.func._callee = True  # type: ignore[attr-defined]


def compile_source(source: str, filename: str = "<string>") -> Module:
    """Compile a Python script to a module of generic uop IR."""
    with deep_recursion():   # expressions compile recursively
        return ModuleCompiler(source, filename).compile()
