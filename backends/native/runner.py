"""Run a `CodeBlob` (backends.copy_and_patch.emitter) natively: W^X memory + ctypes.

`NativeCode(blob, env=None)` links the blob at a fresh mapping, writes it while RW and
seals it RX. `run(frame_values, entry_index)` converts the locals the code uses into
native frame words (raw `int` fitting int64 / `float` / `bool`, or boxed words; see
uop_stencils for the encoding), calls the SysV entry shim, and converts the result:

* `("return", value)`
* `("exit", exit_index, values, locals)`: `values` maps each tier-1 value named by the
  exit to its exact Python object, `locals` is the frame after the exit (the caller's
  dict updated with every local the code wrote, plus the exit's promoted locals).

A Python exception raised by a runtime helper (ZeroDivisionError from a generic `//`,
IndexError...) propagates out of `run` as itself.

Runtime helpers are one ctypes callback per NativeCode (`HelperRuntime`): the stencil
calls `helper(frame, site, arg)`; the helper reads the site's input words from the frame,
runs the uop's Python semantics (the uop table's impl, or globals/builtins/calls through
`env`: any object with `.globals` (dict) and `.call(name, args)`, e.g. the tier-1
Interpreter), and returns the output word. Objects live in a per-NativeCode handle table
(constants first), emptied back to the constants when the outermost run returns.

A frame value that the compiled code cannot hold raises `Refused`: the caller stays in
tier 1 (nothing has run).
"""

from __future__ import annotations

import builtins
import ctypes
import struct

from backends.copy_and_patch import uop_stencils as S
from backends.copy_and_patch.emitter import HEADER_WORDS, CodeBlob  # noqa: F401
from ir.uops import DEOPT, Effect

from .execmem import ExecutableMemory

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
MASK64 = (1 << 64) - 1
MASK48 = (1 << 48) - 1
HELPER_T = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64)


class Refused(Exception):
    """The frame holds something the native code cannot represent; stay in tier 1."""


class _Unbound:
    def __repr__(self):
        return "<unbound>"


UNBOUND = _Unbound()


def box(word: int, t: str):
    """A raw frame word (as a signed int64) back to its Python object."""
    if t == "int":
        return word
    if t == "bool":
        return bool(word)
    if t == "float":
        return struct.unpack("<d", struct.pack("<q", word))[0]
    raise TypeError(t)


def unbox(value, t: str) -> int:
    """A Python object to the signed int64 raw word the code expects, or Refused."""
    if t == "int" and type(value) is int:
        if INT64_MIN <= value <= INT64_MAX:
            return value
        raise Refused(f"int {value} does not fit in 64 bits")
    if t == "bool" and type(value) is bool:
        return int(value)
    if t == "float" and type(value) is float:
        return struct.unpack("<q", struct.pack("<d", value))[0]
    raise Refused(f"{type(value).__name__} value where the code expects {t}")


def _signed(w: int) -> int:
    w &= MASK64
    return w - (1 << 64) if w >> 63 else w


