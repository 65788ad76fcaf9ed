"""The supported subset, construct by construct: each program prints (and raises) exactly
what CPython prints (and raises)."""

import textwrap

import pytest

from helpers import assert_same_as_cpython, compile_program, run_cpython
from ir.printer import print_function

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
    # ---------------------------------------------------------------- if / while / for
    "if elif else": """
        def f(x):
            if x < 0:
                return 'neg'
            elif x == 0:
                return 'zero'
            elif x < 10:
                return 'small'
            else:
                return 'big'
        for v in [-1, 0, 5, 50]:
            print(f(v))
        if []:
            print('no')
        elif 'x':
            print('truthy str')
    """,
    "while with else, break and continue": """
        i = 0
        while i < 5:
            i += 1
            if i == 2:
                continue
            print(i)
        else:
            print('done', i)
        j = 0
        while True:
            j += 1
            if j > 3:
                break
        else:
            print('never')
        print(j)
    """,
    "for over range with 1 2 3 args": """
        for i in range(3):
            print(i)
        for i in range(2, 5):
            print(i)
        for i in range(0, 10, 4):
            print(i)
        for i in range(5, 5):
            print('never')
        print(i)
    """,
    "for over range with negative literal step": """
        for i in range(10, 0, -3):
            print(i)
        for i in range(3, -3, -1):
            print(i)
        for i in range(0, 5, -1):
            print('never')
    """,
    "for over range with variable step": """
        def g(a, b, c):
            r = []
            for i in range(a, b, c):
                r.append(i)
            return r
        print(g(0, 10, 3), g(10, 0, -3), g(0, 10, -1), g(5, 5, 1), g(-5, 5, 5))
        s = -2
        for i in range(5, -5, s):
            print(i)
        step = 4
        for i in range(0, 10, step):
            print(i)
    """,
    "for over range evaluates bounds once": """
        n = 3
        for i in range(n):
            n = 10
            print(i, n)
        for i in range(2 ** 64, 2 ** 64 + 3):
            print(i)
        for i in range(True, 3):
            print(i)
    """,
    "for loop target reassigned in body": """
        for i in range(3):
            print(i)
            i = 10
        print(i)
    """,
    "for over lists tuples strings": """
        for x in [1, 'a', 2.5]:
            print(x)
        for c in 'hey':
            print(c)
        for t in (1, 2):
            print(t)
        for a, b in [(1, 2), (3, 4)]:
            print(a + b)
        for ch in '':
            print('never')
        r = range(3)
        for i in r:
            print(i)
        for x in reversed([1, 2, 3]):
            print(x)
        for x in sorted([3, 1, 2]):
            print(x)
    """,
    "for over a list that grows": """
        l = [1, 2, 3]
        for x in l:
            if x < 3:
                l.append(x * 10)
            print(x)
        print(l)
    """,
    "for else and break": """
        for x in [1, 2, 3]:
            if x == 2:
                break
        else:
            print('no')
        print(x)
        for x in [1, 2, 3]:
            pass
        else:
            print('else', x)
        for i in range(3):
            for j in range(3):
                if j == 1:
                    continue
                if i == 2:
                    break
                print(i, j)
            else:
                print('inner done', i)
    """,
    "return from inside loops": """
        def f():
            for i in range(10):
                if i == 3:
                    return i
            return -1
        def g(n):
            while True:
                n -= 1
                if n < 0:
                    return n
        def h(l):
            for x in l:
                for y in l:
                    if x + y == 5:
                        return x, y
        print(f(), g(3), h([1, 2, 3, 4]), h([]))
    """,
    "conditional expressions": """
        for i in range(4):
            print('even' if i % 2 == 0 else 'odd', i if i else -1)
        x = 1 if 0 else 2 if 0 else 3
        print(x, (5 if [] else 6) + 1)
        if (0 if x else 1):
            print('no')
    """,
    # ---------------------------------------------------------------- assignment
    "augmented assignment": """
        x = 3
        x **= 2
        x //= 2
        x -= 1
        x <<= 2
        x |= 1
        x ^= 3
        x &= 30
        x >>= 1
        x %= 5
        x *= 7
        x += 1
        x /= 2
        print(x)
    """,
    "augmented assignment on list elements": """
        a = [1, 2, 3]
        a[0] += 5
        a[-1] *= 2
        i = 1
        a[i] -= 10
        g = [[0, 0], [0, 0]]
        g[1][0] += 7
        print(a, g)
        def idx():
            print('idx')
            return 0
        a[idx()] += 1
        print(a)
    """,
    "list += aliases, tuple += rebinds": """
        l = [1]
        m = l
        l += [2]
        print(l, m, l is m)
        l = l + [3]
        print(l, m, l is m)
        t = (1,)
        u = t
        t += (2,)
        print(t, u, t is u)
        s = 'a'
        s += 'b'
        print(s)
    """,
    "tuple packing and unpacking": """
        a, b = 0, 1
        for _ in range(10):
            a, b = b, a + b
        print(a, b)
        t = (1, 2)
        x, y = t
        print(x, y)
        x, y = y, x
        print(x, y)
        z = 1, 2, 3
        print(z, (), (1,), len(z))
        p, q, r = 'abc'
        print(p, q, r)
        [m, n] = [5, 6]
        print(m, n)
    """,
    "nested unpacking": """
        (a, b), c = (1, 2), 3
        print(a, b, c)
        x, (y, (z, w)) = [1, [2, (3, 4)]]
        print(x, y, z, w)
        for (i, j), k in [((1, 2), 3), ((4, 5), 6)]:
            print(i, j, k)
    """,
    "swaps and parallel assignment": """
        a, b, c = 1, 2, 3
        a, b, c = c, a, b
        print(a, b, c)
        l = [1, 2]
        l[0], l[1] = l[1], l[0]
        print(l)
        i = 0
        l = [5, 6]
        i, l[i] = 1, 9
        print(i, l)
    """,
    "chained assignment": """
        a = b = [1]
        a.append(2)
        print(a, b, a is b)
        x = y = z = 0
        print(x, y, z)
    """,
    "assignment evaluation order": """
        def f(x):
            print('f', x)
            return x
        l = [0, 0]
        l[f(0)] = f(5)
        print(l)
        m = [[0], [0]]
        m[f(1)][f(0)] += f(3)
        print(m)
    """,
    # ---------------------------------------------------------------- lists
    "lists": """
        l = [1, 2, 3]
        m = [0] * 4
        l[1] = 10
        l.append(4)
        print(l, m, l[-1], l[-2], len(l), l[0] + l[-4])
        print([1, 2] + [3], [1] * 0, [] == [], [None] * 2, 2 * [1, 2])
        e = []
        e.append(e == [])
        print(e)
    """,
    "list of lists": """
        g = [[0, 0], [0, 0]]
        g[1][0] = 5
        print(g)
        rows = []
        for i in range(3):
            rows.append([i] * i)
        print(rows, rows[2][1], len(rows[1]))
        row = [0] * 3
        grid = [row] * 2
        grid[0][0] = 1
        print(grid)
    """,
    "list and str methods": """
        l = [3, 1, 2]
        l.sort()
        print(l, l.index(2), l.count(1), l.pop(), l)
        l.insert(0, 9)
        l.reverse()
        print(l)
        s = 'a,b'
        print(s.split(','), s.upper(), ' x '.strip(), '-'.join(['x', 'y']), s.find('b'))
    """,
    # ---------------------------------------------------------------- calls
    "recursion": """
        def fib(n):
            if n < 2:
                return n
            return fib(n - 1) + fib(n - 2)
        def fact(n):
            if n == 0:
                return 1
            return n * fact(n - 1)
        print(fib(15), fact(30))
    """,
    "mutual recursion": """
        def even(n):
            if n == 0:
                return True
            return odd(n - 1)
        def odd(n):
            if n == 0:
                return False
            return even(n - 1)
        print(even(10), odd(7), even(7))
    """,
    "deep recursion within the limit": """
        def depth(n):
            if n == 0:
                return 0
            return 1 + depth(n - 1)
        print(depth(900))
    """,
    "call before a later def": """
        def f():
            return g() + 1
        def g():
            return 3
        print(f())
    """,
    "a function shadowing a builtin": """
        def abs(x):
            return 'mine'
        def range(n):
            return [42]
        print(abs(-3))
        for i in range(3):
            print(i)
    """,
    "a builtin used before the function that shadows it": """
        print(abs(-3))
        for i in range(2):
            print(i)
        def abs(x):
            return 'mine'
        def range(n):
            return [42]
        print(abs(-3))
        for i in range(2):
            print(i)
    """,
    "parameters shadow builtins": """
        def f(len, max):
            return len + max
        print(f(1, 2))
    """,
    "builtins": """
        print(abs(-3), abs(-2.5), abs(2 ** 70 * -1), min(3, 1, 2), max(3, 1, 2))
        print(min([4, 5]), max((1, 9)), min('b', 'a'), len('abc'), len([1]), len(range(0, 10, 3)))
        print(int('42'), int(3.9), int(-3.9), int(True), float(2), float('1.5'), float('-inf'))
        print(round(2.5), round(3.5), round(-0.5), round(2.675, 2), round(7, -1), round(1.23456, 3))
        print(list(range(3)), range(1, 5), list(range(10, 0, -4)))
    """,
    "other builtins": """
        print(all([1, 0]), any([0, 1]), bin(5), bool(0), bool('x'), chr(65), divmod(-7, 2))
        print(hex(255), isinstance(1, int), list('ab'), oct(8), ord('a'), pow(2, 10), pow(2, 10, 7))
        print(repr('x'), list(reversed([1, 2])), sorted([3, 1, 2]), str(12), sum([1, 2, 3]))
        print(tuple([1, 2]), str(1.5), repr(2 ** 70), sum([0.1] * 10), divmod(7.5, 2))
    """,
    "builtins referenced as values": """
        f = abs
        print(f is abs, print is print)
    """,
    "return forms": """
        def a():
            return
        def b():
            return 5
        def c():
            return 1, 2
        def d():
            pass
        def e(x):
            if x:
                return 'x'
        print(a(), b(), c(), d(), e(0), e(1))
        x, y = c()
        print(x + y)
    """,
    # ---------------------------------------------------------------- globals
    "global statement": """
        global count
        count = 0
        def inc():
            global count
            count += 1
            return count
        inc()
        inc()
        print(count)
        def setg():
            global newg
            newg = 7
        setg()
        print(newg)
    """,
    "globals read by functions": """
        x = 1
        def f():
            return x + 1
        print(f())
        x = 5
        print(f())
        def g():
            return [x, K]
        K = 'k'
        print(g())
    """,
    "global and local of the same name": """
        x = 'global'
        def f():
            x = 'local'
            return x
        def g(x):
            return x
        print(f(), g('param'), x)
    """,
    # ---------------------------------------------------------------- main block
    "main block": """
        def main():
            print('main', __name__)
        if __name__ == "__main__":
            main()
        print(__name__)
    """,
    "main block is skipped when not main": """
        if __name__ != '__main__':
            print('imported')
        else:
            print('run')
    """,
}

