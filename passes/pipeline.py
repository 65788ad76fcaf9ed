"""Pipeline strings: ``specialize,typeprop,guardelim,dse,regalloc{algo=linear-scan,regs=6}``."""

from __future__ import annotations

import difflib

from .base import Pass, PassError
from .registry import DEFAULT_PIPELINE, get_pass


def _split_top(text: str) -> list[tuple[str, int]]:
    """Split at commas outside braces; each piece with its 1-based column."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c == "{":
            depth += 1
            if depth > 1:
                raise PassError(f"pipeline:{i + 1}: nested '{{'")
        elif c == "}":
            depth -= 1
            if depth < 0:
                raise PassError(f"pipeline:{i + 1}: unmatched '}}'")
        elif c == "," and depth == 0:
            parts.append((text[start:i], start + 1))
            start = i + 1
    if depth:
        raise PassError(f"pipeline:{len(text)}: missing '}}'")
    parts.append((text[start:], start + 1))
    return parts


def _convert(pass_cls: type[Pass], key: str, raw: str, col: int):
    opt = pass_cls.options[key]
    try:
        if opt.type is bool:
            if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            value = raw.lower() in ("true", "1", "yes")
        else:
            value = opt.type(raw)
    except ValueError:
        raise PassError(f"pipeline:{col}: {pass_cls.name}: option '{key}' wants "
                        f"{opt.type.__name__}, got '{raw}'") from None
    if opt.choices is not None and value not in opt.choices:
        raise PassError(f"pipeline:{col}: {pass_cls.name}: option '{key}' must be one of "
                        f"{', '.join(map(str, opt.choices))}; got '{raw}'")
    return value


def parse_pipeline(text: str) -> list[Pass]:
    text = text.strip()
    if not text:
        return []
    passes: list[Pass] = []
    for piece, col in _split_top(text):
        stripped = piece.strip()
        col += len(piece) - len(piece.lstrip())
        if not stripped:
            raise PassError(f"pipeline:{col}: empty pass name")
        name, brace, rest = stripped.partition("{")
        name = name.strip()
        if name == "default" and not brace:
            passes.extend(parse_pipeline(DEFAULT_PIPELINE))
            continue
        cls = get_pass(name)
        opts = {}
        if brace:
            if not rest.endswith("}"):
                raise PassError(f"pipeline:{col}: text after '}}' in '{stripped}'")
            body = rest[:-1].strip()
            for item in [s for s in body.split(",")] if body else []:
                key, eq, raw = item.partition("=")
                key = key.strip()
                if not eq:
                    raise PassError(f"pipeline:{col}: {name}: option '{key}' needs '=value'")
                if key not in cls.options:
                    known = ", ".join(sorted(cls.options)) or "none"
                    close = difflib.get_close_matches(key, list(cls.options), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    raise PassError(f"pipeline:{col}: {name}: unknown option '{key}'{hint}; "
                                    f"options: {known}")
                opts[key] = _convert(cls, key, raw.strip(), col)
        passes.append(cls(**opts))
    return passes
