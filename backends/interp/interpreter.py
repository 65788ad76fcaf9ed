"""The reference interpreter: executes uop IR on real Python objects.

Tier 1 runs the generic IR and records a type profile; the same executor runs
optimized IR (tier 2 in CPython's terms), where a failing guard raises
``SideExit`` carrying the values its exit names, for the runtime to resume tier 1.

Each uop is compiled once into a closure over value indices (``vals`` is a list
indexed by value number, ``frame`` a list of locals), so a block runs as one call
per uop; a block entered ``HOT_BLOCK`` times becomes one generated Python function
(``blockcode``), straight-line statements with the block's own temporaries in
Python locals.  Code that runs a few times pays no compilation; hot code no
per-uop dispatch.
"""

from __future__ import annotations

import builtins
import sys
import types
from dataclasses import dataclass, field
from typing import Callable

from ir.cfg import natural_loops
from ir.core import MODULE_FUNCTION, SUSPENDING_KINDS, Exit, Function, Module, Uop
from ir.uops import DEOPT, Effect, Flag, U, missing_arguments

from .attr_profile import attr_step, is_attr_site
from .blockcode import HOT_BLOCK, build as build_block, index_at
from .function_objects import FunctionObjects
from .generators import Delegation, Suspension, make_generator
from .profile import INT64_MAX, INT64_MIN, BigInt, Profile, profile_type


UNBOUND = object()

# The terminators' effects as module constants: reading an Enum member through its class
# costs about ten times a global's load in 3.11, and the loop does it per block.
_BRANCH, _JUMP, _ENTRY, _RETURN = Effect.BRANCH, Effect.JUMP, Effect.ENTRY, Effect.RETURN

RECURSION_LIMIT = 1000


class Abort(BaseException):
    """The workbench's own way out of a running program (a spent warm-up budget): no
    handler of the program catches it."""


class SideExit(Exception):
    """Optimized code left through ``exit``; ``values`` holds what the exit names."""

    def __init__(self, exit: Exit, vals: list, frame: list):
        self.exit, self.vals, self.frame = exit, vals, frame


@dataclass
class CompiledBlock:
    label: str
    steps: list[Callable]
    uops: list[Uop]
    term: tuple
    params: list[int]
    count: int = 0          # times entered (for stats: uops = count * len)
    is_header: bool = False
    moves: dict = field(default_factory=dict)  # id(Target) -> parallel copy into params
    sites: list = field(default_factory=list)  # per step: its profile set, or None
    closures: set = field(default_factory=set)  # steps the block's code runs as closures
    run: Callable | None = None   # the generated function of the whole block (blockcode)
    line_index: dict = field(default_factory=dict)  # its source line -> uop index
    handler: str | None = None   # where an exception raised in this block goes


@dataclass
class CompiledFunction:
    fn: Function
    local_index: dict[str, int]
    blocks: dict[str, CompiledBlock]
    nvals: int
    entry: str
    headers: set[str] = field(default_factory=set)
    local_values: dict | None = None   # blockcode.local_values, computed on first build


