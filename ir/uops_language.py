"""The uop table's language uops: functions, cells and classes, generators, the
allocator's copy and the everyday constructs (attributes, imports, displays, calls).

Part of the uop table (ir/uops.py imports this module where these definitions stood,
so the table's order is unchanged); each uop is still defined once, here or there.
"""

from __future__ import annotations

from . import constructs as C
from .scope_semantics import (build_class, delete_deref, delete_name, get_awaitable, is_returned, load_deref,
                              load_name, make_cell, make_empty_cell, make_function,
                              module_globals, resume_value, returned_value, send,
                              setup_annotations, store_annotation, store_deref, store_name,
                              yield_from_iter)
from .uop_model import VARIADIC, Effect, Flag, Imm, UopDef, define

P, E = Flag.PURE, Flag.ESCAPES

# --------------------------------------------------------------------------- functions, cells, classes
# A def, a lambda or a class body is a function of the module; _MAKE_FUNCTION makes the
# Python function object of one (what CPython's MAKE_FUNCTION does with a code object).
# Its inputs: the positional defaults, then the keyword-only ones (Signature.kwdefaults),
# then one cell per free variable (Signature.free).

define(UopDef("_MAKE_FUNCTION", inputs=(VARIADIC,), output=True, imms=(Imm.FUNC,),
               flags=P, effect=Effect.RUNTIME, runtime=make_function,
               doc="the function object of @f, with its defaults and closure cells"))
define(UopDef("_GLOBALS", output=True, flags=P, effect=Effect.RUNTIME,
               runtime=module_globals, doc="globals(): the module's dict"))
define(UopDef("_SETUP_ANNOTATIONS", inputs=("ns",), flags=E, impl=setup_annotations,
               doc="ns['__annotations__'] = {} unless there"))
define(UopDef("_STORE_ANNOTATION", inputs=("ns", "annotation"), imms=(Imm.NAME,),
               flags=E, make_impl=store_annotation,
               doc="ns['__annotations__'][name] = annotation"))
define(UopDef("_MAKE_CELL", inputs=("value",), output=True, flags=P, impl=make_cell,
               doc="a cell holding value: a local that an inner function reads"))
define(UopDef("_MAKE_EMPTY_CELL", output=True, flags=P, impl=make_empty_cell,
               doc="an empty cell for a local not bound yet"))
define(UopDef("_LOAD_DEREF", inputs=("cell",), output=True, imms=(Imm.NAME, Imm.INT),
               make_impl=load_deref,
               doc="a cell's contents (int 1: a free variable, for the error message)"))
define(UopDef("_STORE_DEREF", inputs=("cell", "value"), imms=(Imm.NAME,),
               make_impl=store_deref, doc="set a cell's contents"))
define(UopDef("_DELETE_DEREF", inputs=("cell",), imms=(Imm.NAME,), make_impl=delete_deref,
               doc="del of a local an inner function reads: its cell emptied"))
define(UopDef("_DELETE_NAME", inputs=("ns",), imms=(Imm.NAME,), flags=E,
               make_impl=delete_name, doc="del of a class body's name"))
define(UopDef("_LOAD_NAME", inputs=("ns",), output=True, imms=(Imm.NAME,), flags=E,
               effect=Effect.RUNTIME, runtime=load_name, doc="a class body's name: namespace, globals, builtins"))
define(UopDef("_STORE_NAME", inputs=("ns", "value"), imms=(Imm.NAME,), flags=E,
               make_impl=store_name, doc="bind a name in a class body's namespace"))
define(UopDef("_BUILD_CLASS", inputs=("body", VARIADIC), output=True,
               imms=(Imm.NAME, Imm.NAMES), flags=E, make_impl=build_class,
               doc="class name(*bases, **keywords), its body run on the namespace"))

# --------------------------------------------------------------------------- generators

define(UopDef("_YIELD_VALUE", inputs=("value",), targets=1, flags=Flag.TERMINATOR,
               effect=Effect.YIELD,
               doc="suspend the generator with value; it resumes at the target block"))
define(UopDef("_RESUME_VALUE", inputs=("sent",), output=True, impl=resume_value,
               doc="what send() passed to the resumed generator, or raise what throw() did"))
define(UopDef("_GET_YIELD_FROM_ITER", inputs=("iterable",), output=True, flags=E,
               impl=yield_from_iter, doc="the iterator yield from drives"))
define(UopDef("_GET_AWAITABLE", inputs=("awaitable",), output=True, flags=E,
               impl=get_awaitable, doc="the iterator await drives"))
define(UopDef("_SEND", inputs=("iter", "sent"), output=True, flags=E, impl=send,
               doc="one step of yield from: the value to yield, or its end (_IS_RETURNED)"))
define(UopDef("_IS_RETURNED", inputs=("step",), output=True, flags=P, result="bool",
               impl=is_returned, doc="has the iterator of yield from finished?"))
define(UopDef("_RETURNED_VALUE", inputs=("step",), output=True, flags=P,
               impl=returned_value, doc="the value of a finished yield from"))
define(UopDef("_GET_ITER", inputs=("iterable",), output=True, flags=E, impl=iter,
               doc="iter(iterable)"))

# --------------------------------------------------------------------------- allocator

