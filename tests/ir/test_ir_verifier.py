"""The verifier: structural and SSA errors in IR that parses, each named precisely."""

import pytest

from helpers import KERNELS, compile_program
from ir.core import Block, Function, Module, Uop
from ir.parser import parse_module
from ir.verifier import VerifyError, verify_function, verify_module


def func(body: str, head: str = "func @f() {") -> str:
    return f"module 'm'\n{head}\n{body.rstrip()}\n}}\n"


OK = "bb0:\n  %0 = _LOAD_CONST None\n  _RETURN %0\n"

# (text, the complete VerifyError message): IR that parses but is not valid.
INVALID = [
    (func("bb0:\n  _RETURN %0"),
     "verifier: @f bb0:0 (_RETURN %0): %0 is used but never defined"),
    (func("bb0:\n  %1 = _BINARY_OP + %0, %0\n  %0 = _LOAD_CONST 1\n  _RETURN %1"),
     "verifier: @f bb0:0 (%1 = _BINARY_OP + %0, %0): %0 is used before its definition"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  %1 = _BINARY_OP + %1, %0\n  _RETURN %1"),
     "verifier: @f bb0:1 (%1 = _BINARY_OP + %1, %0): %1 is used before its definition"),
    (func("bb0:\n  %0 = _LOAD_CONST True\n  _BRANCH %0, ^bb1, ^bb2\nbb1:\n"
          "  %1 = _LOAD_CONST 1\n  _JUMP ^bb2\nbb2:\n  _RETURN %1"),
     "verifier: @f bb2:0 (_RETURN %1): %1 is used where its definition (in bb1) "
     "does not dominate"),
    (func(OK + "bb1:\n  _RETURN %5"),
     "verifier: @f bb1:0 (_RETURN %5): %5 is used but never defined"),
    (func("bb0:\n  %1 = _LOAD_FAST x\n  _RETURN %1"),
     "verifier: @f bb0:0 (%1 = _LOAD_FAST x): unknown local 'x'"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  _STORE_FAST x %0\n  _RETURN %0", "func @f(y) {"),
     "verifier: @f bb0:1 (_STORE_FAST x %0): unknown local 'x'"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  _JUMP ^bb9"),
     "verifier: @f bb0:1 (_JUMP ^bb9): unknown block ^bb9"),
    (func("bb0:\n  %0 = _LOAD_CONST 1"),
     "verifier: @f bb0:0 (%0 = _LOAD_CONST 1): block does not end in a terminator"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  _RETURN %0\n  _RETURN %0"),
     "verifier: @f bb0:1 (_RETURN %0): terminator not at the end of its block"),
    (func("bb0:\nbb1:\n  %0 = _LOAD_CONST 1\n  _RETURN %0"), "verifier: @f bb0: empty block"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  _JUMP ^bb1(%0)\nbb1:\n  _RETURN %0"),
     "verifier: @f bb0:1 (_JUMP ^bb1(%0)): ^bb1 takes 0 argument(s), got 1"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  _JUMP ^bb1\nbb1(%1):\n  _RETURN %1"),
     "verifier: @f bb0:1 (_JUMP ^bb1): ^bb1 takes 1 argument(s), got 0"),
    (func("bb0(%0):\n  _RETURN %0"), "verifier: @f bb0: the entry block takes parameters"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  %1 = _CALL_FUNCTION @g %0\n  _RETURN %1"),
     "verifier: @f bb0:1 (%1 = _CALL_FUNCTION @g %0): unknown function @g"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  _RETURN %0 exit(bb0:0)"),
     "verifier: @f bb0:1 (_RETURN %0 exit(bb0:0)): _RETURN never exits but names a side exit"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  _GUARD_TOS_INT %0\n  _RETURN %0"),
     "verifier: @f bb0:1 (_GUARD_TOS_INT %0): _GUARD_TOS_INT can leave compiled code but "
     "names no side exit"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  _GUARD_TOS_INT %0 exit(bb0:0, x=%0)\n  _RETURN %0"),
     "verifier: @f bb0:1 (_GUARD_TOS_INT %0 exit(bb0:0, x=%0)): side exit names unknown "
     "local 'x'"),
    (func("bb0:\n  %0 = _LOAD_CONST 1\n  _GUARD_TOS_INT %0 exit(bb0:0, %7)\n  _RETURN %0"),
     "verifier: @f bb0:1 (_GUARD_TOS_INT %0 exit(bb0:0, %7)): %7 is used but never defined"),
    (func(OK, "func @f(a, a) {"), "verifier: @f: duplicate local names"),
]


@pytest.mark.parametrize("text, message", INVALID, ids=[m.split(": ")[-1][:40] for _, m in INVALID])
def test_invalid_ir_is_a_verify_error(text, message):
    m = parse_module(text, "t.uop")
    with pytest.raises(VerifyError) as e:
        verify_module(m)
    assert str(e.value) == message


def test_after_pass_is_named():
    m = parse_module(func("bb0:\n  _RETURN %0"))
    with pytest.raises(VerifyError) as e:
        verify_module(m, after_pass="dce")
    assert str(e.value) == ("verifier: after pass 'dce': @f bb0:0 (_RETURN %0): "
                            "%0 is used but never defined")


def test_structural_errors_built_directly():
    ret = [Uop("_LOAD_CONST", [], 0, (None,)), Uop("_RETURN", [0])]
    with pytest.raises(VerifyError, match="function has no blocks"):
        verify_function(Function("f"))
    with pytest.raises(VerifyError, match="parameters must be the first locals"):
        verify_function(Function("f", ["a"], ["b", "a"], [Block("bb0", list(ret))]))
    with pytest.raises(VerifyError, match="duplicate block labels"):
        verify_function(Function("f", blocks=[Block("bb0", list(ret)), Block("bb0", list(ret))]))
    with pytest.raises(VerifyError, match="unknown uop _NOPE"):
        verify_function(Function("f", blocks=[Block("bb0", [Uop("_NOPE"), *ret])]))
    with pytest.raises(VerifyError, match="wrong number of immediates"):
        verify_function(Function("f", blocks=[Block("bb0", [Uop("_LOAD_CONST", [], 0, ()),
                                                            Uop("_RETURN", [0])])]))
    with pytest.raises(VerifyError, match="output does not match"):
        verify_function(Function("f", blocks=[Block("bb0", [Uop("_LOAD_CONST", [], None, (1,)),
                                                            *ret])]))
    with pytest.raises(VerifyError, match="wrong number of successors"):
        verify_function(Function("f", blocks=[Block("bb0", [Uop("_JUMP")])]))
    with pytest.raises(VerifyError, match=r"%0 is defined twice"):
        verify_function(Function("f", blocks=[Block("bb0", [Uop("_LOAD_CONST", [], 0, (1,)),
                                                            *ret])]))
    with pytest.raises(VerifyError, match=r"_BINARY_OP takes 2 input\(s\), got 1"):
        verify_function(Function("f", blocks=[Block("bb0", [
            Uop("_LOAD_CONST", [], 0, (1,)), Uop("_BINARY_OP", [0], 1, ("+",)),
            Uop("_RETURN", [1])])]))
    fn = Function("f", blocks=[Block("bb0", list(ret))])
    with pytest.raises(VerifyError, match="duplicate function names"):
        verify_module(Module("m", [fn, fn]))


def test_unreachable_code_needs_no_dominance():
    """A use in unreachable code is not a dominance error (there is no dominance)."""
    m = parse_module(func("bb0:\n  %0 = _LOAD_CONST 1\n  _RETURN %0\n"
                          "bb1:\n  %1 = _LOAD_CONST 2\n  _JUMP ^bb2\n"
                          "bb2:\n  _RETURN %1"))
    verify_module(m)


@pytest.mark.parametrize("path", KERNELS, ids=[p.stem for p in KERNELS])
def test_frontend_output_verifies(path):
    verify_module(compile_program(path.read_text(), path.name))
