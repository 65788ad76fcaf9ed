# Must not fire on a polymorphic site: add() saw (int, int) and (float, float),
# so its + stays generic with no guard, while count()'s monomorphic sites are
# specialized from the same profile.
# RUN: workbench pipeline --passes specialize --verify-each %s | filecheck %s
# CHECK-LABEL: func @add(a, b)
# CHECK: = _BINARY_OP + %0, %1
# CHECK-NOT: _GUARD
# CHECK-LABEL: func @count(n)
# CHECK: _GUARD_TOS_INT
# CHECK: _COMPARE_OP_INT <
# CHECK: _BINARY_OP_ADD_INT


def add(a, b):
    return a + b


def count(n):
    t = 0
    for i in range(n):
        t += i
    return t


if __name__ == "__main__":
    for k in range(30):
        add(k, 1)
        add(k * 0.5, 1.0)
    print(count(100))
