"""Generators and coroutines: a generator function's call makes a real Python generator
object, which runs the function's frame in the executor until ``_YIELD_VALUE`` suspends
it; an ``async def``'s call makes a Coroutine over the same driver.

A suspended frame needs nothing but its locals: the generic IR keeps no value across a
block boundary, and ``_YIELD_VALUE`` ends its block, so resuming is entering the frame
at the block after the yield (the way OSR enters a loop header), with what ``send``
passed in the frame's ``$sent`` local. The driver is a Python generator, so iteration,
``send``, ``throw`` and ``close`` are CPython's own; an exception thrown in is handed to
the frame as a Thrown, raised by the resumed block's ``_RESUME_VALUE``. ``yield from``
and ``await`` suspend the frame with a Delegation (``_YIELD_FROM``): the driver runs
``yield from`` on the iterator itself, so PEP 380's semantics are CPython's, and a chain
of nested generators delegates in C; the result (or exception) resumes the frame.

A tiered runtime takes over the steps (workbench/runtime/resuming): it sees each step
through ``Interpreter.resume_hook(cf, label, frame)`` until the function has optimized
code, then puts a step function per resume point in ``Interpreter.resume_steps[name]``
(``label`` -> ``step(frame)``), which runs the frame's optimized code from that point
(entered as OSR enters a loop header) and suspends by saving the frame and returning a
Suspension as tier 1 does; a label without one runs in tier 1.
"""

from __future__ import annotations

import collections.abc

from ir.scope_semantics import SENT, Thrown


class Suspension:
    """What the executor returns when a frame yields: the value, and where to resume."""

    __slots__ = ("value", "resume")

    def __init__(self, value, resume: str):
        self.value, self.resume = value, resume


class Delegation:
    """What the executor returns when a frame suspends in ``yield from`` / ``await``:
    the iterator it delegates to, and where to resume with its result."""

    __slots__ = ("value", "resume")

    def __init__(self, value, resume: str):
        self.value, self.resume = value, resume


class Coroutine:
    """The coroutine object of a call of an ``async def``: what ``await`` and event
    loops (asyncio's tasks) drive with send, throw and close. Its steps are those of a
    generator driver over the frame; ``await`` on it delegates to that driver."""

    __slots__ = ("_driver", "__name__", "__qualname__")

    def __init__(self, driver, name: str, qualname: str):
        self._driver, self.__name__, self.__qualname__ = driver, name, qualname

    def send(self, value):
        return self._driver.send(value)

    def throw(self, *exc):
        return self._driver.throw(*exc)

    def close(self):
        return self._driver.close()

    def __await__(self):
        return self._driver

    def __repr__(self):
        return f"<coroutine object {self.__qualname__} at {id(self):#x}>"


collections.abc.Coroutine.register(Coroutine)   # asyncio.iscoroutine() accepts it
Coroutine.__name__ = Coroutine.__qualname__ = "coroutine"   # type(c).__name__, as CPython


def make_generator(interp, name: str, args: list, unbound):
    """The generator (or coroutine) object of a call of ``name`` (``unbound``: the
    executor's marker of a local without a value)."""
    cf = interp.compile(name)
    frame = list(args) + [unbound] * (len(cf.fn.locals) - len(args))
    sent_slot = cf.local_index.get(SENT)
    gen = _run(interp, cf, frame, sent_slot)
    qualname = name.split("#")[0]
    short = qualname.rsplit(".", 1)[-1]
    if cf.fn.signature.kind == "coroutine":
        return Coroutine(gen, short, qualname)
    gen.__qualname__, gen.__name__ = qualname, short
    return gen


def _run(interp, cf, frame: list, sent_slot: int | None):
    label = cf.entry
    name = cf.fn.name
    by_function = interp.resume_steps
    while True:
        interp.depth += 1
        try:
            steps = by_function.get(name)
            if steps is not None:   # the runtime's steps of its optimized code
                step = steps.get(label)
                r = interp.execute(cf, frame, label) if step is None else step(frame)
            elif interp.resume_hook is not None:
                r = interp.resume_hook(cf, label, frame)
            else:
                r = interp.execute(cf, frame, label)
        finally:
            interp.depth -= 1
        kind = type(r)
        if kind is Suspension:
            label = r.resume
            try:
                sent = yield r.value
            except BaseException as e:   # throw() and close(): raised where it resumes
                sent = Thrown(e)
        elif kind is Delegation:
            # CPython's own yield from: send, throw and close go to the iterator (nested
            # generators delegate in C); its result, or its exception, goes to the frame
            label = r.resume
            try:
                sent = yield from r.value
            except BaseException as e:
                sent = Thrown(e)
        else:
            return r
        frame[sent_slot] = sent
