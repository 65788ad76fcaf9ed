"""The ``workbench`` command line.

Every command has ``--help``.  User errors (bad input, bad options) print one
line and exit with status 2, never a traceback; a program's own exception ends
as CPython would end it (traceback on stderr, status 1).
"""

from __future__ import annotations

import argparse
import sys

from ir.errors import WorkbenchError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, status 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def cmd_run(args) -> int:
    from .loader import load_module
    from .program import run_guarded
    from .runtime import Runtime

    module = load_module(args.file)
    rt = Runtime(module, backend=args.backend)
    return run_guarded(rt.run, args.file)


def cmd_pipeline(args) -> int:
    from ir.printer import print_function, print_module

    from .loader import load_module
    from .render import print_ir

    module = load_module(args.file)
    if args.function is not None:
        try:
            fn = module.function(args.function)
        except KeyError:
            names = ", ".join(f.name for f in module.functions)
            raise WorkbenchError(f"{args.file}: no function '{args.function}' "
                                 f"(functions: {names})") from None
        print_ir(print_function(fn))
    else:
        print_ir(print_module(module))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="workbench",
                description="A workbench for tier-2 uop optimization passes and a "
                            "copy-and-patch x86-64 JIT.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    r = sub.add_parser("run", help="run a script; prints exactly what `python f.py` prints",
                       description="Run a Python script on a backend. Its stdout is exactly "
                                   "CPython's; an exception it raises ends it as CPython "
                                   "would (traceback on stderr, exit status 1).")
    r.add_argument("file", help="a Python script (.py) or IR text (.uop)")
    r.add_argument("--backend", choices=["interp"], default="interp",
                   help="where the code runs (default: interp, the reference interpreter)")
    r.set_defaults(func=cmd_run)

    pl = sub.add_parser("pipeline", help="print the IR of each function",
                        description="Compile a script (or parse .uop IR text) and print the "
                                    "IR of each function.")
    pl.add_argument("file", help="a Python script (.py) or IR text (.uop)")
    pl.add_argument("--function", metavar="NAME", help="print only this function")
    pl.set_defaults(func=cmd_pipeline)
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
    except KeyboardInterrupt:
        sys.stderr.write("workbench: interrupted\n")
        return 130


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
