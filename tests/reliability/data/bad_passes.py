"""Hostile passes for the reliability tests.

``corrupt``: makes the first uop with an input read a value that is never defined
(the verifier must name this pass).  ``boom``: raises in the middle of running.
"""

from passes.base import Pass
from passes.registry import register_pass


@register_pass
class Corrupt(Pass):
    name = "corrupt"
    description = "make a uop read an undefined value (for tests)"

    def run(self, fn, ctx) -> bool:
        for b in fn.blocks:
            for u in b.uops:
                if u.inputs and ctx.allow("use an undefined value"):
                    u.inputs[0] = 9999
                    return True
        return False


@register_pass
class Boom(Pass):
    name = "boom"
    description = "raise an exception (for tests)"

    def run(self, fn, ctx) -> bool:
        raise ValueError("boom went the pass")
