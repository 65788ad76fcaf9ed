"""specialize, attribute sites: what CPython's LOAD_ATTR / STORE_ATTR / LOAD_METHOD
specializations are, as uops behind a type version guard.

Tier 1 recorded, per site, what the name is on the receiver's type (its ``AttrSpec``:
backends/interp/attr_profile); a monomorphic site whose kind has a specialized uop in its
generic uop's family (``When(attr=kind)``, ir/attr_uops.py) becomes:

* ``_GUARD_TYPE_VERSION`` on the receiver (not for a module), then
* an instance value, slot or module entry: the specialized load or store;
* a class attribute: ``_CHECK_ATTR_NOT_SHADOWED`` (the instance has no value of that
  name) and ``_LOAD_ATTR_CLASS``;
* a method call: ``_CHECK_ATTR_NOT_SHADOWED``, then, when the function is one of the
  script's whose call binds nothing (``AttrSpec.callee``), ``_CALL_FUNCTION`` of it with
  the receiver as first argument (a direct call: machine code to machine code), else
  ``_LOAD_ATTR_METHOD`` and ``_CALL`` of the function with the receiver first; either
  way no bound-method object (CPython's LOAD_ATTR_METHOD_WITH_VALUES + CALL);
* a call of a module's function: ``_LOAD_ATTR_MODULE`` and ``_CALL``.

Every guard and checked uop exits to the generic uop in tier 1.
"""

from __future__ import annotations

from ir.core import Uop
from ir.uops import UOPS, U, family

from .base import PassContext

ATTR_SITES = (U._LOAD_ATTR, U._STORE_ATTR, U._CALL_METHOD)


def _member(generic: str, kind: str) -> str | None:
    """The uop of ``generic``'s family picked for attribute kind ``kind``."""
    for spec, w in family(generic):
        if spec is not None and w.attr == kind:
            return spec
    return None


def plan_attr(fn, label: str, i: int, u: Uop, ctx: PassContext, max_exits: int):
    """None (not an attribute site tier 1 profiled: the ordinary families decide), or
    (what, why, build) as ``Specialize.plan``; a profiled site that stays generic says why
    in a note and gives ("", why, None)."""
    prof = ctx.profile
    if u.name not in ATTR_SITES or prof is None or not hasattr(prof, "attr_spec"):
        return None
    site = (fn.name, label, i)
    if site not in prof.attrs:
        return None
    if prof.exits.get(site, 0) >= max_exits:
        return "", f"its guards exited {prof.exits[site]} times", None
    spec, why = prof.attr_spec(site)
    if spec is None:
        return "", why, None
    owner, name = u.inputs[0], u.imms[0]
    out = u.output
    kind = spec.kind
    why = f"profile {spec.type_name}: {kind}" + (f" @{spec.callee}" if spec.callee else "")

    def guard(rw):
        if kind != "module":
            rw.emit(U._GUARD_TYPE_VERSION, [owner], None, (spec.version,))
        if spec.keys >= 0 and kind in ("class", "method"):
            rw.emit(U._CHECK_ATTR_NOT_SHADOWED, [owner], None, (spec.keys,))

    if u.name == U._CALL_METHOD:
        args = list(u.inputs[1:])
        if kind == "method" and spec.callee is not None:
            def build(rw):
                guard(rw)
                rw.emit(U._CALL_FUNCTION, [owner, *args], out, (spec.callee,))
            return U._CALL_FUNCTION, why, build
        if kind == "method":
            loader, first = U._LOAD_ATTR_METHOD, [owner]
        elif kind == "module":
            loader, first = U._LOAD_ATTR_MODULE, []
        else:
            return "", f"{why}: no call of it is specialized", None
        imms = (name, spec.index) if len(UOPS[loader].imms) == 2 else (name,)

        def build(rw):
            guard(rw)
            f = rw.emit(loader, [owner], fn.new_value(), imms)
            rw.emit(U._CALL, [f, *first, *args], out, ((),))
        return loader, why, build
    spec_uop = _member(u.name, kind)
    if spec_uop is None:
        return "", f"{why}: no {u.name} of it is specialized", None
    d = UOPS[spec_uop]
    imms = (name, spec.index) if len(d.imms) == 2 else (name,)

    def build(rw):
        guard(rw)
        rw.emit(spec_uop, list(u.inputs), out if d.output else None, imms)
    return spec_uop, why, build
