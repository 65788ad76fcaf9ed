"""A deliberately broken pass (for the reliability tests): ``breakadd``.

For every ``_BINARY_OP_ADD_INT`` of a function, in order, it makes one
transformation, asking ``ctx.allow`` first: it swaps the operands (harmless:
int addition commutes, and the side exit re-executes the generic uop in tier 1
with tier-1 values).  Its third transformation in each function is the bug: that
uop becomes ``_BINARY_OP_SUBTRACT_INT``.
"""

from passes.base import Pass
from passes.registry import register_pass

BROKEN = 3  # the transformation (counted per function) that is wrong


@register_pass
class BreakAdd(Pass):
    name = "breakadd"
    description = "swap int addition operands; its 3rd transformation turns + into - (a bug)"

    def run(self, fn, ctx) -> bool:
        done = 0
        changed = False
        for b in fn.blocks:
            for i, u in enumerate(b.uops):
                if u.name != "_BINARY_OP_ADD_INT":
                    continue
                if done + 1 == BROKEN:
                    if not ctx.allow(f"turn _BINARY_OP_ADD_INT at {b.label}:{i} into "
                                     f"_BINARY_OP_SUBTRACT_INT"):
                        continue
                    u.name = "_BINARY_OP_SUBTRACT_INT"
                else:
                    if not ctx.allow(f"swap the operands of _BINARY_OP_ADD_INT at "
                                     f"{b.label}:{i}"):
                        continue
                    u.inputs = [u.inputs[1], u.inputs[0]]
                done += 1
                changed = True
        return changed
