"""The IR text parser: what it accepts, and a ``file:line:col: message`` for what it does not."""

import math

import pytest

from ir.core import Exit, Target
from ir.errors import WorkbenchError
from ir.parser import ParseError, parse_function, parse_module
from ir.printer import print_module

HEAD = "module 'm'\n"
RET = "bb0:\n  %0 = _LOAD_CONST None\n  _RETURN %0\n"


def func(body: str, head: str = "func @f() {") -> str:
    """A module of one function: ``head``, the block lines of ``body``, ``}``."""
    return f"{HEAD}{head}\n{body.rstrip()}\n}}\n"


GOOD = """\
module 'demo'

# a comment, and blank lines, are ignored

func @<module>() locals($t0) {
bb0:
  .line 3
  %0 = _LOAD_CONST 5
  %1 = _CALL_FUNCTION @twice %0
  %2 = _CALL_BUILTIN print %1
  _STORE_FAST $t0 %2
  %3 = _LOAD_CONST None
  _RETURN %3
}

func @twice(x) locals(y) line 1 {
bb0:
  .line 2
  %0:int@r0 = _LOAD_FAST x
  %1:int@s3 = _BINARY_OP + %0, %0
  _GUARD_TOS_INT %1 exit(bb0:1, %0, %4=%1, y=%1)
  _JUMP ^bb1(%1)
bb1(%2:int):
  .line 3
  %3 = _LOAD_CONST None
  .line none
  _RETURN %2
}
"""


def test_parse_good_module():
    m = parse_module(GOOD, "demo.uop")
    assert m.name == "demo"
    assert [f.name for f in m.functions] == ["<module>", "twice"]
    main, twice = m.functions
    assert main.params == [] and main.locals == ["$t0"] and main.line is None
    assert twice.params == ["x"] and twice.locals == ["x", "y"] and twice.line == 1
    assert twice.types == {0: "int", 1: "int", 2: "int"}
    assert twice.locs == {0: "r0", 1: "s3"}
    b0, b1 = twice.blocks
    assert b1.params == [2]
    guard = b0.uops[2]
    assert guard.name == "_GUARD_TOS_INT" and guard.inputs == [1] and guard.line == 2
    assert guard.exit == Exit("bb0", 1, [(0, 0), (4, 1)], [("y", 1)])
    assert b0.uops[3].targets == [Target("bb1", [1])]
    assert [u.line for u in b1.uops] == [3, None]
    assert main.blocks[0].uops[1].imms == ("twice",)
    assert print_module(m) == GOOD.replace(
        "\n# a comment, and blank lines, are ignored\n", "")


@pytest.mark.parametrize("text, value", [
    ("0", 0), ("-7", -7), ("1_000", 1000), (str(2 ** 100), 2 ** 100),
    (str(-2 ** 70), -2 ** 70), ("2.5", 2.5), ("-0.0", -0.0), ("1e+16", 1e16),
    ("1e-07", 1e-07), ("inf", math.inf), ("-inf", -math.inf), ("True", True),
    ("False", False), ("None", None), ("'x'", "x"), ('"it\'s"', "it's"),
    ("'a\\nb\\t\\'c\\''", "a\nb\t'c'"), ("'\\u00e9\\x00'", "\u00e9\x00"), ("'é'", "é"),
    ("''", ""), ("0x1f", 31), ("-0xff", -255),
    pytest.param("0x" + "f" * 5000, 16 ** 5000 - 1, id="huge"),
])
def test_parse_constants(text, value):
    fn = parse_function(f"func @f() {{\nbb0:\n  %0 = _LOAD_CONST {text}\n  _RETURN %0\n}}\n")
    got = fn.blocks[0].uops[0].imms[0]
    assert type(got) is type(value) and got == value
    if isinstance(value, float):
        assert math.copysign(1, got) == math.copysign(1, value)


