"""What a pass is, and what it is given.

A pass is a small class: a ``name``, a one-line ``description``, its ``options``,
the analyses (and properties) it ``requires`` and the analyses it ``preserves``,
and ``run(fn, ctx) -> changed``.  It gets every analysis from the context,
``ctx.get("dominators", fn)``: cached, and invalidated by the pass manager after a
pass that changed the function, except for what that pass ``preserves`` (see
passes/analysis.py).  Every individual transformation asks ``ctx.allow(...)``
first, so a bisector can stop a pipeline after exactly N transformations (LLVM's
``-opt-bisect-limit``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ir.core import Function, Module
from ir.errors import WorkbenchError

from .analysis import AnalysisManager


class PassError(WorkbenchError):
    pass


@dataclass(frozen=True)
class Option:
    type: type
    default: Any
    help: str
    choices: tuple | None = None


ALL = "all"


class Pass:
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    options: ClassVar[dict[str, Option]] = {}
    # Analyses computed, and properties checked, before the pass runs.
    requires: ClassVar[tuple[str, ...]] = ()
    # Analyses still valid after the pass changed the function; ALL for analyses-only.
    # Checked under --verify-each: a cached analysis that changed is a verifier error.
    preserves: ClassVar[tuple[str, ...] | str] = ()

    def __init__(self, **opts: Any):
        self.opts = {k: o.default for k, o in self.options.items()}
        self.opts.update(opts)

    def run(self, fn: Function, ctx: "PassContext") -> bool:
        raise NotImplementedError

    def spec(self) -> str:
        """The pipeline text that rebuilds this pass with its options."""
        changed = {k: v for k, v in self.opts.items() if v != self.options[k].default}
        if not changed:
            return self.name
        return self.name + "{" + ",".join(f"{k}={v}" for k, v in changed.items()) + "}"


@dataclass
class PassContext:
    """Everything a pass may consult besides the function itself."""

    module: Module | None = None
    profile: Any = None                 # backends.interp.profile.Profile (tier-1 types)
    constant_globals: dict[str, Any] = field(default_factory=dict)
    analyses: AnalysisManager = field(default_factory=AnalysisManager)
    explain: list[str] | None = None    # filled when the user asked for --explain
    bisect_limit: int | None = None     # allow at most this many transformations
    transformations: int = 0
    log: list[tuple[int, str, str]] = field(default_factory=list)  # (n, pass, what)
    current_pass: str = ""

    def allow(self, what: str) -> bool:
        """May the current pass make this transformation?  Counts it if so."""
        if self.bisect_limit is not None and self.transformations >= self.bisect_limit:
            return False
        self.transformations += 1
        if self.bisect_limit is not None:
            self.log.append((self.transformations, self.current_pass, what))
        return True

    def note(self, message: str) -> None:
        if self.explain is not None:
            self.explain.append(message)

    def get(self, analysis: str, fn: Function):
        """The analysis of ``fn`` (cached; see passes/analysis.py)."""
        if self.analyses is None:
            self.analyses = AnalysisManager()
        return self.analyses.get(analysis, fn)

    def invalidate(self, fn: Function, keep: tuple[str, ...] | str = ()) -> None:
        """The current pass changed ``fn`` mid-run (e.g. its CFG) and may ask for
        analyses again: forget the cached ones but ``keep``."""
        if self.analyses is not None:
            self.analyses.invalidate(fn, keep)
