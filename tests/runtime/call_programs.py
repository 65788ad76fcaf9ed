"""Programs shared by the call tests (test_runtime_calls, test_runtime_direct_calls)."""

GLOBALS = """\
K = 3


def addk(x):
    return x + K


def total(n):
    t = 0
    for i in range(n):
        t += addk(i)
    return t


print(total(200))
K = 5
print(total(200))
print(total(200))
K = 2.5
print(total(200))
"""

TYPES = """\
def scale(x):
    return x * 3


def run(xs, n):
    t = scale(xs[0])
    for i in range(n):
        t = t + scale(xs[i % len(xs)])
    return t


for _ in range(3):
    print(run([1, 2, 3], 300))
print(run([1.5, 2.5], 300))
print(run([2 ** 62, 1], 40))
for _ in range(4):
    print(run([0.25, 4.0], 300))
print(run(["a", "bc"], 5))
"""