# Programs that end with an exception: its type and message must be CPython's.
RAISING = {
    "ZeroDivisionError int": "print('before')\nx = 0\nprint(1 // x)\n",
    "ZeroDivisionError float": "print(1.0 / 0)\n",
    "ZeroDivisionError modulo": "print(5 % 0)\n",
    "ZeroDivisionError power": "print(0.0 ** -1)\n",
    "IndexError": "l = [1]\nprint(l[0])\nprint(l[3])\n",
    "IndexError store": "l = [1]\nl[-2] = 2\n",
    "IndexError tuple": "t = (1, 2)\nprint(t[5])\n",
    "IndexError str": "print('ab'[5])\n",
    "TypeError operand": "print(1 + 'a')\n",
    "TypeError sequence": "print([1] * 'a')\n",
    "TypeError subscript": "x = 5\nprint(x[0])\n",
    "TypeError not iterable": "for i in 5:\n    pass\n",
    "TypeError range arg": "for i in range(1.5):\n    pass\n",
    "TypeError range step": "s = 'x'\nfor i in range(0, 3, s):\n    pass\n",
    "TypeError too many args": "def f(a):\n    return a\nprint(f(1, 2))\n",
    "TypeError no args allowed": "def f():\n    return 1\nprint(f(1))\n",
    "TypeError missing arg": "def f(a, b):\n    return a\nprint(f(1))\n",
    "TypeError missing args": "def f(a, b, c, d):\n    return a\nprint(f(1))\n",
    "TypeError builtin arity": "print(len(1, 2))\n",
    "TypeError unpack": "a, b = 5\n",
    "NameError module": "print(y)\n",
    "NameError function": "def f():\n    return zz\nprint(f())\n",
    "NameError call before def": "print(f(print('args')))\ndef f(a):\n    return a\n",
    "NameError global never set": "def f():\n    global g\n    return g\nprint(f())\n",
    "NameError empty loop": "for i in range(0):\n    pass\nprint(i)\n",
    "UnboundLocalError": "def f():\n    print(x)\n    x = 1\nx = 5\nf()\n",
    "UnboundLocalError augmented": "c = 0\ndef f():\n    c += 1\nf()\n",
    "UnboundLocalError empty loop": "def f():\n    for i in range(0):\n        pass\n    return i\nf()\n",
    "ValueError too many": "a, b = [1, 2, 3]\n",
    "ValueError not enough": "a, b, c = [1, 2]\n",
    "ValueError parallel": "a, b = 1, 2, 3\n",
    "ValueError nested": "(a, b), c = (1, 2, 3), 4\n",
    "ValueError in for": "for a, b in [(1, 2), (3,)]:\n    print(a, b)\n",
    "ValueError zero step": "s = 0\nfor i in range(1, 2, s):\n    pass\n",
    "ValueError zero literal step": "for i in range(1, 2, 0):\n    pass\n",
    "ValueError builtin": "int('x')\n",
    "ValueError shift": "print(1 << -1)\n",
    "RecursionError": "def f(n):\n    return f(n + 1)\nprint('start')\nf(0)\n",
    "OverflowError": "print(2 ** 10000 / 1.0)\n",
    "IndexError method": "l = []\nl.pop()\n",
}


