# A watched constant global becomes _LOAD_CONST; list uops get list guards:
# len() -> _LIST_LEN, .append -> _LIST_APPEND, xs[i] -> _BINARY_SUBSCR_LIST_INT,
# xs[i] = v -> _STORE_SUBSCR_LIST_INT; truth of a list -> _TO_BOOL_LIST.
# RUN: workbench pipeline --passes specialize --verify-each %s | filecheck %s
# CHECK-LABEL: func @fill(n)
# CHECK: _LOAD_CONST 1000000007
# CHECK-NOT: _LOAD_GLOBAL
# CHECK: _GUARD_NOS_LIST
# CHECK-NEXT: = _LIST_APPEND
# CHECK: _GUARD_TOS_LIST
# CHECK-NEXT: = _LIST_LEN
# CHECK: _GUARD_NOS_LIST
# CHECK-NEXT: _GUARD_TOS_INT
# CHECK-NEXT: _STORE_SUBSCR_LIST_INT
# CHECK: _GUARD_TOS_LIST
# CHECK-NEXT: = _TO_BOOL_LIST
# CHECK: _GUARD_NOS_LIST
# CHECK-NEXT: _GUARD_TOS_INT
# CHECK-NEXT: = _BINARY_SUBSCR_LIST_INT

MOD = 1_000_000_007


def fill(n):
    xs = []
    for i in range(n):
        xs.append(i * 3 % MOD)
    m = len(xs)
    xs[0] = m
    if xs:
        return xs[m - 1]
    return 0


if __name__ == "__main__":
    for _ in range(5):
        print(fill(10))
