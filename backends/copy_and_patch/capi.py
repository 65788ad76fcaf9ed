"""The running interpreter's symbols that stencils use: one table, with C signatures.

Stencils `#include <Python.h>` and call the C API directly (`PyNumber_Add`, ...) or take
the address of an interpreter object (`_Py_TrueStruct`, `PyLong_Type`). Each such symbol
becomes an EXTERN hole whose value is the symbol's address in this process
(`address(name)`, a `dlsym` through `ctypes.pythonapi`). The table exists because the
Unicorn runner carries out a call to a C-API function natively, at the call boundary, and
so must know how to read its arguments (integer or xmm registers) and where its result
goes; `elf_reader` refuses any other undefined symbol, so a stencil cannot call a function
nobody described here.

Signature letters: p = pointer, q = a 64-bit integer (long long, Py_ssize_t), i = C int
(the low 32 bits, sign-extended), d = double (an xmm register), v = void (no result).
"""

from __future__ import annotations

import ctypes
import functools

# name -> (result, arguments)
FUNCTIONS: dict[str, tuple[str, str]] = {
    "_Py_Dealloc": ("v", "p"),
    "PyLong_FromLongLong": ("p", "q"),
    "PyLong_AsLongLong": ("q", "p"),
    "PyLong_AsLongLongAndOverflow": ("q", "pp"),
    "PyFloat_FromDouble": ("p", "d"),
    "PyNumber_Add": ("p", "pp"),
    "PyNumber_Subtract": ("p", "pp"),
    "PyNumber_Multiply": ("p", "pp"),
    "PyNumber_TrueDivide": ("p", "pp"),
    "PyNumber_FloorDivide": ("p", "pp"),
    "PyNumber_Remainder": ("p", "pp"),
    "PyNumber_Power": ("p", "ppp"),
    "PyNumber_Lshift": ("p", "pp"),
    "PyNumber_Rshift": ("p", "pp"),
    "PyNumber_And": ("p", "pp"),
    "PyNumber_Or": ("p", "pp"),
    "PyNumber_Xor": ("p", "pp"),
    "PyNumber_InPlaceAdd": ("p", "pp"),
    "PyNumber_InPlaceSubtract": ("p", "pp"),
    "PyNumber_InPlaceMultiply": ("p", "pp"),
    "PyNumber_InPlaceTrueDivide": ("p", "pp"),
    "PyNumber_InPlaceFloorDivide": ("p", "pp"),
    "PyNumber_InPlaceRemainder": ("p", "pp"),
    "PyNumber_InPlacePower": ("p", "ppp"),
    "PyNumber_InPlaceLshift": ("p", "pp"),
    "PyNumber_InPlaceRshift": ("p", "pp"),
    "PyNumber_InPlaceAnd": ("p", "pp"),
    "PyNumber_InPlaceOr": ("p", "pp"),
    "PyNumber_InPlaceXor": ("p", "pp"),
    "PyNumber_Negative": ("p", "p"),
    "PyNumber_Positive": ("p", "p"),
    "PyNumber_Invert": ("p", "p"),
    "PyObject_RichCompare": ("p", "ppi"),
    "PyObject_IsTrue": ("i", "p"),
    "PySequence_Contains": ("i", "pp"),
    "PyObject_GetItem": ("p", "pp"),
    "PyObject_SetItem": ("i", "ppp"),
    "PyList_Append": ("i", "pp"),
    "PyList_New": ("p", "q"),
    "PyTuple_New": ("p", "q"),
    "_PyType_Lookup": ("p", "pp"),
    "PyErr_Fetch": ("v", "ppp"),
    "PyErr_Clear": ("v", ""),
    "PyErr_NormalizeException": ("v", "ppp"),
    "PyException_SetTraceback": ("i", "pp"),
}

# Objects whose address a stencil takes (compared with, or read through).
OBJECTS: frozenset[str] = frozenset({
    "_Py_TrueStruct", "_Py_FalseStruct", "_Py_NoneStruct",
    "PyLong_Type", "PyFloat_Type", "PyBool_Type", "PyList_Type", "PyTuple_Type",
    "PyModule_Type",
})


def known(name: str) -> bool:
    return name in FUNCTIONS or name in OBJECTS


@functools.cache
def address(name: str) -> int:
    """The address of interpreter symbol `name` in this process."""
    if not known(name):
        raise KeyError(f"{name} is not in backends/copy_and_patch/capi.py")
    return ctypes.cast(getattr(ctypes.pythonapi, name), ctypes.c_void_p).value


def addresses(names) -> dict[str, int]:
    return {n: address(n) for n in names}


_CTYPES = {"p": ctypes.c_int64, "q": ctypes.c_int64, "i": ctypes.c_int,
           "d": ctypes.c_double, "v": None}


@functools.cache
def callable_of(name: str):
    """`name` as a ctypes function that keeps the GIL (the emulated code holds it)."""
    result, args = FUNCTIONS[name]
    proto = ctypes.PYFUNCTYPE(_CTYPES[result], *(_CTYPES[a] for a in args))
    # PYFUNCTYPE raises an error indicator the call set, as a Python exception: the
    # emulator keeps it for the code's PyErr_Fetch (emulator.add_native)
    return proto(address(name))
