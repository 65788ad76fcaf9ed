"""Shared by the test_frontend_* subset modules: a program's text as the tests write it."""

import textwrap


def source(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")