class Handles:
    """Python objects referenced by boxed words; `constants` are handles 0..k-1."""

    def __init__(self, constants):
        self.constants = list(constants)
        self.objects = list(constants)
        self.depth = 0

    def encode(self, obj) -> int:
        """The boxed word (unsigned) of a Python object."""
        t = type(obj)
        if t is float:
            if obj != obj:
                return S.CANON_NAN
            return struct.unpack("<Q", struct.pack("<d", obj))[0]
        if t is bool:
            return (S.TAG_BOOL << 48) | int(obj)
        if t is int and -(1 << 47) <= obj < (1 << 47):
            return (S.TAG_INT << 48) | (obj & MASK48)
        if obj is None:
            return S.NONE_WORD
        if obj is UNBOUND:
            return S.UNBOUND_WORD
        self.objects.append(obj)
        tag = S.TAG_LIST if t is list else S.TAG_OBJ
        return (tag << 48) | (len(self.objects) - 1)

    def decode(self, word: int):
        w = word & MASK64
        tag = w >> 48
        if tag <= 0xFFF8:
            return struct.unpack("<d", struct.pack("<Q", w))[0]
        p = w & MASK48
        if tag == S.TAG_INT:
            return p - (1 << 48) if p >> 47 else p
        if tag == S.TAG_BOOL:
            return bool(p)
        if tag == S.TAG_NONE:
            return None if p == 0 else UNBOUND
        if tag in (S.TAG_LIST, S.TAG_OBJ):
            return self.objects[p]
        raise ValueError(f"not a boxed value: {w:#x}")

    def to_word(self, obj, rep: str) -> int:
        """Signed word for `obj` in representation `rep` (Refused if impossible)."""
        if rep == "box":
            return _signed(self.encode(obj))
        return unbox(obj, rep)

    def from_word(self, word: int, rep: str):
        if rep == "box":
            return self.decode(word)
        return box(_signed(word), rep)


class HelperRuntime:
    """The Python side of `_CALL_HELPER` / `_BOX_INT`: `read(f, word)` and
    `write(f, word, value)` access frame words; `call(f, site, arg) -> uint64`."""

    def __init__(self, blob: CodeBlob, handles: Handles, env=None, read=None):
        self.blob, self.handles, self.env = blob, handles, env
        self.read = read
        self.error: BaseException | None = None
        self.steps = [self._compile(s) for s in blob.helper_sites]

    def _compile(self, site):
        u = site.uop
        d = u.defn
        e = d.effect
        env = self.env
        if e is Effect.LOAD_FAST_CHECK:
            name = u.imms[0]

            def step(args):
                if args[0] is UNBOUND:
                    raise UnboundLocalError(
                        f"cannot access local variable '{name}' where it is not "
                        "associated with a value")
                return args[0]
            return step
        if e is Effect.LOAD_GLOBAL:
            name = u.imms[0]

            def step(args):
                g = env.globals if env is not None else {}
                if name in g:
                    return g[name]
                try:
                    return builtins.__dict__[name]
                except KeyError:
                    raise NameError(f"name '{name}' is not defined") from None
            return step
        if e is Effect.STORE_GLOBAL:
            name = u.imms[0]

            def step(args):
                if env is None:
                    raise RuntimeError("native code has no globals (NativeCode env)")
                env.globals[name] = args[0]
            return step
        if e is Effect.CALL_FUNCTION:
            callee = u.imms[0]

            def step(args):
                if env is None:
                    raise RuntimeError("native code cannot call functions without an env")
                return env.call(callee, list(args))
            return step
        if e is Effect.CALL_BUILTIN:
            f = getattr(builtins, u.imms[0])
            return lambda args: f(*args)
        if e is Effect.CALL_METHOD:
            name = u.imms[0]
            return lambda args: getattr(args[0], name)(*args[1:])
        if e is Effect.GUARD:
            f = d.implementation(u.imms)
            return lambda args: None if f(*args) else DEOPT
        f = d.implementation(u.imms)
        if f is None:
            raise RuntimeError(f"no helper semantics for {u.name}")
        return lambda args: f(*args)

    def call(self, frame: int, site: int, arg: int) -> int:
        h = self.handles
        try:
            if site == S.BOX_INT_SITE:
                return h.encode(arg)
            if site == S.UNBOX_INT_SITE:
                return unbox(h.decode(arg), "int") & MASK64
            if site == S.IS_INT64_SITE:
                x = h.decode(arg)
                return int(type(x) is int and INT64_MIN <= x <= INT64_MAX)
            s = self.blob.helper_sites[site]
            args = [h.from_word(self.read(frame, w), rep) for w, rep in s.inputs]
            r = self.steps[site](args)
            if r is DEOPT:
                if not s.has_exit:
                    raise RuntimeError(f"{s.uop.name} cannot exit here")
                return S.DEOPT_WORD
            if s.output is None:
                return 0
            try:
                return h.to_word(r, s.output) & MASK64
            except Refused:
                if s.has_exit:   # a value the code's type cannot hold: tier 1 redoes it
                    return S.DEOPT_WORD
                raise RuntimeError(f"{s.uop.name} made {r!r}, code expects {s.output}")
        except BaseException as e:  # noqa: BLE001 - re-raised by the runner
            self.error = e
            return S.ERROR_WORD


