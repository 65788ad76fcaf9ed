"""Build a stencil library from C source, once: results are cached on disk.

The key is sha256 of (source, flags, compiler identity, format version); see
`compiler.fingerprint` for why the compiler is identified by its binary rather than by
running `--version`: a cache hit then starts no process. Files are written to a temporary
name and renamed into place, so parallel test processes never see half a file.

The file format is `marshal` of plain tuples, not pickle: importing pickle would load
`_pickle` into the workbench's process, and a user script run there must find `pickle`
as under CPython (pyperformance's pickle_pure_python checks that `_pickle` is absent).
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import sys
import tempfile
from pathlib import Path

from . import compiler
from .stencil import Hole, HoleValue, Stencil, StencilLibrary

FORMAT = 4  # bump when Stencil/Hole change shape, elf_reader its output, or the file format
_memory: dict[str, StencilLibrary] = {}


_directory: Path | None = None   # use_cache_dir's; None: the default below


def use_cache_dir(directory: str | Path | None) -> Path | None:
    """Keep built stencils in `directory` from now on (None or empty: the default,
    ~/.cache/uop-workbench/stencils; the CLI passes `--stencil-cache` /
    `$WORKBENCH_CACHE_DIR`). Returns the previous setting, to restore it with."""
    global _directory
    old, _directory = _directory, Path(directory) if directory else None
    return old


def chosen_cache_dir() -> Path | None:
    """What `use_cache_dir` chose (None: the default)."""
    return _directory


def cache_dir() -> Path:
    if _directory is not None:
        return _directory
    return Path.home() / ".cache" / "uop-workbench" / "stencils"


def library_key(source: str, extra_flags: tuple[str, ...] = ()) -> str:
    flags = [*compiler.target_flags(), *compiler.CFLAGS, *extra_flags]
    # the interpreter too: stencils include its Python.h (struct layouts, macros)
    ident = json.dumps([FORMAT, source, flags, compiler.fingerprint(), sys.version,
                        sys.base_prefix])
    return hashlib.sha256(ident.encode()).hexdigest()


def build_library(source: str, extra_flags: tuple[str, ...] = ()) -> StencilLibrary:
    """The stencils of every function in `source` (a Mapping name -> Stencil)."""
    extra_flags = tuple(extra_flags)
    key = library_key(source, extra_flags)
    if key in _memory:
        return _memory[key]
    path = library_path(key)
    try:
        library = decode(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError, KeyError):   # missing or damaged
        library = None
    if library is None or library.key != key:
        # lazy: pyelftools takes ~50 ms to import and only a cache miss reads ELF
        from .elf_reader import read_stencils
        obj = compiler.compile_c(source, extra_flags)
        library = StencilLibrary(read_stencils(obj), compiler.version(), key)
        _store(path, encode(library))
    _memory[key] = library
    return library


def library_path(key: str) -> Path:
    """The cache file of the library with cache key `key`."""
    return cache_dir() / f"{key}.stencils"


def _holes(holes: tuple[Hole, ...]) -> tuple:
    return tuple((h.offset, h.kind, h.value.name, h.symbol, h.addend) for h in holes)


def encode(library: StencilLibrary) -> bytes:
    """`library` as the bytes of a cache file (`marshal` of tuples)."""
    return marshal.dumps((FORMAT, library.key, library.compiler, tuple(
        (s.name, s.code, _holes(s.holes), s.data, _holes(s.data_holes), s.data_alignment,
         s.fallthrough) for s in library.stencils.values())))


def decode(blob: bytes) -> StencilLibrary | None:
    """The library of a cache file; None if it is of another FORMAT. Damaged bytes raise
    EOFError, ValueError, TypeError or KeyError."""
    fmt, key, made_by, stencils = marshal.loads(blob)
    if fmt != FORMAT:
        return None
    values = HoleValue.__members__

    def holes(rows) -> tuple[Hole, ...]:
        return tuple(Hole(off, kind, values[v], sym, add) for off, kind, v, sym, add in rows)

    return StencilLibrary({name: Stencil(name, code, holes(h), data, holes(dh), align, fall)
                           for name, code, h, data, dh, align, fall in stencils}, made_by, key)


def _store(path: Path, blob: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
