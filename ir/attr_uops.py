"""The specialized attribute uops, as CPython 3.11's specializing interpreter has them.

``_LOAD_ATTR``, ``_STORE_ATTR`` and ``_CALL_METHOD`` are profiled by tier 1 (the
receiver's type, its ``tp_version_tag`` and what kind of attribute the name is: see
backends/interp/attr_profile.py); ``specialize`` replaces a monomorphic site by a type
version guard and one of the uops below, picked by ``When(attr=kind)`` from the family of
the generic uop (passes/specialize_attrs.py), as CPython's LOAD_ATTR_INSTANCE_VALUE,
LOAD_ATTR_SLOT, LOAD_ATTR_MODULE, LOAD_ATTR_METHOD_WITH_VALUES (+ CALL with self),
STORE_ATTR_INSTANCE_VALUE and STORE_ATTR_SLOT do.

Immediates: the attribute's name first (its interned ``str`` is the C body's
``OPERAND``), then an index or offset (``OPERAND2``); the guard's version is its
``OPERAND``. C bodies read CPython's own layouts through its internal headers
(``_PyObject_ValuesPointer``, ``DK_UNICODE_ENTRIES``, ``_PyDictValues_AddToInsertionOrder``);
inputs are borrowed, an output is a new reference. The Python semantics (what the tier-2
interpreter runs) read the same words through the object probe (ir/attr_semantics.py).

Why there is no keys-version guard: 3.11 does not export
``_PyDictKeys_GetVersionForCurrentState``, so a dict-keys version can be neither read
nor assigned from outside CPython's own specializer. What it protects is checked
directly instead: an instance value's index is into the type's shared keys, which only
grow (``_CHECK_ATTR_NOT_SHADOWED`` compares their size); a module entry's index is
checked by comparing the key found there with the name.
"""

from __future__ import annotations

from . import attr_semantics as S
from .attr_semantics import version_fact
from .uop_model import Effect, Flag, Imm, UopDef, When, define

P, G, D = Flag.PURE, Flag.GUARD, Flag.DEOPT

define(UopDef("_GUARD_TYPE_VERSION", inputs=("owner",), imms=(Imm.INT,), flags=G | D,
               effect=Effect.GUARD, make_impl=S.guard_type_version, requires=(None,),
               guard_rule=lambda imms: version_fact(imms[0]),
               doc="exit unless the owner's type has this tp_version_tag (the type and "
                   "everything on it unchanged since tier 1 saw it)",
               stencil="EXIT_IF(Py_TYPE(OA)->tp_version_tag != (uint32_t)OPERAND);"))

define(UopDef("_LOAD_ATTR_INSTANCE_VALUE", inputs=("owner",), output=True,
               imms=(Imm.NAME, Imm.INT), flags=P | D, effect=Effect.CHECKED,
               make_impl=S.load_instance_value, requires=(None,), generic="_LOAD_ATTR",
               when=When(attr="instance"),
               doc="owner.name from the inline values at index (behind the type version "
                   "guard); exits when the object has a dict or the value is unset",
               stencil="""
        PyDictValues *v_ = *_PyObject_ValuesPointer(OA);
        EXIT_IF(v_ == NULL);
        PyObject *r = v_->values[OPERAND2];
        EXIT_IF(r == NULL);
        Py_INCREF(r);
        OUT = WORD(r);"""))

define(UopDef("_STORE_ATTR_INSTANCE_VALUE", inputs=("owner", "value"),
               imms=(Imm.NAME, Imm.INT), flags=D, effect=Effect.CHECKED,
               make_impl=S.store_instance_value, requires=(None, None),
               generic="_STORE_ATTR", when=When(attr="instance"),
               doc="owner.name = value into the inline values at index; exits when the "
                   "object has a dict",
               stencil="""
        PyDictValues *v_ = *_PyObject_ValuesPointer(OA);
        EXIT_IF(v_ == NULL);
        Py_ssize_t i_ = OPERAND2;
        PyObject *old = v_->values[i_];
        Py_INCREF(OB);
        v_->values[i_] = OB;
        if (old == NULL)
            _PyDictValues_AddToInsertionOrder(v_, i_);
        else
            Py_DECREF(old);"""))