class Interpreter:
    """Runs a module.  ``call_hook``/``loop_hook`` let a tiered runtime take over."""

    def __init__(self, module: Module, profile: Profile | None = None):
        self.module = module
        self.functions = module.function_map()
        self.profile = profile
        # The script's globals are the dict of a real module, ``sys.modules["__main__"]``
        # while the script runs, as under CPython (pickle, dataclasses, inspect find it).
        self.main_module = types.ModuleType("__main__")
        self.globals: dict[str, object] = self.main_module.__dict__
        self.globals["__builtins__"] = builtins
        if module.name.endswith(".py"):
            self.globals["__file__"] = module.name
        # A tiered runtime watches global writes (``_STORE_GLOBAL``): optimized code may
        # have folded the old value.
        self.on_global_write: Callable | None = None
        self.compiled: dict[str, CompiledFunction] = {}
        self.depth = 0
        # A tiered runtime replaces these to count calls and back edges.
        self.call_hook: Callable | None = None
        self.loop_hook: Callable | None = None
        # (cf, label, frame) -> what ``execute`` would return: runs each step of a
        # generator's frame (backends/interp/generators)
        self.resume_hook: Callable | None = None
        # name -> {resume label -> step(frame)}: the runtime's steps of optimized code
        self.resume_steps: dict[str, dict[str, Callable]] = {}
        # name -> call(*args) taking over the whole call (after the checks below): the
        # runtime's direct way into a hot function's machine code.
        self.fast_calls: dict[str, Callable] = {}
        # The native runtime's direct calls (backends.native.direct.DirectCalls) or None.
        self.direct = None
        self.function_objects = FunctionObjects(
            self.functions, self.enter, lambda: self.globals.get("__name__"),
            self.fast_calls)

    # -- entry points ---------------------------------------------------------

    def run_main(self) -> None:
        saved = sys.modules.get("__main__")
        sys.modules["__main__"] = self.main_module
        try:
            self.call(MODULE_FUNCTION, [])
        finally:
            if saved is not None:
                sys.modules["__main__"] = saved

    def call(self, name: str, args: list) -> object:
        fn = self.functions[name]
        if len(args) < len(fn.params):
            raise TypeError(missing_arguments(name, fn.params[len(args):]))
        if len(args) != len(fn.params):
            n = len(fn.params)
            raise TypeError(f"{name}() takes {n} positional argument{'s' * (n != 1)} "
                            f"but {len(args)} {'was' if len(args) == 1 else 'were'} given")
        return self.enter(name, args)

    def enter(self, name: str, args: list) -> object:
        """Run ``name`` on arguments already bound to its params (by ``call``'s checks,
        or by CPython through the function object ``make_function`` made)."""
        sig = self.functions[name].signature
        if sig is not None and sig.kind in SUSPENDING_KINDS:
            return make_generator(self, name, args, UNBOUND)
        if self.depth >= RECURSION_LIMIT:
            raise RecursionError("maximum recursion depth exceeded")
        fast = self.fast_calls.get(name)
        if fast is not None:
            return fast(*args)
        if self.call_hook is not None:
            return self.call_hook(name, args)
        return self.call_tier1(name, args)

    def make_function(self, name: str, inputs: tuple):
        """``_MAKE_FUNCTION``'s object (backends/interp/function_objects.py)."""
        return self.function_objects.make(name, inputs)

    def call_tier1(self, name: str, args: list) -> object:
        cf = self.compile(name)
        frame = list(args) + [UNBOUND] * (len(cf.fn.locals) - len(args))
        self.depth += 1
        try:
            return self.execute(cf, frame, cf.entry)
        finally:
            self.depth -= 1

    def compile(self, name: str) -> CompiledFunction:
        cf = self.compiled.get(name)
        if cf is None:
            cf = self.compiled[name] = compile_function(self, self.functions[name], tier1=True)
        return cf

    # -- the loop -------------------------------------------------------------

    def execute(self, cf: CompiledFunction, frame: list, label: str, index: int = 0,
                vals: list | None = None, entry: int = 0) -> object:
        """Run ``cf`` from ``label`` (uop ``index``) until it returns.

        ``entry`` picks the target of an ``_ENTRY`` dispatcher (optimized code).
        """
        if vals is None:
            vals = [None] * cf.nvals
        blocks = cf.blocks
        blk = blocks[label]
        loop_hook = self.loop_hook
        i = index
        while True:
            try:
                while True:
                    blk.count += 1
                    run = blk.run
                    if run is None and blk.count >= HOT_BLOCK:
                        run = self.build_block(cf, blk)
                    if run is not None and not i:
                        i = -1    # the generated code's traceback tells which uop raised
                        run(vals, frame)
                        i = len(blk.steps)
                    else:
                        steps = blk.steps
                        if i:
                            steps = steps[i:]
                        for step in steps:
                            step(vals, frame)
                            i += 1
                    term = blk.term
                    kind = term[0]
                    if kind is _BRANCH:
                        t = term[2] if vals[term[1]] else term[3]
                    elif kind is _JUMP:
                        t = term[1]
                    elif kind is _ENTRY:
                        t = term[1][entry]
                    elif kind is _RETURN:
                        return vals[term[1]]
                    elif kind is Effect.YIELD:  # a generator's frame suspends (generators.py)
                        return Suspension(vals[term[1]], term[2].block)
                    elif kind is Effect.DELEGATE:   # ... delegating to an iterator
                        return Delegation(vals[term[1]], term[2].block)
                    else:  # SUSPEND: optimized code's yield saves the frame through its exit
                        for slot, v in term[3]:
                            frame[slot] = vals[v]
                        return term[4](vals[term[1]], term[2])
                    blk = blocks[t.block]
                    if t.args:
                        blk.moves[id(t)](vals)
                    i = 0
                    if blk.is_header and loop_hook is not None:
                        done, result = loop_hook(cf, blk.label, frame)
                        if done:
                            return result
            except SideExit as se:
                if i < 0:
                    i = self.raised_at(blk, se)
                se.block, se.index = blk.label, i
                raise
            except Abort:
                raise
            except BaseException as e:
                if i < 0:
                    i = self.raised_at(blk, e)
                # The traceback's frame of this call: once, where the exception first
                # passed (a handler that re-raises it keeps that line, as CPython's).
                if isinstance(e, Exception) and e.__dict__.get("_wb_at") != id(vals):
                    uop = blk.uops[min(i, len(blk.uops) - 1)]
                    e.__dict__.setdefault("_wb_frames", []).append((cf.fn.name, uop.line))
                    e._wb_at = id(vals)
                if blk.handler is None:
                    raise
                # the block's handler takes over, with the exception as its parameter
                blk = blocks[blk.handler]
                vals[blk.params[0]] = e
                i = 0

    def build_block(self, cf: CompiledFunction, blk: CompiledBlock) -> Callable:
        sites = blk.sites
        blk.run, blk.line_index = build_block(self, cf, blk, lambda k: sites[k], UNBOUND,
                                              SideExit)
        return blk.run

    @staticmethod
    def raised_at(blk: CompiledBlock, e: BaseException) -> int:
        """The index of the uop of ``blk``'s generated code that raised ``e``."""
        k = index_at(e.__traceback__, blk.run.__code__, blk.line_index)
        return 0 if k is None else k


