"""Data constructs on every backend against CPython: attributes (load, store, delete,
bound methods as values), dict and set displays with ``**``/``*``, starred list and
tuple displays, slices (read, store, delete), f-strings (conversions, nested specs),
``%`` and ``str.format``, literals (bytes, complex, Ellipsis, -0.0, big ints), ``del``
and the walrus; and their errors, with CPython's messages."""

import pytest

from constructs_util import BACKENDS, check, hot_functions

DATA = """
    import types
    from collections import namedtuple

    Point = namedtuple("Point", "x y")


    def attrs(ns, i):
        ns.count += 1
        ns.last = Point(i, -i)
        up = "ab".upper
        total = ns.last.x - ns.last.y + len(up())
        del ns.tmp
        ns.tmp = i
        return total, ns.count


    def displays(i):
        base = {"a": i}
        d = {**base, "b": i + 1, **{"c": 3}, "a": 0}
        s = {i % 3, *[1, 2], 2}
        xs = [*range(2), i, *"xy"]
        t = (*xs, i)
        return d, sorted(s), xs, t, {}, set(), [*()], (*[],)


    def slices(i):
        xs = list(range(10))
        a = xs[1:i:2], xs[::-1][:3], xs[-3:], xs[i:], "hello"[1:-1], (1, 2, 3)[::2]
        xs[0:2] = ["a", "b", "c"]
        xs[::4] = [None] * len(xs[::4])
        del xs[1:3]
        del xs[-1]
        ys = xs[:]
        ys[1:2] += [i]
        return a, xs, ys


    def fstrings(i, x):
        w = 7
        return (f"{i}|{i:>4}|{x:.3f}|{x!r}|{'q'!s:^5}|{'é'!a}|{x:{w}.{2}}|{i:#x}"
                f"|{i!r:>{w}}|{'%05.1f' % x}|{'{}-{k}'.format(i, k=x)}|{{}}|{f'{i}'}")


    def literals():
        return b"a\\x00'" + b'b', 2j * (1 + 3j), ..., -0.0, 0.0 * -1, 2 ** 70, -(2 ** 64)


    def walrus(xs):
        total = 0
        for x in xs:
            if (y := x * x) > 4:
                total += y
        return total, y


    ns = types.SimpleNamespace(count=0, tmp=None)
    for i in range(30):
        r = attrs(ns, i), displays(i), slices(i % 8), fstrings(i, i / 7), literals()
        w = walrus([i, 1, 3])
    print(r)
    print(w, ns)
    g = 5
    del g
    print("g" in globals(), repr(-0.0), 1e400, -1e400j)
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_data_constructs(tmp_path, backend):
    check(tmp_path, DATA, backend)


def test_data_functions_run_compiled(tmp_path):
    hot = hot_functions("native", DATA, tmp_path)
    assert {"attrs", "displays", "slices", "fstrings", "literals", "walrus"} <= hot


ERRORS = {
    "AttributeError load": """
        import math
        def f(m):
            return m.floor(1.5) + m.nope
        print(math.floor(2.5))
        f(math)
    """,
    "AttributeError store": "x = 1\nfor v in [2]:\n    x.real = v\n",
    "AttributeError delete": "import types\nn = types.SimpleNamespace(a=1)\ndel n.a\ndel n.a\n",
    "NameError del": "x = 1\ndel x\nprint('deleted')\ndel x\n",
    "NameError after del": "x = 1\ndel x\nprint(x)\n",
    "dict display not a mapping": "d = {'a': 1, **[1]}\n",
    "list display not iterable": "xs = [1, *2]\n",
    "set display not iterable": "s = {1, *2}\n",
    "unhashable set item": "s = {1, [2]}\n",
    "unhashable dict key": "d = {'a': 1, [2]: 3}\n",
    "slice of int": "x = 5\nprint(x[1:2])\n",
    "slice store wrong size": "xs = [1, 2, 3]\nxs[::2] = [1]\n",
    "del slice of tuple": "t = (1, 2)\ndel t[0:1]\n",
    "f-string bad spec": "x = 3\nprint(f'{x:q}')\n",
    "f-string bad nested spec": "x = 3.5\nw = 'z'\nprint(f'{x:{w}}')\n",
    "del of missing subscript": "d = {1: 2}\ndel d[1]\nprint(d)\ndel d[1]\n",
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_data_errors(tmp_path, name, backend):
    check(tmp_path, ERRORS[name], backend)
