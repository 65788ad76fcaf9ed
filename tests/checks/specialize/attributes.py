# Attribute sites from tier 1's profile: an instance value, a __slots__ member, a class
# attribute, a module attribute and a method call (a direct _CALL_FUNCTION of the
# method with self first: no bound method) are specialized behind a type version guard;
# a property (a data descriptor) and a site that saw two types stay generic.
# RUN: workbench pipeline --passes specialize --verify-each --explain %s 2>&1 | filecheck %s
# CHECK-LABEL: func @Point.norm2(self)
# CHECK: _GUARD_TYPE_VERSION {{[0-9]+}} %0
# CHECK-NEXT: %1 = _LOAD_ATTR_INSTANCE_VALUE x 0 %0
# CHECK: _LOAD_ATTR_INSTANCE_VALUE y 1
# CHECK-LABEL: func @work(p, s, n)
# CHECK: _CHECK_ATTR_NOT_SHADOWED 2
# CHECK-NEXT: = _CALL_FUNCTION @Point.norm2
# CHECK: = _LOAD_ATTR_SLOT v {{[0-9]+}}
# CHECK: = _LOAD_ATTR doubled
# CHECK: = _LOAD_ATTR_CLASS unit
# CHECK: = _LOAD_ATTR_MODULE pi {{[0-9]+}}
# CHECK: _STORE_ATTR_INSTANCE_VALUE x 0
# CHECK-LABEL: func @either(o)
# CHECK: = _LOAD_ATTR x %0
# CHECK: specialize: @work {{.*}} _LOAD_ATTR doubled {{.*}} left generic: a data descriptor (property)
# CHECK: specialize: @either {{.*}} left generic: polymorphic: Point | Q
import math


class Point:
    unit = 1.0

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm2(self):
        return self.x * self.x + self.y * self.y

    @property
    def doubled(self):
        return self.x * 2.0


class Slotted:
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v


class Q:
    def __init__(self):
        self.x = 2


def work(p, s, n):
    t = 0.0
    for i in range(n):
        t += p.norm2() + s.v + p.doubled + p.unit + math.pi
        p.x = p.x + 1.0
    return t


def either(o):
    return o.x


print(work(Point(1.0, 2.0), Slotted(0.5), 200))
print(either(Point(3.0, 4.0)), either(Q()))
