"""Runtime helpers report errors and side exits out of band (the frame's status word), so
every 64-bit result is a value: in particular -1 (all ones, once the "error" word) and
-(2**49) (0xFFFE << 48, once the "deopt" word), raw or boxed, natively and in Unicorn."""

import pytest

from backends.copy_and_patch import uop_stencils as S
from backends.copy_and_patch.emitter import compile
from backends.native.runner import NativeCode
from backends.unicorn_rt.runner import UnicornCode
from ir.parser import parse_function
from ir.verifier import verify_function

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
ERROR_BITS = -1                                   # the old ERROR_WORD as an int64
DEOPT_BITS = (0xFFFE << 48) - (1 << 64)           # the old DEOPT_WORD as an int64
VALUES = [ERROR_BITS, DEOPT_BITS, INT64_MIN, INT64_MAX, (1 << 47) - 1, -(1 << 47), 0]

# _RANGE_STEP runs in the helper; its output is a raw int (or boxed) word.
RANGE_STEP = """
func @f(s) locals() line 1 {
bb0:
  %0 = _LOAD_FAST s
  %1{t} = _RANGE_STEP %0
  _RETURN %1
}
"""

# A checked helper (it may take its side exit) with a raw int output.
SUBSCR = """
func @f(xs, i) locals() line 1 {
bb0:
  %0 = _LOAD_FAST xs
  %1:int = _LOAD_FAST i
  %2:int = _BINARY_SUBSCR_LIST_INT %0, %1 exit(bb0:2, %0, %1)
  _RETURN %2
}
"""

# A call (a side effect) whose boxed result is then unboxed to a raw int (through
# PyLong_AsLongLong when it has more than one digit), boxed again and returned.
CALL_UNBOX = """
func @f(s) locals() line 1 {
bb0:
  %0 = _LOAD_FAST s
  %1 = _CALL_FUNCTION @g %0
  _GUARD_TOS_INT %1 exit(bb0:2, %1)
  %2:int = _COPY %1
  %3:int = _LOAD_CONST 0
  %4:int = _BINARY_OP_ADD_INT %2, %3 exit(bb0:5, %2, %3)
  %5 = _COPY %4
  _RETURN %5
}
"""


class Env:
    """What a helper's `_CALL_FUNCTION` reaches: counts the calls (side effects)."""

    def __init__(self):
        self.globals = {}
        self.calls = 0

    def call(self, name, args):
        assert name == "g"
        self.calls += 1
        return args[0]


def code_for(text, backend, env=None):
    fn = parse_function(text)
    verify_function(fn)
    blob = compile(fn)
    if backend == "native":
        return NativeCode(blob, env=env)
    return UnicornCode(blob, "none", env=env)


@pytest.mark.parametrize("backend", ["native", "unicorn"])
@pytest.mark.parametrize("rep", [":int", ""], ids=["raw", "boxed"])
def test_range_step_results_are_values(backend, rep):
    code = code_for(RANGE_STEP.replace("{t}", rep), backend)
    site = code.blob.helper_sites[0]
    assert site.output == ("int" if rep else "box")
    for v in VALUES:
        if v == 0:
            with pytest.raises(ValueError):   # range() arg 3 must not be zero
                code.run({"s": v})
            continue
        got = code.run({"s": v})
        assert got == ("return", v) and type(got[1]) is int, (v, got)


@pytest.mark.parametrize("backend", ["native", "unicorn"])
def test_call_results_unboxed_and_boxed_are_exact(backend):
    env = Env()
    code = code_for(CALL_UNBOX, backend, env)
    for n, v in enumerate(VALUES[:-1], 1):
        assert code.run({"s": v}) == ("return", v), v
        assert env.calls == n   # called once: no side exit re-ran it
    # not an int: the guard's side exit (tier 1 resumes after the call, with its result)
    result = code.run({"s": "x"})
    assert result[0] == "exit" and result[2] == {1: "x"}


@pytest.mark.parametrize("backend", ["native", "unicorn"])
def test_helper_error_and_status_word(backend):
    code = code_for(RANGE_STEP.replace("{t}", ":int"), backend)
    with pytest.raises(TypeError):
        code.run({"s": "x"})
    assert code.helpers.error is None          # handed over, not left pending
    assert code.run({"s": -1}) == ("return", -1)
    # a raw result the int64 word cannot hold, at a site without a side exit: typeprop
    # never types such a result int; the helper reports it as an internal error
    with pytest.raises(RuntimeError, match="code expects int"):
        code.run({"s": 1 << 64})
    assert code.run({"s": DEOPT_BITS}) == ("return", DEOPT_BITS)


@pytest.mark.parametrize("backend", ["native", "unicorn"])
def test_checked_helper_raw_results_and_side_exit(backend):
    code = code_for(SUBSCR, backend)
    assert code.blob.helper_sites[0].has_exit and code.blob.helper_sites[0].output == "int"
    xs = [ERROR_BITS, DEOPT_BITS, INT64_MIN]
    for i, v in enumerate(xs):
        assert code.run({"xs": xs, "i": i}) == ("return", v)
    # out of range / past int64: the side exit, where tier 1 redoes the subscript
    assert code.run({"xs": xs, "i": 3})[0] == "exit"
    assert code.run({"xs": [1 << 64], "i": 0})[0] == "exit"
    assert S.HELPER_STATUS_WORD < S.HEADER_WORDS
