"""Attribute loads, stores and method calls specialized as CPython specializes them (type
version guards, inline values, slots, modules, calls with self and no bound method), on
every backend against CPython: class-heavy programs, a class mutated mid-loop, a
monkeypatched method, a deleted attribute, a materialized ``__dict__``, an instance
attribute shadowing a method, ``__class__`` assigned; reference counts through the new
uops natively and in Unicorn; and the specialized uops really in the machine code."""

from __future__ import annotations

import contextlib
import io

import pytest

from helpers import assert_every_backend_like_cpython, cli_in_process, compile_program, last_line
from test_jit_refcounts import _counts, cpython_counts

from ir.uops import Flag, U

CLASSES = """
import math


class Vec:
    origin = 0.0

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def dot(self, o):
        return self.x * o.x + self.y * o.y

    def scaled(self, k):
        return Vec(self.x * k, self.y * k)

    def norm(self):
        return math.sqrt(self.dot(self))

    @property
    def first(self):
        return self.x + 100.0


class Pair:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b

    def swap(self):
        t = self.a
        self.a = self.b
        self.b = t


class Lazy:
    def __init__(self):
        self.n = 1

    def __getattr__(self, name):
        return len(name)


class Acc:
    def __init__(self, items, scale):
        self.items = items
        self.scale = scale

    def total(self):
        total = 0.0
        for x in self.items:
            total += x * self.scale
        return total


def run(n):
    v = Vec(1.5, -2.0)
    w = Vec(0.25, 0.5)
    p = Pair(1, "one")
    lz = Lazy()
    t = 0.0
    k = 0
    for i in range(n):
        t += v.dot(w) + v.norm() + v.first + v.origin + math.pi
        u = v.scaled(0.5)
        t += u.x
        v.x = v.x + 0.001
        p.swap()
        k += lz.n + lz.abc
    return t, k, p.a


acc = Acc([i * 0.5 for i in range(300)], 0.25)
s = 0.0
for _ in range(60):
    s += acc.total()
print(run(400))
print(s)
"""

MUTATED = """
class C:
    bonus = 1

    def __init__(self, v):
        self.v = v

    def get(self):
        return self.v + self.bonus


def other(self):
    return -self.v


class D(C):
    def get(self):
        return 1000


def loop(c, n):
    t = 0
    for i in range(n):
        t += c.get() + c.v + c.bonus
        if i == n // 4:
            C.bonus = 10          # the class mutated mid-loop: its version changes
        if i == n // 2:
            C.get = other         # a monkeypatched method
        if i == 3 * n // 4:
            c.__class__ = D       # the instance's type changes
    return t


print(loop(C(3), 400))
print(loop(C(5), 400))
"""

SHADOWED = """
class C:
    def __init__(self):
        self.v = 2

    def m(self):
        return self.v


def forty():
    return 40


def loop(c, n):
    t = 0
    for i in range(n):
        t += c.m() + c.v
        if i == n // 3:
            c.m = forty           # an instance attribute hides the method
        if i == 2 * n // 3:
            d = c.__dict__        # the inline values become a dict
            d["v"] = 7
    return t


print(loop(C(), 300))
print(loop(C(), 300))
"""

DELETED = """
class C:
    def __init__(self, v):
        self.v = v
        self.w = v * 2


def total(cs):
    t = 0
    for c in cs:
        t += c.v + c.w
    return t


cs = [C(i) for i in range(50)]
for _ in range(30):
    print(total(cs))
del cs[7].w
print(total(cs))
"""


@pytest.mark.parametrize("name,source", [("classes", CLASSES), ("mutated", MUTATED),
                                         ("shadowed", SHADOWED), ("deleted", DELETED)])
def test_attribute_programs_like_cpython(name, source, tmp_path):
    out = assert_every_backend_like_cpython(source, tmp_path, name)
    assert out


def test_deleted_attribute_raises_cpythons_error(tmp_path):
    path = tmp_path / "d.py"
    path.write_text(DELETED)
    status, _, err = cli_in_process("run", "--backend", "native", path)
    assert (status, last_line(err)) == (1, "AttributeError: 'C' object has no attribute 'w'")


def _machine_code(source: str, backend: str = "native") -> dict:
    """function -> the IR its (last) machine code was compiled from."""
    from workbench.runtime import Runtime

    rt = Runtime(compile_program(source), backend=backend, passes="default")
    with contextlib.redirect_stdout(io.StringIO()):
        rt.run()
    return {name: t2.jit_fn for name, t2 in rt.all_tier2() if t2.jit_fn is not None}


def _machine_code_uops(source: str, backend: str = "native") -> dict[str, set[str]]:
    return {name: {u.name for _, _, u in fn.uops()}
            for name, fn in _machine_code(source, backend).items()}