def test_parse_nan():
    fn = parse_function("func @f() {\nbb0:\n  %0 = _LOAD_CONST nan\n  _RETURN %0\n}\n")
    assert math.isnan(fn.blocks[0].uops[0].imms[0])


def test_parse_operators_of_every_kind():
    text = func("bb0:\n  %0 = _LOAD_CONST 2\n"
                "  %1 = _BINARY_OP **= %0, %0\n  %2 = _BINARY_OP // %1, %0\n"
                "  %3 = _COMPARE_OP is_not %2, %0\n  %4 = _COMPARE_OP not_in %0, %0\n"
                "  %5 = _UNARY_OP invert %0\n  %6 = _UNPACK_SEQUENCE 3 %0\n  _RETURN %6")
    uops = parse_module(text).functions[0].blocks[0].uops
    assert [u.imms for u in uops[1:7]] == [("**=",), ("//",), ("is_not",), ("not_in",),
                                           ("invert",), (3,)]


def test_parse_function_without_header():
    fn = parse_function("func @g(a, b) {\n" + RET + "}\n", "g.uop")
    assert fn.name == "g" and fn.params == ["a", "b"]


def test_parse_function_wants_exactly_one():
    two = "func @g() {\n" + RET + "}\nfunc @h() {\n" + RET + "}\n"
    with pytest.raises(ParseError) as e:
        parse_function(two, "two.uop")
    assert str(e.value) == "two.uop:1:1: expected one function, got 2"


def test_parse_error_fields():
    with pytest.raises(ParseError) as e:
        parse_module(func("bb0:\n  %0 = _FROB 1\n  _RETURN %0"), "x.uop")
    err = e.value
    assert isinstance(err, WorkbenchError)
    assert (err.filename, err.line, err.col, err.message) == (
        "x.uop", 4, 8, "unknown uop '_FROB'")


BIG = "9" * 5000

