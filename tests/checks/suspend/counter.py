# A generator is optimized: its yield leaves through an exit that saves the frame
# (the promoted i written back, the yielded value named), the block after it is an
# _ENTRY target entered like an OSR loop header, guarded once there on the types the
# yield saved, so the loop has no guard left and the counter stays a raw int.
# RUN: workbench pipeline --passes default --verify-each --explain --function count %s 2>&1 | filecheck %s
# CHECK-LABEL: func @count(n) sig(kind generator)
# CHECK: _ENTRY ^pre0, ^osr0
# CHECK: pre0:
# CHECK: _GUARD_TOS_INT {{%[0-9]+}} exit(bb0:0)
# CHECK: bb1([[N:%[0-9]+]]:int, [[I:%[0-9]+]]:int):
# CHECK-NEXT: .line {{[0-9]+}}
# CHECK-NEXT: _COMPARE_OP_INT < [[I]], [[N]]
# CHECK: bb2:
# CHECK-NEXT: .line {{[0-9]+}}
# CHECK-NEXT: _YIELD_EXIT [[I]] exit(bb3:0, %4=[[I]], i=[[I]])
# CHECK: osr0:
# CHECK: _GUARD_TOS_INT {{%[0-9]+}} exit(bb3:0)
# CHECK: _GUARD_TOS_INT {{%[0-9]+}} exit(bb3:0)
# CHECK-NEXT: _JUMP ^bb3
# CHECK: bb3:
# CHECK-NOT: _GUARD
# CHECK: _BINARY_OP_ADD_INT
# CHECK-NOT: _GUARD
# CHECK: _RETURN
# CHECK: @count: a generator: each yield leaves through an exit with the frame saved; resumed at _ENTRY targets bb3
# CHECK: guardelim: @count resume point bb3 guarded once in osr0: n:int, i:int


def count(n):
    i = 0
    while i < n:
        yield i
        i += 1


if __name__ == "__main__":
    print(sum(count(1000)))
