"""Run a `CodeBlob` (backends.copy_and_patch.emitter) natively: W^X memory + ctypes.

`NativeCode(blob)` links the blob at a fresh mapping, writes it while RW and seals it RX.
`run(frame_values, entry_index)` unboxes the locals the code uses into the native frame
(by the types the code was compiled for: exact `int` fitting int64, `float`, `bool`),
calls the SysV entry shim, and boxes the result:

* `("return", value)`
* `("exit", exit_index, values, locals)`: `values` maps each tier-1 value named by the
  exit to its exact Python object, `locals` is the frame after the exit (the caller's
  dict updated with every local the code wrote, plus the exit's promoted locals).

A frame value that the compiled code cannot hold raises `Refused`: the caller stays in
tier 1 (nothing has run).
"""

from __future__ import annotations

import ctypes
import struct

from backends.copy_and_patch.emitter import HEADER_WORDS, CodeBlob

from .execmem import ExecutableMemory

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


class Refused(Exception):
    """The frame holds something the native code cannot represent; stay in tier 1."""


def box(word: int, t: str):
    """A frame word (as a signed int64) back to its Python object."""
    if t == "int":
        return word
    if t == "bool":
        return bool(word)
    if t == "float":
        return struct.unpack("<d", struct.pack("<q", word))[0]
    raise TypeError(t)


def unbox(value, t: str) -> int:
    """A Python object to the signed int64 word the code expects, or Refused."""
    if t == "int" and type(value) is int:
        if INT64_MIN <= value <= INT64_MAX:
            return value
        raise Refused(f"int {value} does not fit in 64 bits")
    if t == "bool" and type(value) is bool:
        return int(value)
    if t == "float" and type(value) is float:
        return struct.unpack("<q", struct.pack("<d", value))[0]
    raise Refused(f"{type(value).__name__} value where the code expects {t}")


class NativeCode:
    def __init__(self, blob: CodeBlob):
        self.blob = blob
        self.memory = ExecutableMemory(blob.size)
        self.base = self.memory.address
        self.memory.write(blob.code(self.base))
        self.memory.seal()
        self._entry = self.memory.function(ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p,
                                           offset=blob.shim_offset)
        self.entry_addresses = [self.base + blob.entry_offset(i)
                                for i in range(len(blob.entries))]
        self._stored = self._locals_written()

    def _locals_written(self) -> set[str]:
        stored = set()
        for stencil, values, site in zip(self.blob.stencils, self.blob.values,
                                         self.blob.sites):
            if site is not None and site.name == "_STORE_FAST":
                stored.add(self._local_at(values))
        return stored

    def _local_at(self, values) -> str:
        from backends.copy_and_patch.stencil import HoleValue as V

        word = values[V.SLOT2] // 8
        for name, w in self.blob.frame.local_word.items():
            if w == word:
                return name
        raise LookupError(word)

    def address_map(self):
        return self.blob.address_map(self.base)

    def run(self, frame_values: dict[str, object], entry_index: int = 0):
        layout = self.blob.frame
        frame = (ctypes.c_int64 * layout.words)()
        bound = set()
        for name, t in layout.local_types.items():
            if name in frame_values:
                frame[layout.local_word[name]] = unbox(frame_values[name], t)
                bound.add(name)
        status = self._entry(self.entry_addresses[entry_index], ctypes.addressof(frame))
        if status < 0:
            v = self.blob.returns[-1 - status]
            return ("return", box(frame[1], layout.value_types[v]))
        ex = self.blob.exits[status]
        assert frame[0] == status
        values = {k: box(frame[layout.value_word[v]], layout.value_types[v])
                  for k, v in ex.values}
        out = dict(frame_values)
        # Locals bound at entry or written by the code: an unbound local that no
        # executed store wrote would read back as 0 (see the report: needs a
        # definitely-assigned analysis per exit).
        for name, t in layout.local_types.items():
            if name in bound or name in self._stored:
                out[name] = box(frame[layout.local_word[name]], t)
        for name, v in ex.locals:
            out[name] = box(frame[layout.value_word[v]], layout.value_types[v])
        return ("exit", status, values, out)

    def free(self) -> None:
        self.memory.free()
