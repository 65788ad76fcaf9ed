"""``copy.deepcopy`` of a function (``Function.__deepcopy__``, which the runtime uses on
every function it optimizes) gives what the generic deepcopy gives: an equal function
that shares no mutable part with the original."""

from __future__ import annotations

import copy

from helpers import KERNELS
from ir.core import Block, Exit, Function, Target, Uop
from ir.frontend import compile_source
from ir.uops import U
from workbench.fuzz.generator import generate


def functions():
    for seed in range(8):
        yield from compile_source(generate(seed), "gen.py").functions
    for k in KERNELS:
        yield from compile_source(k.read_text(), k.name).functions
    yield from compile_source(HANDLERS, "handlers.py").functions   # blocks with handlers


HANDLERS = '''
def f(xs):
    total = 0
    for x in xs:
        try:
            total += 10 // x
        except ZeroDivisionError as e:
            total -= 1
        finally:
            total += 1
    with open(__file__) as fh:
        total += len(fh.readline())
    return total
'''


def mutable_parts(fn: Function):
    yield from (fn.params, fn.locals, fn.blocks, fn.types, fn.locs)
    for b in fn.blocks:
        yield from (b, b.uops, b.params)
        for u in b.uops:
            yield from (u, u.inputs, u.targets, *u.targets, *(t.args for t in u.targets))
            if u.exit is not None:
                yield from (u.exit, u.exit.values, u.exit.locals)


def test_a_copy_is_equal_and_shares_nothing_mutable():
    for fn in functions():
        new = copy.deepcopy(fn)
        assert new == fn and new is not fn
        assert (new.signature, new.line, new._next_value) == (fn.signature, fn.line,
                                                              fn._next_value)
        mine = {id(x) for x in mutable_parts(fn)}
        assert not mine & {id(x) for x in mutable_parts(new)}, fn.name


def test_changing_the_copy_leaves_the_original():
    fn = compile_source("def f(n):\n    return n + 1\n", "f.py").function("f")
    text = repr(fn)
    new = copy.deepcopy(fn)
    u = new.blocks[0].uops[0]
    u.inputs.append(99)
    new.blocks[0].params.append(7)
    new.types[1] = "int"
    new.blocks.append(new.blocks[0])
    assert repr(fn) == text


def test_immediates_that_are_not_atoms_are_copied_deeply():
    box = [1, 2]
    u = Uop(U._LOAD_CONST, [], 0, ((box, "x"),),
            exit=Exit("bb0", 0, [(1, 0)], [("x", 0)]))
    t = Uop(U._JUMP, targets=[Target("bb1", [0])])
    fn = Function("f", blocks=[Block("bb0", [u, t]), Block("bb1", [])])
    new = copy.deepcopy(fn)
    imm = new.blocks[0].uops[0].imms
    assert imm == ((box, "x"),) and imm[0][0] is not box
    atoms = Uop(U._LOAD_CONST, [], 0, ((1, 2.5, "s", None),))
    fn.blocks[0].uops[0] = atoms
    assert copy.deepcopy(fn).blocks[0].uops[0].imms is atoms.imms   # as deepcopy shares


def test_a_script_loaded_again_is_a_fresh_copy(tmp_path, monkeypatch):
    """load_module compiles a script once while its text stays the same (the fuzzer
    runs one program per backend and pipeline) and hands out an equal, separate copy."""
    from workbench.runtime import loader

    path = tmp_path / "p.py"
    path.write_text("def f(n):\n    return n + 1\nprint(f(1))\n")
    compiled = []
    real = loader.compile_source
    monkeypatch.setattr(loader, "compile_source",
                        lambda text, p: compiled.append(p) or real(text, p))
    a, b = loader.load_module(str(path)), loader.load_module(str(path))
    assert a == b and a is not b and a.functions[0] is not b.functions[0]
    assert len(compiled) == 1
    a.functions[0].blocks.clear()
    assert loader.load_module(str(path)) == b
    path.write_text("print(2)\n")
    assert loader.load_module(str(path)) != b and len(compiled) == 2
