# A construct outside the supported subset is one line naming file, line and column.
# RUN: not workbench pipeline %s 2>&1 | filecheck %s
# CHECK: unsupported.py:8:5: unsupported: match statement
# CHECK-NOT: Traceback


def f(x):
    match x:
        case _:
            pass
