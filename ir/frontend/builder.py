"""FunctionBuilder: emission, names and the finishing steps of one function."""

from __future__ import annotations

import ast

from ..core import Block, Function, Target, Uop
from ..uops import UOPS, U
from .calls import Calls
from .cleanup import mark_checked_loads, prune_unreachable, renumber
from .comprehensions import Comprehensions
from .data import DataExpressions
from .expressions import Expressions
from .functions import Functions
from .handlers import Cleanup, Handlers
from .loops import LoopLabels, Loops
from .simple import SimpleStatements
from .statements import Statements
from .scopes import NAMESPACE, ScopeInfo, cell_slot
from .syntax import FrontendError, describe, unsupported


class FunctionBuilder(Expressions, DataExpressions, Calls, Comprehensions, Statements,
                      SimpleStatements, Loops, Functions, Handlers):
    """Emits the uops of one function, block by block."""

    def __init__(self, module_compiler, name: str, params: list[str],
                 scope: ScopeInfo, line: int | None):
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
        self.handler: str | None = None       # the handler of the blocks started now
        self.unwinding: list[Cleanup] = []    # what return/break/continue leave (handlers.py)
        self.block = self.new_block()
        self.fn.blocks.append(self.block)

    # -- emission -------------------------------------------------------------

    def new_block(self) -> Block:
        b = Block(f"bb{self.next_label}")
        self.next_label += 1
        return b

    def start(self, b: Block) -> None:
        b.handler = self.handler
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
            self.block.handler = self.handler
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

    def where(self, name: str) -> str:
        """How ``name`` is reached here: "fast", "cell", "free", "global" or "name"
        (a comprehension's own variable is "fast": its hidden local)."""
        if self.renames and self.comprehension_local(name) is not None:
            return "fast"
        return self.scope.resolve(name)

    def slot(self, name: str) -> str:
        """The frame slot of a "fast" name: a comprehension variable's hidden local."""
        hidden = self.comprehension_local(name) if self.renames else None
        return name if hidden is None else hidden

    def is_builtin(self, name: str, node: ast.AST) -> bool:
        """Does ``name`` surely mean the builtin at ``node``?"""
        if self.where(name) not in ("global", "name") or self.mc.is_rebound(name):
            return False
        if self.scope.kind == "class" and name in self.scope.locals:
            return False
        return self.mc.static_callee(name) is None or (
            self.scope.kind == "module" and not self.mc.defined_before(name, node))

    def load_name(self, node: ast.Name) -> int:
        return self.load(node.id)

    def load(self, name: str) -> int:
        kind = self.where(name)
        if kind == "fast":
            return self.emit(U._LOAD_FAST_CHECK, imms=(self.slot(name),))
        if kind in ("cell", "free"):
            cell = self.emit(U._LOAD_FAST, imms=(cell_slot(name),))
            return self.emit(U._LOAD_DEREF, [cell], (name, int(kind == "free")))
        if kind == "name":
            ns = self.emit(U._LOAD_FAST, imms=(NAMESPACE,))
            return self.emit(U._LOAD_NAME, [ns], (name,))
        return self.emit(U._LOAD_GLOBAL, imms=(name,))

    def store_name(self, name: str, value: int) -> None:
        kind = self.where(name)
        if kind == "fast":
            self.emit(U._STORE_FAST, [value], (self.slot(name),))
        elif kind in ("cell", "free"):
            cell = self.emit(U._LOAD_FAST, imms=(cell_slot(name),))
            self.emit(U._STORE_DEREF, [cell, value], (name,))
        elif kind == "name":
            ns = self.emit(U._LOAD_FAST, imms=(NAMESPACE,))
            self.emit(U._STORE_NAME, [ns, value], (name,))
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
        home.update((p, b.label) for b in fn.blocks for p in b.params)
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


