"""Control and binding constructs on every backend against CPython: starred assignment
targets and unpacking of any iterable, ``assert``, ``raise`` (``from``), list/set/dict
comprehensions inlined (no leaking variable, nested, conditions, the first iterable in
the enclosing scope), and ``for`` over any iterable with the exact iterator protocol
(side effects interleaved, infinite iterators, ``break``); and their errors."""

import pytest

from constructs_util import BACKENDS, check, hot_functions

FLOW = """
    import itertools


    def unpacking(it):
        a, *b, c = it
        *d, e = it
        f, (g, *h) = 0, it
        for k, *rest in [(1, 2, 3), "xy"]:
            d.append((k, rest))
        x, y = iter("pq")
        return a, b, c, d, e, f, g, h, x, y


    def comps(n):
        x = "outer"
        sq = [x * x for x in range(n) if x % 2 == 0 if x != 4]
        pairs = [(x, y) for x in range(3) for y in range(x) if y != 1]
        nested = [[y * x for y in range(x)] for x in range(3)]
        d = {k: v for k, v in zip("abc", sq)}
        s = {c.upper() for c in "abca"}
        xs = [1, 2]
        first = [xs for xs in xs]   # the first iterable is the enclosing scope's xs
        return x, sq, pairs, nested, d, sorted(s), first, [n for _ in range(2)]


    def iterate(n):
        out = []
        for v in map(out.append, range(3)):   # each next() appends before the body runs
            out.append(len(out))
        for i in itertools.count(n):
            if i > n + 2:
                break
            out.append(i)
        it = iter(range(10))
        for v in it:
            if v == 2:
                break
        out.append(next(it))   # 3: break left the rest of the iterator alone
        for a, b in zip("ab", itertools.repeat(n)):
            out.append(a * b)
        for key in {"k": 1, "j": 2}:
            out.append(key)
        for ch in reversed("xyz"):
            out.append(ch)
        return out


    def checks(i):
        assert i >= 0
        assert i < 100, "too big"
        return i


    for i in range(30):
        r = unpacking(range(i % 3 + 3)), comps(i % 7), iterate(i % 3), checks(i)
    print(r)
    print(unpacking("abcd"))
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_flow_constructs(tmp_path, backend):
    check(tmp_path, FLOW, backend)


def test_flow_functions_run_compiled(tmp_path):
    assert {"unpacking", "comps", "iterate", "checks"} <= hot_functions("native", FLOW,
                                                                       tmp_path)


ERRORS = {
    "not enough values": "def f(t):\n    a, b, c = t\n    return a\nf((1, 2, 3))\nf([1, 2])\n",
    "too many values": "a, b = [1, 2, 3]\n",
    "too many values from an infinite iterator": "import itertools\na, b = itertools.count()\n",
    "not enough values starred": "a, *b, c = [1]\n",
    "not enough values starred iterator": "a, b, *c = iter([1])\n",
    "cannot unpack non-iterable": "a, b = 5\n",
    "cannot unpack non-iterable starred": "a, *b = None\n",
    "assertion": "def f(i):\n    assert i < 25\nfor i in range(30):\n    f(i)\n",
    "assertion message": "x = 3\nassert x == 4, f'x is {x}'\n",
    "assertion non-str message": "assert [], [1, 2]\n",
    "raise class": "print('a')\nraise ValueError\n",
    "raise instance": "def f(x):\n    if x > 20:\n        raise KeyError(x)\n    return x\n"
                      "for i in range(30):\n    f(i)\n",
    "raise from": "raise RuntimeError('outer') from ValueError('inner')\n",
    "raise from None": "raise TypeError('t') from None\n",
    "raise non-exception": "raise 5\n",
    "raise bad cause": "raise ValueError from 5\n",
    "not iterable": "for x in 5:\n    pass\n",
    "dict changed size": "d = {1: 2}\nfor k in d:\n    d[k + 1] = 0\n",
    "error inside the iterator": "for x in map(int, ['1', 'x']):\n    print(x)\n",
    "comprehension variable does not leak": "ys = [q for q in range(3)]\nprint(ys)\nprint(q)\n",
    "comprehension error": "print([1 // x for x in [1, 0]])\n",
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_flow_errors(tmp_path, name, backend):
    check(tmp_path, ERRORS[name], backend)


DELETE = """
    def f(n):
        x = n
        t = 0
        for i in range(n):
            y = i * 2
            del y
            t += i
        del x
        if n > 28:
            print(x)
        return t


    g = 1


    def h():
        return g + 1


    for i in range(29):
        r = f(i), h()
    print(r)
    del g
    print(h())
"""


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", ["local", "global"])
def test_del_unbinds(tmp_path, backend, case):
    """A deleted local is unbound again (its function stays in tier 1: the passes do not
    model unbinding); a deleted global is gone for code compiled while it existed."""
    src = DELETE.replace("range(29)", "range(30)") if case == "local" else DELETE
    check(tmp_path, src, backend)