# (text, the complete message) -- 40 malformed inputs, each a ParseError.
MALFORMED = [
    ("", "t.uop:1:1: empty input: expected 'module \"NAME\"'"),
    ("\n# only a comment\n", "t.uop:3:1: empty input: expected 'module \"NAME\"'"),
    ("modul 'm'\n", "t.uop:1:1: expected 'module \"NAME\"' first, got 'modul'"),
    ("module m\n", "t.uop:1:8: expected a module name string, got 'm'"),
    ("module 'm\n", "t.uop:1:8: unexpected character \"'\""),
    ("module 'm' extra\n", "t.uop:1:12: unexpected 'extra'"),
    ("module '\\N{nope}'\n", "t.uop:1:8: bad string literal '\\N{nope}'"),
    (HEAD + "fun @f() {\n",
     "t.uop:2:1: expected 'func @name(...) {' or end of file, got 'fun'"),
    (HEAD + "func f() {\n", "t.uop:2:6: expected a function name like @f, got 'f'"),
    (HEAD + "func @f( {\n", "t.uop:2:10: expected a parameter name, got '{'"),
    (HEAD + "func @f(a b) {\n", "t.uop:2:11: expected ')', got 'b'"),
    (HEAD + "func @f() \n", "t.uop:2:11: expected '{', got end of line"),
    (HEAD + "func @f() { x\n", "t.uop:2:13: unexpected 'x'"),
    (HEAD + "func @f() line x {\n", "t.uop:2:16: expected a line number, got 'x'"),
    (HEAD + "func @f() line 4.5 {\n", "t.uop:2:16: expected a line number"),
    (HEAD + f"func @f() line {BIG} {{\n", "t.uop:2:16: integer too long (5000 digits)"),
    (HEAD + "func @f() locals(a, a) {\n", "t.uop:2:21: local 'a' is declared twice"),
    (HEAD + "func @f(a) locals(a) {\n", "t.uop:2:19: local 'a' is declared twice"),
    (func(RET) + "func @f() {\n" + RET + "}\n", "t.uop:7:6: function @f is defined twice"),
    (HEAD + "func @f() {\n}\n", "t.uop:3:1: function @f has no blocks"),
    (HEAD + "func @f() {\n" + RET, "t.uop:6:1: function @f is not closed with '}'"),
    (func(RET) + "}\n", "t.uop:7:1: expected 'func @name(...) {' or end of file, got '}'"),
    (func("  %0 = _LOAD_CONST None\n  _RETURN %0"),
     "t.uop:3:3: expected a block label like 'bb0:'"),
    (func(".line 3\n" + RET), "t.uop:3:1: .line outside a block"),
    (func("bb0:\n  .line\n  _RETURN %0"), "t.uop:4:8: expected a line number, got end of line"),
    (func("bb0:\n  .line -3\n  _RETURN %0"), "t.uop:4:9: expected a line number"),
    (func("bb0:\n  .lime 3\n  _RETURN %0"), "t.uop:4:3: expected a uop name, got '.lime'"),
    (func(RET + "bb0:\n  _RETURN %0"), "t.uop:6:1: block 'bb0' is defined twice"),
    (func("bb0(%0:int:\n  _RETURN %0"), "t.uop:3:11: expected ')', got ':'"),
    (func("bb0:\n  %0 = _LOAD_CONST None\n  %0 = _LOAD_CONST 1\n  _RETURN %0"),
     "t.uop:5:3: value %0 is defined twice"),
    (func("bb0:\n  %0 = _FROB 1\n  _RETURN %0"), "t.uop:4:8: unknown uop '_FROB'"),
    (func("bb0:\n  %0 = _STORE_FAST x %1\n  _RETURN %0"),
     "t.uop:4:8: _STORE_FAST produces no value"),
    (func("bb0:\n  _LOAD_CONST 1\n  _RETURN %0"),
     "t.uop:4:3: _LOAD_CONST produces a value; write '%N = _LOAD_CONST ...'"),
    (func("bb0:\n  %0 = _LOAD_CONST\n  _RETURN %0"),
     "t.uop:4:19: expected a constant, got end of line"),
    (func("bb0:\n  %0 = _LOAD_CONST foo\n  _RETURN %0"),
     "t.uop:4:20: expected a constant, got 'foo'"),
    (func("bb0:\n  %0 = _LOAD_CONST '\\N{nope}'\n  _RETURN %0"),
     "t.uop:4:20: bad string literal '\\N{nope}'"),
    (func("bb0:\n  %0 = _LOAD_CONST 'abc\n  _RETURN %0"),
     "t.uop:4:20: unexpected character \"'\""),
    (func(f"bb0:\n  %0 = _LOAD_CONST {BIG}\n  _RETURN %0"),
     "t.uop:4:20: integer too long (5000 digits)"),
    (func("bb0:\n  %0 = _LOAD_CONST 1 ;\n  _RETURN %0"), "t.uop:4:22: unexpected character ';'"),
    (func("bb0:\n  %0 = _LOAD_CONST 1 2\n  _RETURN %0"), "t.uop:4:22: unexpected '2'"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  %1 = _BINARY_OP @ %0, %0\n  _RETURN %1"),
     "t.uop:5:19: expected a binop operator, got '@'"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  %1 = _COMPARE_OP + %0, %0\n  _RETURN %1"),
     "t.uop:5:20: expected a cmpop operator, got '+'"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  %1 = _UNARY_OP not %0\n  _RETURN %1"),
     "t.uop:5:18: expected a unop operator, got 'not'"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  %1 = _BINARY_OP + %0\n  _RETURN %1"),
     "t.uop:5:8: _BINARY_OP takes 2 input(s), got 1"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  %1 = _BINARY_OP + %0, %0, %0\n  _RETURN %1"),
     "t.uop:5:8: _BINARY_OP takes 2 input(s), got 3"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  _JUMP"), "t.uop:5:3: _JUMP takes 1 successor(s), got 0"),
    (func("bb0:\n  %0 = _LOAD_CONST True\n  _BRANCH %0, ^bb0"),
     "t.uop:5:3: _BRANCH takes 2 successor(s), got 1"),
    (func("bb0:\n  %0 = _LOAD_CONST True\n  _BRANCH ^bb0, %0, ^bb0"),
     "t.uop:5:17: values must come before successor blocks"),
    (func("bb0:\n  %0 = _LOAD_CONST True\n  _JUMP ^bb0(%0"),
     "t.uop:5:16: expected ')', got end of line"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  %1 = _UNPACK_SEQUENCE 2.5 %0\n  _RETURN %1"),
     "t.uop:5:25: expected an integer"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  %1 = _CALL_FUNCTION f %0\n  _RETURN %1"),
     "t.uop:5:23: expected a function like @f, got 'f'"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  _RETURN %0 exit(bb0)"), "t.uop:5:22: expected ':', got ')'"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  _RETURN %0 exit(bb0:x)"),
     "t.uop:5:23: expected a uop index, got 'x'"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  _RETURN %0 exit(bb0:0, 5)"),
     "t.uop:5:26: expected a tier-1 value or a local, got '5'"),
    (func("bb0:\n  %0:int@ = _LOAD_CONST 1\n  _RETURN %0"),
     "t.uop:4:11: expected a location, got '='"),
    (func("bb0:\n  %0: = _LOAD_CONST 1\n  _RETURN %0"), "t.uop:4:7: expected a type, got '='"),
    (func("bb0:\n  %0:$x = _LOAD_CONST 1\n  _RETURN %0"), "t.uop:4:6: bad type '$x'"),
    (func("bb0:\n  %0@$x = _LOAD_CONST 1\n  _RETURN %0"), "t.uop:4:6: bad location '$x'"),
    (func("bb0:\n  %x = _LOAD_CONST 1\n  _RETURN %0"), "t.uop:4:3: expected a uop name, got '%'"),
    (func("bb0:\n  %0 _LOAD_CONST 1\n  _RETURN %0"), "t.uop:4:6: expected '=', got '_LOAD_CONST'"),
    (func("bb0:\n  %0 = _LOAD_FAST\n  _RETURN %0"),
     "t.uop:4:18: expected a local name, got end of line"),
    (func(f"bb0:\n  %{BIG} = _LOAD_CONST 1\n  _RETURN %0"), "t.uop:4:3: integer too long (5000 digits)"),
]