def compile_function(interp: Interpreter, fn: Function, tier1: bool) -> CompiledFunction:
    """Turn each uop into a closure ``step(vals, frame)``."""

    local_index = {name: i for i, name in enumerate(fn.locals)}
    scratch = fn.max_value() + 1  # where effect-only uops drop their ignored result
    nvals = scratch + 1
    blocks: dict[str, CompiledBlock] = {}
    prof = interp.profile if tier1 else None
    for b in fn.blocks:
        steps, sites, closures = [], [], set()
        for idx, u in enumerate(b.uops[:-1]):
            site = (fn.name, b.label, idx)
            seen = prof.site(site) if prof is not None and u.defn.has(Flag.PROFILE) else None
            sites.append(seen)
            step = _compile_uop(interp, u, local_index, scratch, seen)
            if prof is not None and is_attr_site(u.name):
                # the attribute profile is the closure's: the block's code calls it
                step = attr_step(step, u, prof.attrs.setdefault(site, {}),
                                 interp.function_objects)
                closures.add(idx)
            steps.append(step)
        t = b.uops[-1]
        d = t.defn
        if d.effect is Effect.BRANCH:
            term = (Effect.BRANCH, t.inputs[0], t.targets[0], t.targets[1])
        elif d.effect is Effect.JUMP:
            term = (Effect.JUMP, t.targets[0])
        elif d.effect is Effect.RETURN:
            term = (Effect.RETURN, t.inputs[0])
        elif d.effect is Effect.YIELD:
            term = (Effect.YIELD, t.inputs[0], t.targets[0])
        elif d.effect is Effect.ENTRY:
            term = (Effect.ENTRY, list(t.targets))
        elif d.effect is Effect.DELEGATE:
            term = (Effect.DELEGATE, t.inputs[0], t.targets[0])
        elif d.effect is Effect.SUSPEND:
            term = (Effect.SUSPEND, t.inputs[0], t.exit.block,
                    [(local_index[name], v) for name, v in t.exit.locals],
                    Delegation if t.name == U._YIELD_FROM_EXIT else Suspension)
        else:
            raise AssertionError(f"unknown terminator {t.name}")
        blocks[b.label] = CompiledBlock(b.label, steps, b.uops, term, b.params, sites=sites,
                                        closures=closures, handler=b.handler)
    for b in fn.blocks:
        for t in b.uops[-1].targets:
            if t.args:
                blocks[t.block].moves[id(t)] = _parallel_copy(blocks[t.block].params, t.args)
    # Only tier-1 code reports loop-header arrivals (OSR triggers); tier 2 is already there.
    headers = {loop.header for loop in natural_loops(fn)} if tier1 else set()
    for h in headers:
        blocks[h].is_header = True
    return CompiledFunction(fn, local_index, blocks, nvals, fn.entry.label, headers)


