"""The module's compiled functions as real Python function objects.

``_MAKE_FUNCTION`` turns a def, a lambda or a class body into a CPython function whose
signature is the source's own, so that CPython binds every call (defaults, keywords,
``*args``, ``**kwargs``, and its TypeErrors) and the object is all that Python code
expects of a function: a method once stored on a class, a sort key, a callback, a
decorator's argument, something ``dataclasses`` and ``functools`` can inspect. Its body
is a single call into the executor, with the bound arguments laid out as the IR
function's parameters (ir.core.Signature) and then the closure's cells.

The Python source of each such trampoline is generated once per IR function (the
parameter list is the source's, with placeholder defaults that ``__defaults__`` and
``__kwdefaults__`` then replace) and instantiated once per ``_MAKE_FUNCTION``.
"""

from __future__ import annotations

import keyword
import weakref
from typing import Callable

from ir.core import Function, Signature


class FunctionObjects:
    """Makes function objects whose calls run ``enter(name, args)``."""

    def __init__(self, functions: dict[str, Function], enter: Callable[[str, list], object],
                 module_name: Callable[[], object], fast: dict | None = None):
        self.functions = functions
        self.enter = enter
        self.module_name = module_name
        # name -> call(*args): the executor's straight entries (Interpreter.fast_calls),
        # which a call of the function object takes, when there is one, instead of enter
        self.fast = {} if fast is None else fast
        self.factories: dict[str, Callable] = {}
        # function object -> its IR function, for those without closure cells: a call
        # of one with all its positional arguments is a call of the IR function
        # (what a specialized method call makes a _CALL_FUNCTION of)
        self.plain: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def make(self, name: str, inputs: tuple) -> Callable:
        fn = self.functions[name]
        sig = signature_of(fn)
        factory = self.factories.get(name)
        if factory is None:
            factory = self.factories[name] = self._factory(fn, sig)
        nd, nk = sig.defaults, len(sig.kwdefaults)
        f = factory(self.enter, name, tuple(inputs[nd + nk:]), self.fast)
        if nd:
            f.__defaults__ = tuple(inputs[:nd])
        if nk:
            f.__kwdefaults__ = dict(zip(sig.kwdefaults, inputs[nd:nd + nk]))
        f.__module__ = self.module_name()
        if not sig.free:
            self.plain[f] = name
        return f

    def direct_callee(self, f, nargs: int) -> str | None:
        """The IR function a call ``f(*nargs arguments)`` runs exactly, if ``f`` is one
        of ours whose parameters are all positional, no cells, and ``nargs`` of them."""
        try:
            name = self.plain.get(f)
        except TypeError:   # not hashable / not weak-referenceable: not one of ours
            return None
        if name is None:
            return None
        fn = self.functions[name]
        sig = signature_of(fn)
        if sig.varargs or sig.varkw or sig.kwonly or sig.free or sig.kind != "function" \
                or sig.positional != len(fn.params) or nargs != len(fn.params):
            return None
        return name

    def _factory(self, fn: Function, sig: Signature) -> Callable:
        params = fn.params[:sig.nparams]
        prefix = "_wb_"
        while any(p.startswith(prefix) for p in params):
            prefix = "_" + prefix
        cells, enter, ir_name, fast, entry = (prefix + r for r in
                                              ("cells", "enter", "name", "fast", "entry"))
        # A hidden parameter (a class body's ``$ns``) gets a Python name of its own.
        params = [p if p.isidentifier() else f"{prefix}arg{i}" for i, p in enumerate(params)]
        pos = params[:sig.positional]
        kwonly = params[sig.positional:sig.positional + sig.kwonly]
        star = params[sig.positional + sig.kwonly] if sig.varargs else None
        starstar = params[sig.nparams - 1] if sig.varkw else None
        parts: list[str] = []
        first_default = sig.positional - sig.defaults
        for i, p in enumerate(pos):
            parts.append(f"{p}=None" if i >= first_default else p)
            if sig.posonly and i == sig.posonly - 1:
                parts.append("/")
        if star is not None:
            parts.append("*" + star)
        elif kwonly:
            parts.append("*")
        parts += [f"{p}=None" if p in sig.kwdefaults else p for p in kwonly]
        if starstar is not None:
            parts.append("**" + starstar)
        order = pos + kwonly + [p for p in (star, starstar) if p is not None]
        args = f"{', '.join(order)}{', ' if order else ''}*{cells}"
        source = (f"def make({enter}, {ir_name}, {cells}, {fast}):\n"
                  f"    def {_python_name(fn)}({', '.join(parts)}):\n"
                  f"        {entry} = {fast}.get({ir_name})\n"
                  f"        if {entry} is not None:\n"
                  f"            return {entry}({args})\n"
                  f"        return {enter}({ir_name}, [{args}])\n"
                  f"    return {_python_name(fn)}\n")
        namespace: dict = {}
        exec(compile(source, f"<workbench function {fn.name}>", "exec"), namespace)
        make = namespace["make"]
        qualname = fn.name.split("#")[0]
        short = qualname.rsplit(".", 1)[-1]

        def factory(enter_fn, name, closure, fast_calls):
            f = make(enter_fn, name, closure, fast_calls)
            f.__name__, f.__qualname__ = short, qualname
            return f
        return factory


def signature_of(fn: Function) -> Signature:
    """A plain function (no Signature) takes its params positionally."""
    return fn.signature or Signature(len(fn.params))


def _python_name(fn: Function) -> str:
    short = fn.name.split("#")[0].rsplit(".", 1)[-1]
    return short if short.isidentifier() and not keyword.iskeyword(short) else "function"
