"""One uop's stencils: the emitter's per-uop dispatch on its kind (copies, locals,
constants, guards, branches, jumps, returns, direct stencils), falling back to
`CallCode` (generic C-API paths, calls, helpers).

Split from the emitter (a mixin of `_Emitter`, like `calls` and `edges`).
"""

from __future__ import annotations

import struct

from ir.core import Uop
from ir.uops import U

from . import plans as P
from .blob import Site, Unsupported
from .plans import BOX, CONV, KINDS, MASK64, SHADOW_WORDS, WORD_TYPES, uop_kind, variant
from .stencil import HoleValue as V

_EXIT, _TARGET, _OPERAND = V.EXIT, V.TARGET, V.OPERAND

def _const_bits(c, t: str) -> int:
    if t == "float" and type(c) is float:
        return struct.unpack("<Q", struct.pack("<d", c))[0]
    if t == "bool" and type(c) is bool:
        return int(c)
    if t == "int" and type(c) is int and -(1 << 63) <= c < (1 << 63):
        return c & MASK64
    raise Unsupported(f"constant {c!r} is not a native {t}")


def box_constant(c, constants: list) -> int:
    """The word of a boxed constant: its address; `constants` keeps it alive."""
    for old in constants:
        if old is c:
            return id(c)
    constants.append(c)
    return id(c)