def _case_id(case):
    text, message = case
    return message.split(": ", 1)[1][:40]


@pytest.mark.parametrize("text, message", MALFORMED, ids=[_case_id(c) for c in MALFORMED])
def test_malformed_ir_is_a_parse_error(text, message):
    with pytest.raises(ParseError) as e:
        parse_module(text, "t.uop")
    assert str(e.value) == message


def test_enough_malformed_cases():
    assert len(MALFORMED) >= 30
    assert len({m for _, m in MALFORMED}) == len(MALFORMED)


def test_header_false_has_no_module_line():
    m = parse_module("func @f() {\n" + RET + "}\n", "f.uop", header=False)
    assert m.name == "f.uop" and [f.name for f in m.functions] == ["f"]
    with pytest.raises(ParseError) as e:
        parse_module("module 'm'\n", "f.uop", header=False)
    assert str(e.value) == "f.uop:1:1: expected 'func @name(...) {' or end of file, got 'module'"


def test_unicode_names_parse():
    text = func("bb0:\n  %0 = _LOAD_FAST été\n  _STORE_GLOBAL π %0\n  _RETURN %0",
                head="func @naïve(été) {")
    fn = parse_module(text).functions[0]
    assert fn.name == "naïve" and fn.params == ["été"]
    assert [u.imms for u in fn.blocks[0].uops] == [("été",), ("π",), ()]
