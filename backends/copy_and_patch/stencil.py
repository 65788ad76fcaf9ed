"""The data model of copy-and-patch: holes, stencils and a library of stencils.

A stencil is the machine code clang produced for one C function, with *holes*: places
where the bytes depend on something known only when the code is emitted (where the next
stencil is, a 64-bit operand, a helper's address...). The stencil's C source names such
a value by referencing an extern symbol `_JIT_<NAME>`; each relocation against it becomes
a `Hole`. This mirrors CPython's Tools/jit/_stencils.py.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator, Mapping


class HoleValue(enum.Enum):
    """What a hole is patched with. Members other than CODE and DATA have a C symbol."""

    CONTINUE = enum.auto()  # the next stencil (a trailing jump to it is dropped)
    TARGET = enum.auto()  # a branch target
    TARGET2 = enum.auto()  # a second branch target
    EXIT = enum.auto()  # a side-exit stub
    ERROR = enum.auto()  # the error stub (a runtime helper raised)
    COLD = enum.auto()  # a stencil's out-of-line slow path (its `__cold` twin)
    RESUME = enum.auto()  # where a cold slow path goes on: its hot stencil's continuation
    OPARG = enum.auto()  # a small immediate
    OPERAND = enum.auto()  # a 64-bit immediate (also constants: ints, double bits)
    OPERAND2 = enum.auto()  # a second 64-bit immediate
    HELPER = enum.auto()  # address of a runtime helper (outside the JIT code)
    HELPER2 = enum.auto()  # a second helper (a direct call's finishing helper)
    SLOT0 = enum.auto()  # byte offset of a frame slot, used as a value
    SLOT1 = enum.auto()
    SLOT2 = enum.auto()
    EXTERN = enum.auto()  # a symbol of the running interpreter (capi.py): its address
    CODE = enum.auto()  # this stencil's own code (no symbol; internal references)
    DATA = enum.auto()  # this stencil's own read-only data (no symbol)

    # Identity hash (members are singletons, equality is identity): a C slot, where
    # Enum's hashes the name in Python code, and the emitter builds a dict of hole values
    # for every stencil it places.
    __hash__ = object.__hash__

    @property
    def symbol(self) -> str | None:
        if self in (HoleValue.CODE, HoleValue.DATA, HoleValue.EXTERN):
            return None
        return f"_JIT_{self.name}"


# The C-visible names: `extern char _JIT_OPERAND[];` in a stencil means HoleValue.OPERAND.
SYMBOLS: dict[str, HoleValue] = {v.symbol: v for v in HoleValue if v.symbol}

# Values that are addresses of JIT code, so a rel32 jump or call reaches them directly.
# Any other value called through a rel32 call goes through a stub (see elf_reader).
NEAR_VALUES = frozenset(
    {HoleValue.CONTINUE, HoleValue.TARGET, HoleValue.TARGET2, HoleValue.EXIT,
     HoleValue.ERROR, HoleValue.COLD, HoleValue.RESUME, HoleValue.CODE, HoleValue.DATA}
)


@dataclasses.dataclass(frozen=True)
class Hole:
    """Patch `kind` (an ELF relocation type name) at `offset` with `value` + `addend`.

    `symbol` is the C name the hole came from (for reading dumps), None for CODE/DATA;
    for EXTERN it names the interpreter's symbol whose address the hole takes.
    """

    offset: int
    kind: str
    value: HoleValue
    symbol: str | None
    addend: int


@dataclasses.dataclass(frozen=True)
class Stencil:
    """One function's code and its private read-only data, each with its holes.

    Data hole offsets are relative to the start of `data`. `fallthrough` says the trailing
    `jmp _JIT_CONTINUE` was dropped: the stencil must be followed by its continuation.
    """

    name: str
    code: bytes
    holes: tuple[Hole, ...]
    data: bytes = b""
    data_holes: tuple[Hole, ...] = ()
    data_alignment: int = 8
    fallthrough: bool = False

    @property
    def values(self) -> frozenset[HoleValue]:
        """The values `patcher.patch` needs (CODE and DATA are supplied by it)."""
        return frozenset(h.value for h in self.holes + self.data_holes) - {
            HoleValue.CODE, HoleValue.DATA, HoleValue.EXTERN}

    @property
    def externs(self) -> frozenset[str]:
        """The interpreter symbols (C-API functions and objects) the stencil refers to."""
        return frozenset(h.symbol for h in self.holes + self.data_holes
                         if h.value is HoleValue.EXTERN)


@dataclasses.dataclass(frozen=True)
class StencilLibrary(Mapping[str, Stencil]):
    """Stencils by function name, plus what built them (`key` is the cache key)."""

    stencils: dict[str, Stencil]
    compiler: str = ""
    key: str = ""

    def __getitem__(self, name: str) -> Stencil:
        return self.stencils[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.stencils)

    def __len__(self) -> int:
        return len(self.stencils)
