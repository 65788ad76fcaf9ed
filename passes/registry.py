"""The pass registry: built-in passes, ``workbench.passes`` entry points, ``--load`` files."""

from __future__ import annotations

import difflib
import importlib
import importlib.util
from importlib.metadata import entry_points
from pathlib import Path

from .base import Pass, PassError


# Built-in passes by name, imported only when used (keeps start-up lean).
BUILTIN = {
    "specialize": "passes.specialize:Specialize",
    "typeprop": "passes.typeprop:TypeProp",
    "guardelim": "passes.guardelim:GuardElim",
    "constfold": "passes.constfold:ConstFold",
    "dce": "passes.dce:DCE",
    "dse": "passes.dse:DSE",
    "promote": "passes.promote:Promote",
    "liveness": "passes.liveness:Liveness",
    "regalloc": "passes.regalloc:RegAlloc",
}

# The standard pipeline, in PyPy's spirit: a fixed order, each pass one job.
DEFAULT_PIPELINE = "specialize,typeprop,guardelim,constfold,dce,dse,promote,typeprop,guardelim,dce"

_REGISTERED: dict[str, type[Pass]] = {}
_entry_points_loaded = False


def register_pass(cls: type[Pass]) -> type[Pass]:
    """Class decorator for third-party passes (``--load`` files and plugins)."""
    if not getattr(cls, "name", ""):
        raise PassError(f"pass class {cls.__name__} has no name")
    _REGISTERED[cls.name] = cls
    return cls


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True

    for ep in entry_points(group="workbench.passes"):
        try:
            obj = ep.load()
        except Exception as e:  # a broken plugin must not take the tool down
            raise PassError(f"plugin {ep.name!r} ({ep.value}) failed to load: {e}") from None
        if isinstance(obj, type) and issubclass(obj, Pass):
            _REGISTERED.setdefault(obj.name, obj)


def load_plugin_file(path: str) -> None:
    """``--load mypass.py``: run the file; its ``@register_pass`` classes join."""
    p = Path(path)
    if p.is_dir():
        raise PassError(f"{path}: is a directory")
    if not p.is_file():
        raise PassError(f"{path}: no such file")
    spec = importlib.util.spec_from_file_location(f"workbench_plugin_{p.stem}", p)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise PassError(f"{path}:{e.lineno or 1}:{e.offset or 1}: SyntaxError: {e.msg}") \
            from None
    except SystemExit as e:  # a plugin must not end the tool silently
        raise PassError(f"{path}: plugin failed to load: it called sys.exit({e.code!r})") \
            from None
    except Exception as e:
        raise PassError(f"{path}: plugin failed to load: {type(e).__name__}: {e}") from None
    for obj in vars(module).values():
        if (isinstance(obj, type) and issubclass(obj, Pass) and obj is not Pass
                and getattr(obj, "name", "")):
            _REGISTERED.setdefault(obj.name, obj)


def pass_names() -> list[str]:
    _load_entry_points()
    return sorted(set(BUILTIN) | set(_REGISTERED))


def get_pass(name: str) -> type[Pass]:
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name in BUILTIN:
        mod, _, cls = BUILTIN[name].partition(":")
        _REGISTERED[name] = getattr(importlib.import_module(mod), cls)
        return _REGISTERED[name]
    _load_entry_points()
    if name in _REGISTERED:
        return _REGISTERED[name]
    names = pass_names()
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise PassError(f"unknown pass '{name}'{hint}; known passes: {', '.join(names)}")


def all_passes() -> list[type[Pass]]:
    return [get_pass(n) for n in pass_names()]
