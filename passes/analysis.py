"""The analysis manager: the one place passes get analyses from, and what the pass
contracts (``requires`` / ``preserves``) act on.

* Analyses (``cfg``, ``dominators``, ``loops``, ``liveness``, ``typefacts``, and any
  ``register_analysis`` adds) are computed on request, ``ctx.get(name, fn)``, and
  cached per function.  One analysis may ask for another (``typefacts`` asks for
  ``cfg`` and ``dominators``), through the manager it is given.
* Invalidation: after a pass that changed the function, the pass manager drops every
  cached analysis of it the pass does not list in ``preserves`` (``ALL``: none).  A
  pass that changes the CFG and then wants an analysis of the new CFG in the same
  run says so first: ``ctx.invalidate(fn)``.
* ``requires`` names analyses (computed before the pass runs) and properties
  (``register_property``): a check of the IR the pass needs (a pipeline that breaks
  it stops with a one-line ``PassError``) and/or a hook run when the pipeline starts,
  before any pass changed the function (``dse``'s tier-1 liveness).
* Verification (``--verify-each``, and the tests): before a pass, every analysis it
  names in ``preserves`` is computed; after it, every analysis still cached for the
  function is recomputed from scratch and compared with the cached one
  (``AnalysisManager.stale``), so a pass that claims to preserve what it changed is
  named.
"""

from __future__ import annotations

import importlib
import operator
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

from ir import cfg
from ir.core import Function


@dataclass(frozen=True)
class CFG:
    """The ``cfg`` analysis: successors and predecessors of every block (labels, in
    function order), and the reachable blocks in reverse postorder."""

    successors: dict[str, list[str]]
    predecessors: dict[str, list[str]]
    rpo: list[str]

    @staticmethod
    def of(fn: Function) -> "CFG":
        return CFG(cfg.successors(fn), cfg.predecessors(fn), cfg.reverse_postorder(fn))


@dataclass(frozen=True)
class Analysis:
    name: str
    compute: Callable[[Function, "AnalysisManager"], object]   # (fn, manager) -> result
    same: Callable[[Any, Any], bool]                            # results equal?


@dataclass(frozen=True)
class Property:
    """A requirement that is not an analysis: ``check(fn)`` says why ``fn`` lacks it
    (None: it has it); ``start(fn, ctx)`` runs when a pipeline that requires it
    starts on ``fn``."""

    name: str
    check: Callable[[Function], str | None] | None = None
    start: Callable[[Function, Any], None] | None = None


ANALYSES: dict[str, Analysis] = {}
PROPERTIES: dict[str, Property] = {}

# Analyses registered by the module that computes them, imported on first request
# (by name, as the pass registry loads built-in passes: those modules import this one).
BUILTIN_MODULES = {"liveness": "passes.liveness", "typefacts": "passes.typeprop"}


def register_analysis(name: str, compute: Callable[[Function, "AnalysisManager"], object],
                      same: Callable[[Any, Any], bool] = operator.eq) -> None:
    """``compute(fn, manager)``; ``same(cached, fresh)`` for ``--verify-each``."""
    ANALYSES[name] = Analysis(name, compute, same)


def register_property(name: str, check: Callable[[Function], str | None] | None = None,
                      start: Callable[[Function, Any], None] | None = None) -> None:
    PROPERTIES[name] = Property(name, check, start)


def analysis(name: str) -> Analysis | None:
    if name not in ANALYSES and name in BUILTIN_MODULES:
        importlib.import_module(BUILTIN_MODULES[name])
    return ANALYSES.get(name)


register_analysis("cfg", lambda fn, am: CFG.of(fn))
register_analysis("dominators", lambda fn, am: cfg.dominators(
    fn, am.get("cfg", fn).rpo, am.get("cfg", fn).predecessors))
register_analysis("loops", lambda fn, am: cfg.natural_loops(
    fn, am.get("dominators", fn), am.get("cfg", fn)))

UNALLOCATED = "unallocated"
register_property(UNALLOCATED, check=lambda fn: (
    "has register locations; run it before regalloc" if fn.locs else None))


class AnalysisManager:
    def __init__(self):
        self.cache: dict[tuple[str, int], tuple[Function, object]] = {}
        self.computed = 0           # how often an analysis had to be (re)computed
        self.counts: Counter = Counter()   # the same, per analysis name
        self._kept: dict[str, dict] = {}

    def get(self, name: str, fn: Function):
        key = (name, id(fn))
        hit = self.cache.get(key)
        if hit is not None and hit[0] is fn:
            return hit[1]
        a = analysis(name)
        if a is None:
            raise KeyError(f"unknown analysis {name!r}; known: {', '.join(sorted(ANALYSES))}")
        result = a.compute(fn, self)
        self.computed += 1
        self.counts[name] += 1
        self.cache[key] = (fn, result)
        return result

    def cached(self, fn: Function) -> list[str]:
        """The analyses of ``fn`` held now."""
        return [k[0] for k, (f, _) in self.cache.items() if f is fn]

    def invalidate(self, fn: Function, keep: tuple[str, ...] | str = ()) -> None:
        if keep == "all":
            return
        for key in [k for k, (f, _) in self.cache.items() if f is fn and k[0] not in keep]:
            del self.cache[key]

    def stale(self, fn: Function) -> list[str]:
        """The cached analyses of ``fn`` that a fresh computation disagrees with."""
        fresh = AnalysisManager()
        return [name for name in self.cached(fn)
                if not ANALYSES[name].same(self.cache[(name, id(fn))][1], fresh.get(name, fn))]

    def kept(self, name: str) -> dict:
        """State a property keeps for the whole context, never invalidated (``dse``:
        the tier-1 liveness of each function, by name)."""
        return self._kept.setdefault(name, {})
