"""The Python semantics of the uops of everyday Python beyond arithmetic: attributes,
imports, displays, calls with keywords and stars, unpacking, f-strings, ``del``,
``raise`` and iteration over any iterable.

Each function here is a uop's ``impl`` / ``make_impl`` / ``runtime`` (ir/uops.py), so
tier 1 and the helpers compiled code calls run the same code, with CPython's own error
messages (Python/ceval.c's wording for the cases where the interpreter, not the object,
raises).
"""

from __future__ import annotations

import builtins
import sys

# --------------------------------------------------------------------------- attributes


def load_attr(name: str):
    return lambda obj: getattr(obj, name)


def store_attr(name: str):
    def store_attr(obj, value):
        setattr(obj, name, value)
    return store_attr


def delete_attr(name: str):
    return lambda obj: delattr(obj, name)


def delete_subscr(container, index):
    del container[index]


# --------------------------------------------------------------------------- imports

def import_name(env, unbound, name, fromlist):
    """``IMPORT_NAME``: ``__import__`` as CPython calls it (level 0: scripts have no
    package; the module's globals, so an ``__import__`` override sees them)."""
    def import_name():
        g = getattr(env, "globals", None)
        return builtins.__import__(name, g, None, fromlist or None, 0)
    return import_name


def import_from(name: str):
    """``IMPORT_FROM``: the attribute, else the submodule in ``sys.modules`` (a package
    whose ``__init__`` has not bound it yet), else CPython's ImportError."""
    def import_from(module):
        try:
            return getattr(module, name)
        except AttributeError:
            pass
        try:
            pkgname = module.__name__
            if not isinstance(pkgname, str):
                raise AttributeError
        except AttributeError:
            err = ImportError(f"cannot import name {name!r} from <unknown module name> "
                              f"(unknown location)")
            raise err from None
        found = sys.modules.get(f"{pkgname}.{name}")
        if found is not None:
            return found
        path = getattr(module, "__file__", None)
        where = path if isinstance(path, str) else "unknown location"
        spec = getattr(module, "__spec__", None)
        if getattr(spec, "_initializing", False):
            msg = (f"cannot import name {name!r} from partially initialized module "
                   f"{pkgname!r} (most likely due to a circular import) ({where})")
        else:
            msg = f"cannot import name {name!r} from {pkgname!r} ({where})"
        raise ImportError(msg, name=pkgname, path=path if isinstance(path, str) else None)
    return import_from


def import_star(env, unbound, name):
    """``from name import *`` at module level: ``__all__`` (each item a str) or every
    public name, bound in the module's globals one by one (each write is seen by the
    runtime, which drops code that assumed the old value)."""
    def import_star():
        g = env.globals
        module = builtins.__import__(name, g, None, ("*",), 0)
        try:
            names = module.__all__
            public = False
        except AttributeError:
            names = module.__dict__.keys()
            public = True
        for n in list(names):
            if not isinstance(n, str):
                where = f"{module.__name__}.__dict__" if public else f"{module.__name__}.__all__"
                raise TypeError(f"{'Key in' if public else 'Item in'} {where} must be str, "
                                f"not {type(n).__name__}")
            if public and n.startswith("_"):
                continue
            g[n] = getattr(module, n)
    return import_star


def delete_global(env, unbound, name):
    def delete_global():
        try:
            del env.globals[name]
        except KeyError:
            raise NameError(f"name '{name}' is not defined") from None
        hook = getattr(env, "on_global_write", None)
        if hook is not None:   # code that assumed the old value goes
            hook(name, DELETED)
    return delete_global


DELETED = object()   # what on_global_write is told a deleted global now holds


# --------------------------------------------------------------------------- displays

def build_map(*kv):
    """``{k0: v0, k1: v1}``: keys and values alternate, evaluated in that order."""
    d = {}
    for i in range(0, len(kv), 2):
        d[kv[i]] = kv[i + 1]
    return d


def build_set(*items):
    return set(items)


def list_extend(lst, iterable):
    """``[*a]``: CPython's message for a non-iterable."""
    if not _iterable(iterable):
        raise TypeError(f"Value after * must be an iterable, not {type(iterable).__name__}")
    lst.extend(iterable)


def set_update(s, iterable):
    s.update(iterable)


def dict_update(d, mapping):
    """``{**m}``: a mapping is anything with ``keys``."""
    if not hasattr(type(mapping), "keys"):
        raise TypeError(f"'{type(mapping).__name__}' object is not a mapping")
    d.update(mapping)


def list_to_tuple(lst):
    return tuple(lst)


def _iterable(x) -> bool:
    t = type(x)
    return getattr(t, "__iter__", None) is not None or hasattr(t, "__getitem__")


# --------------------------------------------------------------------------- calls

def function_str(f) -> str:
    """How CPython names a callable in call errors: ``math.sqrt()``, ``print()``."""
    try:
        qual = f.__qualname__
        if not isinstance(qual, str):
            raise AttributeError
    except AttributeError:
        return str(f)
    module = getattr(f, "__module__", None)
    if isinstance(module, str) and module != "builtins":
        return f"{module}.{qual}()"
    return f"{qual}()"


def call_kw(names: tuple):
    """``f(a, b, k=v)``: the last ``len(names)`` arguments are keyword arguments."""
    k = len(names)
    if not k:
        return lambda f, *args: f(*args)

    def call_kw(f, *args):
        return f(*args[:-k], **dict(zip(names, args[-k:])))
    return call_kw


