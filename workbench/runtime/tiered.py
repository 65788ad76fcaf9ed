"""The tiered runtime.

Tier 1 interprets the generic IR and profiles it.  A function that is called
often, or whose loop iterates often, is optimized with the pipeline and its
tier-2 copy runs, entered at the function entry or at the loop header (OSR)
through the ``_ENTRY`` dispatcher's target index.  A side exit resumes tier 1 at
the exact uop with exact Python objects; a guard that keeps failing gets the
function re-optimized without that specialization.

Where tier 2 runs is the backend:

* ``interp``: the reference interpreter runs the optimized IR;
* ``native``: ``copy_and_patch.emitter.compile`` turns it into machine code that
  ``NativeCode`` runs (W^X memory, ctypes);
* ``unicorn``: the same machine code inside Unicorn (``UnicornCode``), counting
  instructions per address (or tracing every instruction) for ``workbench trace``.

A function the emitter refuses (``Unsupported``) runs in the tier-2 interpreter;
so does any one call whose frame the runner refuses (``Refused``: a value the
native words cannot hold, e.g. an int past 64 bits).  ``Tier2.info`` records
which code ran where and why.

Calls between compiled functions.  Once a call finds ``name`` hot with native code,
``fast_caller`` puts a direct entry in ``Interpreter.fast_calls``: the call helper of a
compiled caller (and tier 1's ``Interpreter.call``) runs the callee's machine code
through ``NativeCode.invoker`` (arguments written into a preallocated frame, the result
read back) without ``on_call`` / ``run_tier2`` and their dict of locals; side exits,
refusals, exceptions and the recursion limit are handled as on the generic path.
``invalidate`` and ``on_global_write`` remove the entry with the code it enters.
Natively, machine code goes further (``backends.native.direct``): the same install point
fills the callee's *cell*, which compiled call sites read to call a qualifying callee's
code on a native frame stack without Python; ``invalidate`` / ``on_global_write`` empty
it. Switch: ``Runtime(direct_calls=False)`` (the CLI's ``--no-direct-calls``).

Exceptions.  A runtime helper called from machine code that raises (a generic
``//`` by zero, an IndexError...) propagates out of the runner as itself; the
runtime records the function and source line of the uop that called the helper,
as the interpreter records its frames, so the traceback is CPython's.
"""

from __future__ import annotations

import gc
from collections import Counter

from backends.copy_and_patch.emitter import Unsupported, compile as emit
from backends.copy_and_patch.uop_stencils import STK_DEPTH
from backends.interp.interpreter import (RECURSION_LIMIT, CompiledFunction, Interpreter,
                                         SideExit, UNBOUND, compile_function)
from backends.interp.profile import Profile
from backends.native.direct import DirectCalls
from backends.native.resume import resumer
from backends.native.runner import Caller, NativeCode, Refused
from backends.tracing import Cost
from ir.core import MODULE_FUNCTION, SUSPENDING_KINDS, Module
from ir.uops import Flag
from passes.pipeline import parse_pipeline

from .names import BACKENDS, JIT_BACKENDS
from .resuming import GeneratorSteps
from .tier2_code import JitInfo, Tier2, TraceCounts
from .tiering import optimize

HOT_CALLS = 20          # calls before a function is optimized
HOT_LOOP = 50           # loop-header arrivals before OSR
MAX_EXITS = 8           # side exits through one site before re-optimizing
MAX_REOPTIMIZE = 4      # then the function stays in tier 1

WORD_TYPES = ("int", "float", "bool")


