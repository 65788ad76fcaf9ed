"""`workbench stencils build|list|show`: the stencil library, inspected.

Why: a copy-and-patch JIT is only as good as its stencils, and a researcher changing a
uop's C body (ir/uops.py) wants to see what clang made of it: the bytes, the holes the
emitter patches, and whether the fast path stayed short. As CPython's Tools/jit dumps
its stencils, `show` disassembles one with capstone and marks every hole on the
instruction it patches.

The base library has one stencil per uop body with every operand in a frame slot (the
no-regalloc form), the control stencils and the entry shim. Register variants exist per
program: `list FILE.py` and `show NAME FILE.py` compile FILE's functions with the
pipeline (as `workbench asm` does) and look at the stencils the emitter used.
"""

from __future__ import annotations

import difflib
import time
from dataclasses import dataclass

from backends.copy_and_patch import cache, uop_stencils
from backends.copy_and_patch.uop_stencils import library
from ir.errors import WorkbenchError


@dataclass
class BuildReport:
    stencils: int
    compiler: str
    key: str
    cached: bool
    seconds: float


def build(force: bool = False) -> BuildReport:
    """Build (or load from the disk cache) the base library; `force` rebuilds it."""

    source = uop_stencils.stencil_source()
    key = cache.library_key(source)
    path = cache.library_path(key)
    if force:
        cache._memory.pop(key, None)
        path.unlink(missing_ok=True)
    cached = path.exists()
    t0 = time.perf_counter()
    try:
        lib = cache.build_library(source)
    except Exception as e:  # a missing or failing compiler is the user's to fix
        raise WorkbenchError(f"cannot build the stencil library: {type(e).__name__}: {e}") \
            from None
    return BuildReport(len(lib), lib.compiler, key, cached, time.perf_counter() - t0)


def base_library():
    """The base library (built on first use; a failing compiler is a one-line error)."""

    build()
    return library()


def program_stencils(blobs) -> dict:
    """Name -> Stencil of every stencil the given code blobs use (sorted by name)."""
    found = {}
    for blob in blobs:
        for s in blob.stencils:
            found.setdefault(s.name, s)
    return dict(sorted(found.items()))


def rows(stencils: dict) -> list[dict]:
    """One row per stencil for `list`: sizes and what its holes are patched with."""
    out = []
    for name, s in stencils.items():
        values = sorted({h.value.name for h in s.holes + s.data_holes})
        out.append({"name": name, "code": len(s.code), "data": len(s.data),
                    "holes": len(s.holes) + len(s.data_holes), "values": values,
                    "fallthrough": s.fallthrough})
    return out


def resolve(name: str, stencils: dict) -> list:
    """The stencils `name` means: an exact name; else every register variant of that
    uop (`NAME__...`); else a uop whose stencils are named `NAME_<op>` (a comparison
    has one per operator). A one-line error otherwise."""
    if name in stencils:
        return [stencils[name]]
    family = [s for n, s in stencils.items() if n.startswith(name + "__")] or \
        [s for n, s in stencils.items() if n.startswith(name + "_")
         and n[len(name) + 1:].split("__")[0].isupper()]
    if family:
        return family
    close = difflib.get_close_matches(name, list(stencils), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else \
        " (`workbench stencils list` shows them)"
    raise WorkbenchError(f"no stencil '{name}'{hint}")


def disassemble(stencil) -> list[str]:
    """Capstone disassembly of `stencil`, each hole shown on the instruction it patches:
    `; hole VALUE+addend (relocation)`; then its read-only data with its holes."""
    # lazy: capstone is slow to import; only this path needs it
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    holes = sorted(stencil.holes, key=lambda h: h.offset)
    lines = [f"{stencil.name}: {len(stencil.code)} bytes of code, {len(stencil.data)} of data"
             + (", falls through to its continuation" if stencil.fallthrough else "")]
    end = 0
    for address, size, mnemonic, operands in md.disasm_lite(stencil.code, 0):
        end = address + size
        text = f"  {address:04x}:  {stencil.code[address:end].hex(' '):<32} " \
               f"{mnemonic} {operands}".rstrip()
        here = [h for h in holes if address <= h.offset < end]
        if here:
            text = f"{text:<78} ; " + ", ".join(_hole(h) for h in here)
        lines.append(text)
    if end < len(stencil.code):
        lines.append(f"  {end:04x}:  {stencil.code[end:].hex(' ')}  (not decoded)")
    if stencil.data:
        lines.append("  .rodata:")
        for k in range(0, len(stencil.data), 16):
            chunk = stencil.data[k:k + 16]
            here = [h for h in stencil.data_holes if k <= h.offset < k + 16]
            text = f"  {k:04x}:  {chunk.hex(' ')}"
            if here:
                text = f"{text:<60} ; " + ", ".join(_hole(h) for h in here)
            lines.append(text)
    return lines


def _hole(h) -> str:
    addend = f"{h.addend:+d}" if h.addend else ""
    return f"hole {h.value.name}{addend} @{h.offset:#x} ({h.kind})"
