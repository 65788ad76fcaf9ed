# A branch tier 1 never took has no profile: specialize leaves to tier 1 there
# (_EXIT_COLD, resuming at the generic uop, which stays behind it) instead of
# running it generically; the profiled loop is specialized.  With cold=generic
# the same site stays a generic uop and no cold exit appears.
# RUN: workbench pipeline --passes specialize --function f --verify-each %s | filecheck %s
# CHECK-LABEL: func @f(n)
# CHECK: _BINARY_OP_ADD_INT
# CHECK: _EXIT_COLD exit(
# CHECK-NEXT: = _BINARY_OP * %{{[0-9]+}}, %{{[0-9]+}}
# RUN: workbench pipeline --passes 'specialize{cold=generic}' --function f %s | filecheck --check-prefix=GENERIC %s
# GENERIC-LABEL: func @f(n)
# GENERIC-NOT: _EXIT_COLD


def f(n):
    total = 0
    for i in range(n):
        total += i
    if total < 0:
        total = total * 3
    return total


print(f(1000))