def _source(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_matches_cpython(name):
    out = assert_same_as_cpython(_source(PROGRAMS[name]))
    assert out.error is None and out.stdout  # the program itself is well-formed


@pytest.mark.parametrize("name", list(RAISING))
def test_raising_program_matches_cpython(name):
    out = assert_same_as_cpython(RAISING[name])
    assert out.error is not None and out.error[0] == name.split()[0]


def test_every_builtin_is_exercised():
    from ir.frontend import BUILTINS

    sources = "\n".join(PROGRAMS.values())
    assert [b for b in sorted(BUILTINS) if f"{b}(" not in sources] == []


def test_cpython_reference_helper_isolated():
    """The reference runs each program in a fresh namespace as ``__main__``."""
    assert run_cpython("print(__name__)\nx = 1\n").stdout == "__main__\n"
    assert run_cpython("print(x)\n").error == ("NameError", "name 'x' is not defined")


# --------------------------------------------------------------------------- lowering

def _ir(source: str, name: str) -> str:
    return print_function(compile_program(_source(source)).function(name))


def test_range_loop_is_int_arithmetic():
    text = _ir("def f(n):\n    t = 0\n    for i in range(n):\n        t += i\n    return t\n", "f")
    assert "_ITER_SEQ" not in text and "_RANGE_HAS_NEXT" not in text
    assert "_COMPARE_OP < " in text and "_RANGE_ARG" in text


def test_negative_literal_step_counts_down():
    text = _ir("def f(n):\n    for i in range(n, 0, -2):\n        print(i)\n", "f")
    assert "_COMPARE_OP > " in text and "_LOAD_CONST -2" in text
    assert "_RANGE_STEP" not in text


def test_variable_step_is_checked_at_runtime():
    text = _ir("def f(n, s):\n    for i in range(0, n, s):\n        print(i)\n", "f")
    assert "_RANGE_STEP" in text and "_RANGE_HAS_NEXT" in text


def test_sequence_loop_indexes():
    text = _ir("def f(l):\n    for x in l:\n        print(x)\n", "f")
    assert "_ITER_SEQ" in text and "_CALL_BUILTIN len" in text and "_BINARY_SUBSCR" in text


def test_parallel_assignment_builds_no_tuple():
    text = _ir("def f(a, b):\n    a, b = b, a + b\n    return a\n", "f")
    assert "_BUILD_TUPLE" not in text and "_UNPACK_SEQUENCE" not in text


def test_surely_bound_locals_are_not_checked():
    text = _ir("def f(a):\n    b = a\n    if a:\n        c = 1\n    return a + b + c\n", "f")
    assert "_LOAD_FAST_CHECK c" in text
    assert "_LOAD_FAST_CHECK a" not in text and "_LOAD_FAST_CHECK b" not in text
