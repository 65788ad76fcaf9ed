"""The textual form of the IR.

    func @sum_loop(n) locals(total, i) {
    bb0:
      .line 5
      %0 = _LOAD_CONST 0
      _STORE_FAST total %0
      ...
    }

A uop prints as ``[%out[:type][@loc] = ]NAME imm... %in, ..., ^succ(args), ...``
followed by ``exit(bbN:I, %a, %b=%c, local=%d)`` when it can leave compiled code.
``.line N`` marks the source line of the uops after it.  Nothing that depends on
addresses, ids or hash order is printed, so output is byte-for-byte stable.
"""

from __future__ import annotations

import math

from .core import Block, Exit, Function, Module, Target, Uop
from .uops import Imm


def format_const(c) -> str:
    if isinstance(c, float):
        if math.isnan(c):
            return "nan"
        if math.isinf(c):
            return "inf" if c > 0 else "-inf"
    if type(c) is int:
        try:
            return repr(c)
        except ValueError:  # too many digits for decimal (sys.set_int_max_str_digits)
            return hex(c)
    return repr(c)


def format_imm(kind: Imm, value) -> str:
    if kind is Imm.CONST:
        return format_const(value)
    if kind is Imm.FUNC:
        return f"@{value}"
    if kind is Imm.NAMES:
        return "names(" + ", ".join(value) + ")"
    return str(value)


class Printer:
    def __init__(self, fn: Function):
        self.fn = fn

    def value_def(self, v: int) -> str:
        s = f"%{v}"
        t = self.fn.types.get(v)
        if t is not None:
            s += f":{t}"
        loc = self.fn.locs.get(v)
        if loc is not None:
            s += f"@{loc}"
        return s

    def target(self, t: Target) -> str:
        if not t.args:
            return f"^{t.block}"
        return f"^{t.block}(" + ", ".join(f"%{a}" for a in t.args) + ")"

    def exit(self, e: Exit) -> str:
        parts = [f"{e.block}:{e.index}"]
        for k, v in e.values:
            parts.append(f"%{k}" if k == v else f"%{k}=%{v}")
        for name, v in e.locals:
            parts.append(f"{name}=%{v}")
        return "exit(" + ", ".join(parts) + ")"

    def uop(self, u: Uop) -> str:
        d = u.defn
        s = ""
        if u.output is not None:
            s = self.value_def(u.output) + " = "
        s += u.name
        for kind, value in zip(d.imms, u.imms):
            s += " " + format_imm(kind, value)
        operands = [f"%{v}" for v in u.inputs] + [self.target(t) for t in u.targets]
        if operands:
            s += " " + ", ".join(operands)
        if u.exit is not None:
            s += " " + self.exit(u.exit)
        return s

    def block(self, b: Block) -> list[str]:
        head = b.label
        if b.params:
            head += "(" + ", ".join(self.value_def(p) for p in b.params) + ")"
        if b.handler is not None:
            head += f" except ^{b.handler}"
        lines = [head + ":"]
        line = None
        for u in b.uops:
            if u.line != line:
                line = u.line
                lines.append(f"  .line {'none' if line is None else line}")
            lines.append("  " + self.uop(u))
        return lines

    def function(self) -> str:
        fn = self.fn
        head = f"func @{fn.name}(" + ", ".join(fn.params) + ")"
        if fn.signature is not None:
            head += " " + fn.signature.text()
        extra = [n for n in fn.locals if n not in fn.params]
        if extra:
            head += " locals(" + ", ".join(extra) + ")"
        if fn.line is not None:
            head += f" line {fn.line}"
        lines = [head + " {"]
        for b in fn.blocks:
            lines.extend(self.block(b))
        lines.append("}")
        return "\n".join(lines) + "\n"


def print_function(fn: Function) -> str:
    return Printer(fn).function()


def print_uop(fn: Function, u: Uop) -> str:
    return Printer(fn).uop(u)


def print_module(m: Module) -> str:
    parts = [f"module {m.name!r}\n"]
    for fn in m.functions:
        parts.append("\n" + print_function(fn))
    return "".join(parts)
