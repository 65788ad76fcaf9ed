"""Limits shared by every layer, defined once."""

from __future__ import annotations

import contextlib
import sys

# Python frames the host interpreter may stack while we compile or run a program: the
# frontend recurses per nested expression (a sum of a few hundred terms, which CPython
# accepts, needs more than the default 1000) and tier 1 per Python call.
HOST_RECURSION_LIMIT = 20000


@contextlib.contextmanager
def deep_recursion():
    """Raise the host recursion limit to at least HOST_RECURSION_LIMIT, then restore it."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, HOST_RECURSION_LIMIT))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)
