"""The benchmarks of the installed ``pyperformance`` package, found in its data files and
sorted into the pure-Python suite the workbench is measured on and the rest.

Every ``bm_*/`` folder of ``pyperformance/data-files/benchmarks`` is one benchmark (its
``pyproject.toml``: ``[tool.pyperformance]`` name, tags, ``extra_opts``) plus one per
variant file ``bm_*.toml`` beside it (the same script with other ``extra_opts``).  The
scripts are read where pyperformance installed them, never copied.

Each benchmark is classified from its metadata and the ``ast`` of its script (and of the
sibling modules it imports), never by running it:

- ``third-party``: it needs a package outside the standard library (its requirements, or
  an import that is neither standard nor a sibling file);
- ``io``: it does I/O: files (data read next to the script, files it writes), sockets,
  subprocesses, threads or an asyncio event loop;
- ``c-extension``: its workload is a C-accelerated module beyond the ordinary standard
  library (``CEXT_MODULES``: decimal, json, pickle, re, ...): the workbench would only
  measure the call into C.

The rest is the suite: the benchmark's time goes to Python code of its own or of the
pure-Python standard library, with only the ordinary builtin modules (math, array,
itertools, collections, random, ...) beside it.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ir.errors import WorkbenchError

KINDS = ("third-party", "io", "c-extension")

# module -> the C accelerator whose work the benchmark would measure
CEXT_MODULES = {
    "base64": "binascii", "decimal": "_decimal", "gc": "gc", "hashlib": "_hashlib",
    "json": "_json", "pickle": "_pickle", "re": "_sre", "sqlite3": "_sqlite3",
    "xml": "_elementtree", "zlib": "zlib",
}
# module -> the I/O it does
IO_MODULES = {
    "asyncio": "an asyncio event loop (selector, self-pipe socket)",
    "concurrent": "worker threads or processes", "glob": "directory listings",
    "multiprocessing": "worker processes", "shutil": "file operations",
    "socket": "sockets", "ssl": "TLS sockets", "subprocess": "subprocesses",
    "tempfile": "temporary files", "threading": "threads",
}
# Runner methods -> the I/O they do
IO_METHODS = {"bench_command": "subprocesses (bench_command)",
              "bench_async_func": "an asyncio event loop (bench_async_func)"}


@dataclass
class Benchmark:
    name: str
    directory: Path
    script: Path
    extra_opts: tuple[str, ...]
    tags: tuple[str, ...]
    requirements: tuple[str, ...]
    imports: tuple[str, ...]                 # top-level modules the scripts import
    reasons: dict[str, list[str]] = field(default_factory=dict)  # kind -> why

    @property
    def kind(self) -> str:
        """The first of ``KINDS`` it falls under, else ``suite``."""
        return next((k for k in KINDS if self.reasons.get(k)), "suite")

    def why(self) -> str:
        return "; ".join(f"{k}: {', '.join(self.reasons[k])}" for k in KINDS
                         if self.reasons.get(k))


def benchmarks_dir() -> Path:
    """``pyperformance/data-files/benchmarks`` of the installed package (a test
    dependency); raises ``WorkbenchError`` when it is missing."""
    spec = importlib.util.find_spec("pyperformance")  # finds it without importing it
    if spec is None or not spec.submodule_search_locations:
        raise WorkbenchError("pyperformance is not installed: pip install pyperformance")
    root = Path(list(spec.submodule_search_locations)[0]) / "data-files" / "benchmarks"
    if not root.is_dir():
        raise WorkbenchError(f"{root}: no such folder (an incomplete pyperformance)")
    return root


def discover(root: Path | None = None) -> list[Benchmark]:
    """Every benchmark and variant under ``root`` (default: the installed package's),
    classified, sorted by name."""
    root = benchmarks_dir() if root is None else root
    out = []
    for folder in sorted(root.glob("bm_*/")):
        project = folder / "pyproject.toml"
        script = folder / "run_benchmark.py"
        if not project.is_file() or not script.is_file():
            continue
        base = _load_toml(project)
        requirements = _requirements(base, folder)
        for meta in [base] + [_load_toml(v) for v in sorted(folder.glob("bm_*.toml"))]:
            perf = meta.get("tool", {}).get("pyperformance", {})
            tags = perf.get("tags", base.get("tool", {}).get("pyperformance", {}).get("tags", ""))
            bench = Benchmark(name=perf.get("name", folder.name[3:]), directory=folder,
                              script=script, extra_opts=tuple(perf.get("extra_opts", ())),
                              tags=tuple(tags.split()) if isinstance(tags, str) else tuple(tags),
                              requirements=requirements, imports=())
            classify(bench)
            out.append(bench)
    names = [b.name for b in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise WorkbenchError(f"{root}: benchmarks named twice: {', '.join(dup)}")
    return sorted(out, key=lambda b: b.name)


def suite(root: Path | None = None) -> list[Benchmark]:
    """The pure-Python benchmarks: neither third-party, nor I/O, nor C-extension."""
    return [b for b in discover(root) if b.kind == "suite"]


def _load_toml(path: Path) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def _requirements(meta: dict, folder: Path) -> tuple[str, ...]:
    deps = [d for d in meta.get("project", {}).get("dependencies", [])
            if _req_name(d) != "pyperf"]
    req = folder / "requirements.txt"
    if req.is_file():
        for line in req.read_text(encoding="utf-8").splitlines():
            line = line.split("#")[0].strip()
            if line and _req_name(line) not in {_req_name(d) for d in deps}:
                deps.append(line)
    return tuple(deps)


def _req_name(spec: str) -> str:
    for i, c in enumerate(spec):
        if not (c.isalnum() or c in "-_."):
            return spec[:i].lower().replace("_", "-")
    return spec.lower().replace("_", "-")


def classify(bench: Benchmark) -> None:
    """Fill ``bench.imports`` and ``bench.reasons`` from its requirements and source."""
    trees = _trees(bench.script)
    siblings = {p.stem for p in bench.directory.glob("*.py")}
    imports: list[str] = []
    for tree in trees.values():
        for mod in _imports(tree):
            if mod not in imports:
                imports.append(mod)
    bench.imports = tuple(imports)
    reasons: dict[str, list[str]] = {k: [] for k in KINDS}
    reasons["third-party"] += [f"requires {r}" for r in bench.requirements]
    for mod in imports:
        if mod == "pyperf" or mod in siblings or mod == "__future__":
            continue
        if mod not in sys.stdlib_module_names:
            if not any(_req_name(r) == mod for r in bench.requirements):
                reasons["third-party"].append(f"imports {mod}")
        elif mod in IO_MODULES:
            reasons["io"].append(f"{IO_MODULES[mod]} ({mod})")
        elif mod in CEXT_MODULES and not (mod == "pickle" and "--pure-python" in bench.extra_opts):
            reasons["c-extension"].append(f"{mod} ({CEXT_MODULES[mod]})")
    for tree in trees.values():
        reasons["io"] += [r for r in _io_uses(tree) if r not in reasons["io"]]
    bench.reasons = {k: v for k, v in reasons.items() if v}


def _trees(script: Path) -> dict[Path, ast.Module]:
    """The script's ``ast`` and those of the sibling modules it imports, transitively."""
    out: dict[Path, ast.Module] = {}
    todo = [script]
    while todo:
        path = todo.pop()
        if path in out:
            continue
        out[path] = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for mod in _imports(out[path]):
            sibling = script.parent / f"{mod}.py"
            if sibling.is_file():
                todo.append(sibling)
    return out


def _imports(tree: ast.Module) -> list[str]:
    mods = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods += [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            mods.append(node.module.split(".")[0])
    return list(dict.fromkeys(mods))


def _io_uses(tree: ast.Module) -> list[str]:
    """The I/O a script does besides its imports: files next to it (``__file__``), files
    it opens (but for an optional output, ``open(filename)`` with ``--filename``
    defaulting to none), and the Runner methods that run processes or event loops."""
    out = []
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    if "__file__" in names:
        out.append("files next to the script (__file__)")
    optional = _optional_filename(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id == "open":
            first = node.args[0] if node.args else None
            if not (optional and isinstance(first, ast.Name) and first.id == "filename"):
                if "files (open)" not in out:
                    out.append("files (open)")
        elif isinstance(f, ast.Attribute) and f.attr in IO_METHODS:
            if IO_METHODS[f.attr] not in out:
                out.append(IO_METHODS[f.attr])
    return out


def _optional_filename(tree: ast.Module) -> bool:
    """The script has an option ``--filename`` without a default (None: no file)."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_argument" and node.args
                and isinstance(node.args[0], ast.Constant) and node.args[0].value == "--filename"):
            return not any(k.arg == "default" for k in node.keywords)
    return False
