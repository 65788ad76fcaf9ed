"""Constant folding: evaluate uops whose inputs are all constants, at compile time.

Why: specialization and constant globals (``MOD``) turn operations on literals into
plain arithmetic whose result is known; a folded uop is a ``_LOAD_CONST`` (which
the backend patches in as an immediate), and a ``_BRANCH`` on a known bool is a
``_JUMP`` that makes the other arm dead.

What is folded, with the uop table's own reference semantics
(``UopDef.implementation``), so the folded value is exactly what the uop would
have computed:

- a ``Flag.PURE`` uop whose inputs are ``_LOAD_CONST`` results (also through
  ``_COPY``) and match the types the uop ``requires``; a CHECKED uop whose
  implementation answers ``DEOPT`` is left alone (it keeps its side exit);
- the generic ``_BINARY_OP`` / ``_UNARY_OP`` / ``_COMPARE_OP`` / ``_TO_BOOL`` only on
  int/float/bool constants where the operation cannot raise or blow up (``2 * 3``
  yes; ``1 // 0`` and ``2 ** 10000`` no), since they may run arbitrary code;
- ``_LOAD_GLOBAL`` of a global the runtime declared constant
  (``ctx.constant_globals``, e.g. ``MOD``), outside ``<module>``;
- ``_BRANCH`` on a constant bool becomes ``_JUMP``; blocks that become unreachable
  are removed (targets of ``_ENTRY`` are always kept).

A result is only folded if it is an immutable scalar (int, float, bool, None, str)
of bounded size (``|int| <= 2**64``, ``len(str) <= 4096``): never a list, never a
huge number a ``_LOAD_CONST`` would have to carry.
"""

from __future__ import annotations

import math

from ir.core import MODULE_FUNCTION, Function, Target, Uop
from ir.uops import base_binop, BINOPS, CMPOPS, DEOPT, Flag, INT64_MAX, INT64_MIN, U, UNOPS

from .base import Option, Pass, PassContext
from .dce import remove_unreachable

MAX_INT = 1 << 64
MAX_STR = 4096

_SCALARS = (int, float, bool, type(None), str)
_NUMBERS = (int, float, bool)

# Generic (escaping) uops folded when every operand is an int/float/bool constant.
_GENERIC_FOLDABLE = {U._BINARY_OP, U._UNARY_OP, U._COMPARE_OP, U._TO_BOOL}
# Identity comparisons of constants are implementation-defined; containment needs
# a container.  Neither is folded.
_SAFE_CMPOPS = {"<", "<=", ">", ">=", "==", "!="}


def type_fact(x) -> str | None:
    """The IR's type fact for a Python constant (``int`` means int64-fitting)."""
    t = type(x)
    if t is bool:
        return "bool"
    if t is int:
        return "int" if INT64_MIN <= x <= INT64_MAX else None
    if t is float:
        return "float"
    if t is str:
        return "str"
    if x is None:
        return "none"
    return None


def _matches(req: str | None, x) -> bool:
    if req is None:
        return True
    if req == "int":
        return type(x) is int and INT64_MIN <= x <= INT64_MAX
    if req == "float":
        return type(x) is float
    if req == "bool":
        return type(x) is bool
    return False  # list, tuple, ...: never a constant here


def foldable_result(r) -> bool:
    if type(r) not in _SCALARS:
        return False
    if type(r) is int and abs(r) > MAX_INT:
        return False
    if type(r) is str and len(r) > MAX_STR:
        return False
    return True


def _int_like(x) -> bool:
    return type(x) in (int, bool)


def _too_big(op: str, a, b) -> bool:
    """Would ``a op b`` on numbers take long or build a huge int?  Checked before
    evaluating, since Python would happily compute ``2 ** 10**9``."""
    op = base_binop(op)
    if not (_int_like(a) and _int_like(b)):
        return False  # floats: overflow raises (caught) or gives inf, never huge
    a, b = int(a), int(b)
    if op == "**":
        if b < 0 or abs(a) <= 1:
            return False  # a float (or ZeroDivisionError, caught), or +-1 / 0
        return (abs(a).bit_length() - 1) * b > 64
    if op == "<<":
        return b > 66 or a.bit_length() + max(b, 0) > 66
    if op == "*":
        return a.bit_length() + b.bit_length() > 130
    return False


def evaluate_generic(u: Uop, args: list):
    """The value of a generic arithmetic uop on number constants, or ``DEOPT`` when
    it must not be folded (it would raise, or the operands are not plain numbers)."""
    if not all(type(a) in _NUMBERS for a in args):
        if u.name == U._TO_BOOL and len(args) == 1 and type(args[0]) in _SCALARS:
            return bool(args[0])
        return DEOPT
    try:
        if u.name == U._BINARY_OP:
            op = u.imms[0]
            if _too_big(op, *args):
                return DEOPT
            return BINOPS[op](*args)
        if u.name == U._UNARY_OP:
            return UNOPS[u.imms[0]](*args)
        if u.name == U._COMPARE_OP:
            if u.imms[0] not in _SAFE_CMPOPS:
                return DEOPT
            return CMPOPS[u.imms[0]](*args)
        if u.name == U._TO_BOOL:
            return bool(args[0])
    except (ArithmeticError, ValueError, TypeError):
        return DEOPT
    return DEOPT


