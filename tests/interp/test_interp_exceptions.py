"""A program that raises ends under ``workbench run`` as under ``python3``: the same stdout
before the error, the same last line of stderr, exit status 1."""

import pytest

from helpers import last_line, run_cli, run_python

RAISING = {
    "ZeroDivisionError": """
        def ratio(a, b):
            return a // b
        print('start')
        for d in [2, 1, 0]:
            print(ratio(10, d))
    """,
    "ZeroDivisionError float": "x = 0.0\nprint('a')\nprint(1.5 / x)\n",
    "IndexError": """
        def get(l, i):
            return l[i]
        xs = [1, 2, 3]
        print(get(xs, -3))
        print(get(xs, 3))
    """,
    "IndexError store": "xs = [0] * 3\nfor i in range(5):\n    xs[i] = i\n    print(xs)\n",
    "TypeError": """
        def add(a, b):
            return a + b
        print(add(1, 2))
        print(add('x', 'y'))
        print(add(1, 'y'))
    """,
    "TypeError call arity": "def f(a, b):\n    return a\nprint(f(1, 2))\nprint(f(1))\n",
    "NameError": """
        def f():
            return undefined_name + 1
        print('before')
        f()
    """,
    "NameError call before def": "print('x')\nprint(g(1))\ndef g(a):\n    return a\n",
    "UnboundLocalError": """
        total = 10
        def f(n):
            if n > 0:
                total = n
            return total
        print(f(1))
        print(f(0))
    """,
    "ValueError unpacking": """
        def pair(t):
            a, b = t
            return a + b
        print(pair((1, 2)))
        print(pair((1, 2, 3)))
    """,
    "ValueError not enough": "a, b, c = 'xy'\n",
    "RecursionError": """
        def down(n):
            return down(n + 1)
        print('going down')
        down(0)
    """,
    "RecursionError mutual": """
        def ping(n):
            return pong(n + 1)
        def pong(n):
            return ping(n + 1)
        print('ping')
        ping(0)
    """,
}


def _write(tmp_path, source: str):
    import textwrap

    path = tmp_path / "f.py"
    path.write_text(textwrap.dedent(source).lstrip("\n"))
    return path


@pytest.mark.parametrize("name", list(RAISING))
def test_exception_ends_like_cpython(name, tmp_path):
    path = _write(tmp_path, RAISING[name])
    want = run_python(path.name, cwd=tmp_path)
    got = run_cli("run", "--backend", "interp", path.name, cwd=tmp_path)
    assert want.returncode == 1, want.stderr
    assert got.returncode == 1, got.stderr
    assert got.stdout == want.stdout
    assert last_line(got.stderr) == last_line(want.stderr)
    assert last_line(want.stderr).startswith(name.split()[0] + ":")
    assert got.stderr.startswith("Traceback (most recent call last):\n")


def test_traceback_names_the_frames(tmp_path):
    path = _write(tmp_path, RAISING["IndexError"])
    got = run_cli("run", "--backend", "interp", path.name, cwd=tmp_path)
    assert got.stderr == (
        "Traceback (most recent call last):\n"
        '  File "f.py", line 5, in <module>\n'
        "    print(get(xs, 3))\n"
        '  File "f.py", line 2, in get\n'
        "    return l[i]\n"
        "IndexError: list index out of range\n")


def test_recursion_traceback_is_collapsed(tmp_path):
    path = _write(tmp_path, RAISING["RecursionError"])
    got = run_cli("run", "--backend", "interp", path.name, cwd=tmp_path)
    want = run_python(path.name, cwd=tmp_path)
    assert "more times]\n" in got.stderr
    assert len(got.stderr.splitlines()) < 20
    assert got.stderr.splitlines()[-2] == want.stderr.splitlines()[-2]


def test_success_is_status_0(tmp_path):
    path = _write(tmp_path, "print('ok')\n")
    got = run_cli("run", "--backend", "interp", path.name, cwd=tmp_path)
    assert (got.returncode, got.stdout, got.stderr) == (0, "ok\n", "")
