"""The state the register allocators share (passes/regalloc.py drives them; each
algorithm is a module of its own that reads and writes this state)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ir.cfg import natural_loops
from ir.core import Function

from .analysis import AnalysisManager
from .liveness import LivenessInfo, compute


def is_reg(loc: str | None) -> bool:
    return loc is not None and loc.startswith("r")


@dataclass
class AllocState:
    """What the allocators share while rewriting a function."""

    fn: Function
    regs: int
    reg: dict[int, int] = field(default_factory=dict)     # value -> register index
    in_slot: set[int] = field(default_factory=set)        # values living in a frame slot
    temps: dict[int, tuple[str, int]] = field(default_factory=dict)  # temp -> (kind, value)
    rounds: int = 0
    memory_operands: int = 0
    info: object = None          # liveness of the IR as it is now (None: recompute)
    # The pass's analyses of the function as it received it: the first round's
    # liveness, and the loops (allocation does not change the CFG until the edge moves).
    analyses: AnalysisManager | None = None
    _fresh: bool = True          # is the IR still as the pass received it?

    def liveness(self) -> LivenessInfo:
        """The liveness of the IR now: the cached analysis for the first round, then
        computed (each round changed the IR)."""
        if self._fresh and self.analyses is not None:
            self._fresh = False
            return self.analyses.get("liveness", self.fn)
        self._fresh = False
        return compute(self.fn)

    def loops(self) -> list:
        """The natural loops of the function (the pass's cached analysis)."""
        if self.analyses is not None:
            return self.analyses.get("loops", self.fn)
        return natural_loops(self.fn)

    def new_like(self, v: int) -> int:
        """A fresh value with ``v``'s type fact."""
        n = self.fn.new_value()
        t = self.fn.types.get(v)
        if t is not None:
            self.fn.types[n] = t
        return n


def overlaps(info, i: int, ni: int, j: int, nj: int) -> bool:
    """Do the ranges ``i..ni`` and ``j..nj`` of the liveness tables overlap?
    (Indices into ``info.rfrom``/``info.rto``; both runs sorted, half-open.)"""
    rfrom, rto = info.rfrom, info.rto
    while i < ni and j < nj:
        if rto[i] <= rfrom[j]:
            i += 1
        elif rto[j] <= rfrom[i]:
            j += 1
        else:
            return True
    return False


def param_arg_pairs(fn: Function) -> dict[int, list[int]]:
    """param <-> argument affinities, both directions."""
    blocks = fn.block_map()
    pairs: dict[int, list[int]] = {}
    for b in fn.blocks:
        if not b.uops:
            continue
        for t in b.uops[-1].targets:
            for a, p in zip(t.args, blocks[t.block].params):
                if a != p:
                    pairs.setdefault(p, []).append(a)
                    pairs.setdefault(a, []).append(p)
    return pairs
