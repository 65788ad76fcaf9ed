# The frontend's tier-1 IR: `for` over range as hidden locals $cur/$stop, a compare
# and branch per iteration, generic binary ops with their operators, line markers.
# RUN: workbench pipeline --passes "" --function total %s | filecheck %s
# CHECK-LABEL: func @total(n) locals(s, i, $cur0, $stop1) line {{[0-9]+}} {
# CHECK: %{{[0-9]+}} = _LOAD_FAST n
# CHECK-NEXT: %[[STOP:[0-9]+]] = _RANGE_ARG %{{[0-9]+}}
# CHECK: _STORE_FAST $stop1 %[[STOP]]
# CHECK: %[[CUR:[0-9]+]] = _LOAD_FAST $cur0
# CHECK-NEXT: %[[END:[0-9]+]] = _LOAD_FAST $stop1
# CHECK-NEXT: %[[C:[0-9]+]] = _COMPARE_OP < %[[CUR]], %[[END]]
# CHECK-NEXT: _BRANCH %[[C]], ^bb2, ^bb5
# CHECK: _BINARY_OP % %{{[0-9]+}}, %{{[0-9]+}}
# CHECK: _BINARY_OP += %{{[0-9]+}}, %{{[0-9]+}}
# CHECK: _RETURN


def total(n):
    s = 0
    for i in range(n):
        if i % 3 == 0:
            s += i * 2
    return s


print(total(1000))
