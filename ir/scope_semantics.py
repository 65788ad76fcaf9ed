"""The Python semantics of the uops that make functions, cells and classes and read a
class body's namespace (``_MAKE_FUNCTION``, ``_LOAD_DEREF``, ``_BUILD_CLASS``, ...).

Like the frame and call semantics in ir/semantics.py they are bound to an executor's
``env`` (its globals, and ``make_function``, which turns a compiled function of the
module into a real Python function object: see backends/interp/function_objects.py);
tier 1 runs them, and so do the runtime helpers of compiled code.
"""

from __future__ import annotations

import builtins
import types


def make_function(env, unbound, name):
    def make_function(*inputs):
        return env.make_function(name, inputs)
    return make_function


def module_globals(env, unbound):
    """``globals()``: the script's module dict (the builtin would see the helper's)."""
    return lambda: env.globals


def setup_annotations(ns):
    """A module or class body that annotates names starts with ``__annotations__``."""
    if "__annotations__" not in ns:
        ns["__annotations__"] = {}


def store_annotation(name):
    def store_annotation(ns, annotation):
        ns["__annotations__"][name] = annotation
    return store_annotation


def make_cell(value):
    return types.CellType(value)


def make_empty_cell():
    return types.CellType()


def load_deref(name, free):
    """A cell's contents, or CPython's error for an empty cell (``free``: the cell came
    from an enclosing function)."""
    def load_deref(cell):
        try:
            return cell.cell_contents
        except ValueError:
            if free:
                raise NameError(f"cannot access free variable '{name}' where it is not "
                                f"associated with a value in enclosing scope") from None
            raise UnboundLocalError(f"cannot access local variable '{name}' where it is "
                                    f"not associated with a value") from None
    return load_deref


def store_deref(name):
    def store_deref(cell, value):
        cell.cell_contents = value
    return store_deref


def load_name(env, unbound, name):
    """A class body's name: its namespace, then the module's globals, then builtins."""
    bi = builtins.__dict__

    def load_name(ns):
        try:
            return ns[name]
        except KeyError:
            pass
        g = env.globals
        if name in g:
            return g[name]
        try:
            return bi[name]
        except KeyError:
            raise NameError(f"name '{name}' is not defined") from None
    return load_name


def delete_deref(name):
    """``del x`` of a cell variable: the cell is emptied (CPython's DELETE_DEREF)."""
    def delete_deref(cell):
        try:
            cell.cell_contents
        except ValueError:
            raise UnboundLocalError(f"cannot access local variable '{name}' where it is "
                                    f"not associated with a value") from None
        del cell.cell_contents
    return delete_deref


def delete_name(name):
    def delete_name(ns):
        try:
            del ns[name]
        except KeyError:
            raise NameError(f"name '{name}' is not defined") from None
    return delete_name


def store_name(name):
    def store_name(ns, value):
        ns[name] = value
    return store_name


def build_class(name, kwnames):
    """``class name(*bases, **keywords)``: the metaclass is found, ``__prepare__``
    called and the class made by ``types.new_class``, the body (a function taking the
    namespace) run on the namespace in between, as ``__build_class__`` does."""
    nk = len(kwnames)

    def build_class(body, *rest):
        bases = rest[:len(rest) - nk]
        kwds = dict(zip(kwnames, rest[len(rest) - nk:]))
        return types.new_class(name, bases, kwds, body)
    return build_class








# --------------------------------------------------------------------------- generators
# A generator's frame is suspended at ``_YIELD_VALUE`` and resumed at the block after it,
# with what ``send`` passed (or the exception ``throw``/``close`` passed, as a Thrown) in
# its ``$sent`` local; the resumed block starts with ``_RESUME_VALUE`` of it.

SENT = "$sent"


class Thrown:
    """An exception thrown into a suspended generator, raised where it resumes."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException):
        self.exc = exc


def resume_value(sent):
    if type(sent) is Thrown:
        raise sent.exc
    return sent


def yield_from_iter(obj):
    """``yield from obj`` drives a generator (or coroutine) itself, anything else
    through ``iter``."""
    if isinstance(obj, types.GeneratorType):
        return obj
    return iter(obj)


def get_awaitable(obj):
    """The iterator ``await obj`` drives: a generator-based coroutine itself, else what
    the type's ``__await__`` returns (CPython's GET_AWAITABLE)."""
    if isinstance(obj, types.GeneratorType) and obj.gi_code.co_flags & 0x100:
        return obj   # CO_ITERABLE_COROUTINE: @types.coroutine
    method = getattr(type(obj), "__await__", None)
    if method is None:
        raise TypeError(f"object {type(obj).__name__} can't be used in 'await' expression")
    return method(obj)
