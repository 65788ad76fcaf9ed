"""Names the CLI, the API and the tools share, defined once."""

from __future__ import annotations

BACKENDS = ("interp", "native", "unicorn")   # where tier-2 code runs
JIT_BACKENDS = ("native", "unicorn")         # the ones that run machine code
DEFAULT_BACKEND = "native"                   # `workbench run`: the JIT
DEFAULT_PIPELINE = "default"
