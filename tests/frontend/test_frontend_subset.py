"""The supported subset, construct by construct: each program prints (and raises) exactly
what CPython prints (and raises).  Calls, globals and the main block here; expressions
and statements in test_frontend_expressions and test_frontend_statements."""

import pytest

import test_frontend_expressions
import test_frontend_statements
from helpers import assert_same_as_cpython, compile_program, run_cpython
from ir.printer import print_function
from subset_util import source as _source

# Each program is run by CPython and by the workbench; stdout and the exception (type and
# message), if any, must be the same.
PROGRAMS = {
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

    sources = "\n".join([*test_frontend_expressions.PROGRAMS.values(),
                         *test_frontend_statements.PROGRAMS.values(), *PROGRAMS.values()])
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
