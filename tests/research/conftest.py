import pytest

SMALL = '''def sum_loop(n):
    total = 0
    for i in range(n):
        total += i
    return total


def fib_mod(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) % 1000003
    return a


print(sum_loop(300))
print(fib_mod(200))
'''


@pytest.fixture
def small_py(tmp_path):
    p = tmp_path / "small.py"
    p.write_text(SMALL)
    return p
