"""One run of a program as ``workbench run`` makes it, and the exit status a tool
reports for it: what the CLI, the fuzzer's oracle and bisect share."""

from __future__ import annotations

import gc
import sys

from ir.errors import WorkbenchError
from passes.registry import load_plugin_file

from .jit import require_stencils
from .loader import load_module
from .names import DEFAULT_BACKEND, DEFAULT_PIPELINE
from .program import run_guarded
from .tiered import Runtime

INTERNAL_ERROR = 70   # a bug of ours (sysexits' EX_SOFTWARE)
USER_ERROR = 2        # bad input or options: one line on stderr


def load_plugins(paths) -> None:
    """``--load FILE``: a Python file registering passes."""
    for path in paths or ():
        load_plugin_file(path)


def run_file(path: str, backend: str = DEFAULT_BACKEND, passes: str = DEFAULT_PIPELINE,
             boxed: bool = False, verify: bool = False, direct_calls: bool = True,
             debug: bool = False, plugins=()) -> int:
    """Run the script (or ``.uop`` module) at ``path`` tiered on ``backend``: its output
    on stdout/stderr as CPython's, the program's exit status returned; bad input raises
    ``WorkbenchError``."""
    load_plugins(plugins)
    module = load_module(path)
    require_stencils(backend)
    # `run` reports nothing about the machine code, so Unicorn runs without count hooks.
    rt = Runtime(module, backend=backend, passes=passes, verify=verify, unicorn_mode="none",
                 boxed=boxed, direct_calls=direct_calls, debug=debug)
    # Everything alive now (the workbench's modules, the program's IR, the stencils) lives
    # as long as the run: out of the collector's sight, a full collection no longer walks
    # it (a fifth of a short run's time). Nothing of the program exists yet.
    gc.freeze()
    return run_guarded(rt.run, path)


def exit_status(body, debug: bool = False) -> int:
    """``body()``'s status, with our errors as the CLI ends them: a ``WorkbenchError`` is
    one line and status 2, a bug of ours one line and 70 (``debug``: its traceback)."""
    try:
        return body()
    except WorkbenchError as e:
        sys.stdout.flush()
        sys.stderr.write(f"{e}\n")
        return USER_ERROR
    except BrokenPipeError:
        return 0
    except Exception as e:
        if debug:
            raise
        sys.stdout.flush()
        sys.stderr.write(f"workbench: internal error: {type(e).__name__}: {e} "
                         f"(set WORKBENCH_DEBUG=1 or pass --debug for the traceback)\n")
        return INTERNAL_ERROR
