"""A stand-in for pyperf, so a pyperformance benchmark's script runs unchanged and prints
only deterministic lines: CPython and the workbench then run the same program, and
their outputs can be compared.

This folder goes first on ``sys.path`` (``PYTHONPATH``); the script's ``import pyperf``
finds this module instead of the real one.  ``Runner`` calls each workload a fixed
number of times instead of calibrating and timing it, and prints one line per
benchmark: its name, how it was called and, for ``bench_func``, a digest of what the
workload returned (never a time).

The options come from the ``PYPERF_SHIM_ARGS`` environment variable (shell words), not
from ``sys.argv``: ``workbench run`` passes no arguments to the script, and its own
``sys.argv`` is the workbench's.  They are the benchmark's own options (its
``runner.argparser`` arguments, e.g. ``--iterations 10``, and the variant's positional
``extra_opts``) plus ``--loops N`` (default 1): the ``loops`` argument of a
``bench_time_func`` workload, and the number of calls of a ``bench_func`` one; and
``--args NAME=DICT`` (repeatable): for the benchmark NAME, the workload's positional
arguments at the dict's indexes replaced by its values (a Python literal, e.g.
``fannkuch={0: 6}``), and ``--global NAME=VALUE`` (repeatable): the script's global
NAME set to the literal VALUE before each workload runs (``GAMES=5``), for a small run
of a benchmark whose sizes are fixed in its script.
"""

import argparse
import ast
import hashlib
import os
import platform
import shlex
import sys
import time

ARGS_ENV = "PYPERF_SHIM_ARGS"

perf_counter = time.perf_counter


def python_implementation():
    return platform.python_implementation().lower()


def digest(value):
    """``None``; ``sha256:`` and the first 16 hex digits of the SHA-256 of
    ``canonical(value)`` (UTF-8); or ``<TypeName>`` for a value whose repr is not
    reproducible (an object at an address)."""
    if value is None:
        return "None"
    text = canonical(value)
    if text is None:
        return "<%s>" % type(value).__name__
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def canonical(value):
    """The repr of a value made of None, bools, numbers, strings, bytes, tuples, lists,
    dicts and sets (a set's elements sorted by their canonical text: string hashing is
    randomized per process), else None."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return repr(value)
    if isinstance(value, (tuple, list)):
        items = [canonical(v) for v in value]
        if None in items:
            return None
        if isinstance(value, tuple):
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        return "[" + ", ".join(items) + "]"
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            ck, cv = canonical(k), canonical(v)
            if ck is None or cv is None:
                return None
            items.append(ck + ": " + cv)
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (set, frozenset)):
        items = [canonical(v) for v in value]
        if None in items:
            return None
        return type(value).__name__ + "({" + ", ".join(sorted(items)) + "})"
    return None


def plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


class Runner:
    """pyperf's ``Runner`` as the benchmarks use it: ``argparser``, ``metadata``,
    ``parse_args``, ``args`` and the ``bench_*`` methods."""

    def __init__(self, values=None, processes=None, loops=0, min_time=None, metadata=None,
                 show_name=True, program_args=None, add_cmdline_args=None, _argparser=None,
                 **kwargs):
        self.metadata = dict(metadata or {})
        self.argparser = _argparser or argparse.ArgumentParser()
        self.argparser.add_argument("--loops", type=int, default=1,
                                    help="loops of each workload (shim: default 1)")
        self.argparser.add_argument("--args", action="append", default=[],
                                    metavar="NAME=DICT",
                                    help="replace workload arguments (shim)")
        self.argparser.add_argument("--global", action="append", default=[], dest="globals_",
                                    metavar="NAME=VALUE", help="set a script global (shim)")
        self.args = None
        self.show_name = show_name

    def parse_args(self, args=None):
        if self.args is None:
            words = shlex.split(os.environ.get(ARGS_ENV, "")) if args is None else args
            self.args = self.argparser.parse_args(words)
            if self.args.loops < 1:
                self.argparser.error("--loops must be >= 1")
            self._override = {}
            for spec in self.args.args:
                name, _, text = spec.partition("=")
                try:
                    value = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    value = None
                if not isinstance(value, dict):
                    self.argparser.error("--args %s: not NAME={index: value, ...}" % spec)
                self._override[name] = value
            self._globals = {}
            for spec in self.args.globals_:
                name, _, text = spec.partition("=")
                try:
                    self._globals[name] = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    self.argparser.error("--global %s: not NAME=LITERAL" % spec)
        return self.args

    def _loops(self):
        return self.parse_args().loops

    def _args(self, name, args):
        """The workload's arguments, with ``--args`` replacements."""
        self.parse_args()
        main = sys.modules["__main__"]
        for key, value in self._globals.items():
            setattr(main, key, value)
        args = list(args)
        for i, v in self._override.get(name, {}).items():
            args[i] = v
        return args

    def bench_time_func(self, name, time_func, *args, **kwargs):
        loops = self._loops()
        time_func(loops, *self._args(name, args))
        print("%s: bench_time_func, %s" % (name, plural(loops, "loop")))

    def bench_func(self, name, func, *args, **kwargs):
        calls = self._loops()
        results = []
        args = self._args(name, args)
        for _ in range(calls):
            results.append(func(*args))
        value = results[0] if calls == 1 else results
        print("%s: bench_func, %s, %s" % (name, plural(calls, "call"), digest(value)))

    def bench_async_func(self, name, func, *args, **kwargs):
        # lazy: only the asyncio benchmarks need the event loop
        import asyncio

        calls = self._loops()
        results = []
        args = self._args(name, args)
        for _ in range(calls):
            results.append(asyncio.run(func(*args)))
        value = results[0] if calls == 1 else results
        print("%s: bench_async_func, %s, %s" % (name, plural(calls, "call"), digest(value)))

    def bench_command(self, name, command):
        # lazy: only the startup benchmarks run a command
        import subprocess

        calls = self._loops()
        status = 0
        for _ in range(calls):
            status = subprocess.run(command, stdout=subprocess.DEVNULL).returncode
        print("%s: bench_command, %s, exit status %d" % (name, plural(calls, "run"), status))
