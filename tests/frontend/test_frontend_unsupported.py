"""Python outside the subset, and Python that is not Python: one exact line each,
``FILE:LINE:COL: unsupported: <construct>`` or ``FILE:LINE:COL: SyntaxError: msg``."""

import pytest

from helpers import one_line_error
from ir.errors import WorkbenchError
from ir.frontend import FrontendError, compile_source
from workbench.cli import main

# (source, the complete message for a file named prog.py).  Columns are 1-based
# characters, pointing at the construct itself.
UNSUPPORTED = [
    ("from . import x\n", "prog.py:1:1: unsupported: relative import"),
    ("x = 1\nfrom .m import y\n", "prog.py:2:1: unsupported: relative import"),
    ("try:\n    pass\nexcept* ValueError:\n    pass\n",
     "prog.py:1:1: unsupported: try/except* statement"),
    ("def f(x):\n    try:\n        pass\n    except* ValueError:\n        pass\n",
     "prog.py:2:5: unsupported: try/except* statement"),
    ("def f(x):\n    match x:\n        case _:\n            pass\n",
     "prog.py:2:5: unsupported: match statement"),
    ("async def f():\n    yield 1\n", "prog.py:1:1: unsupported: async generator"),
    ("async def f(g):\n    async for x in g:\n        pass\n",
     "prog.py:2:5: unsupported: async for"),
    ("async def f(g):\n    async with g:\n        async for x in g:\n            pass\n",
     "prog.py:3:9: unsupported: async for"),
    ("async def f(g):\n    return (x async for x in g)\n",
     "prog.py:2:25: unsupported: async comprehension"),
    ("def f(a):\n    with a:\n        return a @ a\n",
     "prog.py:3:16: unsupported: matrix multiplication"),
    ("x = 1\nmatch x:\n    case 1:\n        pass\n", "prog.py:2:1: unsupported: match statement"),
    ("d = 1\nclass A(**d):\n    pass\n",
     "prog.py:2:9: unsupported: **keywords in a class definition"),
    ("def f():\n    return locals()\n", "prog.py:2:12: unsupported: locals() in a function"),
    ("def f(s):\n    return eval(s)\n",
     "prog.py:2:12: unsupported: eval() without globals in a function"),
    ("fs = [lambda: i for i in range(3)]\n",
     "prog.py:1:7: unsupported: closure over a comprehension variable"),
    ("a = [1]\nx = a @ a\n", "prog.py:2:5: unsupported: matrix multiplication"),
    ("a = [1]\na @= a\n", "prog.py:2:1: unsupported: matrix multiplication"),
    # columns count characters, not UTF-8 bytes
    ("x = 'éé' + ([1] @ [2])\n", "prog.py:1:13: unsupported: matrix multiplication"),
    ("print('日本', [1][0:], [1] @ [2])\n", "prog.py:1:22: unsupported: matrix multiplication"),
]

SYNTAX_ERRORS = [
    ("x = 1; y = 2 +\n", "prog.py:1:15: SyntaxError: invalid syntax"),
    ("x = (\n", "prog.py:1:5: SyntaxError: '(' was never closed"),
    ("x = 1\n  y = 2\n", "prog.py:2:2: SyntaxError: unexpected indent"),
    ("def f(:\n    pass\n", "prog.py:1:7: SyntaxError: invalid syntax"),
    ("print(\"abc)\n", "prog.py:1:7: SyntaxError: unterminated string literal (detected at line 1)"),
    ("for x in [1]:\n    pass\nelse:\n    break\n", "prog.py:4:5: SyntaxError: 'break' outside loop"),
    ("x = (yield)\n", "prog.py:1:6: SyntaxError: 'yield' outside function"),
    ("def f(a, a):\n    pass\n",
     "prog.py:1:10: SyntaxError: duplicate argument 'a' in function definition"),
    ("def f(x):\n    global x\n", "prog.py:2:5: SyntaxError: name 'x' is parameter and global"),
    ("x = 1_000_\n", "prog.py:1:10: SyntaxError: invalid decimal literal"),
    ("x = 'é' $\n", "prog.py:1:9: SyntaxError: invalid syntax"),
    ("def f():\n    x = 1\n    global x\n",
     "prog.py:3:5: SyntaxError: name 'x' is assigned to before global declaration"),
    ("x = \x00\n", "prog.py:1:1: SyntaxError: source code string cannot contain null bytes"),
]

CASES = UNSUPPORTED + SYNTAX_ERRORS


def _id(case):
    source, message = case
    return message.split(": ", 1)[1]


@pytest.mark.parametrize("source, message", CASES, ids=[_id(c) for c in CASES])
def test_rejected_with_exact_message(source, message):
    with pytest.raises(FrontendError) as e:
        compile_source(source, "prog.py")
    assert isinstance(e.value, WorkbenchError)
    assert str(e.value) == message


@pytest.mark.parametrize("source, message", CASES, ids=[_id(c) for c in CASES])
def test_cli_reports_one_line_and_status_2(source, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prog.py").write_text(source, encoding="utf-8")
    status = main(["run", "prog.py"])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert one_line_error(err) == message


def test_enough_cases():
    assert len(UNSUPPORTED) >= 15   # what is still outside (the README lists it)
    constructs = {m.split("unsupported: ")[1] for _, m in UNSUPPORTED}
    for name in ["relative import", "try/except* statement", "async comprehension", "async generator",
                 "async for", "match statement", "matrix multiplication"]:
        assert name in constructs, name


def test_every_unsupported_node_name_is_tested():
    from ir.frontend import UNSUPPORTED_NAMES

    tested = {m.split("unsupported: ")[1] for _, m in UNSUPPORTED}
    untestable: set[str] = set()
    assert set(UNSUPPORTED_NAMES.values()) - untestable <= tested


def test_rejection_happens_before_anything_runs(tmp_path, monkeypatch, capsys):
    """An unsupported construct late in a file: nothing of the program is printed."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prog.py").write_text("print('hello')\nx = 1\nmatch x:\n    case 1:\n        pass\n")
    assert main(["run", "prog.py"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == "prog.py:3:1: unsupported: match statement\n"


def test_windows_line_endings_keep_columns():
    with pytest.raises(FrontendError) as e:
        compile_source("x = 1\r\ny = 'é' + (x @ x)\r\n", "prog.py")
    assert str(e.value) == "prog.py:2:12: unsupported: matrix multiplication"
