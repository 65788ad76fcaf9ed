"""The tier-1 type profile: which operand types each uop site has seen.

Like PEP 659's specializing interpreter, tier 1 records what it observes; the
``specialize`` pass reads it.  A site is ``(function, block, index)`` in the
generic IR.  ``exits`` counts side exits taken back to each tier-1 site, so a
guard that keeps failing (an int that outgrew 64 bits) stops being specialized.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

Site = tuple[str, str, int]


INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


class BigInt(int):
    """What a profile records for an int past 64 bits: `specialize` then keeps the site
    generic (the C API on boxed ints) instead of guarding for an int64 that overflows."""


def profile_type(x) -> type:
    t = type(x)
    if t is int and not INT64_MIN <= x <= INT64_MAX:
        return BigInt
    return t


def type_name(t: type) -> str:
    if t is BigInt:
        return "bigint"
    return "none" if t is type(None) else t.__name__


@dataclass
class Profile:
    types: dict[Site, set[tuple[type, ...]]] = field(default_factory=dict)
    exits: Counter = field(default_factory=Counter)
    # attribute sites: receiver type -> what tier 1 found there (attr_profile.AttrSpec)
    attrs: dict[Site, dict[type, object]] = field(default_factory=dict)

    def attr_spec(self, key: Site):
        """(the AttrSpec of a monomorphic attribute site, None) or (None, why not)."""
        specs = self.attrs.get(key)
        if not specs:
            return None, "no attribute profile"
        if len(specs) > 1:
            return None, "polymorphic: " + " | ".join(sorted(t.__qualname__ for t in specs))
        spec = next(iter(specs.values()))
        return (spec, "") if spec.kind else (None, spec.why)

    def site(self, key: Site) -> set[tuple[type, ...]]:
        return self.types.setdefault(key, set())

    def seen(self, key: Site) -> list[tuple[str, ...]]:
        """Operand type names seen at a site, sorted for determinism."""
        return sorted(tuple(type_name(t) for t in ts) for ts in self.types.get(key, ()))

    def monomorphic(self, key: Site) -> tuple[str, ...] | None:
        s = self.seen(key)
        return s[0] if len(s) == 1 else None
