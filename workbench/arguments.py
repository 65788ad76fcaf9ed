"""The command line's grammar: every command, option and help text of ``workbench``
(workbench/cli.py holds what each command does).  Environment variables that stand for
options are read here, at the CLI's edge, as the options' defaults."""

from __future__ import annotations

import argparse
import os
from typing import Callable

from .runtime import BACKENDS, DEFAULT_BACKEND


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, status 2
        self.exit(2, f"{self.prog}: error: {message}\n")


CLUSTER_HELP = ("run the programs as tasks on a Dask cluster: local (one worker process "
                "per CPU), local:N (N worker processes, one thread each) or "
                "tcp://HOST:PORT (a running Dask scheduler; its workers need the "
                "workbench installed); needs pip install 'uop-workbench[cluster]'")


def build_parser(commands: dict[str, Callable]) -> argparse.ArgumentParser:
    """The parser of every command; ``commands``: command name -> its function
    (``args -> exit status``), the ``func`` each subparser sets."""
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
    r.add_argument("--backend", choices=BACKENDS, default=DEFAULT_BACKEND,
                   help="where optimized code runs: native (the JIT: copy-and-patch x86-64 "
                        "machine code), interp (the reference interpreter), unicorn (the "
                        "JIT's code emulated); functions the JIT cannot compile run in the "
                        "interpreter (default: native)")
    add_passes_option(r, "default")
    add_boxed_option(r)
    r.set_defaults(func=commands["run"])

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
    pl.set_defaults(func=commands["pipeline"])

    ps = sub.add_parser("passes", help="list every registered pass",
                        description="List every registered pass with a one-line description "
                                    "and its options.")
    ps.add_argument("--load", metavar="FILE", action="append",
                    help="load passes from a Python file (repeatable)")
    ps.set_defaults(func=commands["passes"])

    ck = sub.add_parser("check", help="run lit/FileCheck-style regression tests",
                        description="Run test files that carry '# RUN:' commands and "
                                    "'# CHECK:' expectations (LLVM lit + FileCheck "
                                    "conventions); no lit install needed.")
    ck.add_argument("paths", nargs="+", metavar="PATH", help="test files or folders")
    ck.add_argument("-v", "--verbose", action="store_true", help="list passing tests too")
    ck.set_defaults(func=commands["check"])

    tr = sub.add_parser("trace", help="run a script and report what optimized code executed",
                        description="Run a script through the tiered runtime and count what "
                                    "optimized code executed: uops, guards, side exits, "
                                    "local loads and stores, per uop.")
    tr.add_argument("file", help="a Python script (.py) or IR text (.uop)")
    tr.add_argument("--backend", choices=BACKENDS, default="interp",
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
    tr.set_defaults(func=commands["trace"])

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
    asm.set_defaults(func=commands["asm"])
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
    sn.set_defaults(func=commands["stencils"])
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
    bn.set_defaults(func=commands["bench"])

    # -- reliability: --isolate/--verify-each for run and trace, fuzz, bisect --------
    backends = list(BACKENDS)
    for cmd in (r, tr):
        if "--isolate" not in cmd._option_string_actions:
            cmd.add_argument("--isolate", action="store_true",
                             help="run in a child process: if compiled code crashes, report "
                                  "one line (signal, uop, address) and exit with status 2")
        if "--verify-each" not in cmd._option_string_actions:
            cmd.add_argument("--verify-each", action="store_true",
                             help="run the IR verifier after every pass of every "
                                  "optimization (names the pass that broke the IR)")
        # the environment is read here, at the CLI's edge, and nowhere below it
        cmd.add_argument("--no-direct-calls", action="store_true",
                         default=os.environ.get("WORKBENCH_DIRECT_CALLS", "1") == "0",
                         help="compiled code calls compiled callees through the Python "
                              "helper, not directly in machine code (also "
                              "WORKBENCH_DIRECT_CALLS=0)")

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
    fz.set_defaults(func=commands["fuzz"])

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
    bs.set_defaults(func=commands["bisect"])
    for cmd in sub.choices.values():
        cmd.add_argument("--debug", action="store_true",
                         default=bool(os.environ.get("WORKBENCH_DEBUG")),
                         help="a bug of ours shows its traceback, and an emitter failure "
                              "stops the run instead of falling back to the interpreter "
                              "(also WORKBENCH_DEBUG=1)")
        cmd.add_argument("--clang", default=os.environ.get("WORKBENCH_CLANG") or None,
                         metavar="COMMAND",
                         help="compile stencils with this clang >= 19 (a command line) "
                              "instead of the ziglang wheel's (also WORKBENCH_CLANG)")
        cmd.add_argument("--stencil-cache", default=os.environ.get("WORKBENCH_CACHE_DIR") or None,
                         metavar="DIR",
                         help="where built stencils are kept (default "
                              "~/.cache/uop-workbench/stencils; also WORKBENCH_CACHE_DIR)")
    return p