def evaluate(u: Uop, args: list):
    """The folded value of ``u`` on constant ``args``, or ``DEOPT`` if not foldable."""
    d = u.defn
    if u.name in _GENERIC_FOLDABLE:
        r = evaluate_generic(u, args)
    elif d.has(Flag.PURE) and not d.has(Flag.GUARD) and d.output and not d.is_terminator:
        impl = d.implementation(u.imms)
        if impl is None:
            return DEOPT
        reqs = d.requires or (None,) * len(args)
        if len(reqs) < len(args) or not all(_matches(r, a) for r, a in zip(reqs, args)):
            return DEOPT
        try:
            r = impl(*args)
        except Exception:
            return DEOPT  # the uop would raise (or exit): leave it to run
    else:
        return DEOPT
    if r is DEOPT or not foldable_result(r):
        return DEOPT
    if type(r) is float and math.isnan(r):
        return DEOPT  # nan != nan: parse(print(f)) == f would no longer hold
    return r


class ConstFold(Pass):
    name = "constfold"
    description = "evaluate uops on constant inputs; turn branches on constants into jumps"
    options = {
        "branches": Option(bool, True, "fold _BRANCH on a constant bool into _JUMP"),
    }
    preserves = ()

    def run(self, fn: Function, ctx: PassContext) -> bool:
        changed = False
        while True:
            step = self._fold_values(fn, ctx)
            if self.opts["branches"]:
                step |= self._fold_branches(fn, ctx)
            changed |= step
            if not step:
                return changed

    @staticmethod
    def _constants(fn: Function) -> dict[int, object]:
        consts: dict[int, object] = {}
        for b in fn.blocks:
            for u in b.uops:
                if u.name == U._LOAD_CONST:
                    consts[u.output] = u.imms[0]
        # Copies of constants, to a fixed point (a copy may precede its source in layout).
        grew = True
        while grew:
            grew = False
            for b in fn.blocks:
                for u in b.uops:
                    if (u.name == U._COPY and u.output not in consts
                            and u.inputs[0] in consts):
                        consts[u.output] = consts[u.inputs[0]]
                        grew = True
        return consts

    def _fold_values(self, fn: Function, ctx: PassContext) -> bool:
        consts = self._constants(fn)
        changed = False
        order = ctx.get("cfg", fn).rpo
        blocks = fn.block_map()
        for label in order:
            b = blocks[label]
            for i, u in enumerate(b.uops):
                if u.name == U._LOAD_GLOBAL:
                    r = self._constant_global(fn, ctx, u.imms[0])
                    if r is DEOPT:
                        continue
                    what = f"_LOAD_GLOBAL {u.imms[0]} -> {r!r}"
                else:
                    if (u.output is None or u.name in (U._LOAD_CONST, U._COPY)
                            or not u.inputs or not all(v in consts for v in u.inputs)):
                        continue
                    args = [consts[v] for v in u.inputs]
                    r = evaluate(u, args)
                    if r is DEOPT:
                        continue
                    what = f"{u.name} {', '.join(map(repr, args))} -> {r!r}"
                if not ctx.allow(f"fold {b.label}:{i} {what}"):
                    continue
                ctx.note(f"constfold: @{fn.name} {b.label}:{i}: {what}")
                b.uops[i] = Uop(U._LOAD_CONST, [], u.output, (r,), line=u.line)
                fact = type_fact(r)
                if fact is None:
                    fn.types.pop(u.output, None)
                else:
                    fn.types[u.output] = fact
                consts[u.output] = r
                changed = True
        return changed

    @staticmethod
    def _constant_global(fn: Function, ctx: PassContext, name: str):
        """A global the runtime declared constant (``ctx.constant_globals``), as a
        constant; not in ``<module>``, which is what assigns it."""
        if fn.name == MODULE_FUNCTION or name not in ctx.constant_globals:
            return DEOPT
        r = ctx.constant_globals[name]
        if not foldable_result(r) or (type(r) is float and math.isnan(r)):
            return DEOPT
        return r

    def _fold_branches(self, fn: Function, ctx: PassContext) -> bool:
        consts = self._constants(fn)
        changed = False
        for b in fn.blocks:
            t = b.uops[-1]
            if t.name != U._BRANCH:
                continue
            c = consts.get(t.inputs[0], DEOPT)
            if type(c) is not bool:
                continue
            taken = t.targets[0] if c else t.targets[1]
            if not ctx.allow(f"branch in {b.label} always goes to {taken.block}"):
                continue
            ctx.note(f"constfold: @{fn.name} {b.label}: _BRANCH on {c} is a jump to "
                     f"{taken.block}")
            b.uops[-1] = Uop(U._JUMP, [], None, (), [Target(taken.block, list(taken.args))],
                             line=t.line)
            changed = True
        if changed:
            ctx.invalidate(fn)          # jumps for branches: a new CFG
            remove_unreachable(fn, ctx, "constfold")
        return changed
