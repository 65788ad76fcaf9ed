"""A generator's yields as the passes see them: a frame saved, and an entry resumed.

Why: a suspended frame outlives the run of the code that suspended it, and whichever
tier resumes it reads nothing but the frame's locals (the generic IR keeps no value
across a block boundary, and ``_YIELD_VALUE`` ends its block). So in optimized code a
yield is an exit and its resume block is an entry, the mechanism OSR already has:

* ``_YIELD_VALUE %v, ^R`` becomes ``_YIELD_EXIT %v exit(R:0, %v)``: the code leaves
  through an exit to tier-1 position ``R:0`` whose one named value is the yielded one.
  Every pass already treats an exit as a point where the frame must be complete (dse
  keeps the stores tier 1 reads after it, promote writes promoted locals back through
  the exit's locals, ownership hands the named value over), so values live across the
  yield reach the frame, and the CFG has no edge over it.
* ``R`` becomes an ``_ENTRY`` target, like an OSR loop header: entered with the frame's
  locals, which the passes assume nothing about beyond what ``guardelim`` guards once
  there.
* ``_YIELD_FROM %it, ^R`` (``yield from`` / ``await``) becomes ``_YIELD_FROM_EXIT %it
  exit(R:0, %it)`` the same way: the driver delegates to the iterator, and the frame
  resumes at ``R`` with its result.
* ``_RESUME_VALUE`` stays (its block's tier-1 positions are what exits name): the
  runtime resumes a frame that ``throw``/``close`` raise into in tier 1, so whenever
  optimized code resumes, the value sent in is a plain value and the uop is a copy of
  it (the emitter compiles it so).
"""

from __future__ import annotations

from ir.core import Block, Exit, Function, SUSPENDING_KINDS, Target, Uop
from ir.uops import U


def suspends(fn: Function) -> bool:
    """Is ``fn`` a generator or coroutine body (its calls make a suspendable frame)?"""
    return fn.signature is not None and fn.signature.kind in SUSPENDING_KINDS


LOWERED = {U._YIELD_VALUE: U._YIELD_EXIT, U._YIELD_FROM: U._YIELD_FROM_EXIT}


def resume_points(fn: Function) -> list[str]:
    """The blocks where optimized code resumes ``fn`` (lowered already)."""
    out: list[str] = []
    for b in fn.blocks:
        u = b.uops[-1] if b.uops else None
        if u is not None and u.name in SUSPENDS and u.exit.block not in out:
            out.append(u.exit.block)
    return out


SUSPENDS = frozenset(LOWERED.values())


def lower_yields(fn: Function) -> list[str]:
    """Rewrite ``fn``'s yields in place (see the module doc); returns the resume labels
    added as ``_ENTRY`` targets (a dispatcher is added when ``fn`` has none)."""
    resumes: list[str] = []
    for b in fn.blocks:
        t = b.uops[-1] if b.uops else None
        if t is None or t.name not in LOWERED:
            continue
        resume = t.targets[0].block
        v = t.inputs[0]
        b.uops[-1] = Uop(LOWERED[t.name], [v], None, (), [],
                         Exit(resume, 0, [(v, v)], []), t.line)
        if resume not in resumes:
            resumes.append(resume)
    if not resumes:
        return []
    head = fn.entry.uops[-1] if fn.entry.uops else None
    if head is not None and head.name == U._ENTRY:
        known = {t.block for t in head.targets}
        added = [r for r in resumes if r not in known]
        head.targets += [Target(r) for r in added]
        return added
    label = fn.new_label("entry")
    targets = [fn.entry.label] + resumes
    fn.blocks.insert(0, Block(label, [Uop(U._ENTRY, targets=[Target(t) for t in targets],
                                          line=fn.line)]))
    return resumes


