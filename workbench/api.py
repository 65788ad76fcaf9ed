"""A Python API that reads well in a notebook.

    import workbench as wb
    prog = wb.load("sum_loop.py")              # or wb.from_source("def f(): ...")
    prog.function("sum_loop")                  # tier-1 IR, coloured
    res = prog.pipeline("specialize,typeprop,guardelim", function="sum_loop")
    res                                        # per-pass stats + before/after diffs
    prog.run(backend="interp")                 # stdout, exactly CPython's
    t = prog.trace(backend="unicorn")          # hottest uops; t.to_pandas()
    prog.compile("sum_loop")                   # machine code, annotated

Every object has a ``_repr_html_`` (workbench.views) and pictures (workbench.pictures).
Each operation works on a fresh copy of the module, so nothing leaks between them.
"""

from __future__ import annotations

import contextlib
import copy
import io
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from backends.copy_and_patch import cache, compiler
from backends.copy_and_patch.emitter import compile as emit
from backends.tracing import asm_listing
from ir.core import MODULE_FUNCTION
from ir.errors import WorkbenchError
from ir.frontend import compile_source
from ir.limits import deep_recursion
from ir.parser import parse_module
from ir.printer import print_function
from ir.stats import function_stats
from ir.verifier import verify_module
from passes.base import PassContext
from passes.manager import Instrumentation, PassManager
from passes.pipeline import parse_pipeline

from . import views
from .pictures import cfg_picture, heatmap, pass_stats_chart, trace_chart
from .runtime import (JIT_BACKENDS, Runtime, constant_globals, format_program_error, optimize,
                      read_text, require_stencils, trace_report, warm_up)
from .views import HTMLView


class ProgramError(Exception):
    """The program raised; ``.traceback`` is CPython's traceback text, ``.stdout`` what it
    printed before."""

    def __init__(self, message: str, traceback: str, stdout: str):
        super().__init__(message)
        self.traceback = traceback
        self.stdout = stdout


def load(path: str | Path) -> "Program":
    """A program from a Python script (``.py``) or IR text (``.uop``)."""
    path = str(path)
    return Program(path, read_text(path))


def from_source(source: str, filename: str = "<notebook>.py") -> "Program":
    """A program from Python source text (e.g. written in a notebook cell)."""
    return Program(filename, source)


def toolchain(clang: str | list[str] | None = None,
              stencil_cache: str | Path | None = None) -> None:
    """How stencils are built from now on (the CLI's ``--clang`` / ``--stencil-cache``):
    ``clang`` a clang >= 19 (a command line or an argv; None: the ziglang wheel's),
    ``stencil_cache`` the folder they are kept in (None: ~/.cache/uop-workbench/stencils).
    The library reads no environment variable: this is the way to set them."""
    compiler.use_compiler(clang)
    cache.use_cache_dir(stencil_cache)


@dataclass
class IR:
    """One function's IR text; shows coloured in a notebook."""

    text: str
    title: str | None = None
    fn: object = field(default=None, repr=False)  # the ir.core.Function

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<IR {self.title or ''}: {self.text.count(chr(10))} lines>"

    def _repr_html_(self) -> str:
        return views.ir_html(self.text, self.title)

    def stats(self) -> dict:
        return dict(function_stats(self.fn))

    def cfg(self, fmt: str = "svg"):
        return cfg_picture(self.fn, fmt)


