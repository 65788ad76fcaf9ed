"""Python code generated from a hot block: the interpreter's fast path.

The per-uop closures (``interpreter._compile_uop``) cost a call per uop and a list
store per value.  Once a block has been entered ``HOT_BLOCK`` times, ``build`` turns
it into one Python function ``run(vals, frame)`` whose body is the block's uops as
straight-line statements: data moves, guards and checked uops written out, a uop's
semantics (the same ``UopDef.implementation`` / ``runtime`` callables the closures
call) called directly, the tier-1 profile recorded inline.  A value that only the
block's own inlined uops read is a Python local instead of a ``vals`` slot
(``local_values``); everything an exit, a successor, a terminator or another block
reads stays in ``vals``, so side exits and resumption see exactly what the closures
would have left.

The terminator stays with ``Interpreter.execute``, and so does entry in the middle of
a block (a side exit resuming tier 1 at a uop): that runs the closures.  On an
exception the index of the uop that raised is recovered from the traceback
(``index_at``: each generated line belongs to one uop), at no cost on the fast path.
"""

from __future__ import annotations

from ir.core import Block, Function, Uop
from ir.uops import DEOPT, Effect

from .profile import INT64_MAX, INT64_MIN, BigInt, profile_type

HOT_BLOCK = 8   # entries of a block before it runs as generated code

# Effects whose uops the generator writes out (any other runs its closure).
INLINED = frozenset({
    Effect.LOAD_CONST, Effect.LOAD_FAST, Effect.LOAD_FAST_CHECK, Effect.DELETE_FAST,
    Effect.STORE_FAST, Effect.LOAD_GLOBAL, Effect.STORE_GLOBAL, Effect.CALL_FUNCTION,
    Effect.CALL_BUILTIN, Effect.RUNTIME, Effect.CALL_METHOD, Effect.VALUE, Effect.CHECKED,
    Effect.GUARD, Effect.COPY, Effect.NOP,
})


def local_values(fn: Function, closures: dict[str, set[int]] | None = None) -> dict[int, str]:
    """value -> the label of the block in which it may be a Python local: defined by an
    inlined uop of that block and read only as an input of later inlined uops of the
    same block (never by a terminator, a successor's arguments, an exit, another
    block, or a uop that runs its closure: one of another effect, or at an index
    ``closures[label]`` names)."""
    closures = closures or {}
    home: dict[int, tuple[str, int]] = {}
    escaped: set[int] = set()
    for b in fn.blocks:
        forced = closures.get(b.label, ())
        for i, u in enumerate(b.uops[:-1]):
            if u.output is None:
                continue
            if u.output in home or u.defn.effect not in INLINED or i in forced:
                escaped.add(u.output)
            home[u.output] = (b.label, i)
    for b in fn.blocks:
        last = len(b.uops) - 1
        forced = closures.get(b.label, ())
        for i, u in enumerate(b.uops):
            reads_local = i < last and u.defn.effect in INLINED and i not in forced
            for v in u.inputs:
                h = home.get(v)
                if not reads_local or h is None or h[0] != b.label or h[1] >= i:
                    escaped.add(v)
            for t in u.targets:
                escaped.update(t.args)
            if u.exit is not None:
                escaped.update(v for _, v in u.exit.values)
                escaped.update(v for _, v in u.exit.locals)
        escaped.update(b.params)
    return {v: h[0] for v, h in home.items() if v not in escaped}


class _Writer:
    """The source of one block function and the namespace it runs in."""

    def __init__(self, block: Block, locals_: set[int]):
        self.lines: list[str] = []
        self.line_index: dict[int, int] = {}   # source line number -> uop index
        self.ns: dict = {"DEOPT": DEOPT, "BigInt": BigInt, "profile_type": profile_type,
                         "INT64_MIN": INT64_MIN, "INT64_MAX": INT64_MAX}
        self.locals = locals_
        self.block = block

    def r(self, v: int) -> str:
        return f"v{v}" if v in self.locals else f"vals[{v}]"

    def store(self, u: Uop, expr: str) -> str:
        """``<output> = expr``, or the bare expression when the uop has no output."""
        if u.output is None:
            return expr
        return f"{self.r(u.output)} = {expr}"

    def const(self, name: str, k: int, value) -> str:
        key = f"{name}_{k}"
        self.ns[key] = value
        return key

    def emit(self, k: int, lines: list[str]) -> None:
        for line in lines:
            self.lines.append("    " + line)
            self.line_index[len(self.lines) + 1] = k   # +1: the def line


def _profiled_call(w: _Writer, k: int, f: str, ins: list[int], seen: set, out: str) -> list[str]:
    """Read the inputs, record their types in ``seen``, then ``out(f(inputs))``."""
    s = w.const("seen", k, seen)
    xs = [f"_x{j}" for j in range(len(ins))]
    lines = [f"{x} = {w.r(a)}" for x, a in zip(xs, ins)]
    if len(ins) <= 2:
        for j, x in enumerate(xs):
            lines += [f"_t{j} = type({x})",
                      f"if _t{j} is int and not INT64_MIN <= {x} <= INT64_MAX: _t{j} = BigInt"]
        lines.append(f"{s}.add(({''.join(f'_t{j}, ' for j in range(len(xs)))}))")
    else:
        lines.append(f"{s}.add(({''.join(f'profile_type({x}), ' for x in xs)}))")
    lines.append(out(f"{f}({', '.join(xs)})"))
    return lines


