"""Generators on every backend against CPython: yield, send, throw, close, return values,
yield from (delegation, its result, throw forwarded), generator expressions,
generators consumed by CPython code (list, sum, sorted, max, zip), and async def/await
coroutines driven by send and by asyncio; most are hot enough to run compiled (each
step resumed at the block after a yield)."""

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

# Generators hot enough to run as optimized code (passes/suspend, the runtime's
# on_resume): each yield leaves the compiled code with the frame saved, next/send
# re-enter it at the block after the yield, throw/close resume in tier 1.
PROGRAMS.update({
    'hot_counter': '''
def count(n):
    i = 0
    while i < n:
        yield i
        i += 1

def evens(n):
    for k in range(n):
        if k % 2 == 0:
            yield k * 3

total = 0
for r in range(60):
    for x in count(40):
        total += x
    total += sum(evens(20))
print(total)
''',
    'hot_send': '''
def averager():
    total = 0
    n = 0
    avg = None
    while True:
        got = yield avg
        total += got
        n += 1
        avg = total // n

a = averager()
next(a)
for i in range(2000):
    last = a.send(i * 3)
print(last)

def echo():
    got = None
    while True:
        got = yield got

e = echo()
next(e)
print([e.send(k) for k in range(300)][-3:], e.send("str"), e.send(2.5), e.send(None))
''',
    'float_generators': '''
def halves(n):
    x = 0.0
    for i in range(n):
        yield x
        x += 0.5

def scaled(xs, f):
    for x in xs:
        yield x * f

print(sum(halves(1500)), sum(scaled(halves(800), 1.5)))
print(max(halves(300)), min(scaled(halves(200), -2.0)))
''',
    'pipelines': '''
def numbers(n):
    i = 0
    while i < n:
        yield i
        i += 1

def squares(xs):
    for x in xs:
        yield x * x

def odd(xs):
    for x in xs:
        if x % 2:
            yield x

def take(xs, k):
    for x in xs:
        if k == 0:
            return
        k -= 1
        yield x

t = 0
for rep in range(8):
    t += sum(take(odd(squares(numbers(200))), 70))
print(t, list(take(squares(numbers(10)), 4)))
g = (x + 1 for x in squares(numbers(600)) if x % 3)
print(sum(g))
''',
    'close_throw_compiled': '''
def ticker():
    i = 0
    while True:
        yield i
        i += 1

g = ticker()
for _ in range(500):
    v = next(g)
print(v)
g.close()
print(list(g), next(g, "closed"))
h = ticker()
for _ in range(500):
    w = next(h)
print(w)
h.throw(KeyError("thrown into a compiled generator"))
''',
    'types_change_between_resumes': '''
def acc():
    total = 0
    while True:
        x = yield total
        total = total + x

a = acc()
next(a)
for i in range(1000):
    r = a.send(i)
print(r)
for i in range(100):
    r = a.send(0.25)
print(r)
for i in range(100):
    r = a.send(2 ** 70)
print(r)
def mixed(n):
    v = 1
    for i in range(n):
        yield v
        v = v * 3 if i < 40 else v + 0.5
print(sum(mixed(200)))
''',
    'error_in_compiled_generator': '''
def divs(xs):
    for x in xs:
        yield 100 // x

def main():
    total = 0
    for d in divs(list(range(300, 0, -1)) + [0]):
        total += d
    print(total)

main()
''',
    'maybe_unbound_across_yields': '''
def g(n):
    for i in range(n):
        if i > 200:
            y = i
        yield i
        if i > 250:
            yield y

print(sum(g(300)))
def h(n):
    for i in range(n):
        if i == 250:
            yield z
        z = i
        yield i
print(sum(g(100)), list(h(240))[-1])
print(list(h(300)))
''',
    'global_written_while_suspended': '''
K = 2
def g(n):
    for i in range(n):
        yield i * K

t = 0
for r in range(100):
    t += sum(g(10))
h = g(1000)
for _ in range(300):
    t += next(h)
K = 3
t += sum(h)
K = 4.5
t += sum(g(200))
print(t)
''',
    'recursive_generators': '''
def walk(n):
    if n > 0:
        for x in walk(n - 1):
            yield x * 2
    yield n

def tree(depth):
    if depth == 0:
        yield "leaf"
        return
    for side in "lr":
        for path in tree(depth - 1):
            yield side + path

print(sum(walk(40)), list(walk(3)))
paths = list(tree(7))
print(len(paths), paths[0], paths[-1], sum(len(p) for p in tree(6)))
''',
    'yield_from_compiled': '''
import asyncio

def inner():
    i = 0
    while True:
        got = yield i
        i += 1 if got is None else got

def outer():
    r = yield from inner()
    yield r

def summing(n):
    total = yield from numbers(n)
    return total

def numbers(n):
    t = 0
    for i in range(n):
        yield i
        t += i
    return t

def wrap(n):
    s = yield from summing(n)
    yield s * 2

g = outer()
for _ in range(300):
    v = next(g)
print(v, g.send(10), next(g))
g.close()
print(list(g), list(wrap(200))[-3:], sum(wrap(500)))

async def tick(k):
    await asyncio.sleep(0)
    return k * 2

async def run_all(n):
    total = 0
    for i in range(n):
        total += await tick(i)
    return total

print(asyncio.run(run_all(300)))
h = outer()
for _ in range(300):
    w = next(h)
print(w)
h.throw(ValueError("thrown through yield from"))
''',
})


@pytest.mark.parametrize("name", PROGRAMS)
def test_program(name, tmp_path):
    assert_every_backend_like_cpython(PROGRAMS[name], tmp_path)
