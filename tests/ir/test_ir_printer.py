"""The IR printer: the exact text form, and output that does not depend on anything but the IR."""

import math

import pytest

from helpers import compile_program
from ir.core import Block, Exit, Function, Module, Target, Uop
from ir.printer import format_const, print_function, print_module, print_uop


@pytest.mark.parametrize("value, text", [
    (0, "0"), (-5, "-5"), (2 ** 64, "18446744073709551616"), (True, "True"),
    (False, "False"), (None, "None"), (2.5, "2.5"), (-0.0, "-0.0"), (1e16, "1e+16"),
    (1e-7, "1e-07"), (math.inf, "inf"), (-math.inf, "-inf"), (math.nan, "nan"),
    ("x", "'x'"), ("it's", '"it\'s"'), ("a\nb", "'a\\nb'"), ("é", "'é'"), ("", "''"),
    # too many digits for decimal (sys.get_int_max_str_digits()): hex
    pytest.param(16 ** 5000 - 1, "0x" + "f" * 5000, id="huge"),
    pytest.param(-16 ** 5000, "-0x1" + "0" * 5000, id="huge negative"),
])
def test_format_const(value, text):
    assert format_const(value) == text


def _demo_function() -> Function:
    fn = Function("twice", ["x"], ["x", "y", "$t0"], line=7)
    b0 = Block("bb0", [
        Uop("_LOAD_FAST", [], 0, ("x",), line=8),
        Uop("_BINARY_OP", [0, 0], 1, ("+",), line=8),
        Uop("_GUARD_TOS_INT", [1], None, (), [], Exit("bb0", 1, [(0, 0), (4, 1)], [("y", 1)]),
            line=8),
        Uop("_STORE_FAST", [1], None, ("$t0",), line=9),
        Uop("_JUMP", [], None, (), [Target("bb1", [1])], line=9),
    ])
    b1 = Block("bb1", [Uop("_LOAD_CONST", [], 3, (-0.0,), line=None),
                       Uop("_RETURN", [2], None, (), line=10)], params=[2])
    fn.blocks = [b0, b1]
    fn.types = {0: "int", 1: "int", 2: "int"}
    fn.locs = {0: "r0", 2: "s1"}
    return fn


DEMO_TEXT = """\
func @twice(x) locals(y, $t0) line 7 {
bb0:
  .line 8
  %0:int@r0 = _LOAD_FAST x
  %1:int = _BINARY_OP + %0, %0
  _GUARD_TOS_INT %1 exit(bb0:1, %0, %4=%1, y=%1)
  .line 9
  _STORE_FAST $t0 %1
  _JUMP ^bb1(%1)
bb1(%2:int@s1):
  %3 = _LOAD_CONST -0.0
  .line 10
  _RETURN %2
}
"""


def test_print_function_exact_text():
    assert print_function(_demo_function()) == DEMO_TEXT


def test_print_uop():
    fn = _demo_function()
    assert print_uop(fn, fn.blocks[0].uops[2]) == "_GUARD_TOS_INT %1 exit(bb0:1, %0, %4=%1, y=%1)"
    assert print_uop(fn, fn.blocks[0].uops[1]) == "%1:int = _BINARY_OP + %0, %0"


def test_print_module_layout():
    fn = _demo_function()
    m = Module("demo 'quoted'.py", [fn])
    assert print_module(m) == "module \"demo 'quoted'.py\"\n\n" + DEMO_TEXT


def test_print_without_line_information():
    fn = Function("f", blocks=[Block("bb0", [Uop("_LOAD_CONST", [], 0, (None,)),
                                             Uop("_RETURN", [0])])])
    assert print_function(fn) == "func @f() {\nbb0:\n  %0 = _LOAD_CONST None\n  _RETURN %0\n}\n"


SOURCE = """\
K = 10


def f(a, b):
    total = 0
    for i in range(a, b, -1):
        total += i * K
    return total, 'done\\n', 1.5, -0.0, 2 ** 70


if __name__ == "__main__":
    print(f(10, 0))
"""


def test_printing_is_deterministic():
    texts = {print_module(compile_program(SOURCE, "det.py")) for _ in range(3)}
    assert len(texts) == 1


def test_frontend_module_text():
    text = print_module(compile_program("x = 2 ** 70\nprint(x, -0.0, 'a\\tb')\n", "p.py"))
    assert text == """\
module 'p.py'

func @<module>() {
bb0:
  .line 1
  %0 = _LOAD_CONST 2
  %1 = _LOAD_CONST 70
  %2 = _BINARY_OP ** %0, %1
  _STORE_GLOBAL x %2
  .line 2
  %3 = _LOAD_GLOBAL x
  %4 = _LOAD_CONST 0.0
  %5 = _UNARY_OP neg %4
  %6 = _LOAD_CONST 'a\\tb'
  %7 = _CALL_BUILTIN print %3, %5, %6
  %8 = _LOAD_CONST None
  _RETURN %8
}
"""
