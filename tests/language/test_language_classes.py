"""Classes on every backend against CPython: class bodies, instances and attributes,
methods, inheritance and super(), dunder methods, staticmethod/classmethod/property,
__slots__, class attributes, the stdlib's dataclasses, enum, functools.wraps and
namedtuple on them, instances used by CPython code (sort keys, set members)."""

import pytest

from helpers import assert_every_backend_like_cpython

PROGRAMS = {
    "vector": '''
class Vec:
    """A 2-d vector."""
    count = 0
    def __init__(self, x, y):
        self.x = x
        self.y = y
        Vec.count += 1
    def __add__(self, o):
        return Vec(self.x + o.x, self.y + o.y)
    def __eq__(self, o):
        return self.x == o.x and self.y == o.y
    def __hash__(self):
        return hash((self.x, self.y))
    def __lt__(self, o):
        return self.norm2() < o.norm2()
    def __repr__(self):
        return "Vec(%r, %r)" % (self.x, self.y)
    def norm2(self):
        return self.x * self.x + self.y * self.y

def total(n):
    acc = Vec(0.0, 0.0)
    for i in range(n):
        acc = acc + Vec(i * 0.5, 1.0)
    return acc

v = total(600)
print(v, v.norm2(), Vec.count, Vec.__doc__, Vec.__qualname__)
print(sorted([Vec(3, 1), Vec(1, 0), Vec(2, 2)]), len(set([Vec(1, 1), Vec(1, 1)])))
print(Vec(1, 2) == Vec(1, 2), Vec(1, 2) != Vec(2, 1), type(v).__name__, isinstance(v, Vec))
''',
    "inheritance": '''
class Shape:
    sides = 0
    def __init__(self, name):
        self.name = name
    def describe(self):
        return self.name + " with " + str(self.sides) + " sides"
    def area(self):
        raise NotImplementedError("area of " + self.name)

class Rect(Shape):
    sides = 4
    def __init__(self, w, h):
        super().__init__("rect")
        self.w, self.h = w, h
    def area(self):
        return self.w * self.h

class Square(Rect):
    def __init__(self, s):
        super().__init__(s, s)
        self.name = "square"
    def describe(self):
        return "a " + super().describe()

def areas(n):
    t = 0
    for i in range(n):
        t += Square(i).area() + Rect(i, 2).area()
    return t

print(areas(500), Square(2).describe(), Rect(1, 2).describe())
print(Square.__mro__[1].__name__, issubclass(Square, Shape), Square(3).sides)
Shape("x").area()
''',
    "descriptors": '''
class Temp:
    __slots__ = ("_c",)
    def __init__(self, c):
        self._c = c
    @property
    def f(self):
        return self._c * 9 / 5 + 32
    @f.setter
    def f(self, v):
        self._c = (v - 32) * 5 / 9
    @staticmethod
    def zero():
        return Temp(0)
    @classmethod
    def boiling(cls):
        return cls(100)

t = Temp.boiling()
print(t.f, Temp.zero().f)
t.f = 212
print(t._c)
acc = 0.0
for i in range(300):
    acc += Temp(i).f
print(acc)
t.other = 1
''',
    "stdlib": '''
import dataclasses
import enum
import functools
import collections

@dataclasses.dataclass(order=True)
class Point:
    x: int
    y: int = 0
    def moved(self, dx):
        return Point(self.x + dx, self.y)

class Color(enum.Enum):
    RED = 1
    GREEN = 2

p = Point(1)
for i in range(200):
    p = p.moved(1)
print(p, Point(1, 2) < Point(2, 0), dataclasses.asdict(Point(3, 4)))
print(Color.RED, Color(2).name, [c.value for c in Color])

def trace(f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)
    return wrapper

@trace
def add(a, b=1):
    """adds"""
    return a + b
print(add(1), add(1, b=5), add.__name__, add.__doc__)
Pair = collections.namedtuple("Pair", "a b")
print(Pair(1, 2), Pair(1, 2).a, {f"k{i}": i * i for i in range(3)})

class Node:
    __slots__ = ("value", "next")
    def __init__(self, value, next=None):
        self.value, self.next = value, next
    def __iter__(self):
        n = self
        while n is not None:
            yield n.value
            n = n.next
    def __len__(self):
        return sum(1 for _ in self)
chain = None
for i in range(100):
    chain = Node(i, chain)
print(len(chain), list(chain)[:5], sorted(chain)[-3:])
''',
    "nested_scopes": '''
def make_class(base):
    class Local(base):
        def get(self):
            return base.__name__ + ":" + str(super().__len__())
    return Local

L = make_class(list)
print(L([1, 2, 3]).get(), L.__qualname__)

class Outer:
    x = 1
    class Inner:
        y = 2
    z = x + 1
print(Outer.Inner.y, Outer.z, Outer.Inner.__qualname__)
''',
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_program(name, tmp_path):
    assert_every_backend_like_cpython(PROGRAMS[name], tmp_path)
