"""The ``workbench`` command line.

Every command has ``--help``.  User errors (bad input, bad options) print one
line and exit with status 2, never a traceback; a program's own exception ends
as CPython would end it (traceback on stderr, status 1).  This module is what each
command does, on the library (workbench.runtime); workbench/arguments.py is the grammar.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from backends.copy_and_patch import cache, compiler
from backends.tracing import FullTrace, asm_listing
from ir.core import MODULE_FUNCTION
from ir.errors import WorkbenchError
from ir.printer import print_function
from passes.base import PassContext
from passes.manager import Instrumentation, PassManager
from passes.pipeline import parse_pipeline
from passes.registry import all_passes, pass_names

from . import arguments
from .render import print_asm, print_full_trace, print_ir, print_trace
from .runtime import (Runtime, compiled_functions, constant_globals, exit_status, load_module,
                      load_plugins, read_text, require_stencils, run_file, run_guarded,
                      trace_report, warm_up)


def cmd_run(args) -> int:
    return run_file(args.file, args.backend, args.passes, boxed=args.boxed,
                    verify=getattr(args, "verify_each", False),
                    direct_calls=not args.no_direct_calls, debug=args.debug,
                    plugins=getattr(args, "load", None))


def _load_plugins(args) -> None:
    load_plugins(getattr(args, "load", None))


def _prepare(args, profile: bool, before_profile=None):
    """Plugins, pipeline, module, ``--function`` check, and the warm-up profile that
    'specialize' reads: what `pipeline` and `asm` both start with."""
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
    passes, module, profile, values = _prepare(args, profile=not args.no_profile)
    inst = Instrumentation(print_after_all=args.print_after_all,
                           print_after=set(args.print_after or []),
                           print_changed=args.print_changed, time_passes=args.time_passes,
                           stats=args.stats, verify_each=args.verify_each,
                           debug=args.debug)
    err = sys.stderr
    # As LLVM `opt`: the dumps and diffs of the instrumentation go to stderr, the final
    # IR to stdout (so `--print-after P f.py > out.uop` still writes the result).
    pm = PassManager(passes, inst, out=lambda text: print_ir(text, err))
    explain: list[str] | None = [] if args.explain else None
    ctx = BisectContext(module=module, profile=profile, explain=explain,
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


@dataclass
class BisectContext(PassContext):
    """A ``PassContext`` that lists, with ``--opt-bisect-limit N``, each transformation a
    pass asks for on ``stream`` as it is decided, in LLVM's words: ``BISECT: running
    pass (n) P on function (f): what`` for the first N and ``BISECT: NOT running pass
    (n) ...`` for the ones after, numbered on (``PassContext.allow`` decides and counts,
    unchanged)."""

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


def cmd_passes(args) -> int:
    _load_plugins(args)
    for cls in all_passes():
        opts = ", ".join(f"{k}={o.default}" for k, o in cls.options.items())
        sys.stdout.write(f"{cls.name:<12} {cls.description}"
                         + (f"  [{opts}]" if opts else "") + "\n")
    return 0


def cmd_check(args) -> int:
    from .check import collect, run_test  # lazy: the tools load per command (startup of run)

    files = collect(args.paths)
    failures = 0
    for path in files:
        failure = run_test(path, workbench=main)
        if failure is None:
            if args.verbose:
                sys.stdout.write(f"PASS: {path}\n")
        else:
            failures += 1
            sys.stdout.write(f"FAIL: {path}\n{failure.render()}\n")
    sys.stdout.write(f"{len(files) - failures} passed, {failures} failed\n")
    return 1 if failures else 0


def cmd_trace(args) -> int:
    _load_plugins(args)
    if (args.full or args.full_out) and args.backend != "unicorn":
        raise WorkbenchError("--full and --full-out need --backend unicorn")
    if args.full_limit < 0:
        raise WorkbenchError("--full-limit must be >= 0")
    module = load_module(args.file)
    require_stencils(args.backend)
    full = None
    sink = None
    if args.full or args.full_out:
        if args.full_out:
            try:
                sink = open(args.full_out, "w", encoding="utf-8")
            except OSError as e:
                raise WorkbenchError(f"{args.full_out}: cannot write: {e.strerror}") from None
        full = FullTrace(limit=args.full_limit, out=sink, keep=sink is None)
    rt = Runtime(module, backend=args.backend, passes=args.passes,
                 verify=getattr(args, "verify_each", False),
                 unicorn_mode="full" if full is not None else "blocks", full_trace=full,
                 boxed=args.boxed, direct_calls=not args.no_direct_calls, debug=args.debug)
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
        from .pictures import trace_chart  # lazy: the tools load per command (startup of run)

        _save_picture(args.plot, lambda: trace_chart(report))
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        sys.stdout.write(out.getvalue())
        if full is not None and sink is None:
            print_full_trace(report)
        print_trace(report)
    return status


def cmd_asm(args) -> int:
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
    passes, module, profile, values = _prepare(
        args, profile=True, before_profile=lambda: require_stencils("native", hint=False))
    yield from compiled_functions(module, passes, profile, values, args.function,
                                  boxed=getattr(args, "boxed", False))


def cmd_stencils(args) -> int:
    from . import stencils as st  # lazy: the tools load per command (startup of run)

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
    from .pictures import cfg_picture  # lazy: the tools load per command (startup of run)

    fns = [f for f in module.functions if f.name == args.function or (
        args.function is None and f.name != MODULE_FUNCTION)] or module.functions[:1]
    fmt = "dot" if args.dot.endswith(".dot") else "svg"
    _save_picture(args.dot, lambda: cfg_picture(fns[0], fmt))


def _cluster_spec(args):
    """The parsed ``--cluster`` value, or None (Dask is imported only when one is given)."""
    if args.cluster is None:
        return None
    from .cluster import parse_spec  # lazy: the tools load per command (startup of run)

    return parse_spec(args.cluster)


def cmd_bench(args) -> int:
    from .bench import main as bench_main  # lazy: the tools load per command (startup of run)

    return bench_main(args)

# --------------------------------------------------------------------------- fuzz, bisect

def cmd_fuzz(args) -> int:
    """Differential fuzzing against CPython (workbench.fuzz)."""
    # lazy: the tools load per command (startup of run)
    from .fuzz.campaign import Settings, run_campaign
    from .fuzz.cluster import run_cluster_campaign  # lazy: as above
    from .fuzz.generator import FEATURES  # lazy: as above

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
        from .cluster import connect  # lazy: the tools load per command (startup of run)

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
    from .bisect import bisect  # lazy: the tools load per command (startup of run)

    _load_plugins(args)
    return bisect(args.file, args.passes, args.backend, args.timeout, args.verify_each)


COMMANDS = {"run": cmd_run, "pipeline": cmd_pipeline, "passes": cmd_passes, "check": cmd_check,
            "trace": cmd_trace, "asm": cmd_asm, "stencils": cmd_stencils, "bench": cmd_bench,
            "fuzz": cmd_fuzz, "bisect": cmd_bisect}


def build_parser():
    """The ``workbench`` argument parser (workbench/arguments.py), bound to the commands."""
    return arguments.build_parser(COMMANDS)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    # the environment is read here, at the edge (arguments.py: the flags' defaults); the
    # library takes the switches as arguments
    if args.clang is not None:
        compiler.use_compiler(args.clang)
    if args.stencil_cache is not None:
        cache.use_cache_dir(args.stencil_cache)
    if os.environ.get("WORKBENCH_CRASH_REPORT"):  # a child of --isolate (workbench.isolate)
        from .isolate import child_setup  # lazy: only a child of --isolate needs it

        child_setup(argv)
    if getattr(args, "isolate", False):
        from .isolate import run_isolated  # lazy: only --isolate needs it

        def run():
            return run_isolated(argv)
    else:
        def run():
            return args.func(args)
    try:
        return exit_status(run, debug=args.debug)
    except KeyboardInterrupt:
        sys.stderr.write("workbench: interrupted\n")
        return 130


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
