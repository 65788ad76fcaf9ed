"""Static counts of a function's IR: what ``--stats`` reports after each pass."""

from __future__ import annotations

from collections import Counter

from .core import Function
from .uops import Flag, U

STAT_KEYS = ("uops", "guards", "local_loads", "local_stores", "values", "spills",
             "reloads", "moves")


def is_register(loc: str | None) -> bool:
    return loc is not None and loc.startswith("r")


def function_stats(fn: Function) -> Counter:
    c: Counter = Counter({k: 0 for k in STAT_KEYS})
    for b in fn.blocks:
        c["values"] += len(b.params)
        for u in b.uops:
            d = u.defn
            c["uops"] += 1
            if d.has(Flag.GUARD):
                c["guards"] += 1
            if u.name in (U._LOAD_FAST, U._LOAD_FAST_CHECK):
                c["local_loads"] += 1
            elif u.name == U._STORE_FAST:
                c["local_stores"] += 1
            if u.output is not None:
                c["values"] += 1
            if u.name == U._COPY:
                src, dst = fn.locs.get(u.inputs[0]), fn.locs.get(u.output)
                if is_register(src) and not is_register(dst):
                    c["spills"] += 1
                elif is_register(dst) and not is_register(src):
                    c["reloads"] += 1
                else:
                    c["moves"] += 1
    return c
