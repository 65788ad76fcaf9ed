"""The supported subset, statements: if/while/for, assignment, lists; each program
prints (and raises) exactly what CPython prints (and raises)."""

import pytest

from helpers import assert_same_as_cpython
from subset_util import source

# Each program is run by CPython and by the workbench; stdout and the exception (type and
# message), if any, must be the same.
PROGRAMS = {
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
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_matches_cpython(name):
    out = assert_same_as_cpython(source(PROGRAMS[name]))
    assert out.error is None and out.stdout  # the program itself is well-formed
