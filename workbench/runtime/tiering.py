"""From tier 1 to tier 2: warm-up profiling and optimizing one function's copy.

The optimized copy starts with an ``_ENTRY`` dispatcher whose targets are the
function entry and every loop header: a compiled unit is entered at a block
boundary with its state in the frame, so call entry and OSR are one mechanism.
"""

from __future__ import annotations

import contextlib
import copy
import io
from dataclasses import dataclass, field

from backends.interp.interpreter import Abort, Interpreter
from backends.interp.profile import Profile
from ir.cfg import natural_loops, reverse_postorder
from ir.core import MODULE_FUNCTION, Block, Exit, Function, Module, Target, Uop
from ir.uops import Effect, Flag, U
from passes.base import Pass, PassContext
from passes.manager import Instrumentation, PassManager
from passes.suspend import lower_yields, suspends

IMMUTABLE = (int, float, bool, str, type(None))


class _BudgetSpent(Abort):
    pass


def warm_up(module: Module, budget: int = 50_000) -> tuple[Profile, dict]:
    """Run the program in tier 1 with output discarded, until ``budget`` calls plus
    loop iterations, and return the type profile and the globals it left."""
    profile = Profile()
    interp = Interpreter(module, profile)
    spent = 0

    def count(*_):
        nonlocal spent
        spent += 1
        if spent > budget:
            raise _BudgetSpent
        return False, None

    def call(name, args):
        count()
        return interp.call_tier1(name, args)

    interp.loop_hook = count
    interp.call_hook = call
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            interp.run_main()
        except _BudgetSpent:
            pass
        except Exception:
            pass  # the program's own error: profile what ran
    return profile, interp.globals


def globals_written_by_functions(module: Module) -> set[str]:
    return {u.imms[0] for fn in module.functions if fn.name != MODULE_FUNCTION
            for _, _, u in fn.uops() if u.name == U._STORE_GLOBAL}


def constant_globals(module: Module, fn_name: str, values: dict) -> dict:
    """Globals the optimizer may treat as constants while the runtime watches them:
    immutable values that no function other than ``<module>`` ever writes."""
    if fn_name == MODULE_FUNCTION:
        return {}
    written = globals_written_by_functions(module)
    return {k: v for k, v in values.items()
            if type(v) in IMMUTABLE and k not in written and not k.startswith("__")}


def add_entry_dispatcher(fn: Function) -> list[str]:
    """Prepend ``_ENTRY ^entry, ^header...``, and for a generator or coroutine the block
    after each yield (``passes.suspend``: a yield becomes an exit, resuming is entering
    there); returns the tier-1 labels of the targets."""
    targets = [fn.entry.label] + [loop.header for loop in natural_loops(fn)]
    label = fn.new_label("entry")
    fn.blocks.insert(0, Block(label, [Uop(U._ENTRY, targets=[Target(t) for t in targets],
                                          line=fn.line)]))
    if suspends(fn):
        targets += lower_yields(fn)
    return targets


# Uops that never raise in compiled code: a failed check leaves through a side exit,
# where tier 1 runs the generic uop (and raises, into the handler, if it must).
_NEVER_RAISE = frozenset({Effect.GUARD, Effect.CHECKED, Effect.LOAD_CONST, Effect.LOAD_FAST,
                          Effect.STORE_FAST, Effect.COPY, Effect.NOP, Effect.JUMP,
                          Effect.BRANCH, Effect.ENTRY, Effect.RETURN})


def may_raise(u: Uop) -> bool:
    d = u.defn
    return not (d.effect in _NEVER_RAISE or d.has(Flag.PURE))


def exit_protected_blocks(fn: Function, entries: list[str]) -> bool:
    """Exception handlers run in tier 1. A block with a handler in which some uop may
    still raise (after specialization) becomes ``_EXIT_TRY``: tier 1 runs it, so an
    exception finds its handler with the frame's exact objects (the exit hands them
    over), and the code re-enters compiled code at the next loop header (OSR). A block
    in which nothing raises any more keeps its compiled code and drops the edge: what
    fails there is a side exit, and tier 1 raises into the handler. Handlers are then
    reachable from nothing compiled; they go, and so do entries into replaced blocks
    (the function's own entry stays). The generic IR keeps no value across blocks, so
    the exit names none."""
    changed = False
    replaced = set()
    for b in fn.blocks:
        if b.handler is None:
            continue
        b.handler = None
        changed = True
        if not any(may_raise(u) for u in b.uops):
            continue
        line = b.uops[0].line
        none = fn.new_value()
        b.uops = [Uop(U._EXIT_TRY, exit=Exit(b.label, 0), line=line),
                  Uop(U._LOAD_CONST, output=none, imms=(None,), line=line),
                  Uop(U._RETURN, [none], line=line)]
        replaced.add(b.label)
    if not changed:
        return False
    disp = fn.entry.uops[-1]
    if disp.name == U._ENTRY:
        keep = [k for k, t in enumerate(disp.targets) if k == 0 or t.block not in replaced]
        disp.targets = [disp.targets[k] for k in keep]
        entries[:] = [entries[k] for k in keep]
    live = set(reverse_postorder(fn))
    fn.blocks = [b for b in fn.blocks if b.label in live]
    return True


@dataclass
class Optimized:
    fn: Function
    entries: list[str]          # tier-1 label of each _ENTRY target, in order
    assumed_globals: dict = field(default_factory=dict)  # globals it may have folded


def optimize(module: Module, fn: Function, passes: list[Pass], profile: Profile | None,
             globals_: dict | None, verify: bool = False, bisect_limit: int | None = None,
             bisect_log: list | None = None, debug: bool = False) -> Optimized:
    """The tier-2 copy of ``fn``: dispatcher added, pipeline run.

    ``bisect_limit`` allows at most that many transformations (``PassContext.allow``).
    The count is shared by every call given the same ``bisect_log`` list (the runtime
    passes one list for the whole run: one counter across all the functions it
    optimizes, in the order it optimizes them); the allowed transformations are
    appended to it as ``(n, pass, what)``.  Without a list the count is per call.
    ``debug``: a pass that raises shows its own exception, not a one-line PassError.
    """
    opt = copy.deepcopy(fn)   # Function.__deepcopy__: every mutable part new
    entries = add_entry_dispatcher(opt)
    ctx = PassContext(module=module, profile=profile,
                      constant_globals=constant_globals(module, fn.name, globals_ or {}),
                      bisect_limit=bisect_limit)
    if bisect_log is not None:
        ctx.log = bisect_log
        ctx.transformations = len(bisect_log)
    # Blocks with exception handlers are settled once their uops are specialized.
    k = next((i + 1 for i, p in enumerate(passes) if p.name == "specialize"), 0)
    inst = Instrumentation(verify_each=verify, debug=debug)
    PassManager(passes[:k], inst).run_function(opt, ctx)
    if exit_protected_blocks(opt, entries):
        ctx.invalidate(opt)
    PassManager(passes[k:], inst).run_function(opt, ctx)
    loaded = {u.imms[0] for _, _, u in fn.uops() if u.name == U._LOAD_GLOBAL}
    assumed = {k: v for k, v in ctx.constant_globals.items() if k in loaded}
    return Optimized(opt, entries, assumed)
