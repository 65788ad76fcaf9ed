"""Code names uops through the checked names of ir.uops.U, not string literals."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ir.uops import UOPS, U

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ir", "passes", "backends", "workbench")
# the uop table: where the names are defined
TABLE_FILES = {"ir/uops.py", "ir/uops_language.py"}
LITERALS_ALLOWED: set[str] = set()


def sources():
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text())


def test_names_are_checked():
    assert U._LOAD_FAST == "_LOAD_FAST" and U["_GUARD_TOS_INT"] == "_GUARD_TOS_INT"
    with pytest.raises(AttributeError, match="_LOAD_FASTER"):
        U._LOAD_FASTER
    with pytest.raises(KeyError):
        U["_GUARD_TOS_STR"]
    assert set(dir(U)) == set(UOPS)


def test_every_U_name_exists():
    """Also the ones in function bodies, which an import does not evaluate."""
    bad = [f"{rel}:{n.lineno} U.{n.attr}" for rel, tree in sources() for n in ast.walk(tree)
           if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
           and n.value.id == "U" and n.attr not in UOPS and not n.attr.startswith("__")]
    assert bad == []


def test_no_uop_name_literals():
    found = [f"{rel}:{n.lineno} {n.value!r}" for rel, tree in sources()
             if rel not in TABLE_FILES and rel not in LITERALS_ALLOWED for n in ast.walk(tree)
             if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in UOPS]
    assert found == []
