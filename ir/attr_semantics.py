"""Python semantics of the specialized attribute uops (ir/attr_uops.py).

Each reads exactly what its C body reads (a type's ``tp_version_tag``, an instance's
inline values, a slot, a module dict's entry), through a *probe*: C functions compiled
against the running interpreter's headers (backends/copy_and_patch/object_probe.py),
which the backend that runs tier 1 installs here (``set_probe``): the IR layer names
what it needs and never builds C itself. ``DEOPT`` where the C body takes its side exit.
"""

from __future__ import annotations

import sys
from typing import Protocol

from .uop_model import ATTR_KINDS, DEOPT  # noqa: F401  (ATTR_KINDS: When.attr's kinds)


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()   # what the probe returns where C reads NULL

# ATTR_KINDS, the kinds of attribute site tier 1 profiles and ``specialize`` picks a uop
# for (When.attr): an instance's inline value, a __slots__ member, a value on the type (a
# class attribute, or the function of a method call), a module's attribute
VERSION_PREFIX = "version:"   # typeprop's fact of a _GUARD_TYPE_VERSION: "version:397"


def version_fact(version: int) -> str:
    return f"{VERSION_PREFIX}{version}"


def is_version_fact(t: str | None) -> bool:
    return t is not None and t.startswith(VERSION_PREFIX)


class Probe(Protocol):
    def type_version(self, tp: type, name: str) -> int: ...
    def version_tag(self, tp: type) -> int: ...
    def shared_keys_size(self, tp: type) -> int: ...
    def has_values(self, obj) -> bool: ...
    def values_index(self, obj, name: str) -> int: ...
    def value_at(self, obj, index: int): ...
    def store_value_at(self, obj, index: int, value) -> bool: ...
    def slot_offset(self, descr, writable: bool) -> int: ...
    def slot_get(self, obj, offset: int): ...
    def slot_set(self, obj, offset: int, value) -> None: ...
    def module_index(self, module, name: str) -> int: ...
    def module_value_at(self, module, index: int, name: str): ...


_probe: Probe | None = None


def set_probe(p: Probe) -> None:
    global _probe
    _probe = p


def probe() -> Probe:
    if _probe is None:
        raise RuntimeError("the attribute uops need the object probe "
                           "(backends.copy_and_patch.object_probe.install())")
    return _probe


def type_lookup(tp: type, name: str):
    """``_PyType_Lookup``: ``name`` in the dicts of ``tp``'s MRO, or MISSING."""
    for k in tp.__mro__:
        d = k.__dict__
        if name in d:
            return d[name]
    return MISSING


# ----------------------------------------------------------------------- the uops' impls

def guard_type_version(version: int):
    def guard(owner) -> bool:
        return probe().version_tag(type(owner)) == version
    return guard


def load_instance_value(name: str, index: int):
    def load(owner):
        r = probe().value_at(owner, index)
        return DEOPT if r is MISSING else r
    return load


def store_instance_value(name: str, index: int):
    def store(owner, value):
        return None if probe().store_value_at(owner, index, value) else DEOPT
    return store


def load_slot(name: str, offset: int):
    def load(owner):
        r = probe().slot_get(owner, offset)
        return DEOPT if r is MISSING else r
    return load


def store_slot(name: str, offset: int):
    def store(owner, value):
        probe().slot_set(owner, offset, value)
    return store


def check_not_shadowed(nkeys: int):
    """The instance keeps inline values over shared keys that still hold ``nkeys`` names
    (they only grow): no instance attribute hides what the type has under the name."""
    def check(owner):
        p = probe()
        ok = p.has_values(owner) and p.shared_keys_size(type(owner)) == nkeys
        return None if ok else DEOPT
    return check


def load_type_attr(name: str):
    def load(owner):
        r = type_lookup(type(owner), name)
        return DEOPT if r is MISSING else r
    return load


def load_module_attr(name: str, index: int):
    name = sys.intern(name)   # the C body compares the entry's key with the interned name

    def load(module):
        r = probe().module_value_at(module, index, name)
        return DEOPT if r is MISSING else r
    return load
