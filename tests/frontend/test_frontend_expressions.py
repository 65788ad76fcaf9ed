"""The supported subset, expressions: module level, literals, arithmetic, comparisons,
and/or/not; each program prints (and raises) exactly what CPython prints (and raises)."""

import pytest

from helpers import assert_same_as_cpython
from subset_util import source

# Each program is run by CPython and by the workbench; stdout and the exception (type and
# message), if any, must be the same.
PROGRAMS = {
    # ---------------------------------------------------------------- module level
    "module constants and functions": """
        N = 10
        NAME = 'sum'
        def f(x):
            return x * N
        print(NAME, f(3), N)
        N = 20
        print(f(3))
    """,
    "positional parameters": """
        def f(a, b, c):
            return a * 100 + b * 10 + c
        def g():
            return 7
        print(f(1, 2, 3), f(3, 2, 1), g())
    """,
    "docstrings and bare constants": """
        '''module docstring'''
        def f():
            '''function docstring'''
            42
            return 1
        print(f())
    """,
    "annotated assignment": """
        x: int = 5
        y: float
        def f(a):
            b: int = a + 1
            return b
        print(x, f(x))
    """,
    "pass statement": """
        def f():
            pass
        if True:
            pass
        print(f())
    """,
    # ---------------------------------------------------------------- literals
    "int arbitrary precision": """
        a = 2 ** 64
        b = 18446744073709551615 + 1
        print(a, b, a == b, a * a, -a, a - 1, (a + 1) * (a - 1))
        print(2 ** 200, -(2 ** 100) // 7, 2 ** 100 % -7, 9223372036854775807 + 1)
        f = 1
        for i in range(1, 40):
            f *= i
        print(f, f // 3 ** 10, f % 1000003)
    """,
    "float values and printing": """
        x = 1e400
        print(1.5, 0.1 + 0.2, 1e16, 1e-7, 123456789012345678.0, 1e22, 2.0 ** 0.5)
        print(x, -x, x - x, x * 0, -0.0, 0.0 * -1, -0.0 + 0.0, repr(-0.0))
        print(float('nan'), float('inf'), float('-inf'), abs(-0.0), 1 / 3)
        print(1e300 * 1e10, -1e300 * 1e10, x == x, x - x == x - x)
    """,
    "bool and None": """
        print(True, False, None, True + True, True * 3, -True, ~True, True / 2)
        print(None is None, True is True, 1 == True, True == 1.0)
    """,
    "str literals for printing": """
        print('a', "b", 'it\\'s', "q\\"q", 'tab\\tx', 'nl\\nx', 'é', '', 'x' 'y')
        print()
        print('a' + 'b', 'ab' * 3, 'abc'[1], 'abc'[-1], len(''), '%d-%s' % (5, 'x'))
    """,
    # ---------------------------------------------------------------- arithmetic
    "binary operators": """
        for a in [7, -7, 1, 2 ** 70]:
            for b in [2, -2, 3]:
                print(a + b, a - b, a * b, a / b, a // b, a % b, a ** b)
    """,
    "float floor division and modulo": """
        for a in [7.5, -7.5, 0.0, -0.0, 1e300]:
            for b in [2, -2, 0.3, -0.3]:
                print(a // b, a % b, a / b)
        print(5 % 0.5, -1.0 % 0.3, 3.0 % -2, 1.0 // 0.3)
    """,
    "power": """
        print(2 ** 10, 2 ** -1, (-2) ** -2, 0 ** 0, 10 ** -2, -3 ** 2, (-3) ** 2)
        print(2 ** 0.5, 4.0 ** -0.5, (-8) ** 3, 2 ** 100, 1.5 ** 2)
        x = 2
        x **= -2
        print(x)
    """,
    "unary operators": """
        x = 5
        y = -2.5
        print(-x, +x, ~x, not x, not 0, -(-x), ~-x, -y, +y, not y, not '', not [0])
        print(-True, +False, ~0, ~(2 ** 70), -(2 ** 70))
    """,
    "bitwise and shifts": """
        x = 0b1011
        print(x & 6, x | 6, x ^ 6, x << 3, x >> 1, -x >> 1, -x & 0xff, ~x | 1)
        print(1 << 70, (1 << 70) >> 3, -(1 << 70) >> 69, True & 1, 5 ^ True)
    """,
    "int float mixing": """
        print(7 / 2, 6 / 3, 1 + 1.0, 2 * 0.5, 10 ** 20 / 3, float(2 ** 100), int(1e20))
        print(2 ** 1000 / 2 ** 999, 1 == 1.0, 1 < 1.5, 3 // 1.5)
    """,
    # ---------------------------------------------------------------- comparisons
    "comparisons": """
        a = 1
        b = 2
        print(a < b, a <= b, a > b, a >= b, a == b, a != b, 1 == 1.0, 'a' < 'b')
        print([1, 2] < [1, 3], (1, 2) == (1, 2), [1] == [1], 'abc' >= 'abd')
    """,
    "chained comparisons": """
        a = 1
        b = 2
        c = 3
        print(a < b < c, a < b > c, a == a < b, 1 < 2 < 3 < 4 < 3, 1 < 2 < 3 < 4 < 5)
        x = 1 < b <= 2 == 2
        print(x, 3 > 2 > 1 > 0 > -1)
        if a < b < c:
            print('ordered')
        if not (c < b < a):
            print('not reversed')
        while 0 <= a < 3:
            a += 1
        print(a)
    """,
    "chained comparison evaluates the middle once": """
        def f(x):
            print('f', x)
            return x
        print(f(1) < f(2) < f(3))
        print(f(3) < f(2) < f(1))
        if f(1) < f(2) < f(0):
            print('yes')
        else:
            print('no')
        y = f(0) <= f(1) <= f(1) <= f(2)
        print(y)
    """,
    "is on equal literals": """
        a = 1000
        b = 1000
        def f():
            return 1000
        s = 'hello world'
        t = 'hello world'
        x = 1.5
        y = 1.5
        z = 0.0
        w = -0.0
        one = 1
        true = True
        print(a is b, a is f(), s is t, x is y, z is w, one is true)
    """,
    "is and in": """
        a = None
        b = [1, 2]
        c = b
        print(a is None, a is not None, b is c, b is not c, [1, 2] is b, b == [1, 2])
        print(2 in b, 3 in b, 3 not in b, 'b' in 'abc', 'x' not in 'abc', 4 in (4,))
        print(5 in range(10), 10 in range(10), a is None is not False)
    """,
    # ---------------------------------------------------------------- and / or / not
    "and or value semantics": """
        x = 0 or 5
        y = [] and 3
        z = 1 and 2 and 3
        w = 0 or '' or None
        print(x, y, z, w, 1 or 2, [1] and [], 0 and 1 / 0, 1 or 1 / 0)
        print(not (0 or []), (0 or 2) + 1)
    """,
    "and or short circuit": """
        def f(x):
            print('f', x)
            return x
        print(f(0) and f(1), f(1) and f(2), f(0) or f(0), f(3) or f(4))
        if f(0) or f(1) and f(2):
            print('then')
        if not f(0) and not f(None):
            print('both false')
        while f(0) or f(0):
            print('never')
    """,
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_matches_cpython(name):
    out = assert_same_as_cpython(source(PROGRAMS[name]))
    assert out.error is None and out.stdout  # the program itself is well-formed
