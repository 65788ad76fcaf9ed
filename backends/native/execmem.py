"""W^X executable memory: write while RW, then `seal()` to RX; never both at once.

Python's `mmap` module cannot change protections, so this calls libc's mmap/mprotect/
munmap through ctypes.
"""

from __future__ import annotations

import ctypes
import mmap as _mmap
import os

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long]
_libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_MAP_FAILED = ctypes.c_void_p(-1).value


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what} failed: {os.strerror(errno)}")


class ExecutableMemory:
    """Page-aligned anonymous memory for generated code.

    Functions made by `function()` keep this object alive; calling one after an explicit
    `free()` crashes the process.
    """

    def __init__(self, size: int):
        self._address: int | None = None
        self.sealed = False
        self.size = -(-max(size, 1) // _mmap.PAGESIZE) * _mmap.PAGESIZE
        address = _libc.mmap(None, self.size, _mmap.PROT_READ | _mmap.PROT_WRITE,
                             _mmap.MAP_PRIVATE | _mmap.MAP_ANONYMOUS, -1, 0)
        _check(address in (None, _MAP_FAILED), "mmap")
        self._address = address

    @property
    def address(self) -> int:
        if self._address is None:
            raise ValueError("executable memory has been freed")
        return self._address

    def write(self, data: bytes, offset: int = 0) -> None:
        if self.sealed:
            raise PermissionError("executable memory is sealed (RX); W^X forbids writing")
        if offset < 0 or offset + len(data) > self.size:
            raise ValueError(f"write of {len(data)} bytes at {offset} exceeds {self.size}")
        ctypes.memmove(self.address + offset, data, len(data))

    def read(self, offset: int = 0, size: int | None = None) -> bytes:
        return ctypes.string_at(self.address + offset, self.size - offset if size is None
                                else size)

    def seal(self) -> None:
        """Make the memory read+execute (and no longer writable)."""
        _check(_libc.mprotect(self.address, self.size, _mmap.PROT_READ | _mmap.PROT_EXEC),
               "mprotect")
        self.sealed = True

    def unseal(self) -> None:
        """Back to read+write and not executable, to patch code (then `seal()` again)."""
        _check(_libc.mprotect(self.address, self.size, _mmap.PROT_READ | _mmap.PROT_WRITE),
               "mprotect")
        self.sealed = False

    def function(self, restype, *argtypes, offset: int = 0, python_api: bool = False):
        """The code at `offset` as a ctypes function (the memory must be sealed);
        `python_api`: called with the GIL held (code that uses the C API)."""
        if not self.sealed:
            raise PermissionError("seal() the memory before running code in it")
        if python_api:
            func = ctypes.PYFUNCTYPE(restype, *argtypes)(self.address + offset)
        else:
            func = cfunction(self.address + offset, restype, *argtypes)
        func.memory = self
        return func

    def free(self) -> None:
        if self._address is not None:
            _check(_libc.munmap(self._address, self.size), "munmap")
            self._address = None

    def __del__(self) -> None:
        self.free()

    def __enter__(self) -> ExecutableMemory:
        return self

    def __exit__(self, *exc) -> None:
        self.free()


def cfunction(address: int, restype, *argtypes):
    """Call machine code at `address` with the C (SysV) calling convention."""
    return ctypes.CFUNCTYPE(restype, *argtypes)(address)