define(UopDef("_COPY", inputs=("value",), output=True, flags=P, effect=Effect.COPY,
               doc="a register-to-register move, a reload or a spill (by the locations)"))



# --------------------------------------------------------------------------- constructs
#
# Everyday Python beyond arithmetic (ir/constructs.py has the semantics): attributes,
# imports, displays, slices, f-strings, del, unpacking, raise, calls of any value with
# keyword and star arguments. They run as Python helpers in compiled code.

define(UopDef("_LOAD_ATTR", inputs=("owner",), output=True, imms=(Imm.NAME,), flags=E,
               make_impl=C.load_attr, doc="owner.name"))
define(UopDef("_STORE_ATTR", inputs=("owner", "value"), imms=(Imm.NAME,), flags=E,
               make_impl=C.store_attr, doc="owner.name = value"))
define(UopDef("_DELETE_ATTR", inputs=("owner",), imms=(Imm.NAME,), flags=E,
               make_impl=C.delete_attr, doc="del owner.name"))
define(UopDef("_DELETE_SUBSCR", inputs=("container", "index"), flags=E,
               impl=C.delete_subscr, doc="del container[index]"))
define(UopDef("_DELETE_GLOBAL", imms=(Imm.GLOBAL,), flags=E, effect=Effect.RUNTIME,
               runtime=C.delete_global, doc="del name (a module global)"))
define(UopDef("_IMPORT_NAME", output=True, imms=(Imm.NAME, Imm.NAMES), flags=E,
               effect=Effect.RUNTIME, runtime=C.import_name,
               doc="__import__(name, globals, None, fromlist, 0)"))
define(UopDef("_IMPORT_FROM", inputs=("module",), output=True, imms=(Imm.NAME,), flags=E,
               make_impl=C.import_from, doc="module.name, or the submodule"))
define(UopDef("_IMPORT_STAR", imms=(Imm.NAME,), flags=E, effect=Effect.RUNTIME,
               runtime=C.import_star, doc="from name import * (module level)"))
define(UopDef("_BUILD_MAP", inputs=(VARIADIC,), output=True, flags=E, impl=C.build_map,
               doc="{k0: v0, ...}: keys and values alternate"))
define(UopDef("_BUILD_SET", inputs=(VARIADIC,), output=True, flags=E, impl=C.build_set,
               doc="{a, b, ...}"))
define(UopDef("_BUILD_SLICE", inputs=("start", "stop", "step"), output=True, flags=P,
               impl=slice, doc="start:stop:step"))
define(UopDef("_BUILD_STRING", inputs=(VARIADIC,), output=True, flags=P, result="str",
               impl=C.build_string, doc="the parts of an f-string (strs), joined"))
define(UopDef("_CONVERT_VALUE", inputs=("value",), output=True, imms=(Imm.NAME,), flags=E,
               result="str", make_impl=C.convert_value, doc="!s !r !a: str, repr, ascii"))
define(UopDef("_FORMAT_VALUE", inputs=("value", "spec"), output=True, flags=E,
               result="str", impl=C.format_value, doc="format(value, spec)"))
define(UopDef("_LIST_EXTEND", inputs=("list", "iterable"), flags=E, impl=C.list_extend,
               doc="[*iterable]"))
define(UopDef("_SET_UPDATE", inputs=("set", "iterable"), flags=E, impl=C.set_update,
               doc="{*iterable}"))
define(UopDef("_DICT_UPDATE", inputs=("dict", "mapping"), flags=E, impl=C.dict_update,
               doc="{**mapping}"))
define(UopDef("_DICT_MERGE", inputs=("callable", "dict", "mapping"), flags=E,
               impl=C.dict_merge, doc="f(**mapping): no key twice"))
define(UopDef("_LIST_TO_TUPLE", inputs=("list",), output=True, flags=P, result="tuple",
               impl=C.list_to_tuple, doc="tuple(list), for (*a, b)"))
define(UopDef("_UNPACK_EX", inputs=("seq",), output=True, imms=(Imm.INT, Imm.INT), flags=E,
               result="tuple", make_impl=C.unpack_ex,
               doc="a, *b, c = seq: the items before, the list of the middle, the after"))
define(UopDef("_CALL", inputs=("callable", VARIADIC), output=True, imms=(Imm.NAMES,),
               flags=E, make_impl=C.call_kw,
               doc="callable(args..., k=v...): the last len(names) are keyword arguments"))
define(UopDef("_CALL_EX", inputs=("callable", "args", "kwargs"), output=True, flags=E,
               impl=C.call_ex, doc="callable(*args, **kwargs); kwargs a dict or None"))
define(UopDef("_DELETE_FAST", imms=(Imm.LOCAL,), flags=Flag.TIER1_ONLY,
               effect=Effect.DELETE_FAST,
               doc="del local: unbound again (later loads raise UnboundLocalError); the "
                   "passes do not model an unbinding store, so its function stays in tier 1"))
define(UopDef("_LOAD_ASSERTION_ERROR", output=True, flags=P, impl=lambda: AssertionError,
               doc="the builtin AssertionError, whatever the globals say (assert)"))
define(UopDef("_RAISE", inputs=("exc", VARIADIC), flags=E, impl=C.raise_,
               doc="raise exc [from cause]"))