class Program:
    def __init__(self, path: str, source: str):
        self.path = path
        self.source = source
        self.module = self._fresh()  # checks the program compiles

    def __repr__(self) -> str:
        return f"<Program {self.path}: functions {', '.join(self.functions)}>"

    def _repr_html_(self) -> str:
        return (f"<b>{self.path}</b>: functions "
                + ", ".join(f"<code>{f}</code>" for f in self.functions)
                + views.details_html("source", views.ir_html(self.source)))

    def _fresh(self):
        if self.path.endswith(".uop"):
            module = parse_module(self.source, self.path)
        else:
            module = compile_source(self.source, self.path)
        verify_module(module)
        return module

    @property
    def functions(self) -> list[str]:
        return [f.name for f in self.module.functions]

    def _pick(self, module, name: str):
        for f in module.functions:
            if f.name == name:
                return f
        raise KeyError(f"no function {name!r} (functions: {', '.join(self.functions)})")

    def function(self, name: str) -> IR:
        """The tier-1 (generic) IR of one function."""
        fn = self._pick(self._fresh(), name)
        return IR(print_function(fn), f"@{name} (tier 1)", fn)

    def profile(self):
        """(type profile, globals) from a brief tier-1 run, as ``workbench pipeline`` does."""
        module = self._fresh()
        if MODULE_FUNCTION not in [f.name for f in module.functions]:
            return None, {}
        return warm_up(module)

    # -- passes -----------------------------------------------------------------------
    def pipeline(self, passes: str = "default", function: str | None = None,
                 verify: bool = True, profile: bool = True,
                 bisect_limit: int | None = None, debug: bool = False) -> "PipelineResult":
        """Run ``passes`` over one function (default: the first one that is not
        ``<module>``) as ``workbench pipeline`` does, keeping the IR after each pass.
        ``debug``: a broken pass raises its own exception (else a one-line PassError)."""
        plist = parse_pipeline(passes or "")
        module = self._fresh()
        if function is None:
            names = [f.name for f in module.functions if f.name != MODULE_FUNCTION]
            function = names[0] if names else MODULE_FUNCTION
        fn = self._pick(module, function)
        prof, values = (None, {})
        if plist and profile and MODULE_FUNCTION in [f.name for f in module.functions]:
            prof, values = warm_up(module)
        snapshots: list[str] = []
        inst = Instrumentation(print_after_all=True, stats=True, verify_each=verify, debug=debug)
        pm = PassManager(plist, inst, out=lambda s: snapshots.append(s.split("\n", 1)[1]))
        ctx = PassContext(module=module, profile=prof, explain=[],
                          constant_globals=constant_globals(module, fn.name, values),
                          bisect_limit=bisect_limit)
        before_fn = copy.deepcopy(fn)
        before = print_function(fn)
        pm.run_function(fn, ctx)
        steps = [Step(r.pass_name, r.changed, r.seconds, text, dict(r.stats))
                 for r, text in zip(pm.records, snapshots)]
        return PipelineResult(function, passes, before, dict(function_stats(before_fn)),
                              steps, fn, before_fn, list(ctx.explain or []))

    # -- running ----------------------------------------------------------------------
    def _runtime(self, backend: str, passes: str | None, **kw):
        if backend in JIT_BACKENDS:
            require_stencils(backend)
        return Runtime(self._fresh(), backend=backend, passes=passes, **kw)

    def _execute(self, rt) -> str:
        out = io.StringIO()
        try:
            with deep_recursion(), contextlib.redirect_stdout(out):
                rt.run()
        except WorkbenchError:
            raise
        except Exception as e:
            tb = format_program_error(e, self.path)
            raise ProgramError(tb.rstrip().splitlines()[-1], tb, out.getvalue()) from e
        return out.getvalue()

    def run(self, backend: str = "interp", passes: str | None = "default",
            boxed: bool = False, debug: bool = False) -> str:
        """Run the program; returns its stdout (exactly CPython's). A program exception
        raises ``ProgramError`` with CPython's traceback text. ``boxed``: compiled code
        keeps every value a ``PyObject *`` (CPython 3.15's model, no unboxing).
        ``debug``: a broken pass or emitter raises instead of being reported or of
        falling back to the interpreter."""
        return self._execute(self._runtime(backend, passes, boxed=boxed, debug=debug))

    def run_cpython(self) -> str:
        """The same program under this CPython (the reference for differential runs)."""
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / Path(self.path).name
            p.write_text(self.source, encoding="utf-8")
            r = subprocess.run([sys.executable, str(p)], capture_output=True, text=True)
        return r.stdout

    def trace(self, backend: str = "interp", passes: str | None = "default",
              boxed: bool = False) -> "Trace":
        """Run and count what optimized code executed (``workbench trace``); ``boxed`` as
        for ``run``."""
        rt = self._runtime(backend, passes, boxed=boxed)
        stdout = self._execute(rt)
        return Trace(trace_report(rt, stdout), _site_costs(rt), _listings(rt))

    # -- machine code -----------------------------------------------------------------
    def compile(self, function: str, passes: str | None = "default",
                boxed: bool = False) -> "Compiled":
        """Optimize ``function`` as the runtime would and emit its machine code (``boxed``:
        every value a ``PyObject *``). Raises ``backends.copy_and_patch.emitter.Unsupported``
        if the JIT refuses it."""
        require_stencils("native")
        plist = parse_pipeline(passes or "")
        module = self._fresh()
        fn = self._pick(module, function)
        prof, values = (None, {})
        if plist and MODULE_FUNCTION in [f.name for f in module.functions]:
            prof, values = warm_up(module)
        opt = optimize(module, fn, plist, prof, values)
        return Compiled(opt.fn, emit(opt.fn, boxed=boxed), self.source.splitlines())

    def asm(self, function: str, passes: str | None = "default") -> "Compiled":
        return self.compile(function, passes)


