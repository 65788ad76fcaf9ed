# try/except/finally: the body's block names its handler; the handler takes the
# exception, pushes it as the one being handled, matches the clause, binds and unbinds
# the as-name; a cleanup block pops it and re-raises; the finally body is emitted on the
# normal path and on the exception path.
# RUN: workbench pipeline --passes "" --function safe_div %s | filecheck %s
# CHECK-LABEL: func @safe_div(a, b)
# CHECK: bb0 except ^[[H:bb[0-9]+]]:
# CHECK: _BINARY_OP // %{{[0-9]+}}, %{{[0-9]+}}
# CHECK: [[H]](%[[E:[0-9]+]]) except ^[[C:bb[0-9]+]]:
# CHECK: _PUSH_EXC_INFO %[[E]]
# CHECK: _CHECK_EXC_MATCH
# CHECK: _STORE_FAST e
# CHECK: _DELETE_FAST e
# CHECK: _POP_EXCEPT
# CHECK: [[C]](%[[R:[0-9]+]]) except ^
# CHECK-NEXT: .line
# CHECK-NEXT: %{{[0-9]+}} = _LOAD_FAST $prev0
# CHECK-NEXT: _POP_EXCEPT
# CHECK-NEXT: _RERAISE %[[R]]
# CHECK: _CALL_BUILTIN print
# CHECK: _PUSH_EXC_INFO
# CHECK: _CALL_BUILTIN print
# CHECK: _RERAISE
# CHECK: _RETURN


def safe_div(a, b):
    try:
        q = a // b
    except ZeroDivisionError as e:
        q = 0
    finally:
        print("done")
    return q


print(safe_div(7, 2), safe_div(1, 0))
