"""Code on CFG edges: block-parameter moves, their conversions and reference counts.

Split from the emitter (a mixin of `_Emitter`) because it is one job with its own rules:
see `EdgeCode.edge_moves`. Parallel moves between frame words are sequentialized with
one scratch word for cycles (`sequentialize`).
"""

from __future__ import annotations

from ir.core import Target

from .blob import Site, Unsupported
from .plans import BOX


def sequentialize(moves: list[tuple[int, int]], scratch: int) -> list[tuple[int, int]]:
    """Parallel moves (dst, src) as a sequence; cycles go through `scratch`."""
    pending = [(d, s) for d, s in moves if d != s]
    sources = {s for _, s in pending}
    if not any(d in sources for d, _ in pending):
        return pending   # no move overwrites a source: they go in order
    out = []
    while pending:
        sources = {s for _, s in pending}
        for k, (d, s) in enumerate(pending):
            if d not in sources:
                out.append((d, s))
                del pending[k]
                break
        else:
            s = pending[0][1]
            out.append((scratch, s))
            pending = [(d, scratch if src == s else src) for d, src in pending]
    return out


class EdgeCode:
    """`_Emitter`'s edge code (uses its operands, reps, moves and refcounts)."""

    def edge_moves(self, t: Target, held: tuple[int, ...], site: Site) -> None:
        """An edge into `t.block`: the block parameters' conversions, the reference
        counts, then the moves. Raw arguments are boxed first (boxing can fail, and every
        reference is still where it was) and boxed arguments unboxed next (while their
        objects are certainly alive: the counts may free them)."""
        params = self.block_params[t.block]
        if len(params) != len(t.args):
            raise Unsupported(f"edge to {t.block}: {len(t.args)} args, {len(params)} params")
        if not params and not held:   # nothing to pass, nothing to count
            if not self.regalloc:
                self.temps = []
            self.held = ()
            return
        reps = self.reps
        entry_live = self.own.entry_live.get(t.block, ())
        pairs = [(p, a) for p, a in zip(params, t.args) if p in entry_live or p in reps]
        deltas = self.own.edge_refs(held, t.block, t.args) if held else {}
        unboxed = [(p, a) for p, a in pairs if a not in reps and p in reps]
        self.held = held
        if self.regalloc:
            operands = self.operands
            for p, a in pairs:
                if (operands.get(p) or self.operand(p)) != (operands.get(a) or self.operand(a)):
                    raise Unsupported(f"edge to {t.block}: %{a} not in %{p}'s location")
            boxed_now = []
            for p, a in pairs:   # same place: convert in place (boxing first)
                if p not in reps and a in reps:
                    self.move(operands[a], reps[a], operands[p], BOX, site)
                    boxed_now.append(p)
                    self.held = held + tuple(boxed_now)
            kept = {}   # an unboxed argument's object word, for its decref
            for k, (p, a) in enumerate(unboxed):
                if deltas.get(a, 0) < 0:
                    word = self.temp_base + k
                    self.put_op("_MOVE", [(self.operand(a), "")], (None, 8 * word), {}, site)
                    kept[a] = word
                self.move(self.operand(a), BOX, self.operand(p), self.rep(p), site)
            self.edge_refcounts(deltas, site, kept)
            self.held = ()
            return
        # frame words: box raw arguments into temporaries, unbox boxed ones into raw
        # temporaries, count, then move in parallel
        vw = self.value_word
        src_word = {}   # parameter -> (its source word, that word's representation)
        for p, a in pairs:
            if p not in reps and a in reps:
                src_word[p] = (self.box_input(a, site)[1] // 8, BOX)
        for k, (p, a) in enumerate(unboxed):
            word = self.temp_base + len(self.temps) + k   # a raw word: no reference
            prep = reps[p]
            self.move((None, 8 * vw[a]), BOX, (None, 8 * word), prep, site)
            src_word[p] = (word, prep)
        for p, a in pairs:
            if p not in src_word:
                src_word[p] = (vw[a], reps.get(a, BOX))
        self.edge_refcounts(deltas, site)
        self.temps = []   # their references pass to the parameters
        moves = [(vw[p], src_word[p][0]) for p, _ in pairs]
        rep_of_src = {src_word[p][0]: src_word[p][1] for p, _ in pairs}
        conv = {vw[p]: (src_word[p][1], reps.get(p, BOX)) for p, _ in pairs}
        scratch = self.scratch
        for d, s in sequentialize(moves, scratch):
            if d == scratch:
                r = rep_of_src[s]
                rep_of_src[scratch] = r
                self.move((None, 8 * s), r, (None, 8 * d), r, site)
            else:
                src_rep, dst_rep = conv[d]
                if s == scratch:
                    src_rep = rep_of_src[s]
                self.move((None, 8 * s), src_rep, (None, 8 * d), dst_rep, site)
        self.held = ()

    def edge_refcounts(self, deltas: dict[int, int], site, kept=None) -> None:
        """Increfs, then decrefs (`kept`: values whose object word was copied to a frame
        word, their own location now holding something else)."""
        if not deltas:
            return
        kept = kept or {}
        for v, d in sorted(deltas.items()):
            for _ in range(max(d, 0)):
                self.refcount("_INCREF", self.operand(v), site)
        for v, d in sorted(deltas.items()):
            if d < 0:
                at = (None, 8 * kept[v]) if v in kept else self.operand(v)
                self.refcount("_DECREF", at, site)

    def edge_needs_code(self, b, t: Target, held) -> bool:
        """Whether the edge to `t` needs any stencil (moves, conversions, counts)."""
        if not held and not t.args:
            return False
        if self.own.edge_refs(held, t.block, t.args):
            return True
        for p, a in zip(self.block_params[t.block], t.args):
            if not self.own.param_live(t.block, p) and self.rep(p) == BOX:
                continue
            if self.rep(p) != self.rep(a) or self.operand(p) != self.operand(a):
                return True
        return False