@dataclass
class Step:
    """The IR after one pass."""

    pass_name: str
    changed: bool
    seconds: float
    text: str
    stats: dict


@dataclass
class PipelineResult:
    function: str
    passes: str
    before: str                 # IR text before the first pass
    before_stats: dict
    steps: list[Step]
    fn: object = field(repr=False)          # the function after the pipeline
    before_fn: object = field(repr=False)   # ... and before it
    explain: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        changed = [s.pass_name for s in self.steps if s.changed]
        return (f"<PipelineResult @{self.function}: {len(self.steps)} passes, changed: "
                f"{', '.join(changed) or 'none'}>")

    @property
    def after(self) -> str:
        return self.steps[-1].text if self.steps else self.before

    def ir(self, i: int = -1) -> IR:
        """The IR after step ``i`` (default: the last)."""
        if not self.steps:
            return IR(self.before, f"@{self.function}", self.fn)
        s = self.steps[i]
        return IR(s.text, f"@{self.function} after {s.pass_name}", self.fn if i in (-1, len(
            self.steps) - 1) else None)

    def diff(self, i: int | str | None = None) -> "HTMLView":
        """Before/after of step ``i`` (an index or a pass name), or of the whole pipeline."""
        if i is None:
            return HTMLView(views.diff_html(self.before, self.after,
                                         f"@{self.function}: {self.passes}"))
        if isinstance(i, str):
            i = [s.pass_name for s in self.steps].index(i)
        prev = self.steps[i - 1].text if i > 0 else self.before
        return HTMLView(views.diff_html(prev, self.steps[i].text,
                                     f"@{self.function}: {self.steps[i].pass_name}"))

    def stats_rows(self) -> list[dict]:
        rows = [{"pass": "(before)", "changed": False, **self.before_stats}]
        for s in self.steps:
            rows.append({"pass": s.pass_name, "changed": s.changed,
                         "ms": round(s.seconds * 1000, 3), **s.stats})
        return rows

    def to_pandas(self):
        return _pandas().DataFrame(self.stats_rows())

    def cfg(self, fmt: str = "svg"):
        return cfg_picture(self.fn, fmt)

    def plot_stats(self, keys=("guards", "local_loads", "local_stores", "uops")):
        return pass_stats_chart(self.stats_rows(), keys, f"@{self.function}")

    def _repr_html_(self) -> str:
        parts = [views.table_html(self.stats_rows(), title=f"@{self.function}: {self.passes}")]
        for i, s in enumerate(self.steps):
            if s.changed:
                parts.append(views.details_html(f"{s.pass_name}: diff", self.diff(i).html))
        parts.append(views.details_html("IR after the pipeline",
                                        views.ir_html(self.after), open_=True))
        return "".join(parts)


