"""A generator's (or coroutine's) steps in the tiered runtime (a mixin of ``Runtime``).

The driver of a suspended frame (backends/interp/generators) runs each step from a
resume point -- the frame's entry, or the block after a yield -- to its next yield or
its return. Until the function has optimized code, ``on_resume`` counts the arrivals at
each resume point and runs the step in tier 1. Once a resume point is hot the function
is optimized (``passes.suspend``: yields are exits that save the frame, resume points
``_ENTRY`` targets), and the runtime installs one step function per resume point in
``Interpreter.resume_steps[name]``, which the driver calls directly: it enters the code
at that point's ``_ENTRY`` target, as OSR enters a loop header (natively through
``backends.native.resume``'s generated step, the short way). ``throw`` and
``close`` resume in tier 1, where ``_RESUME_VALUE`` raises what they threw in.
Dropping a function's code (``invalidate``, a global write) drops its steps.

Why a table the driver reads rather than one hook: a generator pipeline nests a step of
each stage inside the step of the next, so every Python frame per step is paid per stage
per value (and CPython 3.11 maps and unmaps a 16 KiB chunk of its frame stack each time
a deep chain crosses a chunk boundary).
"""

from __future__ import annotations

from backends.copy_and_patch.uop_stencils import STK_DEPTH
from backends.interp.generators import Delegation, Suspension
from backends.interp.interpreter import CompiledFunction
from backends.native.runner import Refused
from ir.scope_semantics import SENT, Thrown

HOT_RESUME = 50     # arrivals at a resume point before its function is optimized


class GeneratorSteps:
    """``Runtime``'s generator steps (see the module doc)."""

    def on_resume(self, cf: CompiledFunction, label: str, frame: list) -> object:
        """A step of ``cf``'s frame from ``label`` while its function has no steps."""
        name = cf.fn.name
        key = (name, label)
        self.arrivals[key] += 1
        if self.arrivals[key] < HOT_RESUME:
            return self.interp.execute(cf, frame, label)
        t2 = self.get_tier2(name)   # (what it made before, if anything: None stays None)
        if t2 is None or not t2.resume_index:
            return self.interp.execute(cf, frame, label)
        steps = {point: self.step_function(cf, t2, point, entry)
                 for point, entry in t2.resume_index.items()}
        self.interp.resume_steps[name] = steps
        step = steps.get(label)
        return self.interp.execute(cf, frame, label) if step is None else step(frame)

    def step_function(self, cf: CompiledFunction, t2, label: str, entry: int):
        """``step(frame)``: a step from resume point ``label`` in ``t2``'s code."""
        name, interp, info = cf.fn.name, self.interp, t2.info
        execute = interp.execute
        slot = cf.local_index.get(SENT)
        resume = t2.resume
        if resume is None:   # the tier-2 interpreter, or Unicorn: the general path
            def step(frame):
                if slot is not None and type(frame[slot]) is Thrown:
                    return execute(cf, frame, label)
                return self.run_tier2(name, t2, frame, entry)
            return step
        header = self.direct.header if self.direct is not None else [0] * (STK_DEPTH + 1)

        def step(frame):
            if slot is not None and type(frame[slot]) is Thrown:
                return execute(cf, frame, label)   # throw / close: raised in tier 1
            header[STK_DEPTH] = interp.depth
            try:
                r = resume(frame, entry)
            except Refused as e:
                info.refused += 1
                info.refusal = str(e)
                r = None
            if r is None:   # outside the except clause: the program's code runs
                return self.run_tier2_interp(name, t2, frame, entry)
            info.runs += 1
            kind = r[0]
            if kind == "yield":
                info.yields += 1
                return Suspension(r[1], r[2])
            if kind == "delegate":
                info.yields += 1
                return Delegation(r[1], r[2])
            if kind == "return":
                info.returns += 1
                return r[1]
            return self.resume_from_jit(name, t2, r, frame)
        return step

    def suspended(self, name: str, t2, result: tuple, frame: list) -> Suspension:
        """Machine code left through a ``_YIELD_EXIT`` (the general path): the frame
        saved (its locals back in ``frame``), the yielded value and the resume label."""
        _, index, values, locals_ = result
        ex = t2.jit.blob.exits[index]
        t2.info.yields += 1
        local_index = self.interp.compile(name).local_index
        for local, v in locals_.items():
            frame[local_index[local]] = v
        make = Delegation if id(ex) in t2.delegates else Suspension
        return make(values[ex.values[0][0]], ex.block)
