"""``def``, ``lambda`` and ``class``: each body is a function of the module of its own
(compiled by ModuleCompiler), and the statement makes its object at run time with
``_MAKE_FUNCTION`` (defaults and closure cells as inputs), then ``_BUILD_CLASS`` for a
class, decorators applied with ``_CALL``, as CPython's compiler does."""

from __future__ import annotations

import ast

from ..uops import U
from .scopes import NAMESPACE, SENT, cell_slot


class Functions:
    """Mixed into FunctionBuilder: function and class objects, closures, ``super()``."""

    def stmt_FunctionDef(self, node: ast.FunctionDef) -> None:
        decorators = [self.expr(d) for d in node.decorator_list]
        f = self.function_object(node)
        self.store_name(node.name, self.decorate(node, decorators, f))

    def stmt_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.stmt_FunctionDef(node)

    def expr_Lambda(self, node: ast.Lambda) -> int:
        return self.function_object(node)

    def function_object(self, node) -> int:
        """The function object of a def or lambda: defaults are evaluated here, in the
        enclosing scope, then the cells of its free variables are passed in."""
        a = node.args
        inputs = [self.expr(d) for d in a.defaults]
        inputs += [self.expr(d) for d in a.kw_defaults if d is not None]
        inputs += self.closure(node)
        self.at(node)
        f = self.emit(U._MAKE_FUNCTION, inputs, (self.mc.function_name(node),))
        doc = None if isinstance(node, ast.Lambda) else ast.get_docstring(node, clean=False)
        if doc is not None:   # CPython keeps it with the code; here it is set on the object
            text = self.emit(U._LOAD_CONST, imms=(self.mc.constant(doc),))
            self.emit(U._STORE_ATTR, [f, text], ("__doc__",))
        return f

    def closure(self, node) -> list[int]:
        """This scope's cells of the free variables of ``node``'s scope, in its order."""
        cells = []
        for name in self.mc.scopes.of(node).free:
            if self.where(name) not in ("cell", "free"):   # an inlined comprehension's
                raise self.fail(node, "closure over a comprehension variable")
            cells.append(self.emit(U._LOAD_FAST, imms=(cell_slot(name),)))
        return cells

    def decorate(self, node, decorators: list[int], obj: int) -> int:
        self.at(node)
        for d in reversed(decorators):
            obj = self.emit(U._CALL, [d, obj], ((),))
        return obj

    def stmt_ClassDef(self, node: ast.ClassDef) -> None:
        decorators = [self.expr(d) for d in node.decorator_list]
        self.at(node)
        body = self.emit(U._MAKE_FUNCTION, self.closure(node), (self.mc.function_name(node),))
        for b in node.bases:
            if isinstance(b, ast.Starred):
                raise self.fail(b, "starred base class")
        bases = [self.expr(b) for b in node.bases]
        for k in node.keywords:
            if k.arg is None:
                raise self.fail(k, "**keywords in a class definition")
        keywords = [self.expr(k.value) for k in node.keywords]
        self.at(node)
        cls = self.emit(U._BUILD_CLASS, [body, *bases, *keywords],
                        (node.name, tuple(k.arg for k in node.keywords)))
        self.store_name(node.name, self.decorate(node, decorators, cls))

    def enter_scope(self, node) -> None:
        """The start of a body: cells for the locals inner scopes read (a parameter's
        holds its argument); a class body first binds ``__module__``, ``__qualname__``
        and its docstring, as CPython's does."""
        for name in sorted(self.scope.cells):
            if self.scope.kind != "class" and name in self.fn.params:
                cell = self.emit(U._MAKE_CELL, [self.emit(U._LOAD_FAST, imms=(name,))])
            else:
                cell = self.emit(U._MAKE_EMPTY_CELL)
            self.emit(U._STORE_FAST, [cell], (cell_slot(name),))
        if self.scope.kind in ("module", "class") and _annotates(node):
            self.emit(U._SETUP_ANNOTATIONS, [self.namespace()])
        if self.scope.kind == "class":
            self.store_name("__module__", self.emit(U._LOAD_GLOBAL, imms=("__name__",)))
            qualname = self.emit(U._LOAD_CONST, imms=(self.mc.constant(self.scope.qualname),))
            self.store_name("__qualname__", qualname)
            doc = ast.get_docstring(node, clean=False)
            if doc is not None:
                self.store_name("__doc__", self.emit(U._LOAD_CONST,
                                                     imms=(self.mc.constant(doc),)))

    def namespace(self) -> int:
        """The dict a module's or class body's names live in."""
        if self.scope.kind == "class":
            return self.emit(U._LOAD_FAST, imms=(NAMESPACE,))
        return self.emit(U._GLOBALS)

    def leave_scope(self, node) -> None:
        """A class body ends by handing ``type`` its ``__class__`` cell to fill."""
        if self.scope.kind == "class" and "__class__" in self.scope.cells:
            cell = self.emit(U._LOAD_FAST, imms=(cell_slot("__class__"),))
            ns = self.emit(U._LOAD_FAST, imms=(NAMESPACE,))
            self.emit(U._STORE_NAME, [ns, cell], ("__classcell__",))

    # -- generators -----------------------------------------------------------

    def expr_Yield(self, node: ast.Yield) -> int:
        if node.value is None:
            v = self.emit(U._LOAD_CONST, imms=(None,))
        else:
            v = self.expr(node.value)
        self.at(node)
        return self.suspend(v)

    def suspend(self, value: int, resume=None) -> int:
        """``_YIELD_VALUE`` ends the block; the frame resumes at the next one with what
        was sent in ``$sent``."""
        resume = resume or self.new_block()
        self.emit(U._YIELD_VALUE, [value], targets=(resume.label,))
        self.start(resume)
        return self.emit(U._RESUME_VALUE, [self.emit(U._LOAD_FAST, imms=(SENT,))])

    def expr_YieldFrom(self, node: ast.YieldFrom) -> int:
        it = self.emit(U._GET_YIELD_FROM_ITER, [self.expr(node.value)])
        return self.delegate(node, it)

    def expr_Await(self, node: ast.Await) -> int:
        it = self.emit(U._GET_AWAITABLE, [self.expr(node.value)])
        return self.delegate(node, it)

    def delegate(self, node, it: int) -> int:
        """``_YIELD_FROM`` ends the block: the frame suspends delegating to ``it`` until
        it finishes (the driver's own ``yield from``, PEP 380's exact semantics), and
        resumes at the next block with its result, or its exception, in ``$sent``."""
        self.at(node)
        resume = self.new_block()
        self.emit(U._YIELD_FROM, [it], targets=(resume.label,))
        self.start(resume)
        return self.emit(U._RESUME_VALUE, [self.emit(U._LOAD_FAST, imms=(SENT,))])

    def expr_GeneratorExp(self, node: ast.GeneratorExp) -> int:
        """The generator function of the expression, called on its first iterator
        (evaluated here, in the enclosing scope, as CPython does)."""
        self.at(node)
        f = self.emit(U._MAKE_FUNCTION, self.closure(node), (self.mc.function_name(node),))
        it = self.emit(U._GET_ITER, [self.expr(node.generators[0].iter)])
        self.at(node)
        return self.emit(U._CALL, [f, it], ((),))

    def stmt_Nonlocal(self, node: ast.Nonlocal) -> None:
        pass   # the scopes already say where each name lives

    def zero_argument_super(self, node: ast.Call) -> int | None:
        """``super()`` in a method is ``super(__class__, <first argument>)``: CPython
        finds both in the calling frame, which compiled code does not have."""
        if self.where("super") != "global" or self.mc.is_rebound("super") or node.args or node.keywords \
                or "__class__" not in self.scope.free:
            return None
        fn = self.fn
        nparams = fn.signature.nparams if fn.signature is not None else len(fn.params)
        positional = fn.signature.positional if fn.signature is not None else nparams
        if positional == 0:
            return None   # CPython's RuntimeError, from super() itself
        self.at(node)
        callee = self.emit(U._LOAD_GLOBAL, imms=("super",))
        cls = self.load("__class__")
        first = self.load(fn.params[0])
        return self.emit(U._CALL, [callee, cls, first], ((),))


def _annotates(node) -> bool:
    """Does this module or class body annotate a name (outside nested scopes)?"""
    todo = list(node.body)
    while todo:
        n = todo.pop()
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.simple:
            return True
        if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                              ast.Lambda)):
            todo.extend(ast.iter_child_nodes(n))
    return False
