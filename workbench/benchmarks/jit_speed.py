"""The JIT's speed, each figure a ratio to a baseline measured in the same run.

    python -m workbench.benchmarks.jit_speed [FILES...] [--repeat N] [--json]
                                             [--skip steady,emission,unicorn]

With no FILES it measures the project's own programs, shipped in the package: the
kernels (``workbench/benchmarks/programs/kernels/*.py``) and the larger programs
(``workbench/benchmarks/programs/*.py``).

* **steady state**: a script's ``if __name__ == "__main__":`` block becomes a function
  ``__bench__``; CPython runs it once, then ``--repeat`` more times (best time kept);
  the workbench does the same in one tiered runtime per configuration (the first call
  tiers up: hot loops are compiled and entered at their headers; later calls run the
  machine code, re-entering it at the loop headers), so the time is the compiled code's,
  not warm-up or compilation.  Every call's stdout must equal CPython's, or the row is
  marked as failed.  Configurations: native with no passes, ``default``, and
  ``default`` plus each register allocator.
* **emission**: uops emitted per second by the copy-and-patch emitter once the stencils
  are cached (every function of the scripts, optimized by ``default`` and by
  ``default,regalloc``, emitted ``--repeat`` times).
* **unicorn**: instructions per second Unicorn executes in counting mode (a Python hook
  per basic block) and with no hooks (``workbench run``), on sum_loop at 1/10 size.

Whole-process timings (``workbench run`` against ``python f.py``, warm-up included) are
``workbench bench``'s job.  Speed is measured here, never asserted in the test suite.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import sys
import time
from pathlib import Path

from backends.copy_and_patch.emitter import Unsupported, compile as emit
from ir.frontend import compile_source
from passes.pipeline import parse_pipeline

from ..bench import default_files
from ..runtime import Runtime, load_module, optimize, warm_up


CONFIGS = [("native", ""), ("native", "default")] + [
    ("native", f"default,regalloc{{algo={a}}}") for a in ("tos", "linear-scan", "graph-coloring")]
BENCH = "__bench__"


def split_main(source: str) -> str | None:
    """``source`` with its main block turned into ``def __bench__():`` (None: no block)."""
    tree = ast.parse(source)
    for k, node in enumerate(tree.body):
        test = node.test if isinstance(node, ast.If) else None
        if (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
                and test.left.id == "__name__"):
            fn = ast.FunctionDef(name=BENCH, args=ast.arguments(
                posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
                body=node.body, decorator_list=[])
            tree.body[k] = fn
            return ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    return None


def _best(call, repeat: int) -> tuple[float, str]:
    """(best seconds over ``repeat`` calls after a first one, the first call's stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        call()
    first = out.getvalue()
    best = float("inf")
    for _ in range(repeat):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            t0 = time.perf_counter()
            call()
            best = min(best, time.perf_counter() - t0)
        if out.getvalue() != first:
            raise RuntimeError("a later call printed something else")
    return best, first


def steady_cpython(bench_source: str, repeat: int) -> tuple[float, str]:
    scope: dict = {"__name__": "bench"}
    exec(compile(bench_source, "<bench>", "exec"), scope)
    return _best(scope[BENCH], repeat)


def steady_workbench(bench_source: str, path: str, backend: str, passes: str,
                     repeat: int) -> tuple[float, str]:

    rt = Runtime(compile_source(bench_source, path), backend=backend, passes=passes)
    rt.run()  # the module's top level: functions and globals, no main block
    return _best(lambda: rt.interp.call(BENCH, []), repeat)


def steady_state(files: list[str], repeat: int, configs=None) -> list[dict]:
    rows = []
    for path in files:
        source = split_main(Path(path).read_text())
        if source is None:
            rows.append({"file": path, "skipped": "no `if __name__ == '__main__':` block"})
            continue
        base, expected = steady_cpython(source, repeat)
        row = {"file": path, "cpython": base, "configs": {}}
        for backend, passes in configs or CONFIGS:
            name = f"{backend}+{passes or 'none'}"
            try:
                t, out = steady_workbench(source, path, backend, passes, repeat)
            except Exception as e:  # noqa: BLE001 - a failing configuration is a row note
                row["configs"][name] = {"error": f"{type(e).__name__}: {e}"}
                continue
            if out != expected:
                row["configs"][name] = {"error": "stdout differs from CPython's"}
                continue
            row["configs"][name] = {"seconds": t, "ratio": t / base}
        rows.append(row)
    return rows


def emission_speed(files: list[str], repeat: int) -> dict:
    """Uops per second emitted with the stencils cached."""

    fns = []
    for path in files:
        module = load_module(path)
        profile, values = warm_up(module, budget=2000)
        for fn in module.functions:
            for pipe in ("default", "default,regalloc"):
                fns.append(optimize(module, fn, parse_pipeline(pipe), profile, values).fn)
    ok = []
    for f in fns:  # warms the stencil cache; keeps what the emitter accepts
        try:
            emit(f)
            ok.append(f)
        except Unsupported:
            pass
    uops = sum(len(b.uops) for f in ok for b in f.blocks)
    t0 = time.perf_counter()
    for _ in range(repeat):
        for f in ok:
            emit(f)
    seconds = time.perf_counter() - t0
    return {"functions": len(ok), "uops": uops * repeat, "seconds": seconds,
            "uops_per_second": uops * repeat / seconds}


def unicorn_speed(path: str | None = None) -> dict:
    """Instructions per second in Unicorn, counting mode and no hooks."""

    source = (Path(path).read_text() if path else
              "def sum_loop(n):\n    total = 0\n    for i in range(n):\n        total += i\n"
              "    return total\n\n\nprint(sum_loop(1_000_000))\n")
    out = {}
    for mode in ("blocks", "none"):
        rt = Runtime(compile_source(source, path or "<sum_loop>"), backend="unicorn",
                     passes="default", unicorn_mode=mode)
        with contextlib.redirect_stdout(io.StringIO()):
            t0 = time.perf_counter()
            rt.run()
            seconds = time.perf_counter() - t0
        out[mode] = {"seconds": seconds}
        if mode == "blocks":
            instructions = sum(t2.jit.instructions for _, t2 in rt.all_tier2()
                               if t2.jit is not None)
            out[mode]["instructions"] = instructions
    n = out["blocks"]["instructions"]
    out["blocks"]["per_second"] = n / out["blocks"]["seconds"]
    out["none"]["per_second"] = n / out["none"]["seconds"]  # the same instructions
    return out


LABELS: dict[str, str] = {}   # pipeline -> the label --config gave it


def _short(passes: str) -> str:
    if passes in LABELS:
        return LABELS[passes]
    return passes.replace("default,regalloc{algo=", "+").rstrip("}") or "none"


def _print(report: dict, configs=None) -> None:
    configs = configs or CONFIGS
    if "steady" in report:
        names = [f"{b}+{p or 'none'}" for b, p in configs]
        print("steady state, native: best seconds per call of the main block, and the ratio "
              "to CPython's (below 1: faster)")
        width = max([22] + [len(_short(p)) + 2 for _, p in configs])
        print(f"{'script':<14} {'cpython':>8}  " + "".join(f"{_short(p):>{width}}"
                                                            for _, p in configs))
        for row in report["steady"]:
            name = Path(row["file"]).stem
            if "skipped" in row:
                print(f"{name:<14} skipped: {row['skipped']}")
                continue
            cells = []
            for n in names:
                c = row["configs"][n]
                cells.append(f"{'FAILED':>{width}}" if "error" in c else
                             f"{c['seconds']:>{width - 9}.4f}s {c['ratio']:>6.2f}x")
            print(f"{name:<14} {row['cpython']:>7.4f}s  " + "".join(cells))
        for row in report["steady"]:
            for n, c in row.get("configs", {}).items():
                if "error" in c:
                    print(f"  {Path(row['file']).stem} {n}: {c['error']}")
    if "emission" in report:
        e = report["emission"]
        print(f"emission: {e['uops']:,} uops of {e['functions']} functions in "
              f"{e['seconds']:.2f} s = {e['uops_per_second']:,.0f} uops/s (stencils cached)")
    if "unicorn" in report:
        u = report["unicorn"]
        print(f"unicorn: {u['blocks']['instructions']:,} instructions; counting mode "
              f"{u['blocks']['per_second'] / 1e6:.1f}M instructions/s, no hooks "
              f"{u['none']['per_second'] / 1e6:.1f}M instructions/s "
              f"({u['none']['per_second'] / u['blocks']['per_second']:.1f}x)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m workbench.benchmarks.jit_speed",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", help="scripts (default: the project's own programs, "
                    "workbench/benchmarks/programs/kernels/*.py and programs/*.py)")
    ap.add_argument("--repeat", type=int, default=3, help="timed calls/rounds (default 3)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of tables")
    ap.add_argument("--skip", default="", help="comma-separated: steady,emission,unicorn")
    ap.add_argument("--config", action="append", metavar="[LABEL:]PASSES", default=None,
                    help="a steady-state configuration: native with this pipeline ('' for "
                         "none), shown as LABEL if given; repeat it for several, measured "
                         "in the same run (default: none, default and default plus each "
                         "allocator)")
    args = ap.parse_args(argv)
    configs = None
    if args.config is not None:
        configs = []
        for c in args.config:
            label, colon, passes = c.partition(":")
            if colon:
                LABELS[passes] = label
            configs.append(("native", passes if colon else c))
    files = args.files or default_files()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    report: dict = {}
    if "steady" not in skip:
        report["steady"] = steady_state(files, args.repeat, configs=configs)
    if "emission" not in skip:
        report["emission"] = emission_speed(files, args.repeat)
    if "unicorn" not in skip:
        report["unicorn"] = unicorn_speed()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report, configs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
