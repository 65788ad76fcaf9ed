"""The IR verifier: structural and SSA checks, run after every pass in tests.

A failure raises ``VerifyError`` naming the function, block and uop, and the pass
that produced the IR when the caller says which.
"""

from __future__ import annotations

from .cfg import dominates, dominators
from .core import Function, Module
from .errors import WorkbenchError
from .printer import print_uop
from .uops import UOPS, Imm


class VerifyError(WorkbenchError):
    pass


def verify_function(fn: Function, functions: set[str] | None = None,
                    after_pass: str | None = None) -> None:
    def fail(msg: str, where="") -> None:
        if isinstance(where, tuple):  # (label:index, uop): printed only on failure
            where = f"{where[0]} ({print_uop(fn, where[1]) if where[1].name in UOPS else where[1].name})"
        who = f"after pass '{after_pass}': " if after_pass else ""
        raise VerifyError(f"verifier: {who}@{fn.name}{' ' + where if where else ''}: {msg}")

    if not fn.blocks:
        fail("function has no blocks")
    if fn.entry.params:
        fail("the entry block takes parameters", fn.entry.label)
    if len(set(fn.locals)) != len(fn.locals):
        fail("duplicate local names")
    if fn.locals[:len(fn.params)] != fn.params:
        fail("parameters must be the first locals")
    blocks = fn.block_map()
    if len(blocks) != len(fn.blocks):
        fail("duplicate block labels")
    local_set = set(fn.locals)

    # Where every value is defined: (block, index); params at index -1.
    defs: dict[int, tuple[str, int]] = {}
    for b in fn.blocks:
        for p in b.params:
            if p in defs:
                fail(f"%{p} is defined twice", b.label)
            defs[p] = (b.label, -1)
        for i, u in enumerate(b.uops):
            if u.output is not None:
                if u.output in defs:
                    fail(f"%{u.output} is defined twice", f"{b.label}:{i}")
                defs[u.output] = (b.label, i)

    idom = dominators(fn)
    # A handler edge leaves from every faulting point of its block, so a value a
    # protected block defines may not be there yet: blocks the handler dominates may
    # not read it.
    unsafe: dict[int, str] = {}
    for b in fn.blocks:
        h = b.handler
        if h is None:
            continue
        if h not in blocks:
            fail(f"unknown handler block ^{h}", b.label)
        if h == fn.entry.label:
            fail("the entry block cannot be a handler", b.label)
        if len(blocks[h].params) != 1:
            fail(f"handler ^{h} must take one parameter (the exception)", b.label)
        for u in b.uops:
            if u.output is not None:
                unsafe[u.output] = h
    for b in fn.blocks:
        if not b.uops:
            fail("empty block", b.label)
        for i, u in enumerate(b.uops):
            where = (f"{b.label}:{i}", u)
            d = UOPS.get(u.name)
            if d is None:
                fail(f"unknown uop {u.name}", where)
            last = i == len(b.uops) - 1
            if d.is_terminator != last:
                fail("terminator not at the end of its block" if d.is_terminator
                     else "block does not end in a terminator", where)
            n = len(u.inputs)
            if n < d.fixed_inputs or (n > d.fixed_inputs and not d.variadic):
                fail(f"{d.name} takes {d.fixed_inputs} input(s), got {n}", where)
            if (u.output is not None) != d.output:
                fail("output does not match the uop's definition", where)
            if len(u.imms) != len(d.imms):
                fail("wrong number of immediates", where)
            for kind, value in zip(d.imms, u.imms):
                if kind is Imm.LOCAL and value not in local_set:
                    fail(f"unknown local {value!r}", where)
                if kind is Imm.FUNC and functions is not None and value not in functions:
                    fail(f"unknown function @{value}", where)
            if not d.takes_targets(len(u.targets)):
                fail("wrong number of successors", where)
            for t in u.targets:
                if t.block not in blocks:
                    fail(f"unknown block ^{t.block}", where)
                if len(t.args) != len(blocks[t.block].params):
                    fail(f"^{t.block} takes {len(blocks[t.block].params)} argument(s), "
                         f"got {len(t.args)}", where)
            if d.can_exit and u.exit is None:
                fail(f"{d.name} can leave compiled code but names no side exit", where)
            if not d.can_exit and u.exit is not None:
                fail(f"{d.name} never exits but names a side exit", where)
            if u.exit is not None:
                for name, _ in u.exit.locals:
                    if name not in local_set:
                        fail(f"side exit names unknown local {name!r}", where)
            for v in u.uses():
                if v not in defs:
                    fail(f"%{v} is used but never defined", where)
                db, di = defs[v]
                if db == b.label:
                    if di >= i:
                        fail(f"%{v} is used before its definition", where)
                elif b.label in idom and not dominates(idom, db, b.label):  # if reachable
                    fail(f"%{v} is used where its definition (in {db}) does not dominate",
                         where)
                elif v in unsafe and b.label in idom and dominates(idom, unsafe[v], b.label):
                    fail(f"%{v} is defined in a block protected by ^{unsafe[v]} and used "
                         f"where that handler reaches", where)


def verify_module(m: Module, after_pass: str | None = None) -> None:
    names = {f.name for f in m.functions}
    if len(names) != len(m.functions):
        raise VerifyError("verifier: duplicate function names")
    for fn in m.functions:
        verify_function(fn, names, after_pass)
