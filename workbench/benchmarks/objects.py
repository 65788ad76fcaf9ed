"""Compiled code on CPython's objects: the per-operation cost of a generic uop, and the
memory of an allocation loop, each against CPython measured in the same run.

    python -m workbench.benchmarks.objects [--repeat N] [--json] [--skip op,memory,boxed]

* **generic uop**: the cost of one `_BINARY_OP` on objects of a type nothing specializes
  (a tuple concatenation, `a + b`): a loop doing the operation 9 times per iteration minus
  the same loop doing it once, per operation, natively (steady state, `default`: the
  generic stencil calls `PyNumber_Add` itself) and in CPython.
* **memory**: the peak RSS of `workbench run --backend native` on the allocation loop
  (workbench/benchmarks/programs/alloc_loop.py) at 300k and 1.2M iterations, each in a
  fresh process (its VmHWM; the stencils cached by a first run), and CPython's. Compiled code that leaked an object per
  iteration would grow by tens of MB between the two.

* **boxed**: what keeping every value a `PyObject *` (`--boxed`, CPython 3.15's model)
  costs against unboxing, in Unicorn on sum_loop, fib_mod and mandelbrot (at the sizes of
  BOXED_SIZES): loads, stores and calls per allocator (none,
  tos, linear-scan, graph-coloring on top of `default`), from `workbench trace --json`.

Speed is measured here, never asserted in the test suite.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from . import kernel_files, program_files
from .jit_speed import steady_cpython, steady_workbench


N = 200_000


def _op_loop(times: int) -> str:
    body = "\n".join("        c = a + b" for _ in range(times))
    return f"""
def ops(n, a, b):
    c = a
    for i in range(n):
{body}
    return c


def __bench__():
    print(len(ops({N}, (1, 2), (3,))))
"""


def generic_op_cost(repeat: int) -> dict:
    """Nanoseconds per generic `_BINARY_OP` (tuple + tuple), CPython and native."""
    out = {}
    for name, run in (("cpython", lambda src: steady_cpython(src, repeat)[0]),
                      ("native", lambda src: steady_workbench(src, "<ops>", "native",
                                                              "default", repeat)[0])):
        t9, t1 = run(_op_loop(9)), run(_op_loop(1))
        out[name] = (t9 - t1) / (8 * N) * 1e9
    out["ratio"] = out["native"] / out["cpython"]
    return out


# Peak RSS as the process's own VmHWM: ru_maxrss would count the 30 MB of this process
# that the child was forked from (Linux keeps the pre-exec high-water mark).
_MEASURED = """
import runpy, sys
try:
    {run}
finally:
    hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
    sys.stderr.write("\\nPEAK_KB " + hwm[0].split()[1] + "\\n")
