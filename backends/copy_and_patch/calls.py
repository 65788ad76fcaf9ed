"""Uops run outside their own stencil: generic C-API paths, sequences, calls, helpers.

Split from the emitter (a mixin of `_Emitter`): each method places the stencils of one
such uop (`helper` is the fallback: the Python runtime helper, `HelperSite`).
"""

from __future__ import annotations

from ir.core import Uop
from ir.uops import U

from . import uop_stencils as S
from .blob import HelperSite, Site, Unsupported
from .plans import BOX, HELPER_EFFECTS, PLANS, plan
from .stencil import HoleValue as V


class CallCode:
    """`_Emitter`'s code for generic, sequence-building, calling and helper uops."""

    def generic(self, u: Uop, b, i: int, site: Site) -> bool:
        """A generic uop through the C API: its inline fast path (hot part) in front of
        the C-API call (cold part); raw inputs are boxed into temporaries first. False
        when it has none (its operator, or an output that is neither boxed nor a bool)."""
        out_rep = self.rep(u.output) if u.output is not None else BOX
        if out_rep not in (BOX, "bool"):
            return False
        base = S.generic_base(u.name, u.imms[0] if u.imms else None, out_rep == "bool")
        if base is None:
            return False
        ins = self.boxed_inputs(u, site)
        out = self.operand(u.output) if u.output is not None else None
        self.put_op(base, ins, out, {}, site)
        return True

    def build_sequence(self, u: Uop, site: Site) -> bool:
        """`_BUILD_LIST` / `_BUILD_TUPLE` in C: the items (boxed; raw ones boxed into
        temporaries) stored to the argument words, which the stencil reads."""
        if u.name not in (U._BUILD_LIST, U._BUILD_TUPLE) or self.rep(u.output) != BOX:
            return False
        for k, v in enumerate(u.inputs):
            word = self.arg_base + k
            if self.rep(v) != BOX:
                self.temps.append(word)   # a new reference, dropped after the uop
            self.move(self.operand(v), self.rep(v), (None, 8 * word), BOX, site)
        self.put_op(u.name, [], self.operand(u.output),
                    {V.OPERAND: len(u.inputs), V.SLOT0: 8 * self.arg_base}, site)
        return True

    def direct_call(self, u: Uop, b, i: int, site: Site) -> bool:
        """A `_CALL_FUNCTION` as `_CALL_DIRECT_{n}` (uop_stencils.direct_call_body): the
        arguments boxed into the helper argument words, which the direct path copies into
        the callee's frame and the helper path (same HelperSite) reads. False when the
        site does not qualify (a non-boxed result, too many arguments)."""
        if (not self.direct_calls or u.defn.effect.name != "CALL_FUNCTION"
                or u.output is None or self.rep(u.output) != BOX
                or len(u.inputs) > S.MAX_DIRECT_ARGS):
            return False
        inputs = []
        for k, v in enumerate(u.inputs):
            word = self.arg_base + k
            if self.rep(v) != BOX:
                self.temps.append(word)   # a new reference, dropped after the call
            self.move(self.operand(v), self.rep(v), (None, 8 * word), BOX, site)
            inputs.append((word, BOX))
        has_exit = u.exit is not None
        k = len(self.helper_sites)
        callee = u.imms[0]
        values = {V.OPERAND: k, V.HELPER: f"helper:call:{k}", V.HELPER2: f"helper:finish:{k}",
                  V.OPERAND2: f"helper:cell:{callee}", V.SLOT0: 8 * self.arg_base}
        if has_exit:
            values[V.EXIT] = self.exit_label(u, b, i)
        values[V.ERROR] = self.error_label()
        self.helper_sites.append(HelperSite(u, tuple(inputs), BOX, has_exit, callee))
        key = (f"_CALL_DIRECT_{len(u.inputs)}", (), self.operand(u.output)[0], True,
               self.nregs, (), has_exit)
        self.put((PLANS.get(key) or plan(key))[0],
                 {**values, **({} if self.operand(u.output)[0] is not None
                               else {V.SLOT2: self.operand(u.output)[1]})}, site)
        return True

    def helper(self, u: Uop, b, i: int, site: Site) -> None:
        """Run `u` in the Python helper: inputs stored to frame words first (borrowed
        references; a boxed output is a new one)."""
        if u.name in S.GENERIC_FAST and self.generic(u, b, i, site):
            return
        if self.build_sequence(u, site) or self.direct_call(u, b, i, site):
            return
        inputs = []
        if u.name == U._LOAD_FAST_CHECK:
            name = u.imms[0]
            self.local_operand(name)
            inputs.append((self.local_word[name], self.local_rep[name]))
        for k, v in enumerate(u.inputs):
            reg, off = self.operand(v)
            if reg is not None:
                word = self.arg_base + k
                self.put_op("_MOVE", [((reg, None), "")], (None, 8 * word), {}, site)
            else:
                word = off // 8
            inputs.append((word, self.rep(v)))
        has_exit = u.exit is not None
        d = u.defn
        if d.effect.name not in HELPER_EFFECTS and d.implementation(u.imms) is None:
            raise Unsupported(f"no helper semantics for {u.name}")
        k = len(self.helper_sites)
        values = {V.OPERAND: k, V.HELPER: f"helper:call:{k}"}
        if has_exit:
            values[V.EXIT] = self.exit_label(u, b, i)
        out_rep = self.rep(u.output) if u.output is not None else None
        self.helper_sites.append(HelperSite(u, tuple(inputs), out_rep, has_exit))
        out = self.operand(u.output) if u.output is not None else None
        self.put_op("_CALL_HELPER", [], out, values, site, exit=has_exit)
