"""The tiered runtime.

Tier 1 interprets the generic IR and profiles it.  A function that is called
often, or whose loop iterates often, is optimized with the pipeline and its
tier-2 copy runs (in the interpreter here; as machine code with the JIT
backends), entered at the function entry or at the loop header (OSR).  A side
exit resumes tier 1 at the exact uop with exact Python objects; a guard that
keeps failing gets the function re-optimized without that specialization.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from backends.interp.interpreter import (CompiledFunction, Interpreter, SideExit, UNBOUND,
                                         compile_function)
from backends.interp.profile import Profile
from ir.core import MODULE_FUNCTION, Module
from ir.uops import Flag

from .tiering import Optimized, optimize

HOT_CALLS = 20          # calls before a function is optimized
HOT_LOOP = 50           # loop-header arrivals before OSR
MAX_EXITS = 8           # side exits through one site before re-optimizing
MAX_REOPTIMIZE = 4      # then the function stays in tier 1


@dataclass
class Tier2:
    opt: Optimized
    code: CompiledFunction
    entry_index: dict[str, int]      # tier-1 label -> _ENTRY target index


@dataclass
class TraceCounts:
    side_exits: int = 0
    exits_by_site: Counter = field(default_factory=Counter)
    not_run: Counter = field(default_factory=Counter)  # (fn, uop) skipped by exits mid-block


class Runtime:
    def __init__(self, module: Module, backend: str = "interp", passes: str | None = "default",
                 verify: bool = False):
        from passes.pipeline import parse_pipeline

        self.module = module
        self.backend = backend
        self.pipeline = parse_pipeline(passes or "")
        self.verify = verify
        self.profile = Profile()
        self.interp = Interpreter(module, self.profile)
        self.tier2: dict[str, Tier2 | None] = {}
        self.calls: Counter = Counter()
        self.arrivals: Counter = Counter()
        self.reoptimized: Counter = Counter()
        self.trace = TraceCounts()
        self.retired: list[tuple[str, Tier2]] = []  # invalidated code, still counted
        if self.pipeline:
            self.interp.call_hook = self.on_call
            self.interp.loop_hook = self.on_loop_header

    def run(self) -> None:
        self.interp.run_main()

    # -- tier-up --------------------------------------------------------------

    def get_tier2(self, name: str) -> Tier2 | None:
        if name in self.tier2:
            return self.tier2[name]
        fn = self.interp.functions[name]
        opt = optimize(self.module, fn, self.pipeline, self.profile, self.interp.globals,
                       verify=self.verify)
        code = compile_function(self.interp, opt.fn, tier1=False)
        t2 = Tier2(opt, code, {label: i for i, label in enumerate(opt.entries)})
        self.tier2[name] = t2
        return t2

    def invalidate(self, name: str) -> None:
        self.reoptimized[name] += 1
        old = self.tier2.get(name)
        if old is not None:
            self.retired.append((name, old))
        if self.reoptimized[name] > MAX_REOPTIMIZE:
            self.tier2[name] = None  # stays in tier 1
        else:
            self.tier2.pop(name, None)

    def on_call(self, name: str, args: list) -> object:
        self.calls[name] += 1
        if name == MODULE_FUNCTION or self.calls[name] < HOT_CALLS:
            return self.interp.call_tier1(name, args)
        t2 = self.get_tier2(name)
        if t2 is None:
            return self.interp.call_tier1(name, args)
        cf1 = self.interp.compile(name)
        frame = list(args) + [UNBOUND] * (len(cf1.fn.locals) - len(args))
        self.interp.depth += 1
        try:
            return self.run_tier2(name, t2, frame, 0)
        finally:
            self.interp.depth -= 1

    def on_loop_header(self, cf: CompiledFunction, label: str, frame: list):
        key = (cf.fn.name, label)
        self.arrivals[key] += 1
        if self.arrivals[key] < HOT_LOOP:
            return False, None
        t2 = self.get_tier2(cf.fn.name)
        if t2 is None or label not in t2.entry_index:
            return False, None
        return True, self.run_tier2(cf.fn.name, t2, frame, t2.entry_index[label])

    def run_tier2(self, name: str, t2: Tier2, frame: list, entry: int) -> object:
        """Run optimized code; on a side exit, finish the call in tier 1."""
        try:
            return self.interp.execute(t2.code, frame, t2.code.entry, entry=entry)
        except SideExit as se:
            return self.resume_tier1(name, t2, se, frame)

    def resume_tier1(self, name: str, t2: Tier2, se: SideExit, frame: list) -> object:
        ex = se.exit
        self.trace.side_exits += 1
        site = (name, ex.block, ex.index)
        self.trace.exits_by_site[site] += 1
        for u in t2.code.blocks[se.block].uops[se.index + 1:]:
            self.trace.not_run[(name, u.name)] += 1
        self.profile.exits[site] += 1
        if self.profile.exits[site] % MAX_EXITS == 0 and self.tier2.get(name) is t2:
            self.invalidate(name)
        cf1 = self.interp.compile(name)
        local_index = cf1.local_index
        for local, v in ex.locals:
            frame[local_index[local]] = se.vals[v]
        vals = [None] * cf1.nvals
        for k, v in ex.values:
            vals[k] = se.vals[v]
        return self.interp.execute(cf1, frame, ex.block, ex.index, vals)

    # -- what optimized code executed -----------------------------------------

    def executed(self) -> Counter:
        """(function, uop name) -> times executed in optimized code."""
        counts: Counter = Counter()
        for name, t2 in self.all_tier2():
            for blk in t2.code.blocks.values():
                if blk.count:
                    for u in blk.uops:
                        counts[(name, u.name)] += blk.count
        counts.subtract(self.trace.not_run)
        return +counts

    def all_tier2(self) -> list[tuple[str, Tier2]]:
        live = [(n, t2) for n, t2 in sorted(self.tier2.items()) if t2 is not None]
        return live + self.retired
