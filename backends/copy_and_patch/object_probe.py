"""What CPython's specializer reads of an object, read the way it reads it: from C.

CPython 3.11 specializes an attribute site (Python/specialize.c) on facts only C can see:
the type's ``tp_version_tag``, whether an instance keeps its attributes in inline values
(``Py_TPFLAGS_MANAGED_DICT``, no materialized ``__dict__``), the index of a name in the
type's shared keys, a ``__slots__`` member's offset, the index of a name in a module
dict's entries. Python has no way to ask (``obj.__dict__`` would even materialize the
dict and turn the inline values off), so a few C functions compiled against the running
interpreter's headers, the internal ones included (``Py_BUILD_CORE``: the same layouts
and macros the stencils use), answer; loaded as a ``ctypes.PyDLL`` (the GIL held).

The shared object is built once by the stencils' compiler and cached beside the
stencils, keyed by its source, the compiler and the interpreter. ``install()`` hands it
to ``ir.attr_semantics``, whose Python semantics of the specialized attribute uops (tier
1's profile, the tier-2 interpreter) then read exactly what their C bodies read.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from ir import attr_semantics

from . import compiler
from .cache import cache_dir

SOURCE = r"""
#define Py_BUILD_CORE 1
#include <Python.h>
#include "structmember.h"
#include "internal/pycore_object.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_moduleobject.h"

/* tp_version_tag after a type lookup of `name` (which assigns one if it can) */
unsigned int wb_type_version(PyObject *tp, PyObject *name) {
    if (!PyType_Check(tp)) return 0;
    (void)_PyType_Lookup((PyTypeObject *)tp, name);
    return ((PyTypeObject *)tp)->tp_version_tag;
}

/* tp_version_tag as it is (what _GUARD_TYPE_VERSION compares) */
unsigned int wb_version_tag(PyObject *tp) {
    return PyType_Check(tp) ? ((PyTypeObject *)tp)->tp_version_tag : 0;
}

static PyDictValues *values_of(PyObject *o) {
    PyTypeObject *tp = Py_TYPE(o);
    if (!(tp->tp_flags & Py_TPFLAGS_MANAGED_DICT)) return NULL;
    return *_PyObject_ValuesPointer(o);
}

/* the number of names in the type's shared keys, or -1 (no managed dict) */
Py_ssize_t wb_shared_keys_size(PyObject *tp) {
    if (!PyType_Check(tp) || !(((PyTypeObject *)tp)->tp_flags & Py_TPFLAGS_MANAGED_DICT))
        return -1;
    PyDictKeysObject *k = ((PyHeapTypeObject *)tp)->ht_cached_keys;
    return k == NULL ? -1 : k->dk_nentries;
}

/* 1 if `o` keeps its attributes in inline values (no materialized __dict__) */
int wb_has_values(PyObject *o) { return values_of(o) != NULL; }

/* index of `name` in the shared keys of an object with inline values: -1 none */
Py_ssize_t wb_values_index(PyObject *o, PyObject *name) {
    if (values_of(o) == NULL) return -1;
    PyDictKeysObject *k = ((PyHeapTypeObject *)Py_TYPE(o))->ht_cached_keys;
    if (k == NULL || k->dk_kind != DICT_KEYS_SPLIT) return -1;
    PyDictUnicodeEntry *e = DK_UNICODE_ENTRIES(k);
    for (Py_ssize_t i = 0; i < k->dk_nentries; i++)
        if (e[i].me_key == name) return i;
    return -1;
}

/* Results are new references: ctypes' py_object restype takes the one it is given. */
static PyObject *new_ref(PyObject *o) { Py_INCREF(o); return o; }

/* the inline value at `i`, or `missing` (no values, or unset) */
PyObject *wb_value_at(PyObject *o, Py_ssize_t i, PyObject *missing) {
    PyDictValues *v = values_of(o);
    if (v == NULL || v->values[i] == NULL) return new_ref(missing);
    return new_ref(v->values[i]);
}

/* what _STORE_ATTR_INSTANCE_VALUE's C body does; 0 when `o` has no inline values */
int wb_store_value_at(PyObject *o, Py_ssize_t i, PyObject *value) {
    PyDictValues *v = values_of(o);
    if (v == NULL) return 0;
    PyObject *old = v->values[i];
    Py_INCREF(value);
    v->values[i] = value;
    if (old == NULL) _PyDictValues_AddToInsertionOrder(v, i);
    else Py_DECREF(old);
    return 1;
}

/* a __slots__ member's offset (an object slot, T_OBJECT_EX), else -1; `writable`: not
   READONLY */
Py_ssize_t wb_slot_offset(PyObject *descr, int writable) {
    if (!Py_IS_TYPE(descr, &PyMemberDescr_Type)) return -1;
    PyMemberDef *m = ((PyMemberDescrObject *)descr)->d_member;
    if (m->type != T_OBJECT_EX || (writable && (m->flags & READONLY))) return -1;
    return m->offset;
}

PyObject *wb_slot_get(PyObject *o, Py_ssize_t off, PyObject *missing) {
    PyObject *r = *(PyObject **)((char *)o + off);
    return new_ref(r == NULL ? missing : r);
}

void wb_slot_set(PyObject *o, Py_ssize_t off, PyObject *value) {
    PyObject **p = (PyObject **)((char *)o + off), *old = *p;
    Py_INCREF(value);
    *p = value;
    Py_XDECREF(old);
}