def dict_merge(callee, d, mapping):
    """``f(**m)``: merge ``m`` into the keyword dict, with CPython's errors."""
    if not hasattr(type(mapping), "keys"):
        raise TypeError(f"{function_str(callee)} argument after ** must be a mapping, "
                        f"not {type(mapping).__name__}")
    for key in mapping.keys():
        if key in d:
            if isinstance(key, str):
                raise TypeError(f"{function_str(callee)} got multiple values for keyword "
                                f"argument '{key}'")
            raise TypeError("keywords must be strings")
        d[key] = mapping[key]


def call_ex(callee, args, kwargs):
    """``f(*args, **kwargs)``: ``args`` a list the call built, or the one ``*`` operand
    (checked here, as CALL_FUNCTION_EX checks it); ``kwargs`` a dict or None."""
    if type(args) is not tuple:
        if not _iterable(args):
            raise TypeError(f"{function_str(callee)} argument after * must be an iterable, "
                            f"not {type(args).__name__}")
        args = tuple(args)
    if kwargs is None:
        return callee(*args)
    return callee(*args, **kwargs)


# --------------------------------------------------------------------------- unpacking

def unpack(n: int):
    """``a, b = v``: exactly ``n`` items, taken from the iterator one by one (so an
    infinite iterator fails after ``n + 1``), CPython's messages."""
    def unpack(v):
        if type(v) in (tuple, list):
            if len(v) == n:
                return tuple(v)
            if len(v) > n:
                raise ValueError(f"too many values to unpack (expected {n})")
            raise ValueError(f"not enough values to unpack (expected {n}, got {len(v)})")
        it = _unpack_iter(v)
        items = []
        for x in it:
            if len(items) == n:
                raise ValueError(f"too many values to unpack (expected {n})")
            items.append(x)
        if len(items) < n:
            raise ValueError(f"not enough values to unpack (expected {n}, got {len(items)})")
        return tuple(items)
    return unpack


def unpack_ex(before: int, after: int):
    """``a, *b, c = v``: a tuple of the ``before`` items, the list of the middle ones and
    the ``after`` items."""
    def unpack_ex(v):
        items = list(_unpack_iter(v))
        if len(items) < before + after:
            raise ValueError(f"not enough values to unpack (expected at least "
                             f"{before + after}, got {len(items)})")
        mid = items[before:len(items) - after]
        return (*items[:before], mid, *items[len(items) - after:])
    return unpack_ex


def _unpack_iter(v):
    try:
        return iter(v)
    except TypeError:
        if _iterable(v):
            raise
        raise TypeError(f"cannot unpack non-iterable {type(v).__name__} object") from None


# --------------------------------------------------------------------------- f-strings

CONVERSIONS = {"str": str, "repr": repr, "ascii": ascii}


def convert_value(kind: str):
    return CONVERSIONS[kind]


def format_value(value, spec):
    """``f"{value:spec}"``; an exact str without a spec is itself, as FORMAT_VALUE."""
    if not spec and type(value) is str:
        return value
    return format(value, spec)


def build_string(*parts):
    return "".join(parts)


# --------------------------------------------------------------------------- raise

def raise_(exc, *cause):
    """``raise exc`` / ``raise exc from cause``: a class is instantiated, as CPython."""
    if isinstance(exc, type) and issubclass(exc, BaseException):
        exc = exc()
        if not isinstance(exc, BaseException):
            raise TypeError(f"calling {exc!r} should have returned an instance of "
                            f"BaseException, not {type(exc).__name__}")
    elif not isinstance(exc, BaseException):
        raise TypeError("exceptions must derive from BaseException")
    if cause:
        c = cause[0]
        if isinstance(c, type) and issubclass(c, BaseException):
            c = c()
        elif c is not None and not isinstance(c, BaseException):
            raise TypeError("exception causes must derive from BaseException")
        exc.__cause__ = c   # also sets __suppress_context__
    raise exc


# --------------------------------------------------------------------------- iteration

class LazySeq:
    """What ``_ITER_SEQ`` gives a ``for`` loop over an iterable that is not a list,
    tuple, str or range: the loop's ``len(seq)`` / ``seq[i]`` protocol over the iterator,
    lazily.  ``len`` is asked at the loop head, exactly where CPython's FOR_ITER calls
    ``next``: it calls ``next`` once (buffering the item) unless an item is already
    buffered, and counts the exhausted iterator as done; ``seq[i]`` hands the buffered
    item over.  So side effects of a generator, an infinite iterator and ``break`` behave
    as in CPython, while lists and tuples keep their plain index loop (what specialize
    and typeprop turn into int arithmetic and ``_BINARY_SUBSCR_LIST_INT``)."""

    __slots__ = ("_it", "_taken", "_item", "_has", "_done")

    def __init__(self, it):
        self._it, self._taken, self._item, self._has, self._done = it, 0, None, False, False

    def __len__(self) -> int:
        if not self._has and not self._done:
            try:
                self._item = next(self._it)
                self._has = True
            except StopIteration:
                self._done = True
        return self._taken + self._has

    def __getitem__(self, i):
        if not self._has or i != self._taken:
            raise IndexError("lazy sequence: items are taken in order, after len()")
        item, self._item, self._has = self._item, None, False
        self._taken += 1
        return item

    def __repr__(self) -> str:
        return f"<lazy iteration at item {self._taken}>"


def iter_seq(v):
    """The sequence a lowered ``for`` loop indexes: lists, tuples, str and range as they
    are (indexing them is what their iterators do), anything else through ``iter``."""
    if type(v) in (list, tuple, str, range):
        return v
    return LazySeq(iter(v))
