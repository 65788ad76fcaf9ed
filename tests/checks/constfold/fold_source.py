# From Python source: `2 * 3 + 1` folds to 7 at tier 2 (the generic _BINARY_OPs on
# int constants cannot raise), `1 // 0` is left for tier 1 to raise.
# RUN: workbench pipeline --no-profile --passes constfold --function f %s | filecheck %s
# CHECK-LABEL: func @f
# CHECK: _LOAD_CONST 7
# CHECK-NEXT: _STORE_FAST x
# CHECK: _BINARY_OP //
# CHECK-NOT: _BINARY_OP *


def f(flag):
    x = 2 * 3 + 1
    if flag:
        return 1 // 0
    return x


print(f(False))