@dataclass
class Trace:
    """``workbench trace``'s report: ``totals``, ``per_uop`` (hottest first), ``functions``."""

    report: dict
    sites: dict = field(default_factory=dict, repr=False)     # (fn, block, i) -> cost dict
    listings: dict = field(default_factory=dict, repr=False)  # fn -> optimized IR text

    def __repr__(self) -> str:
        return f"<Trace ({self.backend}): {self.totals}>"

    @property
    def totals(self) -> dict:
        return self.report["totals"]

    @property
    def per_uop(self) -> list[dict]:
        return self.report["per_uop"]

    @property
    def stdout(self) -> str:
        return self.report["stdout"]

    @property
    def backend(self) -> str:
        return self.report["backend"]

    def to_pandas(self):
        return _pandas().DataFrame(self.per_uop)

    def plot(self, key: str | None = None, limit: int = 15):
        return trace_chart(self.report, key, limit)

    def site_rows(self, key: str | None = None) -> list[dict]:
        """One row per uop site of optimized code (function, block, index), hottest first
        by ``key`` (default: ``instructions`` with Unicorn, else ``count``)."""
        if key is None:
            key = ("instructions" if any("instructions" in c for c in self.sites.values())
                   else "count")
        rows = [{"function": f, "block": b, "index": i, **c}
                for (f, b, i), c in self.sites.items()]
        rows.sort(key=lambda r: (-r.get(key, 0), r["function"], r["block"], r["index"]))
        return rows

    def heatmap(self, function: str | None = None, key: str | None = None) -> "HTMLView":
        """The optimized IR of ``function``, each uop shaded by how hot it ran."""
        return heatmap(self, function, key)

    def _repr_html_(self) -> str:
        totals = ", ".join(f"{k}={v:,}" for k, v in self.totals.items())
        return (f"<div><b>trace ({self.backend})</b>: {totals}</div>"
                + views.table_html(self.per_uop, limit=40)
                + views.table_html(self.report.get("functions", []),
                                   title="where tier 2 ran"))


@dataclass
class Compiled:
    fn: object
    blob: object
    source: list[str]

    def listing(self, base: int = 0) -> dict:
        return asm_listing(self.fn, self.blob, self.source, base=base)

    def code_of(self, uop: str, limit: int = 1) -> str:
        """The machine code of the first ``limit`` occurrences of uop ``uop`` (by name)."""
        out, cur, found = [], None, 0
        for row in self.listing()["rows"]:
            if row["kind"] == "uop":
                cur = row["text"]
                if re.search(rf"(^|= ){re.escape(uop)}\b", cur):
                    found += 1
                    if found > limit:
                        break
                    out.append(cur)
                else:
                    cur = None
            elif row["kind"] == "insn" and cur is not None:
                mem = "L" * row["loads"] + "S" * row["stores"]
                out.append(f"    {row['address']:06x}:  {row['bytes']:<30} {row['text']:<34}"
                           f"{mem}".rstrip())
            elif row["kind"] in ("block", "section"):
                cur = None
        return "\n".join(out)

    @property
    def size(self) -> int:
        return self.blob.size

    def text(self) -> str:
        return re.sub(r"<[^>]+>", "", views.asm_html(self.listing())).replace(
            "&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&#x27;", "'")

    def _repr_html_(self) -> str:
        return views.asm_html(self.listing())


def _pandas():
    try:
        # lazy: pandas is slow to import; only this path needs it
        import pandas  # lazy: optional, only to_pandas() needs it
    except ImportError:
        raise ImportError("to_pandas() needs pandas: python -m pip install pandas") from None
    return pandas


def _site_costs(rt) -> dict:
    """(function, block, index) -> {"count", and with Unicorn "instructions", "loads",
    "stores"}: what each uop site of optimized code executed."""
    out: dict = {}
    for name, t2 in rt.all_tier2():
        if t2.codemap is not None and t2.jit is not None and t2.jit.runs:
            for owner, c in t2.codemap.cost_by_owner(t2.jit.counts).items():
                if owner.block is None:
                    continue
                d = out.setdefault((name, owner.block, owner.index),
                                   {"uop": owner.uop, "line": owner.line, "count": 0,
                                    "instructions": 0, "loads": 0, "stores": 0})
                d["instructions"] += c.instructions
                d["loads"] += c.loads
                d["stores"] += c.stores
        for label, blk in t2.code.blocks.items():
            if blk.count:
                for i, u in enumerate(blk.uops):
                    d = out.setdefault((name, label, i), {"uop": u.name, "line": u.line,
                                                          "count": 0})
                    d["count"] += blk.count
    return out


def _listings(rt) -> dict:
    out = {}
    for name, t2 in rt.all_tier2():
        out.setdefault(name, print_function(t2.opt.fn))
    return out
