"""Functions as values, on every backend against CPython: def and lambda make real
function objects (defaults, keyword-only and keyword arguments, *args and **kwargs),
closures with nonlocal, nested functions, decorators, functions passed to CPython code,
and the builtins that read the caller's namespace (globals, locals, vars, dir, eval, exec)."""

import pytest

from helpers import assert_every_backend_like_cpython

PROGRAMS = {
    "signatures": '''
def f(a, b=2, *rest, c, d=4, **kw):
    return (a, b, rest, c, d, sorted(kw.items()))

def g(x, /, y=10):
    return x - y

def hot(n):
    t = 0
    for i in range(n):
        t += g(i, y=1) + g(i)
    return t

print(f(1, c=3))
print(f(1, 5, 6, 7, c=8, z=9, d=0))
print(hot(300), g.__name__, f.__defaults__, f.__kwdefaults__)
print(f(1, 2))
''',
    "closures": '''
def counter(start):
    count = start
    def bump(by=1):
        nonlocal count
        count += by
        return count
    return bump

def adders(n):
    return [(lambda x, k=k: x + k) for k in range(n)]

def compose(f, g):
    return lambda x: f(g(x))

c = counter(10)
for i in range(500):
    c()
print(c(), c(5))
print([a(100) for a in adders(4)], list(map(lambda a: a(1), adders(2))))
inc_twice = compose(lambda v: v + 1, lambda v: v * 2)
print(inc_twice(20))

def outer():
    x = 1
    def middle():
        def inner():
            return x
        return inner
    x = 2
    return middle()()
print(outer())

def late():
    def read():
        return y
    r = read()
    y = 1
    return r
late()
''',
    "decorators": '''
def trace(f):
    calls = []
    def wrapper(*args, **kwargs):
        calls.append(args)
        return f(*args, **kwargs)
    wrapper.calls = calls
    return wrapper

def times(n):
    def deco(f):
        def run(x):
            for _ in range(n):
                x = f(x)
            return x
        return run
    return deco

@trace
def square(x):
    return x * x

@times(3)
def double(x):
    return 2 * x

total = 0
for i in range(400):
    total += square(i)
print(total, len(square.calls), double(1))
print(list(map(square, [1, 2, 3])), sorted([3, -5, 1], key=abs))
print(max(["aa", "b", "cccc"], key=len), list(filter(lambda s: len(s) > 1, ["a", "bb"])))
''',
    "recursion": '''
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def make_fact():
    def fact(n):
        return 1 if n <= 1 else n * fact(n - 1)
    return fact

fact = make_fact()
print(fib(18), fact(20), fact(30))
def deep(n):
    return 0 if n == 0 else 1 + deep(n - 1)
print(deep(400))
''',
    "namespaces": '''
x = 2
g = globals()
print(g["x"], "x" in globals(), g is globals(), __name__)
print(eval("x * 21"), sorted(k for k in vars() if not k.startswith("__")))
exec("y = x + 1")
class C:
    a = 1
    names = sorted(locals())
def f():
    global x
    x = 7
f()
print(y, x, g["x"], C.names, dir() == sorted(dir()))
''',
}

ERRORS = {
    "missing_argument": "def f(a, *, b):\n    return a\nf(1)\n",
    "unexpected_keyword": "def f(a):\n    return a\nf(1, c=2)\n",
    "too_many": "g = lambda: 0\ng(1)\n",
    "unbound_free": "def f():\n    def g():\n        return v\n    g()\n    v = 1\nf()\n",
    "not_callable": "x = 1\nx()\n",
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_program(name, tmp_path):
    assert_every_backend_like_cpython(PROGRAMS[name], tmp_path)


@pytest.mark.parametrize("name", ERRORS)
def test_error(name, tmp_path):
    assert_every_backend_like_cpython(ERRORS[name], tmp_path)
