"""Cached analyses (cfg, dominators, loops, liveness), invalidated by what passes change."""

from __future__ import annotations

from typing import Callable

from ir import cfg
from ir.core import Function

ANALYSES: dict[str, Callable[[Function], object]] = {
    "cfg": lambda fn: (cfg.successors(fn), cfg.predecessors(fn)),
    "dominators": cfg.dominators,
    "loops": cfg.natural_loops,
}


def register_analysis(name: str, compute: Callable[[Function], object]) -> None:
    ANALYSES[name] = compute


class AnalysisManager:
    def __init__(self):
        self.cache: dict[tuple[str, int], tuple[Function, object]] = {}
        self.computed = 0   # how often an analysis had to be (re)computed
        # Function name -> dse.Tier1Liveness: facts about tier-1 code, which no pass
        # over the optimized copy changes, so never invalidated.
        self.tier1: dict[str, object] = {}

    def get(self, name: str, fn: Function):
        if name not in ANALYSES:
            _load_builtin_analyses()
        key = (name, id(fn))
        hit = self.cache.get(key)
        if hit is not None and hit[0] is fn:
            return hit[1]
        result = ANALYSES[name](fn)
        self.computed += 1
        self.cache[key] = (fn, result)
        return result

    def invalidate(self, fn: Function, keep: tuple[str, ...] | str = ()) -> None:
        if keep == "all":
            return
        for key in [k for k, (f, _) in self.cache.items() if f is fn and k[0] not in keep]:
            del self.cache[key]


def _load_builtin_analyses() -> None:
    from . import liveness  # noqa: F401  (registers "liveness")
