"""How pass running time grows with function size: ~1k, 10k, 100k uops.

    python -m workbench.benchmarks.pass_scaling [--sizes 1000,10000,100000] [--json]
                                                [--pipeline specialize,dse,promote]

A synthetic function is generated as Python source (segments of nested loops,
if/else and int arithmetic over a fixed pool of locals, so live sets stay
realistic instead of growing with the size) and compiled by the frontend.  The
preparation pipeline runs first (by default ``specialize`` without a profile,
``dse`` and ``promote``: whichever of them exist), pass by pass, each timed;
then ``liveness`` and each ``regalloc`` algorithm are timed on the result.

Prints CPU seconds per pass per size and the growth from the second-largest to
the largest size (10k -> 100k by default).  A linear pass grows ~10x there;
``liveness`` and ``regalloc{algo=linear-scan}`` are meant to stay within 12x.

Measurement hygiene, because a 100k-uop IR (~30 MB of Python objects) no longer
fits in the CPU caches while a 10k one does:

* every size runs in a fresh subprocess, so no size inherits the heap of another;
* the prepared function is printed and re-parsed before ``liveness``/``regalloc``
  are timed, so every size is measured on the same fresh memory layout rather
  than on objects scattered by the history of the preparation passes;
* CPU time (``time.process_time``), best of ``--repeat`` runs, after a full
  garbage collection;
* the row ``(walk every uop)`` times a loop that only reads every uop's
  operands once: the machine's own growth for a trivially linear pass over
  that IR.  On a machine whose caches hold the 10k IR but not the 100k one it
  grows well past 10x, and every real pass inherits that factor.

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

LIMIT = 12.0                  # allowed growth per 10x size for the near-linear passes
NEAR_LINEAR = ("liveness", "regalloc{algo=linear-scan}")
REGALLOC = ("tos", "linear-scan", "graph-coloring")
PREP = "specialize,dse,promote"
WALK = "(walk every uop)"
POOL = 8                      # locals a segment computes with


def _segment(rng: random.Random) -> list[str]:
    """One chunk of the body: a loop nest with a branch, over locals a0..a{POOL-1}.

    ``while`` loops over the same ``i``/``j`` in every segment: a ``for`` loop
    would add hidden ``$cur``/``$stop`` locals per loop, and once ``promote``
    keeps locals in registers every side exit lists every promoted local, so
    the IR itself (exit lists included) would grow quadratically.
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
    from ir.frontend import compile_source

    probe = compile_source(make_source(10), "<probe>")
    per_segment = count_uops(probe.function("big")) / 10
    segments = max(1, round(target / per_segment))
    return compile_source(make_source(segments), f"<synthetic {target}>")


def existing(pipeline: str) -> str:
    """The passes of ``pipeline`` that exist (others are being written)."""
    from passes.registry import get_pass

    names = []
    for name in [p.strip() for p in pipeline.split(",") if p.strip()]:
        try:
            get_pass(name.partition("{")[0])
        except Exception:
            continue
        names.append(name)
    return ",".join(names)


def _best(run, repeat: int, setup=None) -> float:
    best = None
    for _ in range(repeat):
        arg = setup() if setup is not None else None
        gc.collect()
        t0 = time.process_time()
        run(arg)
        dt = time.process_time() - t0
        best = dt if best is None else min(best, dt)
    return best


def _walk(fn) -> int:
    n = 0
    for b in fn.blocks:
        for u in b.uops:
            for v in u.uses():
                n += 1
    return n


def measure(target: int, repeat: int = 3, prep: str = PREP) -> dict:
    """CPU seconds per pass on a generated function of about ``target`` uops."""
    from ir.parser import parse_function
    from ir.printer import print_function
    from passes.base import PassContext
    from passes.liveness import compute
    from passes.pipeline import parse_pipeline

    module = build(target)
    fn = module.function("big")
    result = {"uops": count_uops(fn), "seconds": {}}
    seconds = result["seconds"]
    for p in parse_pipeline(existing(prep)):
        def run(f, p=p):
            p.run(f, PassContext(module=module))
        seconds[p.spec()] = _best(run, repeat, lambda: copy.deepcopy(fn))
        p.run(fn, PassContext(module=module))
    text = print_function(fn)
    result["uops_prepared"] = count_uops(fn)
    del module, fn

    def fresh():
        return parse_function(text)

    prepared = fresh()
    seconds[WALK] = _best(lambda _: _walk(prepared), repeat)
    seconds["liveness"] = _best(lambda _: compute(prepared), repeat)
    for algo in REGALLOC:
        (ra,) = parse_pipeline(f"regalloc{{algo={algo}}}")
        seconds[f"regalloc{{algo={algo}}}"] = _best(lambda f, ra=ra: ra.run(f, PassContext()),
                                                    repeat, fresh)
    return result


def measure_in_subprocess(size: int, repeat: int, prep: str) -> dict:
    cmd = [sys.executable, "-m", "workbench.benchmarks.pass_scaling", "--one", str(size),
           "--repeat", str(repeat), "--pipeline", prep]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


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
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    if args.one is not None:
        print(json.dumps(measure(args.one, args.repeat, args.pipeline)))
        return 0

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    runs = {s: (measure(s, args.repeat, args.pipeline) if args.in_process
                else measure_in_subprocess(s, args.repeat, args.pipeline)) for s in sizes}
    table: dict[str, dict[int, float]] = {}
    for s in sizes:
        for k, v in runs[s]["seconds"].items():
            table.setdefault(k, {})[s] = v
    growth: dict[str, float | None] = {}
    if len(sizes) >= 2:
        a, b = sizes[-2], sizes[-1]
        for k, row in table.items():
            growth[k] = row[b] / row[a] if row.get(a) and row.get(b) is not None else None
    ok = all(growth.get(k) is None or growth[k] <= LIMIT for k in NEAR_LINEAR)

    if args.json:
        print(json.dumps({"sizes": sizes,
                          "uops": {str(s): runs[s]["uops"] for s in sizes},
                          "uops_prepared": {str(s): runs[s]["uops_prepared"] for s in sizes},
                          "seconds": {k: {str(s): v for s, v in row.items()}
                                      for k, row in table.items()},
                          "growth": growth, "limit": LIMIT,
                          "near_linear": list(NEAR_LINEAR), "ok": ok}, indent=2))
        return 0

    cols = [f"{s} ({runs[s]['uops']}/{runs[s]['uops_prepared']})" for s in sizes]
    head = f"{'pass':<32}" + "".join(f"{c:>22}" for c in cols)
    if growth:
        head += f"{'growth':>10}"
    print("CPU seconds per pass; columns: target size (uops generated/after preparation)")
    print(head)
    for k, row in table.items():
        line = f"{k:<32}" + "".join(f"{row[s]:>21.4f}s" for s in sizes)
        g = growth.get(k)
        if g is not None:
            line += f"{g:>9.1f}x"
            if k in NEAR_LINEAR:
                line += "  ok" if g <= LIMIT else f"  over {LIMIT:g}x"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
