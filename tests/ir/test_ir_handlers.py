"""Handler edges in the IR: ``bbN except ^bbH:`` names the block an exception raised in
bbN goes to; printed and parsed with an exact round trip, checked by the verifier and
seen by the CFG queries (successors, predecessors, dominators) as an edge from bbN."""

import pytest

from helpers import compile_program
from ir.cfg import dominators, predecessors, successors
from ir.parser import parse_module
from ir.printer import print_module
from ir.verifier import VerifyError, verify_module

TEXT = """\
module 'm'

func @f(x) locals(r, $prev0) {
bb0 except ^bb2:
  .line 3
  %0 = _LOAD_CONST 10
  %1 = _LOAD_FAST x
  %2 = _BINARY_OP // %0, %1
  _STORE_FAST r %2
  _JUMP ^bb1
bb1:
  %3 = _LOAD_FAST r
  _RETURN %3
bb2(%4) except ^bb3:
  %5 = _PUSH_EXC_INFO %4
  _STORE_FAST $prev0 %5
  %6 = _LOAD_CONST -1
  _STORE_FAST r %6
  %7 = _LOAD_FAST $prev0
  _POP_EXCEPT %7
  _JUMP ^bb1
bb3(%8):
  %9 = _LOAD_FAST $prev0
  _POP_EXCEPT %9
  _RERAISE %8
  %10 = _LOAD_CONST None
  _RETURN %10
}
"""


def test_handler_edges_round_trip():
    m = parse_module(TEXT)
    verify_module(m)
    assert print_module(m) == TEXT
    f = m.function("f")
    assert [b.handler for b in f.blocks] == ["bb2", None, "bb3", None]
    assert parse_module(print_module(m)) == m


def test_cfg_sees_the_handler_edge():
    f = parse_module(TEXT).function("f")
    assert successors(f) == {"bb0": ["bb1", "bb2"], "bb1": [], "bb2": ["bb1", "bb3"],
                             "bb3": []}
    assert predecessors(f)["bb2"] == ["bb0"]
    assert dominators(f)["bb3"] == "bb2"


@pytest.mark.parametrize("old, new, message", [
    ("bb0 except ^bb2:", "bb0 except ^bb9:", "@f bb0: unknown handler block ^bb9"),
    ("bb2(%4) except ^bb3:", "bb2 except ^bb3:",
     "@f bb0: handler ^bb2 must take one parameter (the exception)"),
    ("  %6 = _LOAD_CONST -1\n", "  %6 = _LOAD_CONST -1\n  %11 = _BINARY_OP + %2, %6\n",
     "@f bb2:3 (%11 = _BINARY_OP + %2, %6): %2 is defined in a block protected by ^bb2 "
     "and used where that handler reaches"),
])
def test_verifier_checks_handlers(old, new, message):
    text = TEXT.replace(old, new)
    with pytest.raises(VerifyError) as e:
        verify_module(parse_module(text))
    assert str(e.value) == "verifier: " + message


def test_frontend_try_round_trips():
    m = compile_program("def f(x):\n    try:\n        return 1 // x\n    except ZeroDivisionError"
                        " as e:\n        return str(e)\n    finally:\n        print('f')\n"
                        "with open(__file__) as fh:\n    pass\n")
    verify_module(m)
    text = print_module(m)
    assert " except ^" in text
    assert print_module(parse_module(text)) == text