class Runtime(GeneratorSteps):
    """``unicorn_mode``: "blocks" (count instructions per address) or "full" (every
    instruction and memory access, handed to ``full_trace``, a tracing.FullTrace)."""

    def __init__(self, module: Module, backend: str = "interp", passes: str | None = "default",
                 verify: bool = False, unicorn_mode: str = "blocks", full_trace=None,
                 bisect_limit: int | None = None, direct_calls: bool = True,
                 boxed: bool = False, debug: bool = False):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}")
        self.module = module
        self.backend = backend
        if backend in JIT_BACKENDS:
            import_jit_modules(backend)
        # ``boxed``: compiled code keeps every value a PyObject * (CPython 3.15's model)
        self.boxed = boxed
        self.unicorn_mode = unicorn_mode
        self.full_trace = full_trace
        self.pipeline = parse_pipeline(passes or "")
        self.verify = verify
        self.debug = debug   # an emitter failure raises instead of falling back
        # ``bisect_limit``: at most that many transformations in the whole run, counted by
        # one counter across every function optimized (``tiering.optimize``); the allowed
        # ones are logged in ``bisect_log`` as (n, pass, what).
        self.bisect_limit = bisect_limit
        self.bisect_log: list[tuple[int, str, str]] = []
        self.profile = Profile()
        self.interp = Interpreter(module, self.profile)
        # Optimized code may fold globals that only <module> writes; a write to one
        # drops the code that assumed its old value (CPython's dict watchers).
        self.interp.on_global_write = self.on_global_write
        self.tier2: dict[str, Tier2 | None] = {}
        # global name -> the functions whose tier-2 code assumed its value (in order):
        # a global write looks at those only, not at every compiled function
        self.watchers: dict[str, dict[str, None]] = {}
        self.calls: Counter = Counter()
        self.arrivals: Counter = Counter()
        self.reoptimized: Counter = Counter()
        self.warmed: Counter = Counter()   # re-optimizations after cold exits (not limited)
        self.cold_exits: Counter = Counter()
        self.trace = TraceCounts()
        self.retired: list[tuple[str, Tier2]] = []  # invalidated code, still counted
        self.resuming: set[int] = set()   # id() of the frames tier 1 finishes after exits
        # With a JIT backend, hot code goes to tier 2 even with an empty pipeline: its
        # generic uops become machine code calling runtime helpers, the baseline that
        # `trace` compares optimized pipelines with (slow natively: a ctypes callback
        # per generic uop). The interpreter backend keeps '' meaning tier 1 only.
        if self.pipeline or backend in JIT_BACKENDS:
            self.interp.call_hook = self.on_call
            self.interp.loop_hook = self.on_loop_header
            self.interp.resume_hook = self.on_resume
        # Native machine code calls native machine code directly (backends.native.direct);
        # ``direct_calls=False`` keeps every call on the helper path. Unicorn always takes
        # the helper path.
        self.direct = None
        if direct_calls and backend == "native":
            self.direct = DirectCalls(self, RECURSION_LIMIT)
        self.interp.direct = self.direct

    def run(self) -> None:
        self.interp.run_main()

    # -- tier-up --------------------------------------------------------------

    def get_tier2(self, name: str) -> Tier2 | None:
        if name in self.tier2:
            return self.tier2[name]
        fn = self.interp.functions[name]
        if any(u.defn.has(Flag.TIER1_ONLY) for b in fn.blocks if b.handler is None
               for u in b.uops):   # (a protected block that has one runs in tier 1)
            self.tier2[name] = None   # what the passes cannot optimize stays in tier 1
            return None
        # No collection while compiling: the passes and the emitter make many short-lived
        # objects, and young collections then cost as much as the passes themselves; no
        # program code runs meanwhile, so the program sees no difference (cycles made
        # here are collected after).
        collecting = gc.isenabled()
        gc.disable()
        try:
            opt = optimize(self.module, fn, self.pipeline, self.profile, self.interp.globals,
                           verify=self.verify, bisect_limit=self.bisect_limit,
                           bisect_log=self.bisect_log if self.bisect_limit is not None
                           else None, debug=self.debug)
            code = compile_function(self.interp, opt.fn, tier1=False)
            t2 = Tier2(opt, code, {label: i for i, label in enumerate(opt.entries)},
                       version=self.reoptimized[name] + self.warmed[name] + 1, tier1=fn)
            if self.backend in JIT_BACKENDS:
                self.compile_jit(t2)
        finally:
            if collecting:
                gc.enable()
        self.tier2[name] = t2
        for key in opt.assumed_globals:
            self.watchers.setdefault(key, {})[name] = None
        return t2

    def compile_jit(self, t2: Tier2) -> None:
        """Machine code for ``t2`` (or the emitter's reason in ``t2.info``)."""
        fn = t2.opt.fn
        try:
            blob = emit(fn, direct_calls=self.direct is not None, boxed=self.boxed)
        except Unsupported as e:
            t2.info = JitInfo("interp", str(e))
            return
        except Exception as e:  # an emitter bug must not change the program's output
            if self.debug:
                raise
            t2.info = JitInfo("interp", f"emitter failed: {type(e).__name__}: {e}")
            return
        t2.jit_fn = fn
        t2.info = JitInfo(self.backend)
        if self.backend == "native":
            t2.jit = NativeCode(blob, env=self.interp)
        else:
            # lazy: unicorn takes ~35 ms to import and only this backend needs it
            from backends.unicorn_rt.runner import UnicornCode

            full = self.unicorn_mode == "full"
            code = UnicornCode(blob, "full" if full else self.unicorn_mode, env=self.interp,
                               max_steps=0)
            t2.linked = (blob, code.base, code.code)
            if full and self.full_trace is not None:
                code.on_step = self.full_trace.sink(t2.codemap)
            t2.jit = code
        t2.jit.helpers.record_frames(fn.name)  # helpers' exceptions name this function
        if t2.suspends and self.backend == "native":
            exits = [k for k, ex in enumerate(blob.exits) if id(ex) in t2.suspends]
            delegating = {k for k in exits if id(blob.exits[k]) in t2.delegates}
            t2.resume = resumer(t2.jit, self.interp.compile(fn.name).local_index, exits,
                                UNBOUND, delegating)

    def on_global_write(self, key: str, value) -> None:
        watching = self.watchers.get(key)
        if not watching:
            return
        for name in list(watching):
            t2 = self.tier2.get(name)
            if t2 is None:
                continue
            assumed = t2.opt.assumed_globals
            if key in assumed and not (type(assumed[key]) is type(value)
                                       and assumed[key] == value):
                self.retired.append((name, t2))
                del self.tier2[name]  # re-optimized, with the new value, when hot again
                self.interp.resume_steps.pop(name, None)
                self.interp.fast_calls.pop(name, None)
                if self.direct is not None:
                    self.direct.clear(name)

    def invalidate(self, name: str, cold: bool = False) -> None:
        """Drop ``name``'s tier-2 code; it is re-optimized when hot again.  A guard that
        keeps failing counts towards MAX_REOPTIMIZE; a cold exit does not (each one
        ends once tier 1 has profiled that code, so they are bounded by the code)."""
        if cold:
            self.warmed[name] += 1
        else:
            self.reoptimized[name] += 1
        old = self.tier2.get(name)
        if old is not None:
            self.retired.append((name, old))
        self.interp.fast_calls.pop(name, None)
        if self.direct is not None:
            self.direct.clear(name)
        self.interp.resume_steps.pop(name, None)
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
            self.stay_in_tier1(name)
            return self.interp.call_tier1(name, args)
        if t2.starts_in_tier1:
            return self.interp.call_tier1(name, args)
        if hasattr(t2.jit, "invoker"):
            # from now on calls of `name` skip this method (until its code is dropped)
            self.interp.fast_calls[name] = self.fast_caller(name, t2)
            if self.direct is not None:   # and calls from machine code go straight in
                self.direct.install(name, t2, self.interp.functions[name].params)
        cf1 = self.interp.compile(name)
        frame = list(args) + [UNBOUND] * (len(cf1.fn.locals) - len(args))
        self.interp.depth += 1
        try:
            return self.run_tier2(name, t2, frame, 0)
        finally:
            self.interp.depth -= 1

    def stay_in_tier1(self, name: str) -> None:
        """``name`` has no tier-2 code and never will (``tier2[name]`` is None: a
        TIER1_ONLY uop, MAX_REOPTIMIZE spent, ...): its calls go straight to
        tier 1 and its loop headers stop reporting arrivals, so the code that stays in
        tier 1 pays nothing for the tier-up it will not take."""
        interp = self.interp
        cf = interp.compile(name)
        for h in cf.headers:
            cf.blocks[h].is_header = False
        sig = cf.fn.signature
        if sig is not None and sig.kind in SUSPENDING_KINDS:
            return   # a call makes a generator (Interpreter.enter), never runs the body
        if name not in interp.fast_calls:
            call_tier1 = interp.call_tier1

            def call(*args):
                if interp.depth >= RECURSION_LIMIT:
                    raise RecursionError("maximum recursion depth exceeded")
                return call_tier1(name, list(args))
            interp.fast_calls[name] = call

    def fast_caller(self, name: str, t2: Tier2):
        """`call(*args)` of hot function `name` straight into its native code: what
        ``Interpreter.call`` + ``on_call`` + ``run_tier2`` do for it, minus the lookups
        and the dict of locals (the caller checked the argument count). The interpreter
        and the helpers of compiled callers call it through ``Interpreter.fast_calls``,
        from which ``invalidate`` / ``on_global_write`` remove it with the code."""
        interp, info, jit = self.interp, t2.info, t2.jit
        params = interp.functions[name].params
        unbound = [UNBOUND] * (len(interp.compile(name).fn.locals) - len(params))
        header = self.direct.header if self.direct is not None else [0] * 8  # depth word

        def refused(e: Refused, args: list):
            info.refused += 1
            info.refusal = str(e)
            return self.run_tier2_interp(name, t2, args + unbound, 0)

        def exited(last_exit, args: list):
            # taken, not kept: the exit's values are the caller's objects (a receiver,
            # say), which the code object must not hold on to
            jit.last_exit = None
            return self.resume_from_jit(name, t2, last_exit, args + unbound)

        # one generated function does all of it (NativeCode.invoker with a Caller)
        return jit.invoker(params, Caller(interp, RECURSION_LIMIT, header, STK_DEPTH,
                                          self.calls, name, info, refused, exited))

    def on_loop_header(self, cf: CompiledFunction, label: str, frame: list):
        key = (cf.fn.name, label)
        self.arrivals[key] += 1
        if self.arrivals[key] < HOT_LOOP:
            return False, None
        t2 = self.get_tier2(cf.fn.name)
        if t2 is None:
            self.stay_in_tier1(cf.fn.name)
            return False, None
        if label not in t2.entry_index:
            return False, None
        if id(frame) in self.resuming:   # tier 1 after an exit: re-enter from there
            return True, _Reenter(label, t2)
        try:
            return True, self.run_tier2(cf.fn.name, t2, frame, t2.entry_index[label])
        except Exception as e:
            # Tier 2 recorded this function's frame (with the faulting line); the tier-1
            # loop that called us records it again on the way out (at the loop header).
            frames = e.__dict__.get("_wb_frames")
            if frames:
                e._wb_frames = _SkipNextFrame(frames)
            raise

    def run_tier2(self, name: str, t2: Tier2, frame: list, entry: int) -> object:
        """Run optimized code; on a side exit, finish the call in tier 1."""
        done, r = self.enter_tier2(name, t2, frame, entry)
        return r if done else self.finish_in_tier1(name, frame, r)

    def enter_tier2(self, name: str, t2: Tier2, frame: list, entry: int) -> tuple:
        """(True, the result) or, after a side exit, (False, where tier 1 resumes: label,
        index and values), the frame holding the locals."""
        if t2.jit is not None:
            locals_ = self.interp.compile(name).fn.locals
            values = {local: v for local, v in zip(locals_, frame) if v is not UNBOUND}
            if self.direct is not None:
                self.direct.enter(self.interp.depth)
            try:
                result = t2.jit.run(values, entry)
            except Refused as e:
                t2.info.refused += 1
                t2.info.refusal = str(e)
            else:
                t2.info.runs += 1
                if result[0] == "return":
                    t2.info.returns += 1
                    return True, result[1]
                if id(t2.jit.blob.exits[result[1]]) in t2.suspends:
                    return True, self.suspended(name, t2, result, frame)
                return False, self.exit_from_jit(name, t2, result, frame)
        t2.info.interp_runs += 1
        try:
            return True, self.interp.execute(t2.code, frame, t2.code.entry, entry=entry)
        except SideExit as e:
            se = e
        # Tier 1 resumes outside the except clause: inside it, the SideExit would be the
        # exception being handled (sys.exc_info(), __context__) for the program's code.
        return False, self.exit_tier2_interp(name, t2, se, frame)

    def run_tier2_interp(self, name: str, t2: Tier2, frame: list, entry: int) -> object:
        """``t2`` in the tier-2 interpreter; on a side exit, finish the call in tier 1."""
        t2.info.interp_runs += 1
        try:
            return self.interp.execute(t2.code, frame, t2.code.entry, entry=entry)
        except SideExit as e:
            se = e
        return self.finish_in_tier1(name, frame, self.exit_tier2_interp(name, t2, se, frame))

    def finish_in_tier1(self, name: str, frame: list, where: tuple) -> object:
        """Tier 1 from a side exit to the end of the call. A hot loop header it reaches
        enters tier 2 again from here (``on_loop_header`` answers ``_Reenter``), not from
        a call nested in this one: a loop whose exceptions keep leaving compiled code for
        their handlers runs at a constant depth of the Python stack."""
        cf1 = self.interp.compile(name)
        key = id(frame)
        while True:
            label, index, vals = where
            self.resuming.add(key)
            try:
                r = self.interp.execute(cf1, frame, label, index, vals)
            finally:
                self.resuming.discard(key)
            if type(r) is not _Reenter:
                return r
            t2 = r.t2
            done, where = self.enter_tier2(name, t2, frame, t2.entry_index[r.label])
            if done:
                return where

    def count_exit(self, name: str, t2: Tier2, ex) -> None:
        self.trace.side_exits += 1
        site = (name, ex.block, ex.index)
        self.trace.exits_by_site[site] += 1
        if (ex.block, ex.index) in t2.handler_sites:
            return
        if (ex.block, ex.index) in t2.cold_sites:
            # Not a failed speculation: the profile that re-optimization reads is being
            # collected by tier 1 right now, so this must not mark the site unstable.
            self.cold_exits[site] += 1
            if self.cold_exits[site] % MAX_EXITS == 0 and self.tier2.get(name) is t2:
                self.invalidate(name, cold=True)
            return
        self.profile.exits[site] += 1
        if self.profile.exits[site] % MAX_EXITS == 0 and self.tier2.get(name) is t2:
            self.invalidate(name)

    def exit_tier2_interp(self, name: str, t2: Tier2, se: SideExit, frame: list) -> tuple:
        """The tier-2 interpreter left through ``se``: the frame gets the exit's locals;
        where tier 1 resumes (label, index, values)."""
        ex = se.exit
        for u in t2.code.blocks[se.block].uops[se.index + 1:]:
            self.trace.not_run[(name, u.name)] += 1
        self.count_exit(name, t2, ex)
        cf1 = self.interp.compile(name)
        local_index = cf1.local_index
        for local, v in ex.locals:
            frame[local_index[local]] = se.vals[v]
        vals = [None] * cf1.nvals
        for k, v in ex.values:
            vals[k] = se.vals[v]
        return ex.block, ex.index, vals

    def exit_from_jit(self, name: str, t2: Tier2, result: tuple, frame: list) -> tuple:
        """Machine code left through exit ``result[1]``: the same as
        ``exit_tier2_interp``, from the runner's boxed values and locals."""
        _, index, values, locals_ = result
        ex = t2.jit.blob.exits[index]
        t2.info.exits += 1
        self.count_exit(name, t2, ex)
        cf1 = self.interp.compile(name)
        local_index = cf1.local_index
        for local, v in locals_.items():
            frame[local_index[local]] = v
        vals = [None] * cf1.nvals
        for k, v in values.items():
            vals[k] = v
        return ex.block, ex.index, vals

    def resume_from_jit(self, name: str, t2: Tier2, result: tuple, frame: list) -> object:
        """Machine code left through an exit: finish the call in tier 1."""
        return self.finish_in_tier1(name, frame, self.exit_from_jit(name, t2, result, frame))

    # -- what optimized code executed -----------------------------------------

    def executed(self) -> Counter:
        """(function, uop name) -> times executed in optimized code: in the tier-2
        interpreter, and in Unicorn (recovered from instruction counts). Code that ran
        natively is not counted (nothing watches it)."""
        counts: Counter = Counter()
        for name, t2 in self.all_tier2():
            for blk in t2.code.blocks.values():
                if blk.count:
                    for u in blk.uops:
                        counts[(name, u.name)] += blk.count
            if t2.codemap is not None and t2.jit.runs:
                counts.update(t2.codemap.uop_counts(t2.jit_fn, t2.jit.counts, t2.jit.entries))
        counts.subtract(self.trace.not_run)
        return +counts

    def machine_costs(self) -> dict:
        """(function, uop name) -> tracing.Cost of the Unicorn-run code."""
        out: dict = {}
        for _, t2 in self.all_tier2():
            if t2.codemap is not None and t2.jit.runs:
                for key, c in t2.codemap.cost_by_uop(t2.jit.counts, t2.jit.calls).items():
                    out.setdefault(key, Cost()).add(c)
        return out

    def versions(self) -> list[dict]:
        """Every tier-2 version compiled, where it ran and why."""
        if self.direct is not None:
            self.direct.sync()
        out = []
        for name, t2 in sorted(self.all_tier2(), key=lambda nt: (nt[0], nt[1].version)):
            i = t2.info
            row = {"function": name, "version": t2.version, "tier2": i.where,
                   "reason": i.reason, "runs": i.runs,
                   "returns": i.returns, "exits": i.exits, "yields": i.yields,
                   "refused": i.refused,
                   "refusal": i.refusal, "interp_runs": i.interp_runs}
            if t2.jit is not None:
                row["code_bytes"] = t2.jit.blob.size
                if hasattr(t2.jit, "instructions"):
                    row["instructions"] = t2.jit.instructions
            out.append(row)
        return out

    def all_tier2(self) -> list[tuple[str, Tier2]]:
        live = [(n, t2) for n, t2 in sorted(self.tier2.items()) if t2 is not None]
        return live + self.retired



