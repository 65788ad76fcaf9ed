"""``try``/``except``/``else``/``finally``, bare ``raise`` and ``with``, lowered as CPython's
compiler lowers them: every block names its exception handler (``Block.handler``); a
handler block takes the exception as its parameter, pushes it as the exception being
handled (``_PUSH_EXC_INFO``) and is itself protected by a cleanup block that pops it
again and re-raises (``_POP_EXCEPT``, ``_RERAISE``). A ``finally`` body is emitted
twice: on the normal path and on the exception path; ``return``, ``break`` and
``continue`` run the cleanups they leave (``unwind``), innermost first."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..core import Block
from ..uops import U


@dataclass
class Cleanup:
    """What leaving a construct early must do: ``kind`` is "finally" (run ``data``, the
    finally body), "except" (end a handler: ``data`` = (prev local, as-name)),
    "finally-exc" (the finally of an exception: ``data`` = prev local) or "with"
    (``data`` = the local holding the bound ``__exit__``, and whether it is awaited). ``inner``: the handler
    inside the construct; ``outside``: the one around it."""

    kind: str
    inner: str | None
    outside: str | None
    data: object


class Handlers:
    """Mixed into FunctionBuilder."""

    # -- handler context ------------------------------------------------------

    def protect(self, handler: str | None) -> None:
        """From here on, new uops are protected by ``handler`` (a fresh block if the
        current one already has uops under another)."""
        self.handler = handler
        if self.block.handler == handler:
            return
        if self.block.uops:
            nxt = self.new_block()
            self.jump(nxt.label)
            self.start(nxt)
        else:
            self.block.handler = handler

    def handler_block(self) -> tuple[Block, int]:
        """A handler block (not yet started) and its exception parameter."""
        b = self.new_block()
        exc = self.next_value
        self.next_value += 1
        b.params = [exc]
        return b, exc

    def reraise(self, exc: int) -> None:
        """``_RERAISE exc``; the block needs a terminator after it (never reached)."""
        self.emit(U._RERAISE, [exc])
        self.emit(U._RETURN, [self.emit(U._LOAD_CONST, imms=(None,))])

    def load_local(self, name: str) -> int:
        return self.emit(U._LOAD_FAST, imms=(name,))

    def store_local(self, name: str, value: int) -> None:
        self.emit(U._STORE_FAST, [value], (name,))

    def start_handler(self, b: Block, exc: int, cleanup: str | None) -> tuple[str, str]:
        """Enter handler ``b`` (protected by ``cleanup``): the exception becomes the one
        being handled; returns the hidden locals of the previous one and of it."""
        self.handler = cleanup
        self.start(b)
        prev, saved = self.temp("prev"), self.temp("exc")
        self.store_local(prev, self.emit(U._PUSH_EXC_INFO, [exc]))
        self.store_local(saved, exc)
        return prev, saved

    def pop_cleanup(self, prev: str, outside: str | None) -> str:
        """The cleanup of a handler: pop the exception being handled, re-raise."""
        b, e = self.handler_block()
        saved, here = self.handler, self.block
        self.handler = outside
        self.start(b)
        self.emit(U._POP_EXCEPT, [self.load_local(prev)])
        self.reraise(e)
        self.handler, self.block = saved, here
        return b.label

    # -- leaving constructs early ---------------------------------------------

    def unwind(self, depth: int) -> None:
        """Run the cleanups of every construct left down to ``depth`` (return: 0; break
        and continue: their loop's), innermost first; the handler is then the one
        around the outermost construct left."""
        stack = self.unwinding
        saved, handler = list(stack), self.handler
        for k in range(len(saved) - 1, depth - 1, -1):
            c = saved[k]
            del stack[k:]
            if c.kind == "finally":
                self.protect(c.outside)
                self.body(c.data)
            elif c.kind == "with":
                self.protect(c.outside)
                self.call_exit(c.data)
            else:   # "except" / "finally-exc": cannot fail, stays where the handler is
                self.protect(c.inner)
                self.end_handler(c)
                self.protect(c.outside)
        stack[:] = saved
        self.handler = handler   # for what follows the jump (the current block keeps its)

    def end_handler(self, c: Cleanup) -> None:
        if c.kind == "except":
            prev, name = c.data
            if name is not None:
                self.unbind(name)
        else:
            prev = c.data
        self.emit(U._POP_EXCEPT, [self.load_local(prev)])

    def unbind(self, name: str) -> None:
        """``name = None; del name``: what ends ``except E as name``."""
        self.store_name(name, self.emit(U._LOAD_CONST, imms=(None,)))
        self.delete_name(ast.Name(name, ast.Del()))

    def call_exit(self, how: tuple[str, bool]) -> None:
        """``__exit__(None, None, None)`` (awaited for ``async with``)."""
        exit_local, is_async = how
        none = self.emit(U._LOAD_CONST, imms=(None,))
        r = self.emit(U._CALL, [self.load_local(exit_local), none, none, none], ((),))
        if is_async:
            self.awaited(None, r)

    # -- statements -----------------------------------------------------------

    def stmt_Raise(self, node: ast.Raise) -> None:
        if node.exc is None:
            self.emit(U._RERAISE, [self.emit(U._ACTIVE_EXCEPTION)])
            return
        exc = self.expr(node.exc)
        inputs = [exc] if node.cause is None else [exc, self.expr(node.cause)]
        self.at(node)
        self.emit(U._RAISE, inputs)

    def stmt_Try(self, node: ast.Try) -> None:
        outer = self.handler
        after = self.new_block()
        if node.finalbody:
            fin, fexc = self.handler_block()
            self.unwinding.append(Cleanup("finally", fin.label, outer, node.finalbody))
            self.try_except(node, fin.label)
            self.unwinding.pop()
            self.protect(outer)
            self.body(node.finalbody)          # the normal path
            self.jump(after.label)
            self.finally_path(node, fin, fexc, outer)
        else:
            self.try_except(node, outer)
            self.jump(after.label)
        self.handler = outer
        self.start(after)

    def finally_path(self, node: ast.Try, fin: Block, exc: int, outer: str | None) -> None:
        """The finally body on the exception path, then the exception again."""
        cleanup, b = self.handler_block()
        self.at(node.finalbody[0])
        prev, saved = self.start_handler(fin, exc, cleanup.label)
        self.unwinding.append(Cleanup("finally-exc", cleanup.label, outer, prev))
        self.body(node.finalbody)
        self.unwinding.pop()
        self.protect(cleanup.label)
        self.reraise(self.load_local(saved))
        self.handler = outer
        self.start(cleanup)
        self.emit(U._POP_EXCEPT, [self.load_local(prev)])
        self.reraise(b)

    def try_except(self, node: ast.Try, outside: str | None) -> None:
        """The body, the handlers and the else part, with ``outside`` around them; ends
        in the block that the normal paths reach."""
        if not node.handlers:
            self.protect(outside)
            self.body(node.body)
            return
        h, exc = self.handler_block()
        done = self.new_block()
        self.protect(h.label)
        self.body(node.body)
        self.protect(outside)
        self.body(node.orelse)
        self.jump(done.label)
        cleanup, cexc = self.handler_block()
        self.at(node.handlers[0])
        prev, saved = self.start_handler(h, exc, cleanup.label)
        for clause in node.handlers:
            self.at(clause)
            nomatch = None
            if clause.type is not None:
                types = self.expr(clause.type)
                self.at(clause)
                match = self.emit(U._CHECK_EXC_MATCH, [self.load_local(saved), types])
                yes, nomatch = self.new_block(), self.new_block()
                self.emit(U._BRANCH, [match], targets=(yes.label, nomatch.label))
                self.start(yes)
            self.handler_body(clause, prev, saved, cleanup.label, done.label, outside)
            if nomatch is None:
                break   # a bare except is last
            self.handler = cleanup.label
            self.start(nomatch)
        else:
            self.reraise(self.load_local(saved))   # no clause matched
        self.handler = outside
        self.start(cleanup)
        self.emit(U._POP_EXCEPT, [self.load_local(prev)])
        self.reraise(cexc)
        self.start(done)

    def handler_body(self, clause: ast.ExceptHandler, prev: str, saved: str,
                     cleanup: str, done: str, outside: str | None) -> None:
        inner = cleanup
        if clause.name is not None:
            named, nexc = self.handler_block()
            inner = named.label
            self.protect(inner)
            self.store_name(clause.name, self.load_local(saved))
        c = Cleanup("except", inner, outside, (prev, clause.name))
        self.unwinding.append(c)
        self.body(clause.body)
        self.unwinding.pop()
        self.protect(inner)
        self.end_handler(c)
        self.jump(done)
        if clause.name is not None:   # an exception in the body: unbind, then cleanup
            self.handler = cleanup
            self.start(named)
            self.unbind(clause.name)
            self.reraise(nexc)

    def stmt_With(self, node: ast.With) -> None:
        self.with_items(node, node.items, False)

    def stmt_AsyncWith(self, node: ast.AsyncWith) -> None:
        self.with_items(node, node.items, True)

    def awaited(self, node, v: int) -> int:
        return self.delegate(node, self.emit(U._GET_AWAITABLE, [v]))

    def with_items(self, node, items: list[ast.withitem], is_async: bool) -> None:
        """``with`` (``async with``: ``__aenter__``/``__aexit__``, each result awaited)."""
        if not items:
            self.body(node.body)
            return
        item = items[0]
        outer = self.handler
        mgr = self.expr(item.context_expr)
        self.at(item.context_expr)
        pair = self.emit(U._BEFORE_ASYNC_WITH if is_async else U._BEFORE_WITH, [mgr])
        exit_local = self.temp("exit")
        self.store_local(exit_local, self.emit(U._BINARY_SUBSCR,
                                               [pair, self.emit(U._LOAD_CONST, imms=(0,))]))
        value = self.emit(U._BINARY_SUBSCR, [pair, self.emit(U._LOAD_CONST, imms=(1,))])
        if is_async:
            value = self.awaited(item.context_expr, value)
        w, exc = self.handler_block()
        after = self.new_block()
        self.protect(w.label)
        if item.optional_vars is not None:
            self.assign(item.optional_vars, value)
        self.unwinding.append(Cleanup("with", w.label, outer, (exit_local, is_async)))
        self.with_items(node, items[1:], is_async)
        self.unwinding.pop()
        self.protect(outer)
        self.at(node)
        self.call_exit((exit_local, is_async))
        self.jump(after.label)
        # the body raised: __exit__(type, value, traceback); true suppresses
        cleanup, cexc = self.handler_block()
        prev, saved = self.start_handler(w, exc, cleanup.label)
        self.at(node)
        r = self.emit(U._WITH_EXCEPT_START, [self.load_local(exit_local), exc])
        if is_async:
            r = self.awaited(node, r)
        suppress, again = self.new_block(), self.new_block()
        self.emit(U._BRANCH, [self.emit(U._TO_BOOL, [r])],
                  targets=(suppress.label, again.label))
        self.start(suppress)
        self.emit(U._POP_EXCEPT, [self.load_local(prev)])
        self.jump(after.label)
        self.start(again)
        self.reraise(self.load_local(saved))
        self.handler = outer
        self.start(cleanup)
        self.emit(U._POP_EXCEPT, [self.load_local(prev)])
        self.reraise(cexc)
        self.start(after)