"""


def _peak_rss_kb(path: Path, workbench: bool) -> int:
    if workbench:
        run = ("from workbench.cli import main; "
               f"sys.argv = ['workbench', 'run', '--backend', 'native', {str(path)!r}]; "
               "rc = main(sys.argv[1:])")
    else:
        run = f"runpy.run_path({str(path)!r}, run_name='__main__')"
    r = subprocess.run([sys.executable, "-c", _MEASURED.format(run=run)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("PEAK_KB ")]
    if r.returncode != 0 or not lines:
        raise RuntimeError(f"{path.name} failed: {r.stderr[-300:]}")
    return int(lines[-1].split()[1])


def alloc_loop_memory() -> dict:
    """Peak RSS (MB) of the allocation loop at 300k and 1.2M iterations."""
    src = next(p for p in program_files() if p.name == "alloc_loop.py").read_text()
    out = {}
    with tempfile.TemporaryDirectory() as d:
        # once first: a stencil library built now (clang is a child of the process,
        # and counts in its peak) is cached for the measured runs
        warm = Path(d, "warm.py")
        warm.write_text(src.replace("alloc_loop(400_000)", "alloc_loop(1_000)"))
        _peak_rss_kb(warm, workbench=True)
        for n in (300_000, 1_200_000):
            path = Path(d, f"alloc_{n}.py")
            path.write_text(src.replace("alloc_loop(400_000)", f"alloc_loop({n})"))
            out[n] = {"cpython": _peak_rss_kb(path, workbench=False) / 1024,
                      "native": _peak_rss_kb(path, workbench=True) / 1024}
    out["native_growth_mb"] = out[1_200_000]["native"] - out[300_000]["native"]
    return out


ALLOCATORS = [("none", "default")] + [
    (a, f"default,regalloc{{algo={a}}}") for a in ("tos", "linear-scan", "graph-coloring")]


# the table's sizes (Unicorn runs the boxed code's every C-API call through its hook)
BOXED_SIZES = {"sum_loop": ("10_000_000", "500_000"), "fib_mod": ("5_000_000", "250_000"),
               "mandelbrot": ("200, 200, 200", "60, 60, 100")}


def _sized(source: str, kernel: str) -> str:
    full, small = BOXED_SIZES[kernel]
    head, guard, main = source.partition('if __name__ == "__main__":')
    assert full in main, f"{kernel}: {full} not in its main block"
    return head + guard + main.replace(full, small)


def boxed_table() -> list[dict]:
    """Unicorn totals (loads, stores, calls) per kernel x allocator, unboxed and boxed."""

    rows = []
    with tempfile.TemporaryDirectory() as d:
        for path in kernel_files():
            if path.stem not in BOXED_SIZES:
                continue
            small = Path(d, path.name)
            small.write_text(_sized(path.read_text(), path.stem))
            for alloc, passes in ALLOCATORS:
                row = {"kernel": path.stem, "allocator": alloc}
                for boxed in (False, True):
                    argv = [sys.executable, "-m", "workbench", "trace", "--backend",
                            "unicorn", "--json", "--passes", passes, str(small)]
                    r = subprocess.run(argv + (["--boxed"] if boxed else []),
                                       capture_output=True, text=True)
                    if r.returncode != 0:
                        raise RuntimeError(f"{' '.join(argv)}: {r.stderr[-300:]}")
                    t = json.loads(r.stdout)["totals"]
                    row["boxed" if boxed else "unboxed"] = {
                        k: t[k] for k in ("instructions", "loads", "stores", "calls")}
                rows.append(row)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m workbench.benchmarks.objects",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="timed calls (best kept)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--skip", default="", help="comma-separated: op,memory,boxed")
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    report = {}
    if "op" not in skip:
        report["generic_op_ns"] = generic_op_cost(args.repeat)
    if "memory" not in skip:
        report["memory_mb"] = alloc_loop_memory()
    if "boxed" not in skip:
        report["boxed"] = boxed_table()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    if "generic_op_ns" in report:
        g = report["generic_op_ns"]
        print(f"generic _BINARY_OP (tuple + tuple): CPython {g['cpython']:.1f} ns, "
              f"native {g['native']:.1f} ns per operation ({g['ratio']:.2f}x CPython's)")
    if "memory_mb" in report:
        m = report["memory_mb"]
        for n in (300_000, 1_200_000):
            print(f"allocation loop, {n:>9,} iterations: peak RSS CPython "
                  f"{m[n]['cpython']:.1f} MB, workbench native {m[n]['native']:.1f} MB")
        print(f"native growth from 300k to 1.2M iterations: {m['native_growth_mb']:.1f} MB")
    if "boxed" in report:
        sizes = ", ".join(f"{k}({v[1]})" for k, v in BOXED_SIZES.items())
        print(f"\nUnicorn, {sizes}: unboxed -> --boxed")
        print(f"{'kernel':<11} {'allocator':<15} {'loads':>23} {'stores':>23} {'calls':>21}")
        for r in report["boxed"]:
            u, b = r["unboxed"], r["boxed"]
            cells = "".join(f" {u[k]:>10,} -> {b[k]:>10,}" if k != "calls" else
                            f" {u[k]:>8,} -> {b[k]:>10,}" for k in ("loads", "stores", "calls"))
            print(f"{r['kernel']:<11} {r['allocator']:<15}{cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
