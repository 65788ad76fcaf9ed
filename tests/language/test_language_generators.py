"""Generators on every backend against CPython: yield, send, throw, close, return values,
yield from (delegation, its result, throw forwarded), generator expressions,
generators consumed by CPython code (list, sum, sorted, max, zip), and async def/await
coroutines driven by send."""

import pytest

from helpers import assert_every_backend_like_cpython

PROGRAMS = {
    "protocol": '''
def count(n):
    i = 0
    while i < n:
        got = yield i
        if got:
            i += got
        i += 1
    return "done"

g = count(10)
print(next(g), g.send(3), next(g), list(g))
total = 0
for v in count(3000):
    total += v
print(total, type(g).__name__)
h = count(5)
next(h)
h.close()
print(list(h))

def catcher():
    while True:
        try_value = yield "ready"
        print("got", try_value)

c = catcher()
print(next(c), c.send(1))
r = count(2)
print(next(r), next(r))
next(r)
''',
    "delegation": '''
def inner():
    x = yield 1
    return x * 10

def outer():
    r = yield from inner()
    yield r
    yield from [7, 8]
    return "end"

def chain(*its):
    for it in its:
        yield from it

o = outer()
print(next(o), o.send(4), list(o), list(chain("ab", (1, 2), range(2))))

def thrower():
    yield 1
    yield 2

def relay():
    yield from thrower()

t = relay()
print(next(t))
t.throw(ValueError("bad value"))
''',
    "expressions": '''
def squares(xs):
    return (x * x for x in xs if x % 2)

print(sum(squares(range(2000))), list(squares([1, 2, 3])))
print(max(x * 2 for x in [3, 9, 2]), sorted(k for k in "hello"), tuple(i for i in range(3)))
pairs = list((a, b) for a in range(3) for b in "xy" if a != 1)
print(pairs)
k = 10
print(list(i + k for i in range(3)), list(zip((x for x in "ab"), (y for y in [1, 2]))))
''',
    "coroutines": '''
class Ready:
    def __init__(self, v):
        self.v = v
    def __await__(self):
        got = yield self.v
        return got * 2

async def add(a, b):
    x = await Ready(a)
    return x + b

async def main(n):
    total = 0
    for i in range(n):
        total += await add(i, 1)
    return total

c = main(300)
v = c.send(None)
steps = 0
while steps < 299:
    v = c.send(v)
    steps += 1
print(v, steps, type(c).__name__, c.__qualname__)
c.send(v)
''',
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_program(name, tmp_path):
    assert_every_backend_like_cpython(PROGRAMS[name], tmp_path)
