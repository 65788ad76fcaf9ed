# with: __enter__ and the bound __exit__ come from _BEFORE_WITH; the body is protected
# by a handler that calls __exit__ with the exception (_WITH_EXCEPT_START) and either
# suppresses it (a true result) or re-raises; the normal path calls __exit__(None, None,
# None); bare raise re-raises the exception being handled.
# RUN: workbench pipeline --passes "" --function use %s | filecheck %s
# CHECK-LABEL: func @use(m)
# CHECK: _BEFORE_WITH
# CHECK: _STORE_FAST $exit0
# CHECK: except ^[[W:bb[0-9]+]]:
# CHECK: _CALL_BUILTIN print
# CHECK: %[[NONE:[0-9]+]] = _LOAD_CONST None
# CHECK-NEXT: _LOAD_FAST $exit0
# CHECK-NEXT: _CALL names() %{{[0-9]+}}, %[[NONE]], %[[NONE]], %[[NONE]]
# CHECK: [[W]](%[[E:[0-9]+]]) except ^
# CHECK: _PUSH_EXC_INFO %[[E]]
# CHECK: _WITH_EXCEPT_START %{{[0-9]+}}, %[[E]]
# CHECK: _TO_BOOL
# CHECK: _POP_EXCEPT
# CHECK: _RERAISE
# CHECK: _ACTIVE_EXCEPTION
# CHECK-NEXT: _RERAISE


def use(m):
    with m:
        print("inside")
    try:
        m.missing
    except AttributeError:
        raise


class M:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


try:
    use(M())
except AttributeError as e:
    print(e)
