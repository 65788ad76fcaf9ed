"""The ``workbench`` command line.

Every command has ``--help``.  User errors (bad input, bad options) print one
line and exit with status 2, never a traceback; a program's own exception ends
as CPython would end it (traceback on stderr, status 1).
"""

from __future__ import annotations

import argparse
import os
import sys

from ir.errors import WorkbenchError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, status 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def cmd_run(args) -> int:
    from .loader import load_module
    from .program import run_guarded
    from .runtime import Runtime

    _load_plugins(args)
    module = load_module(args.file)
    rt = Runtime(module, backend=args.backend, passes=args.passes)
    return run_guarded(rt.run, args.file)


def _load_plugins(args) -> None:
    from passes.registry import load_plugin_file

    for path in getattr(args, "load", None) or []:
        load_plugin_file(path)


def cmd_pipeline(args) -> int:
    from ir.core import MODULE_FUNCTION
    from ir.printer import print_function
    from passes.base import PassContext
    from passes.manager import Instrumentation, PassManager
    from passes.pipeline import parse_pipeline

    from .loader import load_module
    from .render import print_ir
    from .tiering import constant_globals, warm_up

    _load_plugins(args)
    passes = parse_pipeline(args.passes or "")
    module = load_module(args.file)
    names = [f.name for f in module.functions]
    if args.function is not None and args.function not in names:
        raise WorkbenchError(f"{args.file}: no function '{args.function}' "
                             f"(functions: {', '.join(names)})")
    profile, values = (None, {})
    if passes and not args.no_profile and MODULE_FUNCTION in names:
        profile, values = warm_up(module)
    inst = Instrumentation(print_after_all=args.print_after_all,
                           print_after=set(args.print_after or []),
                           print_changed=args.print_changed, time_passes=args.time_passes,
                           stats=args.stats, verify_each=args.verify_each)
    pm = PassManager(passes, inst, out=print_ir)
    explain: list[str] | None = [] if args.explain else None
    ctx = PassContext(module=module, profile=profile, explain=explain,
                      bisect_limit=args.opt_bisect_limit)
    for fn in module.functions:
        if args.function is None or fn.name == args.function:
            ctx.constant_globals = constant_globals(module, fn.name, values)
            pm.run_function(fn, ctx)
    if not (args.print_after_all or args.print_changed or args.print_after):
        print_ir("module " + repr(module.name) + "\n" if args.function is None else "")
        for fn in module.functions:
            if args.function is None or fn.name == args.function:
                print_ir(("\n" if args.function is None else "") + print_function(fn))
    err = sys.stderr
    if explain:
        err.write("".join(line + "\n" for line in explain))
    if args.opt_bisect_limit is not None:
        for n, name, what in ctx.log:
            err.write(f"BISECT: running pass ({n}) {name}: {what}\n")
    if args.time_passes:
        err.write(pm.timing_report())
    if args.stats:
        err.write(pm.stats_report())
    return 0


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
    module = load_module(args.file)
    rt = Runtime(module, backend=args.backend, passes=args.passes)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = run_guarded(rt.run, args.file)
    report = trace_report(rt, out.getvalue())
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        sys.stdout.write(out.getvalue())
        from .render import print_trace

        print_trace(report)
    return status


def trace_report(rt, stdout: str) -> dict:
    """The trace JSON: totals and per-uop counts of what optimized code executed."""
    from ir.uops import UOPS, Flag

    executed = rt.executed()
    totals = {"uops": 0, "guards": 0, "side_exits": rt.trace.side_exits,
              "local_loads": 0, "local_stores": 0}
    per_uop = []
    for (fn, uop), n in executed.items():
        totals["uops"] += n
        if UOPS[uop].has(Flag.GUARD):
            totals["guards"] += n
        if uop in ("_LOAD_FAST", "_LOAD_FAST_CHECK"):
            totals["local_loads"] += n
        elif uop == "_STORE_FAST":
            totals["local_stores"] += n
        per_uop.append({"function": fn, "uop": uop, "count": n})
    per_uop.sort(key=lambda r: (-r["count"], r["function"], r["uop"]))
    return {"stdout": stdout, "backend": rt.backend, "totals": totals, "per_uop": per_uop}


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="workbench",
                description="A workbench for tier-2 uop optimization passes and a "
                            "copy-and-patch x86-64 JIT.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

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
    r.add_argument("--backend", choices=["interp"], default="interp",
                   help="where optimized code runs (default: interp, the reference interpreter)")
    add_passes_option(r, "default")
    r.set_defaults(func=cmd_run)

    pl = sub.add_parser("pipeline", help="run passes and print the IR of each function",
                        description="Compile a script (or parse .uop IR text), run a pass "
                                    "pipeline over each function and print the IR. A script is "
                                    "first run briefly in tier 1 (output discarded) to collect "
                                    "the type profile that 'specialize' uses.")
    pl.add_argument("file", help="a Python script (.py) or IR text (.uop)")
    pl.add_argument("--function", metavar="NAME", help="only this function")
    add_passes_option(pl, "")
    pl.add_argument("--print-after-all", action="store_true", help="print IR after every pass")
    pl.add_argument("--print-after", metavar="PASS", action="append",
                    help="print IR after this pass (repeatable)")
    pl.add_argument("--print-changed", action="store_true",
                    help="print a diff of the IR after each pass that changed it")
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
                    help="allow only the first N transformations (listed on stderr)")
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
    tr.add_argument("--backend", choices=["interp"], default="interp",
                    help="where optimized code runs (default: interp)")
    add_passes_option(tr, "default")
    tr.add_argument("--json", action="store_true", help="machine-readable output")
    tr.set_defaults(func=cmd_trace)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
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