def _uop_lines(w: _Writer, interp, k: int, u: Uop, local_index: dict[str, int],
               seen: set | None, unbound, side_exit) -> list[str] | None:
    """The statements of uop ``k``, or None when it must run its closure."""
    d = u.defn
    e = d.effect
    ins = u.inputs
    args = ", ".join(w.r(a) for a in ins)
    out = lambda expr: w.store(u, expr)   # noqa: E731
    if e is Effect.LOAD_CONST:
        return [] if u.output is None else [out(w.const("c", k, u.imms[0]))]
    if e is Effect.LOAD_FAST:
        return [] if u.output is None else [out(f"frame[{local_index[u.imms[0]]}]")]
    if e is Effect.LOAD_FAST_CHECK:
        check = w.const("check", k, d.runtime(interp, unbound, *u.imms))
        w.ns["UNBOUND"] = unbound
        return [f"_x0 = frame[{local_index[u.imms[0]]}]",
                f"if _x0 is UNBOUND: _x0 = {check}(_x0)", out("_x0")]
    if e is Effect.DELETE_FAST:
        s = local_index[u.imms[0]]
        w.ns["UNBOUND"] = unbound
        msg = w.const("msg", k, f"cannot access local variable '{u.imms[0]}' where it is "
                                f"not associated with a value")
        return [f"if frame[{s}] is UNBOUND: raise UnboundLocalError({msg})",
                f"frame[{s}] = UNBOUND"]
    if e is Effect.STORE_FAST:
        return [f"frame[{local_index[u.imms[0]]}] = {w.r(ins[0])}"]
    if e is Effect.LOAD_GLOBAL:
        return [out(f"{w.const('f', k, d.runtime(interp, unbound, *u.imms))}()")]
    if e is Effect.STORE_GLOBAL:
        return [f"{w.const('f', k, d.runtime(interp, unbound, *u.imms))}({args})"]
    if e is Effect.CALL_FUNCTION:   # as the closure: interp.call with the argument list
        call = w.const("call", k, interp.call)
        return [out(f"{call}({w.const('c', k, u.imms[0])}, [{args}])")]
    if e in (Effect.CALL_BUILTIN, Effect.RUNTIME, Effect.VALUE):
        impl = d.implementation(u.imms) if e is Effect.VALUE \
            else d.runtime(interp, unbound, *u.imms)
        f = w.const("f", k, impl)
        if seen is not None and e is not Effect.RUNTIME:
            return _profiled_call(w, k, f, ins, seen, out)
        return [out(f"{f}({args})")]
    if e is Effect.CALL_METHOD:
        f = w.const("f", k, d.runtime(interp, unbound, *u.imms))
        if seen is None:
            return [out(f"{f}({args})")]
        xs = [f"_x{j}" for j in range(len(ins))]
        return ([f"{x} = {w.r(a)}" for x, a in zip(xs, ins)]
                + [f"{w.const('seen', k, seen)}.add((profile_type(_x0),))",
                   out(f"{f}({', '.join(xs)})")])
    if e is Effect.CHECKED:
        f = w.const("f", k, d.implementation(u.imms))
        ex = w.const("ex", k, u.exit)
        w.ns["SideExit"] = side_exit
        return [f"_r = {f}({args})",
                f"if _r is DEOPT: raise SideExit({ex}, vals, frame)", out("_r")]
    if e is Effect.GUARD:
        f = w.const("f", k, d.implementation(u.imms))
        ex = w.const("ex", k, u.exit)
        w.ns["SideExit"] = side_exit
        return [f"if not {f}({args}): raise SideExit({ex}, vals, frame)"]
    if e is Effect.COPY:
        return [] if u.output is None else [out(w.r(ins[0]))]
    if e is Effect.NOP:
        return []
    return None


def build(interp, cf, blk, seen_of, unbound, side_exit):
    """``(run, line_index)`` for CompiledBlock ``blk`` of CompiledFunction ``cf``:
    ``run(vals, frame)`` executes every uop but the terminator. ``seen_of(k)`` is the
    profile set of uop ``k`` (None: not profiled)."""
    if cf.local_values is None:
        cf.local_values = local_values(cf.fn, {b.label: b.closures for b in cf.blocks.values()
                                               if b.closures})
    label = blk.label
    w = _Writer(blk, {v for v, h in cf.local_values.items() if h == label})
    for k, u in enumerate(blk.uops[:-1]):
        lines = None if k in blk.closures else \
            _uop_lines(w, interp, k, u, cf.local_index, seen_of(k), unbound, side_exit)
        if lines is None:
            lines = [f"{w.const('step', k, blk.steps[k])}(vals, frame)"]
        w.emit(k, lines)
    body = w.lines or ["    pass"]
    source = "def run(vals, frame):\n" + "\n".join(body) + "\n"
    code = compile(source, f"<block {cf.fn.name}:{label}>", "exec")
    exec(code, w.ns)
    return w.ns["run"], w.line_index


def index_at(tb, code, line_index: dict[int, int]) -> int | None:
    """The index of the uop whose generated line ``tb`` (a traceback through ``code``,
    a block function) was executing, or None when it does not pass through it."""
    while tb is not None:
        if tb.tb_frame.f_code is code:
            return line_index.get(tb.tb_lineno)
        tb = tb.tb_next
    return None
