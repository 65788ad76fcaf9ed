"""What ``try``, ``except``, ``finally``, bare ``raise`` and ``with`` do, as CPython does it.

The exception being handled (``sys.exception()``, ``sys.exc_info()``) is the thread's
own state, set and restored through the C API (``PyErr_SetHandledException``), so
implicit chaining (``__context__``) and ``sys.exc_info()`` inside a handler are
CPython's, in any frame, generators included (a generator has its own state). A
re-raise restores the very exception (``PyErr_Restore``) without chaining it again,
as CPython's ``RERAISE``.
"""

from __future__ import annotations

import ctypes
import sys

_set_handled = ctypes.pythonapi.PyErr_SetHandledException
_set_handled.argtypes = (ctypes.py_object,)
_set_handled.restype = None
_restore = ctypes.pythonapi.PyErr_Restore
_restore.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
_restore.restype = None
_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = (ctypes.py_object,)
_incref.restype = None


class _StackItem(ctypes.Structure):
    _fields_ = [("exc_value", ctypes.c_void_p), ("previous_item", ctypes.c_void_p)]


class _ThreadState(ctypes.Structure):
    """The head of CPython 3.11's ``PyThreadState`` (Include/cpython/pystate.h), up to
    ``exc_info``: the slot of the running generator (or of the thread)."""

    _fields_ = [("prev", ctypes.c_void_p), ("next", ctypes.c_void_p),
                ("interp", ctypes.c_void_p)] + [
        (n, ctypes.c_int) for n in ("_initialized", "_static", "recursion_remaining",
                                    "recursion_limit", "recursion_headroom", "tracing",
                                    "tracing_what")] + [
        (n, ctypes.c_void_p) for n in ("cframe", "c_profilefunc", "c_tracefunc",
                                       "c_profileobj", "c_traceobj", "curexc_type",
                                       "curexc_value", "curexc_traceback")] + [
        ("exc_info", ctypes.POINTER(_StackItem))]


_thread_state = ctypes.pythonapi.PyThreadState_Get
_thread_state.restype = ctypes.POINTER(_ThreadState)


def _own_slot():
    """What CPython's PUSH_EXC_INFO saves: the innermost slot's exception (a generator
    that handles none has its own empty slot, though its caller's shows through)."""
    v = _thread_state().contents.exc_info.contents.exc_value
    return None if not v else ctypes.cast(v, ctypes.py_object).value


def _slot_is_readable() -> bool:
    if sys.version_info[:2] != (3, 11):
        return False
    probe = ValueError("probe")
    try:
        raise probe
    except ValueError:
        return _thread_state().contents.exc_info.contents.exc_value == id(probe)


_PREVIOUS = _own_slot if _slot_is_readable() else sys.exception


def push_exc_info(exc):
    """A handler starts: ``exc`` becomes the exception being handled; the previous one
    (or None) is returned, for ``pop_except`` to restore."""
    prev = _PREVIOUS()
    _set_handled(exc)
    return prev


def pop_except(prev) -> None:
    """A handler ends (normally, or by an exception, return, break or continue)."""
    _set_handled(prev)


def reraise(exc) -> None:
    """Raise ``exc`` again, its ``__context__`` and traceback untouched (PyErr_Restore
    steals the three references taken here)."""
    t, tb = type(exc), exc.__traceback__
    _incref(t)
    _incref(exc)
    if tb is not None:
        _incref(tb)
    _restore(id(t), id(exc), None if tb is None else id(tb))
    raise SystemError("PyErr_Restore did not raise")   # not reached: ctypes raises it


def active_exception():
    """A bare ``raise``: the exception being handled, wherever the handler is."""
    exc = sys.exception()
    if exc is None:
        raise RuntimeError("No active exception to reraise")
    return exc


def _check_catchable(t) -> None:
    if not (isinstance(t, type) and issubclass(t, BaseException)):
        raise TypeError("catching classes that do not inherit from BaseException "
                        "is not allowed")


def check_exc_match(exc, types) -> bool:
    """``except types:``: the clause matches ``exc``; a type that is no exception class
    is CPython's TypeError."""
    if type(types) is tuple:
        for t in types:
            _check_catchable(t)
    else:
        _check_catchable(types)
    return isinstance(exc, types)


def _bind_manager(mgr, enter: str, exit_: str, protocol: str) -> tuple:
    """(the bound exit method, what the enter method returned), both looked up on the
    type as CPython's BEFORE_WITH / BEFORE_ASYNC_WITH do, with their errors."""
    t = type(mgr)
    if not _has(t, enter):
        raise TypeError(f"'{t.__name__}' object does not support the {protocol}")
    if not _has(t, exit_):
        raise TypeError(f"'{t.__name__}' object does not support the {protocol} "
                        f"(missed {exit_} method)")
    bound_exit = getattr(t, exit_).__get__(mgr, t)
    return bound_exit, getattr(t, enter).__get__(mgr, t)()


def before_with(mgr) -> tuple:
    """``with mgr``: (the bound ``__exit__``, what ``__enter__`` returned)."""
    return _bind_manager(mgr, "__enter__", "__exit__", "context manager protocol")


def before_async_with(mgr) -> tuple:
    """``async with mgr``: (the bound ``__aexit__``, what ``__aenter__()`` returned, to be
    awaited)."""
    return _bind_manager(mgr, "__aenter__", "__aexit__",
                         "asynchronous context manager protocol")


def _has(t: type, name: str) -> bool:
    return any(name in k.__dict__ for k in t.__mro__)


def with_except_start(exit_, exc):
    """The body of a ``with`` raised: ``__exit__(type, value, traceback)``; a true
    result suppresses the exception."""
    return exit_(type(exc), exc, exc.__traceback__)
