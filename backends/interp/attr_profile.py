"""Tier 1's profile of attribute sites: what CPython's specializer records in a cache.

For each ``_LOAD_ATTR``, ``_STORE_ATTR`` and ``_CALL_METHOD`` site, the first time a
receiver type shows up there (right after that access), the receiver and the name are
analyzed as
Python/specialize.c analyzes them (``analyze_descriptor``): the type's version tag (one
assigned by a type lookup, as ``_PyType_Lookup`` does), then what the name is on the
type -- a data descriptor (a ``__slots__`` member: its offset; a property or any other:
not specialized), a plain function (a method: the function itself, and the IR function a
call of it runs), a plain value (a class attribute), or absent (an instance value: its
index in the type's shared keys) -- or, for a module, the index of the name in its dict.
The result is an ``AttrSpec``; the site keeps one per receiver type, so a polymorphic
site is seen as such. The C-level facts come from the object probe
(backends/copy_and_patch/object_probe).
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass

from ir.attr_semantics import MISSING, type_lookup
from ir.uops import U

from backends.copy_and_patch import object_probe

HEAPTYPE = 1 << 9          # Py_TPFLAGS_HEAPTYPE
MANAGED_DICT = 1 << 4      # Py_TPFLAGS_MANAGED_DICT


@dataclass(frozen=True)
class AttrSpec:
    """What tier 1 found at an attribute site for one receiver type. ``kind`` is one of
    ir.attr_semantics.ATTR_KINDS, or "" with ``why`` it is not specialized."""

    kind: str
    type_name: str
    version: int = 0        # the type's tp_version_tag (0: a module)
    index: int = -1         # inline-values index, slot offset or module entry index
    keys: int = -1          # shared keys' size an instance must still have (not shadowed)
    callee: str | None = None   # a method call's IR function, called directly
    why: str = ""


def _generic_getattr(tp: type, store: bool) -> str | None:
    """Why ``tp``'s attribute access is not the generic one, or None."""
    if type_lookup(tp, "__getattribute__") is not object.__getattribute__:
        return "a custom __getattribute__"
    if type_lookup(tp, "__getattr__") is not MISSING:
        return "a __getattr__"
    if store and type_lookup(tp, "__setattr__") is not object.__setattr__:
        return "a custom __setattr__"
    return None


def classify(obj, name: str, op: str, nargs: int, function_objects) -> AttrSpec:
    """``op``: "load", "store" or "call" (a method call with ``nargs`` arguments)."""
    tp = type(obj)
    tname = tp.__qualname__
    p = object_probe.install()
    if tp is types.ModuleType:
        if op == "store":
            return AttrSpec("", tname, why="a module attribute store")
        index = p.module_index(obj, name)
        if index < 0:
            return AttrSpec("", tname, why=f"no entry {name!r} in the module's dict")
        return AttrSpec("module", tname, index=index)
    if not tp.__flags__ & HEAPTYPE:
        return AttrSpec("", tname, why="a built-in type")
    why = _generic_getattr(tp, op == "store")
    if why is not None:
        return AttrSpec("", tname, why=why)
    version = p.type_version(tp, name)
    if version == 0:
        return AttrSpec("", tname, why="the type has no version tag")
    descr = type_lookup(tp, name)
    dtype = type(descr)
    managed = bool(tp.__flags__ & MANAGED_DICT)
    if descr is not MISSING and (type_lookup(dtype, "__set__") is not MISSING
                                 or type_lookup(dtype, "__delete__") is not MISSING):
        if dtype is types.MemberDescriptorType and op != "call":
            offset = p.slot_offset(descr, op == "store")
            if offset >= 0:
                return AttrSpec("slot", tname, version, offset)
        return AttrSpec("", tname, why=f"a data descriptor ({dtype.__name__})")
    if descr is MISSING or op == "store":
        # an instance attribute (a store shadows a non-data descriptor, as CPython's)
        if not managed:
            return AttrSpec("", tname, why="no inline values")
        index = p.values_index(obj, name)
        if index < 0:
            return AttrSpec("", tname, why=f"{name!r} is not in the inline values")
        if op == "call":
            return AttrSpec("", tname, why="a call of an instance attribute")
        return AttrSpec("instance", tname, version, index)
    # a non-data descriptor or a plain value on the type: the instance must not hide it
    keys = -1
    if managed:
        if not p.has_values(obj) or p.values_index(obj, name) >= 0:
            return AttrSpec("", tname, why="the instance has a dict or its own value")
        keys = p.shared_keys_size(tp)
    elif tp.__dictoffset__ != 0:   # a __dict__ of its own (not inline values) could hide it
        return AttrSpec("", tname, why="an instance __dict__ outside inline values")
    if op == "call":
        if dtype is not types.FunctionType:
            return AttrSpec("", tname, why=f"a call of a {dtype.__name__}")
        callee = function_objects.direct_callee(descr, nargs + 1) \
            if function_objects is not None else None
        return AttrSpec("method", tname, version, keys=keys, callee=callee)
    if type_lookup(dtype, "__get__") is not MISSING:
        return AttrSpec("", tname, why=f"a {dtype.__name__} on the type")
    return AttrSpec("class", tname, version, keys=keys)


_OPS = {U._LOAD_ATTR: "load", U._STORE_ATTR: "store", U._CALL_METHOD: "call"}


def attr_step(step, u, specs: dict | None, function_objects):
    """Wrap tier 1's ``step`` of attribute site ``u`` (which records the operand types
    as every profiled site does): once per receiver type, its AttrSpec in ``specs``."""
    if specs is None:
        return step
    owner = u.inputs[0]
    name = sys.intern(u.imms[0])   # the probe finds keys by identity
    op = _OPS[u.name]
    nargs = len(u.inputs) - 1

    def profiled(vals, frame):
        obj = vals[owner]
        step(vals, frame)
        # after the access: a store has added its name to the shared keys (the first
        # object's __init__), which is what the next execution will find
        t = type(obj)
        if t not in specs:
            specs[t] = classify(obj, name, op, nargs, function_objects)
    return profiled


def is_attr_site(name: str) -> bool:
    return name in _OPS