def _compile_uop(interp: Interpreter, u: Uop, local_index: dict[str, int], scratch: int,
                 seen: set | None) -> Callable:
    d = u.defn
    e = d.effect
    o = scratch if u.output is None else u.output
    ins = u.inputs
    if e is Effect.LOAD_CONST:
        c = u.imms[0]

        def step(vals, frame):
            vals[o] = c
        return step
    if e is Effect.LOAD_FAST:
        s = local_index[u.imms[0]]

        def step(vals, frame):
            vals[o] = frame[s]
        return step
    if e is Effect.LOAD_FAST_CHECK:
        s = local_index[u.imms[0]]
        check = d.runtime(interp, UNBOUND, *u.imms)   # raises UnboundLocalError

        def step(vals, frame):
            v = frame[s]
            vals[o] = check(v) if v is UNBOUND else v
        return step
    if e is Effect.DELETE_FAST:
        s = local_index[u.imms[0]]
        name = u.imms[0]

        def step(vals, frame):
            if frame[s] is UNBOUND:
                raise UnboundLocalError(f"cannot access local variable '{name}' where it "
                                        f"is not associated with a value")
            frame[s] = UNBOUND
        return step
    if e is Effect.STORE_FAST:
        s = local_index[u.imms[0]]
        a = ins[0]

        def step(vals, frame):
            frame[s] = vals[a]
        return step
    # Frame and call semantics shared with the runtime helpers of compiled code
    # (UopDef.runtime, ir/uops.py).
    if e is Effect.LOAD_GLOBAL:
        f = d.runtime(interp, UNBOUND, *u.imms)

        def step(vals, frame):
            vals[o] = f()
        return step
    if e is Effect.STORE_GLOBAL:
        f = d.runtime(interp, UNBOUND, *u.imms)
        a = ins[0]

        def step(vals, frame):
            f(vals[a])
        return step
    if e is Effect.CALL_FUNCTION:   # UopDef.runtime's call_function, without its env check
        callee = u.imms[0]
        call = interp.call

        def step(vals, frame):
            vals[o] = call(callee, [vals[a] for a in ins])
        return step
    if e is Effect.CALL_BUILTIN:
        return _value_step(d.runtime(interp, UNBOUND, *u.imms), ins, o, seen)
    if e is Effect.RUNTIME:
        return _value_step(d.runtime(interp, UNBOUND, *u.imms), ins, o, None)
    if e is Effect.CALL_METHOD:
        f = d.runtime(interp, UNBOUND, *u.imms)

        def step(vals, frame):
            args = [vals[a] for a in ins]
            if seen is not None:
                seen.add((profile_type(args[0]),))
            vals[o] = f(*args)
        return step
    if e is Effect.VALUE:
        return _value_step(d.implementation(u.imms), ins, o, seen)
    if e is Effect.RUNTIME:
        return _value_step(d.runtime(interp, UNBOUND, *u.imms), ins, o, seen)
    if e is Effect.CHECKED:
        f = d.implementation(u.imms)
        ex = u.exit
        if len(ins) == 2 and u.output is not None:
            a, b = ins

            def step(vals, frame):
                r = f(vals[a], vals[b])
                if r is DEOPT:
                    raise SideExit(ex, vals, frame)
                vals[o] = r
            return step

        def step(vals, frame):
            r = f(*[vals[a] for a in ins])
            if r is DEOPT:
                raise SideExit(ex, vals, frame)
            vals[o] = r
        return step
    if e is Effect.GUARD:
        f = d.implementation(u.imms)
        ex = u.exit
        if len(ins) == 1:
            a = ins[0]

            def step(vals, frame):
                if not f(vals[a]):
                    raise SideExit(ex, vals, frame)
            return step

        def step(vals, frame):
            if not f(*[vals[a] for a in ins]):
                raise SideExit(ex, vals, frame)
        return step
    if e is Effect.COPY:
        a = ins[0]

        def step(vals, frame):
            vals[o] = vals[a]
        return step
    if e is Effect.NOP:
        def step(vals, frame):
            pass
        return step
    raise AssertionError(f"cannot interpret {u.name}")


def _parallel_copy(params: list[int], args: list[int]) -> Callable:
    """``vals[p...] = vals[a...]`` all at once: a block's parameters on one edge."""
    lhs = ", ".join(f"vals[{p}]" for p in params)
    rhs = ", ".join(f"vals[{a}]" for a in args)
    namespace: dict = {}
    exec(f"def move(vals):\n    {lhs}, = {rhs},\n", namespace)
    return namespace["move"]


def _value_step(f: Callable, ins: list[int], o: int, seen: set | None) -> Callable:
    """``vals[o] = f(*inputs)``, specialised by arity for speed."""
    n = len(ins)
    if seen is not None:
        if n == 1:
            a = ins[0]

            def step(vals, frame):
                x = vals[a]
                tx = type(x)
                if tx is int and not INT64_MIN <= x <= INT64_MAX:
                    tx = BigInt
                seen.add((tx,))
                vals[o] = f(x)
            return step
        if n == 2:
            a, b = ins

            def step(vals, frame):
                x, y = vals[a], vals[b]
                tx, ty = type(x), type(y)
                if tx is int and not INT64_MIN <= x <= INT64_MAX:
                    tx = BigInt
                if ty is int and not INT64_MIN <= y <= INT64_MAX:
                    ty = BigInt
                seen.add((tx, ty))
                vals[o] = f(x, y)
            return step

        def step(vals, frame):
            args = [vals[a] for a in ins]
            seen.add(tuple(profile_type(x) for x in args))
            vals[o] = f(*args)
        return step
    if n == 1:
        a = ins[0]

        def step(vals, frame):
            vals[o] = f(vals[a])
        return step
    if n == 2:
        a, b = ins

        def step(vals, frame):
            vals[o] = f(vals[a], vals[b])
        return step

    def step(vals, frame):
        vals[o] = f(*[vals[a] for a in ins])
    return step
