"""The tiered runtime as a library, below the CLI and the Jupyter layer.

``loader`` reads a script or ``.uop`` text; ``tiering`` profiles it in tier 1 and
optimizes one function (the pipeline on a copy, with an ``_ENTRY`` dispatcher);
``tiered.Runtime`` runs a program through the tiers on a backend; ``program`` ends a
run as CPython would; ``trace`` is the model of what optimized code executed; ``jit``
readies the stencils and compiles functions outside a run; ``session`` is one run as
``workbench run`` makes it and the exit status the tools report.  ``workbench.cli`` and
``workbench.api`` are two faces of this package; bench, fuzz, bisect and check call it.
"""

from .jit import compiled_functions, require_stencils
from .loader import load_module, read_text
from .names import BACKENDS, DEFAULT_BACKEND, DEFAULT_PIPELINE, JIT_BACKENDS
from .program import format_program_error, run_guarded
from .session import exit_status, load_plugins, run_file
from .tiered import Runtime
from .tiering import Optimized, constant_globals, optimize, warm_up
from .trace import trace_report

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "DEFAULT_PIPELINE", "JIT_BACKENDS", "Optimized",
           "Runtime", "compiled_functions", "constant_globals", "exit_status",
           "format_program_error", "load_module", "load_plugins", "optimize", "read_text",
           "require_stencils", "run_file", "run_guarded", "trace_report", "warm_up"]
