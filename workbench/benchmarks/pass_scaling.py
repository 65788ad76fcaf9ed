"""How pass running time grows with function size: ~1k, 10k, 100k uops.

    python -m workbench.benchmarks.pass_scaling [--sizes 1000,10000,100000] [--json]
                                                [--pipeline specialize,dse,promote]
                                                [--full default] [--regalloc tos,linear-scan]
                                                [--processes 3] [--repeat 3] [--warm]

A synthetic function is generated as Python source (segments of nested loops,
if/else and int arithmetic over a fixed pool of locals, so live sets stay
realistic instead of growing with the size) and compiled by the frontend.  The
preparation pipeline runs first (by default ``specialize`` without a profile,
``dse`` and ``promote``: whichever of them exist), pass by pass, each timed;
then ``liveness`` and each ``regalloc`` algorithm are timed on the result.
The preparation passes see the tier-1 function in ``ctx.module``, as in the
tiered runtime.  ``--full default`` also times a whole pipeline through the pass
manager on the generated function, optimized in place as ``workbench pipeline``
does (the row ``pipeline default``).

Prints CPU seconds per pass per size and the growth from the second-largest to
the largest size (10k -> 100k by default).  A linear pass grows ~10x there;
``liveness`` and ``regalloc{algo=linear-scan}`` are meant to stay within 12x.

Measurement hygiene, because a 100k-uop IR (~30 MB of Python objects) no longer
fits in the CPU caches while a 10k one does:

* every size runs in fresh subprocesses (``--processes``, default 3), so no size
  inherits the heap of another; each time is the best over all of them, since
  the same run varies by ~10% from one process to the next (heap layout);
* the prepared function is printed and re-parsed before ``liveness``/``regalloc``
  are timed, so every size is measured on the same fresh memory layout rather
  than on objects scattered by the history of the preparation passes;
* CPU time (``time.process_time``), best of ``--repeat`` runs, after a full
  garbage collection;
* the same cache state at every size: before each timed run a 64 MB buffer
  (twice the last-level cache of the machines we measure on) is read, so every
  run starts with cold caches.  Without it (``--warm``) the comparison is
  skewed by the garbage collection itself, which walks every object on the
  heap: at 10k uops that walk leaves the whole IR in the caches for the pass
  that follows, at 100k it cannot (a 10k liveness run is 12-14% faster right
  after a collection than with a 100k IR merely present on the heap).  The
  growth at 10k -> 100k is then a cache-size cliff, not the pass's own;
* the row ``(walk every uop)`` times a loop that only reads every uop's
  operands once: the machine's own growth for a trivially linear pass over
  that IR.  On a machine whose caches hold the 10k IR but not the 100k one it
  grows well past 10x, and a pass that keeps re-reading the IR, or builds a
  Python object per entry of its result, inherits that factor.  ``liveness``
  reads the IR once into flat ``array`` tables and keeps its result flat, and
  linear scan reads those tables, which is how both stay near 10x (see
  passes/liveness.py);
* ``--sizes 100000,1000000`` compares two sizes that are both past the caches:
  there the time growth of the near-linear passes is back to ~10-12x;
* the preparation passes, the analysis and the allocators are also measured in
  executed Python bytecodes (``sys.settrace`` with opcode events, a separate run): a count
  that no cache, clock or neighbouring process changes.  Work done inside C
  builtins (a set union) counts as one instruction, which is fair here because
  the sets involved are bounded by the register pressure, not by the size.

Speed is measured here, never asserted in the test suite.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import random
import subprocess
import sys
import time

from ir.core import Module
from ir.frontend import compile_source
from ir.limits import HOST_RECURSION_LIMIT
from ir.parser import parse_function
from ir.printer import print_function
from passes.base import PassContext
from passes.liveness import compute
from passes.manager import PassManager
from passes.pipeline import parse_pipeline
from passes.registry import get_pass


LIMIT = 12.0                  # allowed growth per 10x size for the near-linear passes
NEAR_LINEAR = ("liveness", "regalloc{algo=linear-scan}")
REGALLOC = ("tos", "linear-scan", "graph-coloring")
PREP = "specialize,dse,promote"
WALK = "(walk every uop)"
POOL = 8                      # locals a segment computes with


def _segment(rng: random.Random) -> list[str]:
    """One chunk of the body: a loop nest with a branch, over locals a0..a{POOL-1}.

    ``while`` loops over the same ``i``/``j`` in every segment: a ``for`` loop
    would add hidden ``$cur``/``$stop`` locals per loop, so the number of locals
    (and of entries a side exit may list) would grow with the size.
    """
    a = [f"a{rng.randrange(POOL)}" for _ in range(8)]
    c = [rng.randrange(1, 9) for _ in range(6)]
    return [
        "    i = 0",
        "    while i < n:",
        f"        {a[0]} = {a[1]} + i * {c[0]}",
        f"        if {a[0]} > {a[2]}:",
        f"            {a[3]} = {a[0]} - {a[2]} + {c[1]}",
        "        else:",
        f"            {a[3]} = {a[2]} - {a[0]} + {c[2]}",
        "        j = 0",
        "        while j < 2:",
        f"            {a[4]} = ({a[4]} + {a[3]} * j) % {c[3] + 1000}",
        f"            {a[5]} = {a[5]} ^ ({a[6]} & {c[4] + 255})",
        "            j = j + 1",
        f"        {a[7]} = ({a[7]} + {a[4]} - {a[5]}) % {c[5] + 100000}",
        "        i = i + 1",
    ]


def make_source(segments: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    lines = ["def big(n):"]
    lines += [f"    a{i} = {i + 1}" for i in range(POOL)]
    for _ in range(segments):
        lines += _segment(rng)
    lines.append("    return " + " + ".join(f"a{i}" for i in range(POOL)))
    lines += ["", "", 'if __name__ == "__main__":', "    print(big(2))", ""]
    return "\n".join(lines)


def count_uops(fn) -> int:
    return sum(len(b.uops) for b in fn.blocks)


def build(target: int):
    """The module of a generated function ``big`` of about ``target`` uops."""

    probe = compile_source(make_source(10), "<probe>")
    per_segment = count_uops(probe.function("big")) / 10
    segments = max(1, round(target / per_segment))
    return compile_source(make_source(segments), f"<synthetic {target}>")


def existing(pipeline: str) -> str:
    """The passes of ``pipeline`` that exist (others are being written)."""

    names = []
    for name in [p.strip() for p in pipeline.split(",") if p.strip()]:
        try:
            get_pass(name.partition("{")[0])
        except Exception:
            continue
        names.append(name)
    return ",".join(names)


_EVICT_BYTES = 64 << 20
_evict_buffer: bytearray | None = None
WARM = False                  # --warm: skip the cache eviction before each timed run


def evict_caches() -> None:
    """Read a buffer bigger than the last-level cache (clean lines: no write-backs
    land in the timed run)."""
    global _evict_buffer
    if _evict_buffer is None:
        _evict_buffer = bytearray(_EVICT_BYTES)
        _evict_buffer[::4096] = b"\x01" * (_EVICT_BYTES // 4096)   # real pages, not the zero page
    _evict_buffer.count(2)


def _best(run, repeat: int, setup=None) -> float:
    best = None
    for _ in range(repeat):
        arg = setup() if setup is not None else None
        gc.collect()
        if not WARM:
            evict_caches()
        t0 = time.process_time()
        run(arg)
        dt = time.process_time() - t0
        best = dt if best is None else min(best, dt)
    return best


def count_bytecodes(run, arg=None) -> int:
    """Python bytecode instructions executed by ``run(arg)``."""
    n = 0

    def tracer(frame, event, _):
        nonlocal n
        frame.f_trace_opcodes = True
        if event == "opcode":
            n += 1
        return tracer

    sys.settrace(tracer)
    try:
        run(arg)
    finally:
        sys.settrace(None)
    return n


def _walk(fn) -> int:
    n = 0
    for b in fn.blocks:
        for u in b.uops:
            for _ in u.uses():
                n += 1
    return n


def _in_module(module, fn):
    """``module`` with ``fn`` in place of its function of that name (a pass that
    optimizes a module's own function in place, as ``workbench pipeline`` does)."""

    return Module(module.name, [fn if f.name == fn.name else f for f in module.functions])


def measure(target: int, repeat: int = 3, prep: str = PREP, ops: bool = True,
            full: str = "", algos: tuple[str, ...] = REGALLOC) -> dict:
    """CPU seconds (and bytecodes) per pass on a generated function of ~``target`` uops."""

    module = build(target)
    fn = module.function("big")
    result = {"uops": count_uops(fn), "seconds": {}, "bytecodes": {}}
    seconds, bytecodes = result["seconds"], result["bytecodes"]
    if full:
        # The whole pipeline through the pass manager, as `workbench pipeline` runs it.
        passes = parse_pipeline(full)

        def run_full(f):
            PassManager(passes).run_function(f, PassContext(module=_in_module(module, f)))
        seconds[f"pipeline {full}"] = _best(run_full, repeat, lambda: copy.deepcopy(fn))
    # The tier-1 function stays in the module, as the tiered runtime has it.
    module = _in_module(module, copy.deepcopy(fn))
    for p in parse_pipeline(existing(prep)):
        def run(f, p=p):
            p.run(f, PassContext(module=module))
        seconds[p.spec()] = _best(run, repeat, lambda: copy.deepcopy(fn))
        if ops:
            bytecodes[p.spec()] = count_bytecodes(run, copy.deepcopy(fn))
        p.run(fn, PassContext(module=module))
    text = print_function(fn)
    result["uops_prepared"] = count_uops(fn)
    del module, fn

    def fresh():
        return parse_function(text)

    prepared = fresh()
    runs = {WALK: (lambda _: _walk(prepared), None),
            "liveness": (lambda _: compute(prepared), None)}
    for algo in algos:
        (ra,) = parse_pipeline(f"regalloc{{algo={algo}}}")
        runs[f"regalloc{{algo={algo}}}"] = (lambda f, ra=ra: ra.run(f, PassContext()), fresh)
    for key, (run, setup) in runs.items():
        seconds[key] = _best(run, repeat, setup)
    if ops:
        for key, (run, setup) in runs.items():
            bytecodes[key] = count_bytecodes(run, setup() if setup else None)
    return result


def measure_in_subprocess(size: int, repeat: int, prep: str, ops: bool, full: str = "",
                          algos: tuple[str, ...] = REGALLOC, processes: int = 1) -> dict:
    """``measure`` in ``processes`` fresh processes: the best time of all of them
    (bytecodes, being deterministic, are counted in the first only)."""
    merged: dict | None = None
    for k in range(processes):
        cmd = [sys.executable, "-m", "workbench.benchmarks.pass_scaling", "--one", str(size),
               "--repeat", str(repeat), "--pipeline", prep, "--full", full,
               "--regalloc", ",".join(algos)] + ([] if ops and k == 0 else ["--no-ops"]) \
            + (["--warm"] if WARM else [])
        out = json.loads(subprocess.run(cmd, capture_output=True, text=True,
                                        check=True).stdout)
        if merged is None:
            merged = out
        else:
            for key, t in out["seconds"].items():
                merged["seconds"][key] = min(merged["seconds"][key], t)
    return merged


def _table(runs: dict, sizes: list[int], what: str) -> dict[str, dict[int, float]]:
    table: dict[str, dict[int, float]] = {}
    for s in sizes:
        for k, v in runs[s][what].items():
            table.setdefault(k, {})[s] = v
    return table


def _growth(table: dict, sizes: list[int]) -> dict[str, float | None]:
    growth: dict[str, float | None] = {}
    if len(sizes) >= 2:
        a, b = sizes[-2], sizes[-1]
        for k, row in table.items():
            growth[k] = row[b] / row[a] if row.get(a) and row.get(b) is not None else None
    return growth


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m workbench.benchmarks.pass_scaling",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000",
                    help="target uop counts, comma-separated (default: 1000,10000,100000)")
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs per pass (default 3)")
    ap.add_argument("--pipeline", default=PREP,
                    help=f"passes preparing the IR, those that exist (default: {PREP})")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--in-process", action="store_true",
                    help="measure every size in this process (default: a subprocess each)")
    ap.add_argument("--no-ops", action="store_true",
                    help="skip counting executed bytecodes (a slower, traced run)")
    ap.add_argument("--full", default="", metavar="PIPELINE",
                    help="also time this whole pipeline (e.g. 'default') through the pass "
                         "manager on the generated function, as `workbench pipeline` runs it")
    ap.add_argument("--regalloc", default=",".join(REGALLOC),
                    help=f"allocators to time (default: {','.join(REGALLOC)})")
    ap.add_argument("--processes", type=int, default=3,
                    help="fresh processes per size; times are the best of all (default 3)")
    ap.add_argument("--warm", action="store_true",
                    help="do not evict the CPU caches before each timed run")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    global WARM
    WARM = args.warm
    sys.setrecursionlimit(max(sys.getrecursionlimit(), HOST_RECURSION_LIMIT))
    ops = not args.no_ops
    algos = tuple(a.strip() for a in args.regalloc.split(",") if a.strip())
    if args.one is not None:
        print(json.dumps(measure(args.one, args.repeat, args.pipeline, ops, args.full, algos)))
        return 0

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    runs = {s: (measure(s, args.repeat, args.pipeline, ops, args.full, algos)
                if args.in_process
                else measure_in_subprocess(s, args.repeat, args.pipeline, ops, args.full, algos,
                                           args.processes))
            for s in sizes}
    seconds, bytecodes = _table(runs, sizes, "seconds"), _table(runs, sizes, "bytecodes")
    growth, op_growth = _growth(seconds, sizes), _growth(bytecodes, sizes)

    def within(g: dict, k: str) -> bool | None:
        return None if g.get(k) is None else g[k] <= LIMIT

    if args.json:
        print(json.dumps({
            "sizes": sizes,
            "caches": "warm" if WARM else "cold",
            "processes": args.processes, "repeat": args.repeat,
            "uops": {str(s): runs[s]["uops"] for s in sizes},
            "uops_prepared": {str(s): runs[s]["uops_prepared"] for s in sizes},
            "seconds": {k: {str(s): v for s, v in row.items()} for k, row in seconds.items()},
            "bytecodes": {k: {str(s): v for s, v in row.items()}
                          for k, row in bytecodes.items()},
            "growth": growth, "bytecode_growth": op_growth, "limit": LIMIT,
            "near_linear": {k: {"seconds": within(growth, k), "bytecodes": within(op_growth, k)}
                            for k in NEAR_LINEAR}}, indent=2))
        return 0

    cols = [f"{s} ({runs[s]['uops']}/{runs[s]['uops_prepared']})" for s in sizes]
    w = max(22, max(len(c) for c in cols) + 2)
    head = f"{'pass':<32}" + "".join(f"{c:>{w}}" for c in cols)
    print(f"CPU seconds per pass (best of {args.repeat} runs x {args.processes} processes, "
          f"{'warm' if WARM else 'cold'} caches); columns: target size "
          "(uops generated/after preparation)")
    print(head + (f"{'growth':>10}" if growth else ""))
    for k, row in seconds.items():
        line = f"{k:<32}" + "".join(f"{row[s]:>{w - 1}.4f}s" for s in sizes)
        if growth.get(k) is not None:
            line += f"{growth[k]:>9.1f}x"
        print(line)
    if bytecodes:
        print("\nExecuted Python bytecodes (deterministic)")
        print(head + (f"{'growth':>10}" if op_growth else ""))
        for k, row in bytecodes.items():
            line = f"{k:<32}" + "".join(f"{row[s]:>{w},}" for s in sizes)
            if op_growth.get(k) is not None:
                line += f"{op_growth[k]:>9.2f}x"
            print(line)
    if growth:
        print()
        for k in NEAR_LINEAR:
            parts = []
            for what, g in (("time", growth), ("bytecodes", op_growth)):
                if g.get(k) is not None:
                    verdict = "within" if g[k] <= LIMIT else "over"
                    parts.append(f"{what} x{g[k]:.1f} ({verdict} {LIMIT:g}x)")
            print(f"{k}: " + ", ".join(parts))
        if growth.get(WALK) is not None:
            print(f"{WALK}: time x{growth[WALK]:.1f}: this machine's growth for a plain "
                  "linear walk over the same IR")
    return 0


if __name__ == "__main__":
    sys.exit(main())
