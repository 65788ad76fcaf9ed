"""What the runtime keeps of a function's optimized code: its IR and entries, the
tier-2 interpreter's code, the machine code and where it came from (``Tier2``), what
happened when it ran (``JitInfo``), and the run's exit counts (``TraceCounts``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from backends.tracing import CodeMap
from ir.core import Function
from ir.uops import Flag, U
from passes.suspend import SUSPENDS, resume_points

from .tiering import Optimized


@dataclass
class JitInfo:
    """Where one tier-2 version of a function ran, and what its machine code did."""

    where: str                       # "native", "unicorn" or "interp"
    reason: str | None = None        # why the emitter refused it (where == "interp")
    runs: int = 0                    # calls into machine code
    returns: int = 0
    exits: int = 0
    yields: int = 0                  # runs that suspended a generator's frame
    refused: int = 0                 # calls the runner refused (ran in the interpreter)
    refusal: str | None = None       # the last refusal's reason
    interp_runs: int = 0             # runs of this version in the tier-2 interpreter


@dataclass
class Tier2:
    opt: Optimized
    code: CompiledFunction
    entry_index: dict[str, int]      # tier-1 label -> _ENTRY target index
    info: JitInfo = field(default_factory=lambda: JitInfo("interp"))
    jit: object | None = None        # NativeCode | UnicornCode
    jit_fn: Function | None = None   # the IR the machine code was compiled from
    version: int = 1                 # 1 for a function's first tier-2 code, then 2, ...
    cold_sites: frozenset = frozenset()  # tier-1 (block, index) of its _EXIT_COLD exits
    # Unicorn: (blob, base, code) of the machine code, which `codemap` decodes
    linked: tuple | None = None
    _codemap: CodeMap | None = field(default=None, repr=False)
    suspends: frozenset = frozenset()    # id() of the exits of its _YIELD(_FROM)_EXITs
    delegates: frozenset = frozenset()   # ... of its _YIELD_FROM_EXITs
    resume: object | None = None         # native: backends.native.resume's step function
    # a generator's resume points (its entry, the blocks after plain yields) -> _ENTRY index
    resume_index: dict = field(default_factory=dict)
    # Exits where tier 1 takes over an exception's way to its handler: _EXIT_TRY, and a
    # uop that may raise (x // 0) in a protected block. Not failed speculations.
    handler_sites: frozenset = frozenset()
    tier1: Function | None = None
    starts_in_tier1: bool = False

    def __post_init__(self):
        self.cold_sites = frozenset((u.exit.block, u.exit.index)
                                    for _, _, u in self.opt.fn.uops() if u.name == U._EXIT_COLD)
        self.suspends = frozenset(id(u.exit) for _, _, u in self.opt.fn.uops()
                                  if u.name in SUSPENDS)
        self.delegates = frozenset(id(u.exit) for _, _, u in self.opt.fn.uops()
                                   if u.name == U._YIELD_FROM_EXIT)
        if self.suspends:
            self.resume_index = {label: self.entry_index[label]
                                 for label in [self.opt.entries[0]] + resume_points(self.opt.fn)
                                 if label in self.entry_index}
        protected = set()
        if self.tier1 is not None:
            protected = {b.label for b in self.tier1.blocks if b.handler is not None}
        # A call would leave at once through _EXIT_TRY (the body starts in a protected
        # block that can raise): calls stay in tier 1, and its loops enter by OSR.
        first = self.opt.fn.block(self.opt.fn.entry.uops[-1].targets[0].block)
        self.starts_in_tier1 = first.uops[0].name == U._EXIT_TRY
        self.handler_sites = frozenset(
            (u.exit.block, u.exit.index) for _, _, u in self.opt.fn.uops()
            if u.exit is not None and (u.name == U._EXIT_TRY or (
                u.exit.block in protected and u.defn.has(Flag.EXIT_MAY_RAISE))))

    @property
    def codemap(self) -> CodeMap | None:
        """backends.tracing.CodeMap of the Unicorn-run code, decoded (capstone) the first
        time a trace or a report asks: a plain run never does, and the decoding took a
        quarter of a Unicorn run of a small program."""
        if self._codemap is None and self.linked is not None:
            self._codemap = CodeMap(*self.linked)
        return self._codemap


@dataclass
class TraceCounts:
    side_exits: int = 0
    exits_by_site: Counter = field(default_factory=Counter)
    not_run: Counter = field(default_factory=Counter)  # (fn, uop) skipped by exits mid-block
