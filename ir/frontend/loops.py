"""``while`` and ``for`` lowered to counted loops over hidden locals."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..core import Block
from ..uops import U


@dataclass
class LoopLabels:
    head: str        # where ``continue`` goes
    exit: str        # where ``break`` goes
    depth: int = 0   # the cleanups (handlers.py) outside the loop


class Loops:
    """Mixed into FunctionBuilder: loops, ``break`` and ``continue``."""

    def loop(self, head: Block, body: Block, orelse: list[ast.stmt], exit: Block,
             stmts: list[ast.stmt], else_block: Block | None) -> None:
        self.loops.append(LoopLabels(head.label, exit.label, len(self.unwinding)))
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
        is_range = self.is_range_call(it)
        head, body, exit = self.new_block(), self.new_block(), self.new_block()
        else_block = self.new_block() if node.orelse else None
        after = (else_block or exit).label
        if is_range:
            self.range_loop(node, it, head, body, after)
        else:
            self.seq_loop(node, head, body, after)
        self.loop(head, body, node.orelse, exit, node.body, else_block)

    def is_range_call(self, it: ast.expr) -> bool:
        """``range(...)`` of the builtin, lowered to a counted loop."""
        return (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
                and it.func.id == "range" and not it.keywords
                and 1 <= len(it.args) <= 3
                and not any(isinstance(a, ast.Starred) for a in it.args)
                and self.is_builtin("range", it))

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
        self.unwind(self.loops[-1].depth)
        self.jump(self.loops[-1].exit)

    def stmt_Continue(self, node: ast.Continue) -> None:
        self.unwind(self.loops[-1].depth)
        self.jump(self.loops[-1].head)