def import_jit_modules(backend: str) -> None:
    """Import now what compiling for ``backend`` may import later: the workbench's own
    imports must happen before the program runs, or its ``sys.modules`` changes under it
    (a loop over ``sys.modules`` while a function gets hot would fail). Only a JIT run
    pays for it: the ELF reader (a stencil cache miss), Unicorn and capstone."""
    # lazy: only a JIT backend needs it (pyelftools, ~50 ms)
    import backends.copy_and_patch.elf_reader  # noqa: F401
    if backend == "unicorn":
        import capstone  # noqa: F401  # lazy: only Unicorn runs need it
        import unicorn.unicorn_py3.arch.intel  # noqa: F401  # lazy: only Unicorn runs need it

        import backends.unicorn_rt.runner  # noqa: F401  # lazy: only Unicorn runs need it


class _Reenter:
    """What tier 1, finishing a call after a side exit, returns at a hot loop header: run
    ``t2`` from there (``Runtime.finish_in_tier1``)."""

    __slots__ = ("label", "t2")

    def __init__(self, label: str, t2: Tier2):
        self.label, self.t2 = label, t2


class _SkipNextFrame(list):
    """A traceback frame list that ignores the next frame appended to it: the tier-1
    ``execute`` whose loop header entered tier 2 (OSR) appends its own frame for the
    same Python-level call, which tier 2 has already recorded."""

    def __init__(self, frames):
        super().__init__(frames)
        self.skip = 1

    def append(self, frame) -> None:
        if self.skip:
            self.skip -= 1
            return
        super().append(frame)
