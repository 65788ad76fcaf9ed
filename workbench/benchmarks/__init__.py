"""Benchmarks of the workbench itself (not of the programs it runs): how pass
running time scales with the size of the IR.  Run them as modules, e.g.
``python -m workbench.benchmarks.pass_scaling``.

The project's own benchmark programs ship with the package (package data, not modules):
``programs/kernels/*.py`` (the reference kernels the tests and passes are measured on)
and ``programs/*.py`` (larger programs: sorting, matrices, n-body over lists and over
objects, big ints, allocation).  Each is a plain script in the frontend's subset whose
``if __name__ == "__main__":`` block prints a result.
"""

from __future__ import annotations

from pathlib import Path

PROGRAMS_DIR = Path(__file__).resolve().parent / "programs"
KERNELS_DIR = PROGRAMS_DIR / "kernels"

KERNEL_NAMES = ("collatz", "fib_big", "fib_mod", "gcd_sum", "mandelbrot", "sieve",
                "spectral_norm", "sum_loop")
PROGRAM_NAMES = ("alloc_loop", "generators", "insertion_sort", "matmul", "nbody",
                 "nbody_classes", "sum_squares_big")


def _files(folder: Path, names: tuple[str, ...]) -> list[Path]:
    """``folder/NAME.py`` for every name, sorted; raises if one is missing or unexpected
    (an incomplete install must fail loudly, not measure or test fewer programs)."""
    found = sorted(folder.glob("*.py"))
    stems = [p.stem for p in found]
    if stems != sorted(names):
        missing = sorted(set(names) - set(stems))
        extra = sorted(set(stems) - set(names))
        raise FileNotFoundError(f"{folder}: expected the programs {', '.join(sorted(names))}"
                                f" (missing: {', '.join(missing) or '-'};"
                                f" unexpected: {', '.join(extra) or '-'})")
    return found


def kernel_files() -> list[Path]:
    """The reference kernels, sorted by name."""
    return _files(KERNELS_DIR, KERNEL_NAMES)


def program_files() -> list[Path]:
    """The larger benchmark programs, sorted by name."""
    return _files(PROGRAMS_DIR, PROGRAM_NAMES)


def all_programs() -> list[Path]:
    """Every program the project carries: the kernels, then the larger programs."""
    return kernel_files() + program_files()
