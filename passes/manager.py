"""Runs a pipeline over functions, with ``opt``-style instrumentation.

``--print-after-all``, ``--print-after=P``, ``--print-changed`` (a unified diff),
``--time-passes``, ``--stats`` and ``--verify-each``: the verifier names the pass
that broke the IR, or that claims to preserve an analysis it changed.

The pass contracts (passes/analysis.py): before a pass runs, what it ``requires``
is computed (analyses) or checked (properties; a pipeline that breaks one stops
with a one-line error), and when the pipeline starts, the start hooks of the
properties its passes require run (``dse``'s tier-1 liveness).  After a pass that
changed the function, every cached analysis it does not ``preserve`` is dropped.
"""

from __future__ import annotations

import difflib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from ir.core import SUSPENDING_KINDS, Function, Module
from ir.errors import WorkbenchError
from ir.printer import print_function
from ir.stats import STAT_KEYS, function_stats
from ir.verifier import VerifyError, verify_function

from .analysis import PROPERTIES, AnalysisManager, analysis
from .base import ALL, Pass, PassContext, PassError
from .liveness import paused_gc


@dataclass
class Instrumentation:
    print_after_all: bool = False
    print_after: set[str] = field(default_factory=set)
    print_changed: bool = False
    time_passes: bool = False
    stats: bool = False
    verify_each: bool = False
    debug: bool = False   # a broken pass raises its own exception, not a one-line PassError


@dataclass
class PassRecord:
    """What one pass did to one function."""

    pass_name: str
    function: str
    changed: bool
    seconds: float
    stats: Counter


class PassManager:
    def __init__(self, passes: list[Pass], instrument: Instrumentation | None = None,
                 out: Callable[[str], None] | None = None):
        self.passes = passes
        self.inst = instrument or Instrumentation()
        self.out = out or (lambda s: None)
        self.records: list[PassRecord] = []

    def run_function(self, fn: Function, ctx: PassContext) -> bool:
        if fn.signature is not None and fn.signature.kind in SUSPENDING_KINDS:
            # Its frame is resumed at each yield by tier 1 (backends/interp/generators),
            # which needs every local in the frame: no pass handles that yet.
            ctx.note(f"@{fn.name}: a {fn.signature.kind}: not optimized (tier 1 resumes "
                     f"its frame after each yield)")
            return False
        inst = self.inst
        functions = {f.name for f in ctx.module.functions} if ctx.module else None
        if ctx.analyses is None:
            ctx.analyses = AnalysisManager()
        am = ctx.analyses
        for name in dict.fromkeys(r for p in self.passes for r in p.requires):
            prop = PROPERTIES.get(name)
            if prop is not None and prop.start is not None:
                prop.start(fn, ctx)     # before any pass changed fn
        any_changed = False
        for p in self.passes:
            self._require(p, fn, am)
            if inst.verify_each and p.preserves != ALL:
                for name in p.preserves:    # cached now, so that the claim is checked
                    am.get(name, fn)
            before = print_function(fn) if inst.print_changed else None
            ctx.current_pass = p.name
            t0 = time.perf_counter()
            try:
                with paused_gc():   # a pass's garbage is acyclic; see liveness.paused_gc
                    changed = bool(p.run(fn, ctx))
            except WorkbenchError:
                raise
            except (Exception, SystemExit) as e:  # a broken pass (a plugin?) is named
                if inst.debug:
                    raise
                raise PassError(f"pass '{p.spec()}' failed on @{fn.name}: "
                                f"{type(e).__name__}: {e}") from e
            dt = time.perf_counter() - t0
            any_changed |= changed
            if changed:
                am.invalidate(fn, p.preserves)
            if inst.verify_each:
                verify_function(fn, functions, after_pass=p.spec())
                self._verify_preserved(p, fn, am)
            self.records.append(PassRecord(p.spec(), fn.name, changed, dt,
                                           function_stats(fn) if inst.stats else Counter()))
            if inst.print_after_all or p.name in inst.print_after:
                self.out(f"; *** IR after {p.spec()} on @{fn.name} ***\n" + print_function(fn))
            if inst.print_changed and changed:
                after = print_function(fn)
                diff = difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                            f"@{fn.name} before {p.spec()}",
                                            f"@{fn.name} after {p.spec()}", n=1)
                self.out("".join(diff))
        return any_changed

    @staticmethod
    def _require(p: Pass, fn: Function, am: AnalysisManager) -> None:
        """Compute the analyses ``p`` requires; check the properties."""
        for name in p.requires:
            prop = PROPERTIES.get(name)
            if prop is not None:
                why = prop.check(fn) if prop.check is not None else None
                if why is not None:
                    raise PassError(f"pass '{p.spec()}' requires {name} IR, "
                                    f"but @{fn.name} {why}")
            elif analysis(name) is not None:
                am.get(name, fn)
            else:
                raise PassError(f"pass '{p.spec()}' requires '{name}', which is neither "
                                f"an analysis nor a property")

    @staticmethod
    def _verify_preserved(p: Pass, fn: Function, am: AnalysisManager) -> None:
        """Every analysis still cached after ``p`` must be what it was computed to be."""
        for name in am.stale(fn):
            raise VerifyError(f"verifier: after pass '{p.spec()}': @{fn.name}: pass "
                              f"{p.name} claims to preserve {name} but changed it")

    def run_module(self, module: Module, ctx: PassContext,
                   only: str | None = None) -> None:
        ctx.module = module
        for fn in module.functions:
            if only is None or fn.name == only:
                self.run_function(fn, ctx)

    def timing_report(self) -> str:
        total: dict[str, float] = {}
        for r in self.records:
            total[r.pass_name] = total.get(r.pass_name, 0.0) + r.seconds
        grand = sum(total.values()) or 1e-12
        lines = ["===-- pass execution timing report --===",
                 f"{'seconds':>10} {'percent':>8}  pass"]
        for name, s in total.items():
            lines.append(f"{s:10.6f} {100 * s / grand:7.1f}%  {name}")
        lines.append(f"{grand:10.6f} {100.0:7.1f}%  total")
        return "\n".join(lines) + "\n"

    def stats_report(self) -> str:
        keys = STAT_KEYS
        lines = ["===-- statistics after each pass --===",
                 f"{'function':<16} {'pass':<24} " + " ".join(f"{k:>12}" for k in keys)]
        for r in self.records:
            lines.append(f"{r.function:<16} {r.pass_name:<24} "
                         + " ".join(f"{r.stats[k]:>12}" for k in keys))
        return "\n".join(lines) + "\n"