/* index of `name` in a module dict's entries (str keys), else -1 */
Py_ssize_t wb_module_index(PyObject *m, PyObject *name) {
    if (!PyModule_CheckExact(m)) return -1;
    PyDictObject *d = (PyDictObject *)((PyModuleObject *)m)->md_dict;
    PyDictKeysObject *k = d->ma_keys;
    if (d->ma_values != NULL || k->dk_kind == DICT_KEYS_GENERAL) return -1;
    PyDictUnicodeEntry *e = DK_UNICODE_ENTRIES(k);
    for (Py_ssize_t i = 0; i < k->dk_nentries; i++)
        if (e[i].me_key == name && e[i].me_value != NULL) return i;
    return -1;
}

/* what _LOAD_ATTR_MODULE's C body reads (borrowed), or `missing` */
PyObject *wb_module_value_at(PyObject *m, Py_ssize_t i, PyObject *name, PyObject *missing) {
    if (!PyModule_CheckExact(m)) return new_ref(missing);
    PyDictObject *d = (PyDictObject *)((PyModuleObject *)m)->md_dict;
    PyDictKeysObject *k = d->ma_keys;
    if (d->ma_values != NULL || k->dk_kind == DICT_KEYS_GENERAL || i >= k->dk_nentries)
        return new_ref(missing);
    PyDictUnicodeEntry *e = DK_UNICODE_ENTRIES(k) + i;
    return new_ref(e->me_key != name || e->me_value == NULL ? missing : e->me_value);
}
"""

_SIGNATURES = {
    "wb_type_version": (ctypes.c_uint, [ctypes.py_object, ctypes.py_object]),
    "wb_version_tag": (ctypes.c_uint, [ctypes.py_object]),
    "wb_shared_keys_size": (ctypes.c_ssize_t, [ctypes.py_object]),
    "wb_has_values": (ctypes.c_int, [ctypes.py_object]),
    "wb_values_index": (ctypes.c_ssize_t, [ctypes.py_object, ctypes.py_object]),
    "wb_value_at": (ctypes.py_object, [ctypes.py_object, ctypes.c_ssize_t, ctypes.py_object]),
    "wb_store_value_at": (ctypes.c_int, [ctypes.py_object, ctypes.c_ssize_t,
                                         ctypes.py_object]),
    "wb_slot_offset": (ctypes.c_ssize_t, [ctypes.py_object, ctypes.c_int]),
    "wb_slot_get": (ctypes.py_object, [ctypes.py_object, ctypes.c_ssize_t, ctypes.py_object]),
    "wb_slot_set": (None, [ctypes.py_object, ctypes.c_ssize_t, ctypes.py_object]),
    "wb_module_index": (ctypes.c_ssize_t, [ctypes.py_object, ctypes.py_object]),
    "wb_module_value_at": (ctypes.py_object, [ctypes.py_object, ctypes.c_ssize_t,
                                              ctypes.py_object, ctypes.py_object]),
}


class ObjectProbe:
    """The C functions, as ``ir.attr_semantics.Probe`` names them (``MISSING`` where C
    has NULL)."""

    def __init__(self, lib: ctypes.PyDLL):
        for name, (res, args) in _SIGNATURES.items():
            f = getattr(lib, name)
            f.restype, f.argtypes = res, args
        m = attr_semantics.MISSING
        self.type_version = lib.wb_type_version
        self.version_tag = lib.wb_version_tag
        self.shared_keys_size = lib.wb_shared_keys_size
        self.has_values = lambda o: bool(lib.wb_has_values(o))
        self.values_index = lib.wb_values_index
        self.value_at = lambda o, i, _f=lib.wb_value_at: _f(o, i, m)
        self.store_value_at = lambda o, i, v, _f=lib.wb_store_value_at: bool(_f(o, i, v))
        self.slot_offset = lambda d, writable, _f=lib.wb_slot_offset: _f(d, int(writable))
        self.slot_get = lambda o, off, _f=lib.wb_slot_get: _f(o, off, m)
        self.slot_set = lib.wb_slot_set
        self.module_index = lib.wb_module_index
        self.module_value_at = lambda o, i, name, _f=lib.wb_module_value_at: _f(o, i, name, m)
        self._lib = lib


def _shared_object() -> Path:
    command = compiler.clang_command()
    zig = command[1:3] == ["-m", "ziglang"] or Path(command[0]).name == "zig"
    flags = [*(("-target", "x86_64-linux-gnu") if zig else ("--target=x86_64-unknown-linux-gnu",)),
             "-O2", "-fpic", "-shared", "-nostdlib", "-g0", *compiler.include_flags()]
    ident = json.dumps([SOURCE, flags, compiler.fingerprint(), sys.version, sys.base_prefix])
    path = cache_dir() / f"probe-{hashlib.sha256(ident.encode()).hexdigest()[:24]}.so"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="probe-") as tmp:
        src, out = Path(tmp, "probe.c"), Path(tmp, "probe.so")
        src.write_text(SOURCE)
        done = subprocess.run([*command, *flags, str(src), "-o", str(out)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise compiler.StencilBuildError(f"the object probe failed to build:\n{done.stderr}")
        # rename into place: parallel processes never load half a file
        tmp_final = path.with_suffix(f".{id(out)}.tmp")
        tmp_final.write_bytes(out.read_bytes())
        tmp_final.replace(path)
    return path


@functools.cache
def probe() -> ObjectProbe:
    return ObjectProbe(ctypes.PyDLL(str(_shared_object())))


def install() -> ObjectProbe:
    """Build (once) and hand the probe to the uop semantics; returns it."""
    p = probe()
    attr_semantics.set_probe(p)
    return p