class NativeCode:
    def __init__(self, blob: CodeBlob, env=None):
        self.blob = blob
        self.env = env
        self.handles = Handles(blob.constants)
        self.helpers = HelperRuntime(blob, self.handles, env, read=self._read_word)
        self._callback = HELPER_T(self.helpers.call)  # kept alive with the code
        address = ctypes.cast(self._callback, ctypes.c_void_p).value
        self.memory = ExecutableMemory(blob.size)
        self.base = self.memory.address
        self.memory.write(blob.code(self.base, {"call": address, "box": address}))
        self.memory.seal()
        self._entry = self.memory.function(ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p,
                                           offset=blob.shim_offset)
        self.entry_addresses = [self.base + blob.entry_offset(i)
                                for i in range(len(blob.entries))]
        self._stored = self._locals_written()

    @staticmethod
    def _read_word(frame: int, word: int) -> int:
        return ctypes.c_int64.from_address(frame + 8 * word).value

    def _locals_written(self) -> set[str]:
        """Locals some `_STORE_FAST` writes (their frame word is its output)."""
        from backends.copy_and_patch.stencil import HoleValue as V

        by_word = {w: name for name, w in self.blob.frame.local_word.items()}
        return {by_word[values[V.SLOT2] // 8]
                for values, site in zip(self.blob.values, self.blob.sites)
                if site is not None and site.name == "_STORE_FAST" and V.SLOT2 in values
                and values[V.SLOT2] // 8 in by_word}

    def address_map(self):
        return self.blob.address_map(self.base)

    def run(self, frame_values: dict[str, object], entry_index: int = 0):
        layout = self.blob.frame
        h = self.handles
        frame = (ctypes.c_int64 * layout.words)()
        bound = set()
        for name, t in layout.local_types.items():
            if name in frame_values:
                frame[layout.local_word[name]] = h.to_word(frame_values[name], t)
                bound.add(name)
            elif t == "box":
                frame[layout.local_word[name]] = _signed(S.UNBOUND_WORD)
        h.depth += 1
        try:
            status = self._entry(self.entry_addresses[entry_index], ctypes.addressof(frame))
            return self._result(status, frame, frame_values, bound)
        finally:
            h.depth -= 1
            if h.depth == 0:
                del h.objects[len(h.constants):]

    def _result(self, status, frame, frame_values, bound):
        layout = self.blob.frame
        h = self.handles
        if status == S.ERROR_STATUS:
            error, self.helpers.error = self.helpers.error, None
            raise error
        if status < 0:
            v = self.blob.returns[-1 - status]
            return ("return", h.from_word(frame[1], layout.value_types[v]))
        ex = self.blob.exits[status]
        assert frame[0] == status
        values = {k: h.from_word(frame[layout.value_word[v]], layout.value_types[v])
                  for k, v in ex.values}
        out = dict(frame_values)
        # Locals bound at entry or written by the code: an unbound raw local that no
        # executed store wrote would read back as 0 (boxed locals know "unbound").
        for name, t in layout.local_types.items():
            if name in bound or name in self._stored or t == "box":
                value = h.from_word(frame[layout.local_word[name]], t)
                if value is UNBOUND:
                    out.pop(name, None)
                else:
                    out[name] = value
        for name, v in ex.locals:
            out[name] = h.from_word(frame[layout.value_word[v]], layout.value_types[v])
        return ("exit", status, values, out)

    def free(self) -> None:
        self.memory.free()
