"""The copy-and-patch JIT as the tools use it outside a run: the stencil library ready
before anything runs, and each function of a program compiled as the runtime compiles
hot code (profile, pipeline, copy-and-patch) for ``asm`` and ``stencils list``."""

from __future__ import annotations

from backends.copy_and_patch.emitter import Unsupported, compile as emit
from backends.copy_and_patch.uop_stencils import library
from ir.core import MODULE_FUNCTION, Function, Module
from ir.errors import WorkbenchError

from .names import JIT_BACKENDS
from .tiering import optimize


def require_stencils(backend: str, hint: bool = True) -> None:
    """Build (or load) the stencil library before running, so a missing compiler is
    one line of error instead of a silent fall back to the interpreter."""
    if backend in JIT_BACKENDS:
        try:
            library()
        except Exception as e:
            raise WorkbenchError(f"--backend {backend}: cannot build the stencil library: "
                                 f"{type(e).__name__}: {e}"
                                 + (" (--backend interp runs without it)" if hint else "")
                                 ) from None


def compiled_functions(module: Module, passes: list, profile, values: dict,
                       function: str | None = None, boxed: bool = False):
    """(optimized function, code blob or the emitter's refusal) for each function of
    ``module`` (``function``: only that one; else every function but the module body)."""
    for fn in module.functions:
        if (function is None and fn.name == MODULE_FUNCTION) or \
                (function is not None and fn.name != function):
            continue
        opt: Function = optimize(module, fn, passes, profile, values).fn
        try:
            yield opt, emit(opt, boxed=boxed)
        except Unsupported as e:
            yield opt, str(e)
