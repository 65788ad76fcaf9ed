"""The ``workbench`` command line.

Every command has ``--help``.  User errors (bad input, bad options) print one
line and exit with status 2, never a traceback; a program's own exception ends
as CPython would end it (traceback on stderr, status 1).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys

from ir.errors import WorkbenchError
from ir.uops import U


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, status 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def cmd_run(args) -> int:
    from .loader import load_module
    from .program import run_guarded
    from .runtime import Runtime

    _load_plugins(args)
    module = load_module(args.file)
    _stencils_or_error(args.backend)
    # `run` reports nothing about the machine code, so Unicorn runs without count hooks.
    rt = Runtime(module, backend=args.backend, passes=args.passes,
                 verify=getattr(args, "verify_each", False), unicorn_mode="none",
                 boxed=args.boxed)
    return run_guarded(rt.run, args.file)


def _stencils_or_error(backend: str, hint: bool = True) -> None:
    """Build (or load) the stencil library before running, so a missing compiler is
    one line of error instead of a silent fall back to the interpreter."""
    if backend in ("native", "unicorn"):
        try:
            from backends.copy_and_patch.uop_stencils import library

            library()
        except Exception as e:
            raise WorkbenchError(f"--backend {backend}: cannot build the stencil library: "
                                 f"{type(e).__name__}: {e}"
                                 + (" (--backend interp runs without it)" if hint else "")
                                 ) from None


def _load_plugins(args) -> None:
    from passes.registry import load_plugin_file

    for path in getattr(args, "load", None) or []:
        load_plugin_file(path)


def _prepare(args, profile: bool, before_profile=None):
    """Plugins, pipeline, module, ``--function`` check, and the warm-up profile that
    'specialize' reads: what `pipeline` and `asm` both start with."""
    from ir.core import MODULE_FUNCTION
    from passes.pipeline import parse_pipeline

    from .loader import load_module
    from .tiering import warm_up

    _load_plugins(args)
    passes = parse_pipeline(args.passes or "")
    module = load_module(args.file)
    names = [f.name for f in module.functions]
    if args.function is not None and args.function not in names:
        raise WorkbenchError(f"{args.file}: no function '{args.function}' "
                             f"(functions: {', '.join(names)})")
    if before_profile is not None:
        before_profile()
    if passes and profile and MODULE_FUNCTION in names:
        return (passes, module, *warm_up(module))
    return passes, module, None, {}


def cmd_pipeline(args) -> int:
    from ir.printer import print_function
    from passes.manager import Instrumentation, PassManager

    from .render import print_ir
    from .tiering import constant_globals

    passes, module, profile, values = _prepare(args, profile=not args.no_profile)
    inst = Instrumentation(print_after_all=args.print_after_all,
                           print_after=set(args.print_after or []),
                           print_changed=args.print_changed, time_passes=args.time_passes,
                           stats=args.stats, verify_each=args.verify_each)
    err = sys.stderr
    # As LLVM `opt`: the dumps and diffs of the instrumentation go to stderr, the final
    # IR to stdout (so `--print-after P f.py > out.uop` still writes the result).
    pm = PassManager(passes, inst, out=lambda text: print_ir(text, err))
    explain: list[str] | None = [] if args.explain else None
    ctx = _bisect_context()(module=module, profile=profile, explain=explain,
                            bisect_limit=args.opt_bisect_limit, stream=err)
    for fn in module.functions:
        if args.function is None or fn.name == args.function:
            ctx.constant_globals = constant_globals(module, fn.name, values)
            ctx.function = fn.name
            pm.run_function(fn, ctx)
    err.flush()
    print_ir("module " + repr(module.name) + "\n" if args.function is None else "")
    for fn in module.functions:
        if args.function is None or fn.name == args.function:
            print_ir(("\n" if args.function is None else "") + print_function(fn))
    if args.dot:
        _save_cfg(args, module)
    if explain:
        err.write("".join(line + "\n" for line in explain))
    if args.time_passes:
        err.write(pm.timing_report())
    if args.stats:
        err.write(pm.stats_report())
    return 0


@functools.cache
def _bisect_context():
    """A ``PassContext`` that lists, with ``--opt-bisect-limit N``, each transformation a
    pass asks for on ``stream`` as it is decided, in LLVM's words: ``BISECT: running
    pass (n) P on function (f): what`` for the first N and ``BISECT: NOT running pass
    (n) ...`` for the ones after, numbered on (``PassContext.allow`` decides and counts,
    unchanged)."""
    from dataclasses import dataclass
    from typing import Any

    from passes.base import PassContext

    @dataclass
    class BisectContext(PassContext):
        stream: Any = None
        function: str = ""
        refused: int = 0

        def allow(self, what: str) -> bool:
            ok = super().allow(what)
            if self.bisect_limit is not None and self.stream is not None:
                if ok:
                    n, verdict = self.transformations, "running"
                else:
                    self.refused += 1
                    n, verdict = self.transformations + self.refused, "NOT running"
                self.stream.write(f"BISECT: {verdict} pass ({n}) {self.current_pass} on "
                                  f"function ({self.function}): {what}\n")
            return ok

    return BisectContext


def cmd_passes(args) -> int:
    from passes.registry import all_passes

    _load_plugins(args)
    for cls in all_passes():
        opts = ", ".join(f"{k}={o.default}" for k, o in cls.options.items())
        sys.stdout.write(f"{cls.name:<12} {cls.description}"
                         + (f"  [{opts}]" if opts else "") + "\n")
    return 0


def cmd_check(args) -> int:
    from .check import collect, run_test

    files = collect(args.paths)
    failures = 0
    for path in files:
        failure = run_test(path)
        if failure is None:
            if args.verbose:
                sys.stdout.write(f"PASS: {path}\n")
        else:
            failures += 1
            sys.stdout.write(f"FAIL: {path}\n{failure.render()}\n")
    sys.stdout.write(f"{len(files) - failures} passed, {failures} failed\n")
    return 1 if failures else 0


def cmd_trace(args) -> int:
    import contextlib
    import io
    import json

    from .loader import load_module
    from .program import run_guarded
    from .runtime import Runtime

    _load_plugins(args)
    if (args.full or args.full_out) and args.backend != "unicorn":
        raise WorkbenchError("--full and --full-out need --backend unicorn")
    if args.full_limit < 0:
        raise WorkbenchError("--full-limit must be >= 0")
    module = load_module(args.file)
    _stencils_or_error(args.backend)
    full = None
    sink = None
    if args.full or args.full_out:
        from backends.tracing import FullTrace

        if args.full_out:
            try:
                sink = open(args.full_out, "w", encoding="utf-8")
            except OSError as e:
                raise WorkbenchError(f"{args.full_out}: cannot write: {e.strerror}") from None
        full = FullTrace(limit=args.full_limit, out=sink, keep=sink is None)
    rt = Runtime(module, backend=args.backend, passes=args.passes,
                 verify=getattr(args, "verify_each", False),
                 unicorn_mode="full" if full is not None else "blocks", full_trace=full,
                 boxed=args.boxed)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            status = run_guarded(rt.run, args.file)
    finally:
        if sink is not None:
            sink.close()
    report = trace_report(rt, out.getvalue())
    if report["not_counted"]:
        sys.stderr.write(f"workbench trace: native code is not counted ("
                         f"{', '.join(report['not_counted'])} ran natively); use --backend "
                         "unicorn to count what the machine code executes\n")
    if full is not None:
        report["full_trace_steps"] = full.total
        report["full_trace_truncated"] = full.truncated
        report["totals"]["memory_reads"] = full.reads
        report["totals"]["memory_writes"] = full.writes
        if sink is not None:
            report["full_trace_file"] = args.full_out
        else:
            report["full_trace"] = full.records
    if args.plot:
        from .pictures import trace_chart

        _save_picture(args.plot, lambda: trace_chart(report))
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        sys.stdout.write(out.getvalue())
        from .render import print_full_trace, print_trace

        if full is not None and sink is None:
            print_full_trace(report)
        print_trace(report)
    return status


def trace_report(rt, stdout: str) -> dict:
    """The trace JSON: totals and per-uop counts of what optimized code executed.

    Every backend: ``functions`` says where each tier-2 version ran (native, unicorn or
    the tier-2 interpreter, with the emitter's reason). Unicorn adds machine-level totals
    (``instructions``, ``loads``, ``stores``, ``calls``: calls out of the code, to the C API
    or a Python helper; ``code_bytes``) and the same four per uop.
    Code that ran natively is not counted per uop (nothing watches it): ``not_counted``
    names the functions that did (their uops are missing from ``totals`` and ``per_uop``).
    """
    from ir.uops import UOPS, Flag

    executed = rt.executed()
    totals = {"uops": 0, "guards": 0, "side_exits": rt.trace.side_exits,
              "local_loads": 0, "local_stores": 0}
    machine = rt.backend == "unicorn"
    costs = rt.machine_costs() if machine else {}
    if machine:
        totals.update(instructions=0, loads=0, stores=0, calls=0,
                      code_bytes=sum(v.get("code_bytes", 0) for v in rt.versions()))
    per_uop = []
    for key in sorted(set(executed) | set(costs)):
        fn, uop = key
        n = executed.get(key, 0)
        totals["uops"] += n
        if uop in UOPS and UOPS[uop].has(Flag.GUARD):
            totals["guards"] += n
        if uop in (U._LOAD_FAST, U._LOAD_FAST_CHECK):
            totals["local_loads"] += n
        elif uop == U._STORE_FAST:
            totals["local_stores"] += n
        row = {"function": fn, "uop": uop, "count": n}
        if machine:
            c = costs.get(key)
            row.update(instructions=c.instructions if c else 0, loads=c.loads if c else 0,
                       stores=c.stores if c else 0, calls=c.calls if c else 0)
            for k in ("instructions", "loads", "stores", "calls"):
                totals[k] += row[k]
        per_uop.append(row)
    hot = "instructions" if machine else "count"
    per_uop.sort(key=lambda r: (-r[hot], -r["count"], r["function"], r["uop"]))
    versions = rt.versions()
    native = sorted({v["function"] for v in versions if v["tier2"] == "native" and v["runs"]})
    return {"stdout": stdout, "backend": rt.backend, "totals": totals, "per_uop": per_uop,
            "functions": versions, "not_counted": native}


def cmd_asm(args) -> int:
    from backends.tracing import asm_listing

    from .loader import read_text
    from .render import print_asm

    source = read_text(args.file).splitlines() if args.file.endswith(".py") else []
    for fn, blob in _compiled(args):
        if isinstance(blob, str):
            print_asm({"function": fn.name, "refused": blob})
        else:
            print_asm(asm_listing(fn, blob, source, base=args.base))
    return 0


def _compiled(args):
    """(optimized function, code blob or the emitter's refusal) for each function of
    ``args.file`` (``--function``: only that one; else every function but the module
    body), compiled as the runtime compiles hot code: profile, pipeline, copy-and-patch."""
    from ir.core import MODULE_FUNCTION

    from .tiering import optimize

    def stencils():
        _stencils_or_error("native", hint=False)

    passes, module, profile, values = _prepare(args, profile=True, before_profile=stencils)
    from backends.copy_and_patch.emitter import Unsupported, compile as emit

    for fn in module.functions:
        if (args.function is None and fn.name == MODULE_FUNCTION) or \
                (args.function is not None and fn.name != args.function):
            continue
        opt = optimize(module, fn, passes, profile, values)
        try:
            yield opt.fn, emit(opt.fn, boxed=getattr(args, "boxed", False))
        except Unsupported as e:
            yield opt.fn, str(e)


def cmd_stencils(args) -> int:
    from . import stencils as st

    if args.action == "build":
        r = st.build(force=args.force)
        how = "loaded from the cache" if r.cached else f"built in {r.seconds:.1f} s"
        print(f"{r.stencils} stencils {how} ({r.compiler}); key {r.key[:16]}")
        return 0
    if args.action == "list" and args.name is not None and args.file is None:
        args.file, args.name = args.name, None  # `list FILE.py`
    found = st.base_library() if args.file is None else st.program_stencils(
        blob for _, blob in _compiled(args) if not isinstance(blob, str))
    if args.action == "list":
        print(f"{'stencil':<44} {'code':>5} {'data':>5} {'holes':>5}  patched with")
        for row in st.rows(found):
            print(f"{row['name']:<44} {row['code']:>5} {row['data']:>5} {row['holes']:>5}  "
                  + " ".join(row["values"]) + ("  (falls through)" if row["fallthrough"]
                                               else ""))
        return 0
    if args.name is None:
        raise WorkbenchError("stencils show: which stencil? (workbench stencils show UOP)")
    for k, stencil in enumerate(st.resolve(args.name, found)):
        print(("\n" if k else "") + "\n".join(st.disassemble(stencil)))
    return 0


def _save_picture(path: str, make) -> None:
    """``--dot FILE`` / ``--plot FILE``: write the picture ``make()`` builds (SVG, or the
    Graphviz text when FILE ends in .dot)."""
    try:
        make().save(path)
    except OSError as e:
        raise WorkbenchError(f"{path}: cannot write: {e.strerror}") from None


def _save_cfg(args, module) -> None:
    from ir.core import MODULE_FUNCTION

    from .pictures import cfg_picture

    fns = [f for f in module.functions if f.name == args.function or (
        args.function is None and f.name != MODULE_FUNCTION)] or module.functions[:1]
    fmt = "dot" if args.dot.endswith(".dot") else "svg"
    _save_picture(args.dot, lambda: cfg_picture(fns[0], fmt))


def _cluster_spec(args):
    """The parsed ``--cluster`` value, or None (workbench.cluster is only imported then)."""
    if args.cluster is None:
        return None
    from .cluster import parse_spec

    return parse_spec(args.cluster)


CLUSTER_HELP = ("run the programs as tasks on a Dask cluster: local (one worker process "
                "per CPU), local:N (N worker processes, one thread each) or "
                "tcp://HOST:PORT (a running Dask scheduler; its workers need the "
                "workbench installed); needs pip install 'uop-workbench[cluster]'")


def cmd_bench(args) -> int:
    from .bench import main as bench_main

    return bench_main(args)

# --------------------------------------------------------------------------- fuzz, bisect

def cmd_fuzz(args) -> int:
    """Differential fuzzing against CPython (workbench.fuzz)."""
    import json

    from passes.pipeline import parse_pipeline
    from passes.registry import pass_names

    from .fuzz.campaign import Settings, run_campaign
    from .fuzz.generator import FEATURES

    _load_plugins(args)
    pipelines = args.passes if args.passes is not None else ["", "default"] + pass_names()
    for text in pipelines:
        parse_pipeline(text)  # a bad pipeline is a one-line error now, not in a worker
    unknown = sorted(set(args.exclude) - set(FEATURES))
    if unknown:
        raise WorkbenchError(f"fuzz: unknown feature '{unknown[0]}' for --exclude "
                             f"(features: {', '.join(FEATURES)})")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise WorkbenchError(f"{args.out}: not a directory (--out)")
    cluster = _cluster_spec(args)
    if cluster is not None and args.jobs is not None:
        raise WorkbenchError("fuzz: --jobs and --cluster: give one (--cluster local:N "
                             "for N local worker processes)")
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "big")
    settings = Settings(backends=tuple(args.backends), pipelines=tuple(pipelines),
                        loads=tuple(os.path.abspath(f) for f in args.load or []),
                        timeout=args.timeout, reduce_seconds=args.reduce_seconds,
                        exclude=frozenset(args.exclude), verify=args.verify_each)
    tty = sys.stderr.isatty()

    def progress(report, start, deadline, message):
        import time

        if message:
            sys.stderr.write(("\r\x1b[K" if tty else "") + f"mismatch: {message}\n")
        if tty:
            sys.stderr.write(f"\r\x1b[Kfuzz: seed {seed}: {report.programs} programs, "
                             f"{report.runs} runs, {len(report.mismatches)} mismatches, "
                             f"{time.monotonic() - start:.0f}/{args.seconds:g} s")
            sys.stderr.flush()

    if cluster is None:
        report = run_campaign(settings, seed, args.seconds, args.jobs or os.cpu_count() or 1,
                              args.out, programs=args.programs,
                              max_reductions=args.max_reductions, progress=progress)
    else:
        from .cluster import connect
        from .fuzz.campaign import run_cluster_campaign

        with connect(cluster) as pool:
            report = run_cluster_campaign(settings, seed, args.seconds, pool, args.out,
                                          programs=args.programs,
                                          max_reductions=args.max_reductions,
                                          progress=progress)
    if tty:
        sys.stderr.write("\r\x1b[K")
    if args.json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write(f"fuzz: seed {seed}: {report.programs} programs, {report.runs} runs "
                         f"({len(settings.backends)} backends x {len(pipelines)} pipelines), "
                         f"{len(report.mismatches)} mismatches, {report.seconds:.0f} s\n")
        for path in report.reproducers:
            sys.stdout.write(f"reproducer: {path}\n")
    if report.interrupted:
        sys.stderr.write("workbench: interrupted\n")
        return 130
    return 1 if report.mismatches else 0


def cmd_bisect(args) -> int:
    """Which pass and which transformation make a script differ from CPython."""
    from .bisect import bisect

    _load_plugins(args)
    return bisect(args.file, args.passes, args.backend, args.timeout, args.verify_each)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="workbench",
                description="A workbench for tier-2 uop optimization passes and a "
                            "copy-and-patch x86-64 JIT.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add_boxed_option(cmd):
        cmd.add_argument("--boxed", action="store_true",
                         help="compiled code keeps every value a PyObject * (CPython 3.15's "
                              "model): no unboxing of proven ints, floats and bools, to "
                              "measure what unboxing adds on top of register allocation")

    def add_passes_option(cmd, default):
        cmd.add_argument("--passes", metavar="LIST", default=default,
                         help="pipeline, e.g. 'specialize,typeprop,guardelim,"
                              "regalloc{algo=linear-scan,regs=6}'; 'default' is the standard "
                              f"pipeline; '' disables optimization (default: {default!r})")
        cmd.add_argument("--load", metavar="FILE", action="append",
                         help="load passes from a Python file (repeatable)")

    r = sub.add_parser("run", help="run a script; prints exactly what `python f.py` prints",
                       description="Run a Python script through the tiered runtime. Its stdout "
                                   "is exactly CPython's; an exception it raises ends it as "
                                   "CPython would (traceback on stderr, exit status 1). Hot "
                                   "functions and loops are optimized with the pipeline.")
    r.add_argument("file", help="a Python script (.py) or IR text (.uop)")
    r.add_argument("--backend", choices=["interp", "native", "unicorn"], default="native",
                   help="where optimized code runs: native (the JIT: copy-and-patch x86-64 "
                        "machine code), interp (the reference interpreter), unicorn (the "
                        "JIT's code emulated); functions the JIT cannot compile run in the "
                        "interpreter (default: native)")
    add_passes_option(r, "default")
    add_boxed_option(r)
    r.set_defaults(func=cmd_run)

    pl = sub.add_parser("pipeline", help="run passes and print the IR of each function",
                        description="Compile a script (or parse .uop IR text), run a pass "
                                    "pipeline over each function and print the IR. A script is "
                                    "first run briefly in tier 1 (output discarded) to collect "
                                    "the type profile that 'specialize' uses.")
    pl.add_argument("file", help="a Python script (.py) or IR text (.uop)")
    pl.add_argument("--function", metavar="NAME", help="only this function")
    add_passes_option(pl, "")
    pl.add_argument("--print-after-all", action="store_true",
                    help="print the IR after every pass, on stderr (the final IR still goes "
                         "to stdout)")
    pl.add_argument("--print-after", metavar="PASS", action="append",
                    help="print the IR after this pass, on stderr (repeatable)")
    pl.add_argument("--print-changed", action="store_true",
                    help="print a diff of the IR after each pass that changed it, on stderr")
    pl.add_argument("--time-passes", action="store_true", help="per-pass time, on stderr")
    pl.add_argument("--stats", action="store_true",
                    help="per-pass statistics (uops, guards, loads/stores, values, spills, "
                         "moves), on stderr")
    pl.add_argument("--verify-each", action="store_true", help="run the verifier after every pass")
    pl.add_argument("--explain", action="store_true",
                    help="passes say why they did what they did, on stderr")
    pl.add_argument("--no-profile", action="store_true",
                    help="do not run the script to collect a type profile")
    pl.add_argument("--opt-bisect-limit", type=int, metavar="N",
                    help="allow only the first N transformations; stderr lists each one "
                         "as LLVM does: 'BISECT: running pass (n) P on function (f): what', "
                         "then 'BISECT: NOT running pass (n) ...' for the rest")
    pl.add_argument("--dot", metavar="FILE",
                    help="also draw the CFG of the selected function (--function, else the "
                         "first one) after the passes: SVG, or Graphviz text if FILE ends in "
                         ".dot; blocks with guards/exits filled, loop headers outlined, back "
                         "edges dashed (laid out by Graphviz `dot` when on PATH)")
    pl.set_defaults(func=cmd_pipeline)

    ps = sub.add_parser("passes", help="list every registered pass",
                        description="List every registered pass with a one-line description "
                                    "and its options.")
    ps.add_argument("--load", metavar="FILE", action="append",
                    help="load passes from a Python file (repeatable)")
    ps.set_defaults(func=cmd_passes)

    ck = sub.add_parser("check", help="run lit/FileCheck-style regression tests",
                        description="Run test files that carry '# RUN:' commands and "
                                    "'# CHECK:' expectations (LLVM lit + FileCheck "
                                    "conventions); no lit install needed.")
    ck.add_argument("paths", nargs="+", metavar="PATH", help="test files or folders")
    ck.add_argument("-v", "--verbose", action="store_true", help="list passing tests too")
    ck.set_defaults(func=cmd_check)

    tr = sub.add_parser("trace", help="run a script and report what optimized code executed",
                        description="Run a script through the tiered runtime and count what "
                                    "optimized code executed: uops, guards, side exits, "
                                    "local loads and stores, per uop.")
    tr.add_argument("file", help="a Python script (.py) or IR text (.uop)")
    tr.add_argument("--backend", choices=["interp", "native", "unicorn"], default="interp",
                    help="where optimized code runs; unicorn adds instructions, loads and "
                         "stores per uop (default: interp)")
    add_passes_option(tr, "default")
    add_boxed_option(tr)
    tr.add_argument("--json", action="store_true", help="machine-readable output")
    tr.add_argument("--full", action="store_true",
                    help="(unicorn) hook every instruction: address, bytes, text, memory "
                         "reads/writes, attributed to uop, function and line")
    tr.add_argument("--full-out", metavar="FILE",
                    help="(unicorn) write the full trace to FILE as text (implies --full); "
                         "otherwise it goes to the JSON key 'full_trace'")
    tr.add_argument("--full-limit", metavar="N", type=int, default=10_000,
                    help="keep/write at most N instructions of the full trace "
                         "(default: 10000); counts cover every instruction")
    tr.add_argument("--plot", metavar="FILE",
                    help="also write a bar chart (SVG) of the hottest uops' counts "
                         "(instructions, loads and stores with --backend unicorn)")
    tr.set_defaults(func=cmd_trace)

    asm = sub.add_parser("asm", help="annotated x86-64 of the compiled code",
                         description="Compile each function as the runtime would (profile, "
                                     "pipeline, copy-and-patch) and print Compiler-Explorer "
                                     "style disassembly: source line, uop, its instructions, "
                                     "holes and exit stubs marked. A function the JIT cannot "
                                     "compile prints the reason.")
    asm.add_argument("file", help="a Python script (.py) or IR text (.uop)")
    asm.add_argument("--function", metavar="NAME", help="only this function")
    add_passes_option(asm, "default")
    add_boxed_option(asm)
    asm.add_argument("--base", type=lambda x: int(x, 0), default=0, metavar="ADDR",
                     help="address to link the code at (default: 0)")
    asm.set_defaults(func=cmd_asm)
    sn = sub.add_parser("stencils", help="build, list or disassemble the stencil library",
                        description="build: compile the base stencil library (cached on disk "
                                    "by source, flags and compiler; --force rebuilds). list: "
                                    "every stencil with its sizes and holes. show NAME: its "
                                    "disassembly with each hole marked on the instruction it "
                                    "patches. With FILE.py, list/show the register variants "
                                    "the emitter used for FILE's functions (as `asm` "
                                    "compiles them) instead of the base library.")
    sn.add_argument("action", choices=["build", "list", "show"])
    sn.add_argument("name", nargs="?", metavar="NAME",
                    help="show: a stencil (a uop name, or a variant name from list FILE)")
    sn.add_argument("file", nargs="?", metavar="FILE",
                    help="a Python script (.py) or IR text (.uop): its compiled variants")
    sn.add_argument("--function", metavar="NAME", help="with FILE: only this function")
    add_passes_option(sn, "default")
    sn.add_argument("--force", action="store_true", help="build: ignore the disk cache")
    sn.set_defaults(func=cmd_stencils)
    bn = sub.add_parser("bench", help="time scripts under CPython and every backend/pipeline",
                        description="Run each script as a whole process under CPython (the "
                                    "baseline), the interp backend (no passes, default), "
                                    "native (no passes, default, default + each regalloc "
                                    "algorithm) and pypy3 when on PATH; print the median wall "
                                    "time of N runs (after untimed warmups) and the ratio to "
                                    "CPython; -o FILE also writes them for pyperf. Unavailable "
                                    "backends, failures, timeouts and outputs that differ "
                                    "from CPython's are skipped with a note. A progress bar "
                                    "shows on a terminal; piped output is plain.")
    bn.add_argument("files", nargs="*", metavar="FILE",
                    help="scripts (default: the project's own programs, shipped in the "
                         "package: workbench/benchmarks/programs/kernels/*.py and "
                         "workbench/benchmarks/programs/*.py)")
    bn.add_argument("--repeat", type=int, default=3, metavar="N",
                    help="timed runs per configuration; the median is reported (default: 3)")
    bn.add_argument("--warmups", type=int, default=1, metavar="N",
                    help="untimed runs per configuration before the timed ones "
                         "(default: 1)")
    bn.add_argument("-o", "--output", metavar="FILE",
                    help="also write the runs as a pyperf benchmark suite (JSON; .json.gz "
                         "compressed): one benchmark per (program, configuration), e.g. "
                         "fib_mod[native+default], with metadata backend, pipeline, "
                         "commit, boxed; read it with python -m pyperf show FILE or "
                         "compare_to A.json B.json")
    bn.add_argument("--boxed", action="store_true",
                    help="run every native configuration with --boxed (every value a "
                         "PyObject *; the rows are named ...+boxed)")
    bn.add_argument("--json", action="store_true",
                    help='machine-readable: {"results": [{"file", "config", "median_s", '
                         '"ratio_vs_cpython", "values_s", "warmups_s"}], "notes": [...]}')
    bn.add_argument("--timeout", type=float, default=600.0, metavar="S",
                    help="give up on one run after S seconds (default: 600)")
    bn.add_argument("--configs", metavar="LIST",
                    help="only these configurations (comma-separated; cpython always runs): "
                         "interp, interp+default, native, native+default, "
                         "native+regalloc(tos|linear-scan|graph-coloring), pypy3")
    bn.add_argument("--cluster", metavar="SPEC",
                    help=CLUSTER_HELP + "; one task per script (its configurations run "
                         "one after another on one worker); the same rows and notes as "
                         "without it, but scripts timed at the same time share the "
                         "machine")
    bn.set_defaults(func=cmd_bench)

    # -- reliability: --isolate/--verify-each for run and trace, fuzz, bisect --------
    backends = list(next(a.choices for a in r._actions if "--backend" in a.option_strings))
    for cmd in (r, tr):
        if "--isolate" not in cmd._option_string_actions:
            cmd.add_argument("--isolate", action="store_true",
                             help="run in a child process: if compiled code crashes, report "
                                  "one line (signal, uop, address) and exit with status 2")
        if "--verify-each" not in cmd._option_string_actions:
            cmd.add_argument("--verify-each", action="store_true",
                             help="run the IR verifier after every pass of every "
                                  "optimization (names the pass that broke the IR)")

    def positive(kind):
        def convert(text: str):
            try:
                value = kind(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"not a number: '{text}'") from None
            if not value > 0:
                raise argparse.ArgumentTypeError(f"must be > 0, got '{text}'")
            return value
        return convert

    # fuzzing also runs the JIT with every value boxed (`native+boxed`: --boxed)
    fuzz_backends = backends + ["native+boxed", "unicorn+boxed"]
    fuzz_default = backends + ["native+boxed"]

    def backend_list(text: str) -> list[str]:
        items = [b.strip() for b in text.split(",") if b.strip()]
        if not items:
            raise argparse.ArgumentTypeError("no backend given")
        for b in items:
            if b not in fuzz_backends:
                raise argparse.ArgumentTypeError(
                    f"unknown backend '{b}' (choose from {', '.join(fuzz_backends)})")
        return list(dict.fromkeys(items))

    def feature_list(text: str) -> list[str]:
        return [f.strip() for f in text.split(",") if f.strip()]

    fz = sub.add_parser("fuzz", help="differential fuzzing against CPython",
                        description="Generate random programs in the supported subset "
                                    "(deterministic per seed), run each under CPython and "
                                    "under every backend x pipeline, and compare stdout, "
                                    "exit status and the last stderr line. A mismatch is "
                                    "reduced to a small reproducer saved in --out. Exit "
                                    "status 1 if there were mismatches.")
    fz.add_argument("--seconds", type=positive(float), default=60.0, metavar="N",
                    help="stop starting new programs after N seconds (default: 60); "
                         "reductions under way finish")
    fz.add_argument("--programs", type=positive(int), metavar="N",
                    help="stop after N programs")
    fz.add_argument("--jobs", type=positive(int), metavar="N",
                    help="worker processes (default: one per CPU; not with --cluster)")
    fz.add_argument("--cluster", metavar="SPEC",
                    help=CLUSTER_HELP + "; one task per program, a mismatch reduced on the "
                         "worker that found it, reproducers written here in --out; the "
                         "same programs and results as --jobs for the same seed; "
                         "--jobs with --cluster is an error")
    fz.add_argument("--seed", type=int, metavar="S",
                    help="program k of the campaign is generated from seed S+k "
                         "(default: random, printed)")
    fz.add_argument("--passes", metavar="LIST", action="append",
                    help="a pipeline to test (repeatable; default: '', 'default' and each "
                         "registered pass alone)")
    fz.add_argument("--load", metavar="FILE", action="append",
                    help="load passes from a Python file (repeatable)")
    fz.add_argument("--backends", type=backend_list, default=list(fuzz_default),
                    metavar="B,...",
                    help=f"backends to test, of {','.join(fuzz_backends)} (B+boxed: with "
                         f"--boxed; default: {','.join(fuzz_default)})")
    fz.add_argument("--json", action="store_true",
                    help='print {"programs", "runs", "mismatches", "reproducers", ...}')
    fz.add_argument("--out", metavar="DIR", default="fuzz-reproducers",
                    help="where reproducers go (default: ./fuzz-reproducers)")
    fz.add_argument("--timeout", type=positive(float), default=30.0, metavar="SECONDS",
                    help="per run, CPython or workbench (default: 30)")
    fz.add_argument("--reduce-seconds", type=positive(float), default=60.0,
                    metavar="SECONDS", help="time for reducing one mismatch (default: 60)")
    fz.add_argument("--max-reductions", type=int, default=10, metavar="N",
                    help="reduce at most N mismatches, one per (backend, pipeline, kind of "
                         "difference) (default: 10)")
    fz.add_argument("--exclude", type=feature_list, default=[], metavar="FEATURE,...",
                    help="leave generator features out (e.g. cfexpr,rebind_global)")
    fz.add_argument("--verify-each", action="store_true",
                    help="verify the IR after every pass in every run")
    fz.set_defaults(func=cmd_fuzz)

    bs = sub.add_parser("bisect", help="find the pass and transformation that break a script",
                        description="If the optimized run of a script differs from CPython "
                                    "(stdout, exit status, last stderr line), find the first "
                                    "pass (prefixes of the pipeline) and within it the first "
                                    "transformation (binary search on the runtime's "
                                    "bisect limit, one counter over all functions optimized "
                                    "in the run) that causes it, and print the IR just "
                                    "before and after it. Exit status 0 found, 1 no "
                                    "difference, 2 bad input.")
    bs.add_argument("file", help="a Python script (.py)")
    add_passes_option(bs, "default")
    bs.add_argument("--backend", choices=backends, default="interp",
                    help="where optimized code runs (default: interp)")
    bs.add_argument("--timeout", type=positive(float), default=60.0, metavar="SECONDS",
                    help="per run (default: 60)")
    bs.add_argument("--verify-each", action="store_true",
                    help="verify the IR after every pass in every run")
    bs.set_defaults(func=cmd_bisect)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if os.environ.get("WORKBENCH_CRASH_REPORT"):  # a child of --isolate (workbench.isolate)
        from .isolate import child_setup

        child_setup(argv)
    try:
        if getattr(args, "isolate", False):
            from .isolate import run_isolated

            return run_isolated(argv)
        return args.func(args)
    except WorkbenchError as e:
        sys.stdout.flush()
        sys.stderr.write(f"{e}\n")
        return 2
    except BrokenPipeError:
        return 0
    except Exception as e:  # a bug of ours: one line, unless asked for the traceback
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        sys.stdout.flush()
        sys.stderr.write(f"workbench: internal error: {type(e).__name__}: {e} "
                         f"(set WORKBENCH_DEBUG=1 for the traceback)\n")
        return 70
    except KeyboardInterrupt:
        sys.stderr.write("workbench: interrupted\n")
        return 130


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
