# The whole point: in the counted loop every guard is proven, so none is left
# but the one on the parameter n; --explain names the fact behind each removal.
# RUN: workbench pipeline --passes specialize,typeprop,guardelim --verify-each --explain %s 2>&1 | filecheck %s
# CHECK-LABEL: func @sum_loop(n)
# CHECK: _GUARD_TOS_INT %1
# CHECK-NOT: _GUARD
# CHECK: _RETURN
# CHECK: guardelim: @sum_loop bb1:2 _GUARD_BOTH_INT %4, %5 removed: %4:int (stored to $cur0 by _LOAD_CONST 0 in bb0 and _BINARY_OP_ADD_INT in bb2, joined at bb1), %5:int (stored to $stop1 by _LOAD_FAST n guarded at bb0:3 in bb0)
# CHECK: guardelim: @sum_loop bb2:2 _GUARD_BOTH_INT %7, %8 removed: %7:int ({{.*}}), %8:int (constant 1)
# CHECK: guardelim: @sum_loop bb2:8 _GUARD_BOTH_INT %10, %11 removed:


def sum_loop(n):
    total = 0
    for i in range(n):
        total += i
    return total


if __name__ == "__main__":
    print(sum_loop(1000))
