"""What the emitter hands back: a `CodeBlob` and the tables it carries.

Kept apart from the emitter because everything downstream (the native and Unicorn
runners, tracing, the tools) reads these types and none of it needs the emitter's code.
A `CodeBlob` is stencils plus hole values, linkable at any base (`code(base)`); its layout
(`offsets`, `size`) is computed as it is made.
"""

from __future__ import annotations

import dataclasses
from itertools import accumulate
from operator import attrgetter

from ir.core import Exit, Uop

from . import capi
from .patcher import link
from .stencil import Stencil
from .uop_stencils import HEADER_WORDS

_code_of = attrgetter("code")
_datum_of = attrgetter("data")
_align_of = attrgetter("data_alignment")


class Unsupported(Exception):
    """The function cannot be compiled by this backend (the reason says why)."""


@dataclasses.dataclass(frozen=True)
class FrameLayout:
    """Word indices in the native frame and the representation of every word the code
    uses: "int" / "float" / "bool" (raw) or "box" (uop_stencils' boxed encoding)."""

    local_word: dict[str, int]
    value_word: dict[int, int]
    scratch_word: int
    words: int
    value_types: dict[int, str]
    local_types: dict[str, str]  # only locals the code reads or writes
    regsave_word: int = HEADER_WORDS  # exit stubs store register rK at word regsave+K
    nregs: int = 0
    arg_word: int = 0  # helper argument words start here
    temp_word: int = 0  # a uop's boxed temporaries start here


@dataclasses.dataclass(frozen=True)
class Site:
    block: str
    index: int
    name: str
    line: int | None


@dataclasses.dataclass(frozen=True)
class HelperSite:
    """A uop run by the Python helper: its inputs' frame words and representations,
    the output's representation (None: no output), and whether it has a side exit."""

    uop: Uop
    inputs: tuple[tuple[int, str], ...]
    output: str | None
    has_exit: bool
    direct: str | None = None  # a direct call site of this module function (its cell)


@dataclasses.dataclass(frozen=True)
class ErrorSite:
    """A place that can fail (a C-API call, a Python helper): its uop, and the frame words
    of every reference held there, which the runner releases before raising."""

    fn_name: str
    uop: str
    line: int | None
    release: tuple[int, ...]


@dataclasses.dataclass
class CodeBlob:
    """Stencils and hole values (labels resolved by `code(base)`), and the maps."""

    fn_name: str
    stencils: list[Stencil]
    values: list[dict]           # hole values; a str is a label ("block:bb1", "exit:0")
    sites: list[Site | None]     # the uop each stencil belongs to (None: shim, stubs)
    labels: dict[str, int]       # label -> stencil index
    entries: list[str]           # block label of each _ENTRY target
    exits: list[Exit]            # exit index -> Exit
    returns: list[int]           # return site -> returned value (its type in layout)
    frame: FrameLayout
    helper_sites: list[HelperSite] = dataclasses.field(default_factory=list)
    constants: list = dataclasses.field(default_factory=list)  # boxed constants (kept alive)
    exit_releases: list[tuple[int, ...]] = dataclasses.field(default_factory=list)
    errors: list[ErrorSite] = dataclasses.field(default_factory=list)
    boxed: bool = False                     # compiled with every value boxed

    def __post_init__(self):
        # patcher.layout at base 0, inline (this runs for every compiled function): the
        # code back to back, then each stencil's data, aligned
        stencils = self.stencils
        offsets = list(accumulate(map(len, map(_code_of, stencils)), initial=0))
        address = offsets.pop()
        aligns = set(map(_align_of, stencils))
        sizes = list(map(len, map(_datum_of, stencils)))
        if len(aligns) == 1:
            a = aligns.pop()
            if set(map(a.__rmod__, sizes)) <= {0}:
                # one alignment that every data size keeps: align once, then add them
                self.size = -(-address // a) * a + sum(sizes)
                self.offsets = offsets
                return
        for a, n in zip(map(_align_of, stencils), sizes):
            if address % a:
                address += a - address % a
            address += n
        self.size = address
        self.offsets = offsets

    def label_offset(self, label: str) -> int:
        return self.offsets[self.labels[label]]

    def entry_offset(self, index: int) -> int:
        return self.label_offset(f"entry:{index}")

    @property
    def externs(self) -> frozenset[str]:
        """The interpreter symbols the code refers to (capi.py)."""
        return frozenset().union(*(st.externs for st in self.stencils))

    @property
    def shim_offset(self) -> int:
        return 0

    def code(self, base: int, helpers: dict[str, int] | None = None,
             externs: dict[str, int] | None = None) -> bytes:
        """All code and data, patched to run at address `base` (page aligned);
        `helpers` gives the address of each helper the code calls: "call:K" for helper
        site K (falling back to "call", one function for every site: the stencil passes
        `(frame, K, 0)` either way); `externs` the address of each interpreter symbol
        (default: the real ones, capi.address)."""
        helpers = helpers or {}
        if externs is None:
            externs = capi.addresses(self.externs)

        def resolve(v):
            if not isinstance(v, str):
                return v
            if v.startswith("helper:"):
                name = v[len("helper:"):]
                if name not in helpers and name.startswith("call:"):
                    name = "call"
                if name not in helpers:
                    raise Unsupported(f"no address given for helper {name}")
                return helpers[name]
            return base + self.label_offset(v)
        resolved = [{k: resolve(v) for k, v in given.items()} for given in self.values]
        return link(self.stencils, resolved, base, externs)

    def address_map(self, base: int = 0) -> dict[int, tuple[str, int, str, int | None]]:
        """Start address of each uop's stencil -> (block, uop index, uop name, line)."""
        out = {}
        for site, offset in zip(self.sites, self.offsets):
            if site is not None and base + offset not in out:
                out[base + offset] = (site.block, site.index, site.name, site.line)
        return out