def test_the_machine_code_has_the_specialized_uops():
    """What compiled: the instance, slot, class and module loads, the stores, the direct
    method call with self; the property stays a generic load; ``Acc.total``'s loop
    multiplies unboxed floats and keeps no type version guard (the one before the loop
    holds: nothing in it runs arbitrary Python)."""
    uops = _machine_code_uops(CLASSES)
    run = uops["run"]
    assert {U._GUARD_TYPE_VERSION, U._CALL_FUNCTION, U._LOAD_ATTR_CLASS,
            U._LOAD_ATTR_MODULE, U._STORE_ATTR_INSTANCE_VALUE, U._LOAD_ATTR,
            U._CHECK_ATTR_NOT_SHADOWED} <= run
    assert {U._LOAD_ATTR_SLOT, U._STORE_ATTR_SLOT} <= uops["Pair.swap"]
    assert U._LOAD_ATTR_INSTANCE_VALUE in uops["Vec.dot"]
    assert U._BINARY_OP_MULTIPLY_FLOAT in uops["Acc.total"]


def test_a_methods_loop_over_floats_runs_unboxed_with_no_version_guard():
    """``for x in self.items: total += x * self.scale``: in the loop, ``self.scale`` is an
    inline-value load with no type version guard (guarded once before the loop, and at
    the OSR entry), the product and the sum are unboxed float uops."""
    from ir.cfg import natural_loops

    fn = _machine_code(CLASSES)["Acc.total"]
    (loop,) = natural_loops(fn)
    body = [u for b in fn.blocks if b.label in loop.blocks for u in b.uops]
    names = [u.name for u in body]
    assert U._LOAD_ATTR_INSTANCE_VALUE in names and U._GUARD_TYPE_VERSION not in names
    assert U._BINARY_OP_MULTIPLY_FLOAT in names and U._BINARY_OP_ADD_FLOAT in names
    assert not any(u.defn.has(Flag.ESCAPES) for u in body)
    assert sum(u.name == U._GUARD_TYPE_VERSION for _, _, u in fn.uops()) >= 1


REFCOUNT = """
class P:
    __slots__ = ("s",)

    def __init__(self, s):
        self.s = s


class C:
    def __init__(self, a, b):
        self.a = a
        self.b = b

    def pick(self, k):
        return self.a[k]


def churn(cs, ps, n):
    keep = []
    for k in range(n):
        c = cs[k % len(cs)]
        p = ps[k % len(ps)]
        x = c.pick(k % 3)
        c.b = [x, c.a]           # a new list stored, the old one released
        p.s = c.b                # a slot replaced
        if k % 5 == 0:
            keep.append(p.s)
    return len(keep)


CS = [C([i * 0.5, [i], (i, i + 1)], None) for i in range(20)]
PS = [P(None) for i in range(7)]
print(churn(CS, PS, 3000))
"""


@pytest.mark.parametrize("backend", ["native", "unicorn"])
def test_refcounts_through_attribute_uops(backend):
    """Loads (new references), stores (the old value released, the new one taken) and
    direct method calls leave every object with CPython's count."""
    from workbench.runtime import Runtime

    names = ("CS", "PS")
    want_out, want = cpython_counts(REFCOUNT, names)
    rt = Runtime(compile_program(REFCOUNT), backend=backend, passes="default,regalloc",
                 unicorn_mode="none")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rt.run()
    assert buf.getvalue() == want_out
    compiled = {name: {u.name for _, _, u in t2.jit_fn.uops()}
                for name, t2 in rt.all_tier2() if t2.jit_fn is not None}
    assert {U._STORE_ATTR_INSTANCE_VALUE, U._STORE_ATTR_SLOT,
            U._LOAD_ATTR_INSTANCE_VALUE} <= compiled["churn"]
    assert [v for v in rt.versions() if v["tier2"] == backend]
    assert _counts(rt.interp.globals, names) == want


REFCOUNT_EXITS = """
class C:
    tag = None

    def __init__(self, a):
        self.a = a
        self.b = None

    def get(self):
        return self.a


def churn(cs, n):
    keep = []
    for k in range(n):
        c = cs[k % len(cs)]
        x = c.get()
        c.b = [x]                # stored through the inline values
        keep.append(c.tag)
        if k == n // 3:
            C.tag = [k]          # the class mutated: version guards exit
        if k == n // 2:
            cs[1].__dict__       # one object's values become a dict: its loads exit
    return len(keep)


CS = [C([i, i * 0.5]) for i in range(5)]
print(churn(CS, 2000))
"""


@pytest.mark.parametrize("backend", ["native", "unicorn"])
def test_refcounts_through_attribute_exits(backend):
    """Side exits of the attribute uops (a mutated class, a materialized __dict__) and
    the re-optimizations after them hand tier 1 the exact objects: CPython's counts."""
    from workbench.runtime import Runtime

    names = ("CS",)
    want_out, want = cpython_counts(REFCOUNT_EXITS, names)
    rt = Runtime(compile_program(REFCOUNT_EXITS), backend=backend, passes="default",
                 unicorn_mode="none")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rt.run()
    assert buf.getvalue() == want_out
    runs = [v for v in rt.versions() if v["tier2"] == backend and v["function"] == "churn"]
    assert runs and sum(v["exits"] for v in runs) > 0, runs
    assert _counts(rt.interp.globals, names) == want
