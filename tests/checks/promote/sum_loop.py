# After dse and promote the counted loop keeps total and the counter in block
# parameters: no frame load or store is left between the loop header and the
# return, and the loop-carried values travel as jump arguments.
# RUN: workbench pipeline --no-profile --passes dse,promote --verify-each --function sum_loop %s | filecheck %s
# CHECK-LABEL: func @sum_loop(n)
# CHECK: bb0:
# CHECK: [[N:%[0-9]+]] = _LOAD_FAST n
# CHECK-NOT: _STORE_FAST
# CHECK: _JUMP ^bb1([[T0:%[0-9]+]], [[C0:%[0-9]+]])
# CHECK-NEXT: bb1([[T:%[0-9]+]], [[C:%[0-9]+]]):
# CHECK-NOT: _LOAD_FAST
# CHECK-NOT: _STORE_FAST
# CHECK: _BINARY_OP + [[C]],
# CHECK-NOT: _LOAD_FAST
# CHECK: _BINARY_OP += [[T]], [[C]]
# CHECK-NEXT: _JUMP ^bb1({{%[0-9]+}}, {{%[0-9]+}})
# CHECK-NOT: _LOAD_FAST
# CHECK-NOT: _STORE_FAST
# CHECK: _RETURN [[T]]


def sum_loop(n):
    total = 0
    for i in range(n):
        total += i
    return total


if __name__ == "__main__":
    print(sum_loop(100))
