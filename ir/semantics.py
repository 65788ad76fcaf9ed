"""The Python semantics the uop definitions share: operators, the frame and call
uops' runtime behaviour (one definition that tier 1 and the runtime helpers compiled code
calls both run, with one set of error messages), and the helpers of the type rules."""

from __future__ import annotations

import builtins
import operator
from typing import Callable


# --------------------------------------------------------------------------- operators

BINOPS: dict[str, Callable] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
    "<<": operator.lshift, ">>": operator.rshift, "&": operator.and_,
    "|": operator.or_, "^": operator.xor,
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul,
    "/=": operator.itruediv, "//=": operator.ifloordiv, "%=": operator.imod,
    "**=": operator.ipow, "<<=": operator.ilshift, ">>=": operator.irshift,
    "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
}

CMPOPS: dict[str, Callable] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne, "is": operator.is_, "is_not": operator.is_not,
    "in": lambda a, b: a in b, "not_in": lambda a, b: a not in b,
}

UNOPS: dict[str, Callable] = {"neg": operator.neg, "pos": operator.pos, "invert": operator.invert}


def base_binop(op: str) -> str:
    """``+=`` and ``+`` specialize alike for immutable numbers."""
    return op[:-1] if op.endswith("=") and op not in CMPOPS else op


def range_arg(v):
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(
            f"'{type(v).__name__}' object cannot be interpreted as an integer") from None


def range_step(v):
    v = range_arg(v)
    if v == 0:
        raise ValueError("range() arg 3 must not be zero")
    return v


def range_has_next(cur, stop, step):
    return cur < stop if step > 0 else cur > stop


# --------------------------------------------------------------------------- frame and calls
#
# The Python semantics of the frame and call uops, bound to an executor's ``env`` (its
# globals and its ``call``) and its marker of an unbound local: tier 1 runs them, and so
# do the runtime helpers that compiled code calls for these uops.

_NO_GLOBALS: dict = {}


def load_fast_check(env, unbound, name):
    def load_fast_check(value):
        if value is unbound:
            raise UnboundLocalError(
                f"cannot access local variable '{name}' where it is not associated "
                f"with a value")
        return value
    return load_fast_check


def load_global(env, unbound, name):
    bi = builtins.__dict__

    def load_global():
        g = env.globals if env is not None else _NO_GLOBALS
        try:
            return g[name]
        except KeyError:
            try:
                return bi[name]
            except KeyError:
                raise NameError(f"name '{name}' is not defined") from None
    return load_global


def store_global(env, unbound, name):
    def store_global(value):
        if env is None:
            raise RuntimeError("native code has no globals (NativeCode env)")
        env.globals[name] = value
        hook = getattr(env, "on_global_write", None)
        if hook is not None:
            hook(name, value)
    return store_global


def call_function(env, unbound, callee):
    def call_function(*args):
        if env is None:
            raise RuntimeError("native code cannot call functions without an env")
        return env.call(callee, list(args))
    return call_function


def call_builtin(env, unbound, name):
    return getattr(builtins, name)


def call_method(env, unbound, name):
    return lambda obj, *args: getattr(obj, name)(*args)


def missing_arguments(name: str, missing: list[str]) -> str:
    """CPython's message: ``f() missing 2 required positional arguments: 'b' and 'c'``."""
    quoted = [f"'{p}'" for p in missing]
    if len(quoted) == 1:
        listed = quoted[0]
    elif len(quoted) == 2:
        listed = " and ".join(quoted)
    else:
        listed = ", ".join(quoted[:-1]) + ", and " + quoted[-1]
    n = len(missing)
    return f"{name}() missing {n} required positional argument{'s' * (n != 1)}: {listed}"


# --------------------------------------------------------------------------- type rules

def index_result(types, imms):
    # operator.index gives a Python int, which need not fit in int64
    return "int" if types[0] in ("int", "bool") else None


ITER_SEQ_RESULT = {"list": "list", "tuple": "tuple", "str": "str"}
BUILTIN_RESULT = {"len": "int"}

