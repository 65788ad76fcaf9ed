# A counted loop after specialize: $cur0 is 0 on entry and an ADD_INT result on
# the back edge, so every load of it is int; $stop1 is int because the guard on
# n (which replaced _RANGE_ARG) narrows the local it was loaded from.
# RUN: workbench pipeline --passes specialize,typeprop --verify-each %s | filecheck %s
# CHECK-LABEL: func @sum_loop(n)
# CHECK: %1 = _LOAD_FAST n
# CHECK-NEXT: _GUARD_TOS_INT %1
# CHECK: bb1:
# CHECK: %4:int = _LOAD_FAST $cur0
# CHECK-NEXT: %5:int = _LOAD_FAST $stop1
# CHECK: %6:bool = _COMPARE_OP_INT < %4, %5
# CHECK: bb2:
# CHECK: %9:int = _BINARY_OP_ADD_INT %7, %8
# CHECK: %10:int = _LOAD_FAST total
# CHECK: %11:int = _LOAD_FAST i
# CHECK: %12:int = _BINARY_OP_ADD_INT %10, %11
# CHECK: %13:int = _LOAD_FAST total


def sum_loop(n):
    total = 0
    for i in range(n):
        total += i
    return total


if __name__ == "__main__":
    print(sum_loop(1000))
