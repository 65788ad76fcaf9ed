"""Printed IR parses back to the same text and the same dataclasses; the parser and the
verifier raise nothing but their own errors, whatever the text."""

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpers import KERNELS, compile_program
from ir.errors import WorkbenchError
from ir.parser import ParseError, parse_function, parse_module
from ir.printer import print_function, print_module
from ir.verifier import VerifyError, verify_module


def _kernel_module(path):
    return compile_program(path.read_text(), path.name)


KERNEL_FUNCTIONS = [(path, fn.name) for path in KERNELS
                    for fn in _kernel_module(path).functions]


@pytest.mark.parametrize("path", KERNELS, ids=[p.stem for p in KERNELS])
def test_kernel_module_roundtrip(path):
    m = _kernel_module(path)
    text = print_module(m)
    back = parse_module(text, path.stem + ".uop")
    verify_module(back)
    assert print_module(back) == text
    assert back == m


@pytest.mark.parametrize("path, name", KERNEL_FUNCTIONS,
                         ids=[f"{p.stem}:{n}" for p, n in KERNEL_FUNCTIONS])
def test_kernel_function_roundtrip(path, name):
    fn = _kernel_module(path).function(name)
    text = print_function(fn)
    back = parse_function(text, f"{name}.uop")
    assert print_function(back) == text
    assert back == fn


ODD_SOURCES = {
    "constants": "x = [0, -1, 2 ** 70, 18446744073709551616, 1.5, 1e400, 0.0, 1e-300, True,\n"
                 "     False, None, 'a\\n\\'b\\'', \"q\\\"\", 'é\\u2603', '']\nprint(x, -0.0)\n",
    "huge literal": "x = 0x" + "f" * 5000 + "\nprint(x % 1000, -x % 7)\n",
    "unicode names": "def été(ñ):\n    résumé = ñ + 1\n    return résumé\nπ = 3\nprint(été(π))\n",
    "all operators": "def f(a, b):\n    a += b\n    a //= 2\n    a **= 2\n    a <<= 1\n"
                     "    return (a - b, a * b, a / b, a % b, a >> 1, a & b, a | b, a ^ b,\n"
                     "            -a, +a, ~a, not a, a is b, a is not b, a in [b], a not in [b],\n"
                     "            a < b <= a, a == b != a, a > b >= a)\nprint(f(3, 4))\n",
    "control flow": "def f(n, s):\n    out = []\n    for i in range(n, 0, s):\n        if i % 3 == 0:\n"
                    "            continue\n        elif i == 7:\n            break\n"
                    "        out.append(i if i > 2 else -i)\n    else:\n        out.append(0)\n"
                    "    while n and out:\n        n -= 1\n    return out, n or None\n"
                    "print(f(10, -1), f(10, -2))\n",
}


@pytest.mark.parametrize("name", sorted(ODD_SOURCES))
def test_frontend_output_roundtrip(name):
    m = compile_program(ODD_SOURCES[name], "odd.py")
    text = print_module(m)
    back = parse_module(text)
    assert print_module(back) == text
    assert back == m


# --------------------------------------------------------------------------- fuzzing

KERNEL_TEXTS = [print_module(_kernel_module(p)) for p in KERNELS]

FRAGMENTS = ["%0", "%1", "%99", "^bb0", "^bb1", "^bb9", "@f", "@<module>", "@r0", ":int",
             "_JUMP", "_RETURN", "_BRANCH", "_LOAD_CONST", "_LOAD_FAST", "_STORE_FAST",
             "_BINARY_OP", "_CALL_FUNCTION", "_GUARD_TOS_INT", "exit(", "bb0:", "bb1(%3):",
             ".line ", ".line none", "func @g(a) {", "locals(", "line ", "module 'x'", "{", "}",
             "(", ")", ",", "=", ":", "'", '"', "inf", "-inf", "nan", "None", "True", "-0.0",
             "1e5", "9" * 30, "0xff", "+", "//=", "is_not", "$t0", "é", "\t", " ", "\n", "\n}\n", "#"]


def _check(text: str) -> None:
    """Parse and verify; any failure must be one of ours, and a success must print back
    to text that parses to the same text again."""
    try:
        m = parse_module(text, "fuzz.uop")
        verify_module(m)
    except (ParseError, VerifyError) as e:
        assert isinstance(e, WorkbenchError)
        assert "\n" not in str(e)
        return
    printed = print_module(m)
    assert print_module(parse_module(printed, "again.uop")) == printed


FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(st.text())
@example("")
@example("module 'm'\nfunc @f() {\nbb0:\n  _RETURN %" + "9" * 5000 + "\n}\n")
def test_random_text(text):
    _check(text)


@FUZZ
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=60))
def test_random_fragments(fragments):
    _check("module 'm'\n" + " ".join(fragments))


@FUZZ
@given(st.lists(st.lists(st.sampled_from(FRAGMENTS), max_size=8).map(" ".join), max_size=20))
def test_random_lines_in_a_function(lines):
    _check("module 'm'\nfunc @f(a) locals(b) {\nbb0:\n" + "\n".join(lines) + "\n}\n")


@st.composite
def mutated_ir(draw):
    text = draw(st.sampled_from(KERNEL_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "replace_line", "drop_line",
                                     "duplicate_line", "swap_lines"]))
        i = draw(st.integers(0, len(text)))
        lines = text.split("\n")
        j = draw(st.integers(0, len(lines) - 1))
        k = draw(st.integers(0, len(lines) - 1))
        if kind == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 12)):]
        elif kind == "insert":
            piece = draw(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)))
            text = text[:i] + piece + text[i:]
        else:
            if kind == "replace_line":
                lines[j] = draw(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)))
            elif kind == "drop_line":
                del lines[j]
            elif kind == "duplicate_line":
                lines.insert(j, lines[k])
            else:
                lines[j], lines[k] = lines[k], lines[j]
            text = "\n".join(lines)
    return text


@FUZZ
@given(mutated_ir())
def test_mutated_ir(text):
    _check(text)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(KERNEL_TEXTS), st.data())
def test_renumbered_values_still_roundtrip(text, data):
    """Values renumbered by any injective map: still valid IR, and it roundtrips."""
    m = parse_module(text)
    for fn in m.functions:
        n = fn.max_value() + 1
        perm = data.draw(st.permutations(range(n)))
        shift = data.draw(st.integers(0, 1000))
        mapping = {v: perm[v] + shift for v in range(n)}
        for b in fn.blocks:
            b.params = [mapping[p] for p in b.params]
            for u in b.uops:
                u.replace_uses(mapping)
                if u.output is not None:
                    u.output = mapping[u.output]
    verify_module(m)
    printed = print_module(m)
    back = parse_module(printed)
    assert back == m and print_module(back) == printed
