"""Calls and imports on every backend against CPython: keyword arguments, ``*args`` and
``**kwargs`` at call sites (in CPython's evaluation order), calling any value (an
attribute, a subscript, a call's result, a variable), any builtin (loaded as a global,
so a module global shadows it), ``import a.b.c``, ``import a.b as c``,
``from a import b as c`` and ``from m import *``; and their errors."""

import pytest

from constructs_util import BACKENDS, check, hot_functions

CALLS = """
    import os.path
    import collections.abc as cabc
    import math
    from math import sqrt as root, pi
    from functools import reduce
    import operator


    def keywords(xs, i):
        out = sorted(xs, key=abs, reverse=True)
        print(i, *out, sep=",", end=";")
        print(max(xs, default=None), min([], default=i), round(pi, ndigits=2))
        return out


    def stars(xs, kw):
        a = max(*xs)
        b = "{x}-{y}".format(**kw)
        c = dict(**kw, z=1)
        d = list(zip(*[xs, xs]))
        e = "{}{}{}".format(*xs[:2], *"q")
        f = dict(kw, **{"w": 2})
        return a, b, c, d, e, f


    def values(i):
        ops = [operator.add, operator.mul]
        table = {"neg": operator.neg}
        f = math.floor
        g = ops[i % 2](i, 3) + table["neg"](i) + f(2.5) + root(16)
        h = getattr(math, "ceil")(1.2) + type(i)("7") + reduce(operator.add, [1, 2, 3])
        m = os.path.join("a", "b")
        return g, h, m, isinstance(cabc, type(os)), cabc.Mapping.__name__


    def builtins(i):
        return (list(enumerate("ab", start=i)), list(map(abs, [-1, 2])), set([1, 1]),
                dict(zip("ab", [1, 2])), next(iter([i])), list(reversed(range(3))),
                any([0, i]), all([]), divmod(i, 3), sorted({3: 1, 1: 2}),
                bytes([65]), frozenset([2]) | {i}, hash(1) == 1, callable(len))


    for i in range(30):
        r = keywords([3, -7, i], i), stars([i, 2, 3], {"x": i, "y": 2}), values(i), builtins(i)
    print()
    print(r)
    print(os.path.basename("/x/y.txt"), cabc.Sequence.__name__, math.__name__)
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_calls_and_imports(tmp_path, backend):
    check(tmp_path, CALLS, backend)


def test_call_functions_run_compiled(tmp_path):
    assert {"keywords", "stars", "values", "builtins"} <= hot_functions("native", CALLS,
                                                                        tmp_path)


STAR_IMPORT = """
    from math import *
    print(pow(2, 3), floor(2.5), pi > 3)
    for i in range(3):
        print(sqrt(i * i), pow(i, 2))
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_star_import_shadows_builtins(tmp_path, backend):
    """``math.pow`` gives floats: the builtin ``pow`` is not called."""
    assert "8.0" in check(tmp_path, STAR_IMPORT, backend)


def test_builtin_shadowed_by_a_global(tmp_path):
    src = "import math as len\nprint(len.floor(2.5))\nabs = str\nprint(abs(-1) + 'x')\n"
    check(tmp_path, src, "interp")


ERRORS = {
    "ModuleNotFoundError": "print('a')\nimport no_such_module_xyz\n",
    "ModuleNotFoundError submodule": "import os.no_such_sub\n",
    "ImportError from": "from math import no_such_name\n",
    "ImportError from pure module": "from os import no_such_name\n",
    "multiple values for keyword": "kw = {'sep': '-'}\nprint(1, sep='+', **kw)\n",
    "multiple values in two mappings": "import math\nmath.floor(**{'x': 1}, **{'x': 2})\n",
    "** not a mapping": "print(**[1])\n",
    "** not a mapping method": "d = {}\nd.update(**5)\n",
    "* not iterable alone": "import math\nmath.sqrt(*5)\n",
    "* not iterable after args": "print(1, *5)\n",
    "keywords must be strings": "print(**{1: 2})\n",
    "unexpected keyword": "print(1, bogus=2)\n",
    "call of a non-callable": "x = 5\nfor i in range(3):\n    print(i)\n    if i == 2:\n        x()\n",
    "call result not callable": "print(len('ab')('x'))\n",
    "NameError of an unknown callee": "print('a')\nprint(undefined_fn(1))\n",
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_call_errors(tmp_path, name, backend):
    check(tmp_path, ERRORS[name], backend)