define(UopDef("_LOAD_ATTR_SLOT", inputs=("owner",), output=True, imms=(Imm.NAME, Imm.INT),
               flags=P | D, effect=Effect.CHECKED, make_impl=S.load_slot, requires=(None,),
               generic="_LOAD_ATTR", when=When(attr="slot"),
               doc="owner.name from the __slots__ member at offset; exits when unset",
               stencil="""
        PyObject *r = *(PyObject **)((char *)OA + OPERAND2);
        EXIT_IF(r == NULL);
        Py_INCREF(r);
        OUT = WORD(r);"""))

define(UopDef("_STORE_ATTR_SLOT", inputs=("owner", "value"), imms=(Imm.NAME, Imm.INT),
               make_impl=S.store_slot, requires=(None, None), generic="_STORE_ATTR",
               when=When(attr="slot"), doc="owner.name = value into the __slots__ member",
               stencil="""
        PyObject **p_ = (PyObject **)((char *)OA + OPERAND2);
        PyObject *old = *p_;
        Py_INCREF(OB);
        *p_ = OB;
        Py_XDECREF(old);"""))

define(UopDef("_CHECK_ATTR_NOT_SHADOWED", inputs=("owner",), imms=(Imm.INT,), flags=D,
               effect=Effect.CHECKED, make_impl=S.check_not_shadowed, requires=(None,),
               doc="exit unless the owner keeps inline values (no __dict__) over shared "
                   "keys of still this many names: no instance attribute hides the "
                   "type's (behind the type version guard)",
               stencil="""
        PyObject *o_ = OA;
        EXIT_IF(*_PyObject_ValuesPointer(o_) == NULL);
        EXIT_IF(((PyHeapTypeObject *)Py_TYPE(o_))->ht_cached_keys->dk_nentries != OPERAND);"""))

_TYPE_ATTR = """
        PyObject *r = _PyType_Lookup(Py_TYPE(OA), O(OPERAND));
        EXIT_IF(r == NULL);
        Py_INCREF(r);
        OUT = WORD(r);"""

define(UopDef("_LOAD_ATTR_CLASS", inputs=("owner",), output=True, imms=(Imm.NAME,),
               flags=P | D, effect=Effect.CHECKED, make_impl=S.load_type_attr,
               requires=(None,), generic="_LOAD_ATTR", when=When(attr="class"),
               doc="owner.name that is a plain value on the type (behind the version "
                   "guard and _CHECK_ATTR_NOT_SHADOWED)",
               stencil=_TYPE_ATTR))

define(UopDef("_LOAD_ATTR_METHOD", inputs=("owner",), output=True, imms=(Imm.NAME,),
               flags=P | D, effect=Effect.CHECKED, make_impl=S.load_type_attr,
               requires=(None,), generic="_CALL_METHOD", when=When(attr="method"),
               doc="the function of owner.name(...) found on the type, for a call with "
                   "owner as its first argument: no bound-method object",
               stencil=_TYPE_ATTR))

define(UopDef("_LOAD_ATTR_MODULE", inputs=("module",), output=True, imms=(Imm.NAME, Imm.INT),
               flags=P | D, effect=Effect.CHECKED, make_impl=S.load_module_attr,
               requires=(None,), generic="_LOAD_ATTR", when=When(attr="module"),
               doc="module.name from the module dict's entry at index; exits unless "
                   "that entry still holds the name",
               stencil="""
        PyObject *m_ = OA;
        EXIT_IF(!PyModule_CheckExact(m_));
        PyDictObject *d_ = (PyDictObject *)((PyModuleObject *)m_)->md_dict;
        PyDictKeysObject *k_ = d_->ma_keys;
        Py_ssize_t i_ = OPERAND2;
        EXIT_IF(d_->ma_values != NULL || k_->dk_kind == DICT_KEYS_GENERAL
                || i_ >= k_->dk_nentries);
        PyDictUnicodeEntry *e_ = DK_UNICODE_ENTRIES(k_) + i_;
        PyObject *r = e_->me_value;
        EXIT_IF(e_->me_key != O(OPERAND) || r == NULL);
        Py_INCREF(r);
        OUT = WORD(r);"""))
