"""Run clang on a stencil source: C text in, ELF relocatable object (bytes) out.

The compiler is the one `use_compiler` named (a system clang >= 19, which `preserve_none`
needs; the CLI passes `--clang` / `$WORKBENCH_CLANG`) or else the clang inside the PyPI
`ziglang` package, so nothing but pip is required.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path


MIN_CLANG = 19

# Position-dependent code, one section per function, no tables or unwind info to relocate.
CFLAGS: tuple[str, ...] = (
    "-O3",
    "-fno-pic",  # absolute addresses: a 64-bit operand is one `movabs` with an R_X86_64_64
    "-mcmodel=medium",  # code is near (rel32 jumps); data may be far ...
    "-mlarge-data-threshold=0",  # ... all of it: else static tables get 32-bit absolute
    # addresses (R_X86_64_32S), which only fit if the code lives in the low 2 GiB.
    # Constant-pool loads stay rip-relative (PC32) to the stencil's own data.
    "-fomit-frame-pointer",
    "-fno-asynchronous-unwind-tables",
    "-fno-jump-tables",  # a switch must not become a table of code addresses
    "-ffunction-sections",  # one .text.NAME per stencil
    "-fno-stack-protector",  # some distributions' clang default it on; stencils have no
    # __stack_chk_guard to refer to
    "-g0",  # zig cc emits DWARF by default; nobody reads it and it doubles the object
)

# zig spells the freestanding triple its own way; a system clang gets the Linux one
# (as CPython's Tools/jit does), which changes nothing in freestanding stencil code.
ZIG_TARGET = ("-target", "x86_64-freestanding-none")
CLANG_TARGET = ("--target=x86_64-unknown-linux-gnu",)


class StencilBuildError(Exception):
    """clang failed or the object file cannot be turned into stencils."""


_command: tuple[str, ...] | None = None   # use_compiler's; None: the ziglang wheel's


def use_compiler(command: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...] | None:
    """Compile stencils with `command` from now on: a system clang >= 19, as an argv or
    one string split as a shell splits it; None (or empty): the `ziglang` wheel's.
    Returns the previous setting, to restore it with."""
    global _command
    if isinstance(command, str):
        command = shlex.split(command)
    old, _command = _command, tuple(command) if command else None
    return old


def chosen_compiler() -> tuple[str, ...] | None:
    """What `use_compiler` chose (None: the ziglang wheel's)."""
    return _command


def clang_command() -> list[str]:
    """The argv prefix that runs the C compiler."""
    if _command is not None:
        return list(_command)
    return [sys.executable, "-m", "ziglang", "cc"]


def _is_zig(command: list[str]) -> bool:
    return "ziglang" in command or Path(command[0]).name == "zig"


def _executable(command: list[str]) -> Path:
    """The binary that actually compiles: the zig inside ziglang, or the named clang."""
    if command[1:3] == ["-m", "ziglang"]:
        spec = importlib.util.find_spec("ziglang")
        if spec is None or spec.origin is None:
            raise StencilBuildError("the ziglang package is not installed "
                                    "(pip install ziglang, or name a clang: --clang / WORKBENCH_CLANG)")
        return Path(spec.origin).parent / "zig"
    found = shutil.which(command[0])
    if found is None:
        raise StencilBuildError(f"compiler not found: {command[0]!r} (--clang / WORKBENCH_CLANG)")
    return Path(found).resolve()


def fingerprint() -> str:
    """Identity of the compiler binary without running it (path, size, mtime).

    A different clang version is a different file, so this is as good a cache key as the
    version string, and a cache hit then starts no process at all.
    """
    command = clang_command()
    exe = _executable(command)
    st = exe.stat()
    ident = f"{shlex.join(command)}|{exe}|{st.st_size}|{st.st_mtime_ns}"
    return hashlib.sha256(ident.encode()).hexdigest()[:16]


def version() -> str:
    """The compiler's version line, e.g. 'clang version 22.1.8'; checks clang >= 19."""
    return _version(tuple(clang_command()))


@functools.cache
def _version(command: tuple[str, ...]) -> str:
    try:
        out = subprocess.run([*command, "--version"], capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise StencilBuildError(f"cannot run {shlex.join(command)}: {e}") from e
    line = out.strip().splitlines()[0] if out.strip() else ""
    match = re.search(r"clang version (\d+)", line)
    if not match or int(match.group(1)) < MIN_CLANG:
        raise StencilBuildError(
            f"{shlex.join(command)} is {line!r}; stencils need clang >= {MIN_CLANG} "
            "(preserve_none)")
    return line


def target_flags() -> tuple[str, ...]:
    return ZIG_TARGET if _is_zig(clang_command()) else CLANG_TARGET


LIBC_INCLUDE = ("/usr/include", "/usr/include/x86_64-linux-gnu")


@functools.cache
def include_flags() -> tuple[str, ...]:
    """`-I`/`-isystem` for the running interpreter's `Python.h` and the C library headers
    it includes (stencils use CPython's own struct layouts and macros); a one-line
    StencilBuildError names what to install when either is missing."""

    python_include = sysconfig.get_paths()["include"]
    if not Path(python_include, "Python.h").is_file():
        raise StencilBuildError(
            f"stencils include Python.h, which is not in {python_include}: install this "
            "Python's development headers (Debian: apt-get install python3-dev)")
    if not Path(LIBC_INCLUDE[0], "stdio.h").is_file():
        raise StencilBuildError(
            "Python.h needs the C library headers, not found in /usr/include: install "
            "them (Debian: apt-get install libc6-dev)")
    flags = ["-I", python_include]
    for d in LIBC_INCLUDE:
        if Path(d).is_dir():
            flags += ["-isystem", d]
    return tuple(flags)


def compile_c(source: str, extra_flags: tuple[str, ...] = ()) -> bytes:
    """Compile C source text to an x86-64 ELF object; clang's errors raise StencilBuildError."""
    command = clang_command()
    if "#include <Python.h>" in source:
        extra_flags = (*include_flags(), *extra_flags)
    with tempfile.TemporaryDirectory(prefix="stencils-") as tmp:
        src, obj = Path(tmp, "stencils.c"), Path(tmp, "stencils.o")
        src.write_text(source)
        argv = [*command, *target_flags(), *CFLAGS, *extra_flags, "-c", str(src), "-o", str(obj)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True)
        except OSError as e:
            raise StencilBuildError(f"cannot run {shlex.join(command)}: {e}") from e
        if done.returncode != 0:
            raise StencilBuildError(
                f"clang failed (exit {done.returncode}):\n{shlex.join(argv)}\n{done.stderr}")
        return obj.read_bytes()
