# A handler is entered from any faulting point of its blocks, by an edge with no
# arguments: locals live into it (total, errors, the loop's $cur0/$stop1) stay frame
# locals, stored before the protected block; i, which no handler reads, is promoted.
# RUN: workbench pipeline --passes specialize,typeprop,guardelim,dse,promote --function f %s | filecheck %s
# CHECK-LABEL: func @f(n)
# CHECK: _STORE_FAST total
# CHECK: _STORE_FAST errors
# CHECK: _STORE_FAST $cur0
# CHECK-NOT: _STORE_FAST i
# CHECK: bb{{[0-9]+}} except ^[[H:bb[0-9]+]]:
# CHECK-NEXT: .line {{[0-9]+}}
# CHECK-NEXT: _LOAD_FAST total
# CHECK: _STORE_FAST total
# CHECK: [[H]](%{{[0-9]+}}) except ^
# CHECK: _LOAD_FAST errors
# CHECK: _STORE_FAST errors


def f(n):
    total = 0
    errors = 0
    for i in range(n):
        try:
            total += 10 // (i % 3)
        except ZeroDivisionError:
            errors += 1
    return total, errors


print(f(100))
