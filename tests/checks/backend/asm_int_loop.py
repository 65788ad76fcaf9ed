# `workbench asm`: the machine code under each uop.  With registers and unboxed ints an
# add is add + jo to its exit stub, a compare a setl, and every side exit has a stub
# that resumes tier 1 at the exit's position.
# RUN: workbench asm --function total --passes default,regalloc %s | filecheck %s
# CHECK-LABEL: ; func @total: {{[0-9]+}} bytes, entries: bb0 @0x{{[0-9a-f]+}}, osr0 @0x{{[0-9a-f]+}}, {{[0-9]+}} side exits
# CHECK: entry shim
# CHECK: _ENTRY ^bb0, ^osr0
# CHECK: _COMPARE_OP_INT <
# CHECK: setl
# CHECK: _BINARY_OP_ADD_INT
# CHECK-NEXT: {{.*}}mov
# CHECK-NEXT: {{.*}}add
# CHECK-NEXT: {{.*}}jo
# CHECK: hole -> exit:{{[0-9]+}}
# CHECK: _BINARY_OP_MODULO_INT
# CHECK: exit stub 0: resume tier 1 at bb0:{{[0-9]+}}


def total(n):
    s = 0
    for i in range(n):
        if i % 3 == 0:
            s += i * 2
    return s


print(total(1000))
