"""FunctionBuilder: emission, names and the finishing steps of one function."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..core import Block, Function, Target, Uop
from ..uops import UOPS, U
from .calls import Calls
from .cleanup import mark_checked_loads, prune_unreachable, renumber
from .comprehensions import Comprehensions
from .data import DataExpressions
from .expressions import Expressions
from .loops import LoopLabels, Loops
from .simple import SimpleStatements
from .statements import Statements
from .syntax import FrontendError, describe, unsupported


@dataclass
class Scope:
    """How names resolve inside one function (or the module body)."""

    is_module: bool
    locals: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)


class FunctionBuilder(Expressions, DataExpressions, Calls, Comprehensions, Statements,
                      SimpleStatements, Loops):
    """Emits the uops of one function, block by block."""

    def __init__(self, module_compiler, name: str, params: list[str],
                 scope: Scope, line: int | None):
        self.mc = module_compiler
        self.filename = module_compiler.filename
        self.fn = Function(name, list(params), list(params), line=line)
        self.scope = scope
        self.next_value = 0
        self.next_label = 0
        self.next_temp = 0
        self.loops: list[LoopLabels] = []
        self.renames: list[dict[str, str]] = []   # comprehension scopes (comprehensions.py)
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
        hidden = self.comprehension_local(name) if self.renames else None
        if hidden is not None:
            return self.emit(U._LOAD_FAST_CHECK, imms=(hidden,))
        if name in self.scope.locals:
            return self.emit(U._LOAD_FAST_CHECK, imms=(name,))
        if name in self.mc.functions and not self.mc.is_rebound(name):
            raise self.fail(node, f"function '{name}' used as a value")
        return self.emit(U._LOAD_GLOBAL, imms=(name,))

    def store_name(self, name: str, value: int) -> None:
        hidden = self.comprehension_local(name) if self.renames else None
        if hidden is not None:
            self.emit(U._STORE_FAST, [value], (hidden,))
        elif name in self.scope.locals:
            self.emit(U._STORE_FAST, [value], (name,))
        else:
            self.emit(U._STORE_GLOBAL, [value], (name,))

    # -- finishing ------------------------------------------------------------

    def finish(self) -> Function:
        self.emit(U._RETURN, [self.emit(U._LOAD_CONST, imms=(None,))])
        fn = self.fn
        prune_unreachable(fn)
        self.localize_values()
        mark_checked_loads(fn)
        renumber(fn)
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