class UopCode:
    """`_Emitter`'s code for one uop, by its kind."""

    def shadow_dying(self, u: Uop, b, i: int, site: Site) -> None:
        """Copy the boxed inputs that die at `u` and share the register its output is
        written to (see `shadow`)."""
        if not self.regalloc or u.output is None or u.output not in self.fn.locs \
                or u.defn.is_terminator:
            return
        out = self.operand(u.output)
        if out[0] is None:
            return
        for v in self.own.dies[b.label][i]:
            if v != u.output and v in self.held and self.operand(v) == out:
                if len(self.shadow) >= SHADOW_WORDS:
                    raise Unsupported("too many dying inputs share the output's register")
                word = self.temp_base + self.ntemps + len(self.shadow)
                self.put_op("_MOVE", [(self.operand(v), "")], (None, 8 * word), {}, site)
                self.shadow[v] = word

    def store_local(self, v: int, name: str, site: Site, dies: bool) -> None:
        """`_STORE_FAST`: a boxed local takes a reference (the value's own when it dies
        here) and drops the one it had."""
        lrep, vrep = self.local_rep[name], self.rep(v)
        dst = self.local_operand(name)
        if lrep != BOX:
            self.move(self.operand(v), vrep, dst, lrep, site)
            return
        if vrep == BOX:
            if dies:
                self.stolen.add(v)
            else:
                self.refcount("_INCREF", self.operand(v), site)
            src = self.operand(v)
        else:
            src = self.box_input(v, site)
            self.temps.pop()   # the local takes the new reference
        self.put_op("_STORE_LOCAL", [(src, "")], None, {V.SLOT2: dst[1]}, site)

    def uop(self, u: Uop, b, i: int, site: Site, following, out_of_line) -> None:
        kind, d, arg = KINDS.get(u.name) or uop_kind(u.name)
        reps = self.reps
        if kind is P.COPY or (kind is P.RANGE_ARG and reps.get(u.inputs[0]) == "int"
                             and reps.get(u.output, BOX) in ("int", BOX)):
            v = u.inputs[0]
            operands = self.operands
            vrep, orep = reps.get(v, BOX), reps.get(u.output, BOX)
            self.move(operands.get(v) or self.operand(v), vrep,
                      operands.get(u.output) or self.operand(u.output), orep, site)
            if vrep == BOX and orep == BOX:
                if v in self.own.dies[b.label][i]:
                    self.stolen.add(v)     # the copy takes the reference over
                else:
                    self.refcount("_INCREF", operands[u.output], site)
            return
        if kind is P.LOAD_FAST:
            lname = u.imms[0]
            lrep, orep = self.local_rep[lname], reps.get(u.output, BOX)
            self.move(self.local_operand(lname), lrep,
                      self.operands.get(u.output) or self.operand(u.output), orep, site)
            if lrep == BOX and orep == BOX:
                self.refcount("_INCREF", self.operands[u.output], site)
            return
        if kind is P.LOAD_CONST:
            r = reps.get(u.output, BOX)
            c = u.imms[0]
            if r == BOX:
                self.put_op("_LOAD_CONST_OBJ", [], self.operand(u.output),
                            {_OPERAND: box_constant(c, self.constants)}, site)
            else:
                self.put_op(U._LOAD_CONST, [], self.operand(u.output),
                            {_OPERAND: _const_bits(c, r)}, site)
            return
        if kind is P.GUARD:
            need, stencil = arg
            label = None
            for v in u.inputs:
                r = reps.get(v, BOX)
                if r == need:
                    continue      # a raw word of that type: statically true
                label = label or self.exit_label(u, b, i)
                if r == BOX:
                    self.put_op(stencil, [(self.operand(v), "")], None, {_EXIT: label}, site)
                else:
                    self.put_op("_GUARD_NEVER", [], None, {_EXIT: label}, site)
            return
        if kind is P.JUMP:
            t = u.targets[0]
            self.edge_moves(t, self.held, site)
            if t.block != following:
                self.items.append((variant(U._JUMP, self.nregs), {_TARGET: f"block:{t.block}"},
                                   site))
            return
        if kind is P.EXIT_COLD:   # never ran in tier 1: always leave (no helper needed)
            self.put_op("_GUARD_NEVER", [], None, {_EXIT: self.exit_label(u, b, i)}, site)
            return
        if kind is P.NOP:
            return
        if kind is P.STORE_FAST:
            v = u.inputs[0]
            self.store_local(v, u.imms[0], site, v in self.own.dies[b.label][i])
            return
        stencil = None
        if kind is P.COMPARE:
            stencil = arg.get(u.imms[0])
        elif kind is P.DIRECT_STENCIL or (kind is P.RANGE_ARG and arg):
            stencil = u.name
        if stencil is not None:
            out_rep = reps.get(u.output, BOX) if u.output is not None else None
            result = d.result
            boxed_result = result not in WORD_TYPES   # the stencil makes an object
            if out_rep is not None and out_rep not in (result, BOX) or (
                    boxed_result and out_rep not in (None, BOX)):
                return self.helper(u, b, i, site)
            ins = []
            for v, req in zip(u.inputs, d.requires):
                r = reps.get(v, BOX)
                if r == req or (r == BOX and (req in CONV or req not in WORD_TYPES)):
                    ins.append((self.operand(v), self.conv(v, req)))
                elif req not in WORD_TYPES:    # a raw value where an object is needed
                    ins.append((self.box_input(v, site), ""))
                else:                           # a raw word of another type
                    self.drop_temps(site)
                    return self.helper(u, b, i, site)
            values = {}
            if d.can_exit:
                values[_EXIT] = self.exit_label(u, b, i)
            out = self.operand(u.output) if u.output is not None else None
            self.put_op(stencil, ins, out, values, site)
            if out_rep == BOX and not boxed_result:
                self.move(out, result, out, BOX, site)
            return
        if kind is P.BRANCH:
            v = u.inputs[0]
            held = self.held
            cond = (self.operand(v), self.conv(v, "bool"))
            yes, no = u.targets
            yes_code = self.edge_needs_code(b, yes, held)
            if yes.block == following and not yes_code:
                target = f"block:{no.block}"
                if self.edge_needs_code(b, no, held):
                    target = f"edge:{b.label}:{i}:no"
                    out_of_line.append((target, no, site, held))
                self.put_op("_BRANCH_IFNOT", [cond], None, {_TARGET: target}, site)
                return
            target = f"block:{yes.block}"
            if yes_code:
                target = f"edge:{b.label}:{i}"
                out_of_line.append((target, yes, site, held))
            self.put_op("_BRANCH_IF", [cond], None, {_TARGET: target}, site)
            self.edge_moves(no, held, site)
            if no.block != following:
                self.items.append((variant(U._JUMP, self.nregs), {_TARGET: f"block:{no.block}"},
                                   site))
            return
        if kind is P.RETURN:
            v = u.inputs[0]
            self.returns.append(v)
            for other in self.held:   # nothing else should be live; drop it if it is
                if other != v:
                    self.refcount("_DECREF", self.operand(other), site)
            for lname in self.boxed_locals:
                self.refcount("_XDECREF", self.local_operand(lname), site)
            status = (-len(self.returns)) & MASK64  # -1 - site
            self.put_op(U._RETURN, [(self.operand(v), "")], None, {_OPERAND: status}, site)
            return
        if kind is P.NO_STENCIL:
            raise Unsupported(f"no native stencil for {u.name} (at {b.label}:{i})")
        self.helper(u, b, i, site)
