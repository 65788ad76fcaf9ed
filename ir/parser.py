"""Parser for the textual IR (see ``printer``); ``print(parse(t)) == t`` exactly.

Errors are ``ParseError``s whose message reads ``file:line:col: message``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .core import Block, Exit, Function, Module, Signature, Target, Uop
from .errors import WorkbenchError
from .uops import BINOPS, CMPOPS, UNOPS, UOPS, Imm


class ParseError(WorkbenchError):
    def __init__(self, filename: str, line: int, col: int, message: str):
        self.filename, self.line, self.col, self.message = filename, line, col, message
        super().__init__(f"{filename}:{line}:{col}: {message}")


@dataclass
class Tok:
    kind: str   # value, label_ref, func, ident, number, string, op, punct
    text: str
    col: int    # 1-based


# Names (of locals, globals, blocks, functions) are Python identifiers in any script, as
# the frontend passes them through, or ``$``-temporaries.
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<value>%\d+)
  | (?P<label_ref>\^(?:\$|[^\W\d])(?:[\w$.]|[^\x00-\x7f\s])*)
  | (?P<func>@(?:<|[^\W\d])(?:[\w.<>#]|[^\x00-\x7f\s])*)
  | (?P<complex>\(-?{R}[+-]{R}j\)|-?{R}j\b)
  | (?P<number>-?0x[0-9a-f]+|-?(?:\d[\d_]*)(?:\.\d*)?(?:[eE][+-]?\d+)?|-inf\b)
  | (?P<string>b?'(?:[^'\\\n]|\\.)*'|b?"(?:[^"\\\n]|\\.)*")
  | (?P<ident>(?:\$|[^\W\d])(?:[\w$.]|[^\x00-\x7f\s])*)
  | (?P<directive>\.[a-z]+)
  | (?P<op>\*\*=|//=|<<=|>>=|\*\*|//|<<|>>|<=|>=|==|!=|[-+*/%&|^]=|[-+*/%&|^<>])
  | (?P<punct>[(),:=@{}])
""".replace("{R}", r"(?:\d+(?:\.\d*)?(?:e[+-]?\d+)?|inf|nan)"), re.VERBOSE)

_TYPE_OR_LOC = re.compile(r"[A-Za-z_]\w*")


def tokenize(text: str, filename: str, lineno: int) -> list[Tok]:
    toks: list[Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ParseError(filename, lineno, pos + 1, f"unexpected character {text[pos]!r}")
        kind = m.lastgroup
        if kind != "ws":
            toks.append(Tok(kind, m.group(), pos + 1))
        pos = m.end()
    return toks


class _LineParser:
    """Recursive descent over the tokens of one line."""

    def __init__(self, toks: list[Tok], filename: str, lineno: int, line_len: int,
                 numbers: dict[int, int] | None = None):
        self.toks, self.i = toks, 0
        # One int object per value number in a parse: a large function names each
        # value ~3 times, and separate objects would make the IR larger.
        self.numbers = numbers if numbers is not None else {}
        self.filename, self.lineno, self.end_col = filename, lineno, line_len + 1

    def error(self, message: str, tok: Tok | None = None) -> ParseError:
        if tok is None:
            tok = self.peek()
        col = tok.col if tok is not None else self.end_col
        return ParseError(self.filename, self.lineno, col, message)

    def peek(self, k: int = 0) -> Tok | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def at(self, kind: str, text: str | None = None) -> bool:
        t = self.peek()
        return t is not None and t.kind == kind and (text is None or t.text == text)

    def take(self, kind: str, text: str | None = None, what: str | None = None) -> Tok:
        t = self.peek()
        if t is None or t.kind != kind or (text is not None and t.text != text):
            want = what or (repr(text) if text else kind)
            got = "end of line" if t is None else repr(t.text)
            raise self.error(f"expected {want}, got {got}")
        self.i += 1
        return t

    def accept(self, kind: str, text: str | None = None) -> Tok | None:
        if self.at(kind, text):
            return self.take(kind, text)
        return None

    def done(self) -> None:
        t = self.peek()
        if t is not None:
            raise self.error(f"unexpected {t.text!r}")

    # -- pieces ---------------------------------------------------------------

    def integer(self, text: str, tok: Tok) -> int:
        """``int(text)`` of digits, a ParseError where Python refuses (over 4300 digits)."""
        try:
            return int(text)
        except ValueError:
            raise self.error(f"integer too long ({len(text)} digits)", tok) from None

    def line_number(self) -> int:
        tok = self.take("number", what="a line number")
        if not tok.text.isdigit():
            raise self.error("expected a line number", tok)
        return self.integer(tok.text, tok)

    def value(self) -> int:
        tok = self.take("value", what="a value like %3")
        v = self.integer(tok.text[1:], tok)
        return self.numbers.setdefault(v, v)

    def value_def(self, fn: Function, defined: set[int]) -> int:
        tok = self.peek()
        v = self.value()
        if v in defined:
            raise self.error(f"value %{v} is defined twice", tok)
        defined.add(v)
        if self.accept("punct", ":"):
            fn.types[v] = self.type_or_loc("type")
        if self.at("func"):  # ``@r0`` lexes as one token, like a function name
            t = self.take("func")
            if not _TYPE_OR_LOC.fullmatch(t.text[1:]):
                raise self.error(f"bad location {t.text[1:]!r}", t)
            fn.locs[v] = t.text[1:]
        elif self.accept("punct", "@"):
            fn.locs[v] = self.type_or_loc("location")
        return v

    def type_or_loc(self, what: str) -> str:
        t = self.take("ident", what=f"a {what}")
        if not _TYPE_OR_LOC.fullmatch(t.text):
            raise self.error(f"bad {what} {t.text!r}", t)
        return t.text

    def ident(self, what: str) -> str:
        return self.take("ident", what=what).text

    def const(self):
        t = self.peek()
        if t is None:
            raise self.error("expected a constant, got end of line")
        if t.kind == "number":
            self.i += 1
            text = t.text.replace("_", "")
            if text == "-inf":
                return float("-inf")
            if "x" in text:  # integers too long for decimal print in hex
                return int(text, 16)
            if any(c in text for c in ".eE"):
                return float(text)
            return self.integer(text, t)
        if t.kind == "complex":   # repr(): 1j, (1+2j), (-0-0j), (inf+nanj)
            self.i += 1
            return complex(t.text)
        if t.kind == "string":
            self.i += 1
            try:
                return ast.literal_eval(t.text)
            except (ValueError, SyntaxError):
                raise self.error(f"bad string literal {t.text}", t) from None
        if t.kind == "ident" and t.text in _NAMED_CONSTS:
            self.i += 1
            return _NAMED_CONSTS[t.text]
        raise self.error(f"expected a constant, got {t.text!r}")

    def imm(self, kind: Imm):
        t = self.peek()
        if kind is Imm.CONST:
            return self.const()
        if kind in (Imm.LOCAL, Imm.GLOBAL, Imm.NAME):
            return self.ident(f"a {kind.value} name")
        if kind is Imm.FUNC:
            return self.take("func", what="a function like @f").text[1:]
        if kind is Imm.NAMES:
            self.take("ident", "names", what="names(a, b)")
            self.take("punct", "(")
            return tuple(t.text for t in _ident_list(self, "a name"))
        if kind is Imm.INT:
            tok = self.take("number", what="an integer")
            if not re.fullmatch(r"-?\d+", tok.text):
                raise self.error("expected an integer", tok)
            return self.integer(tok.text, tok)
        table = {Imm.BINOP: BINOPS, Imm.CMPOP: CMPOPS, Imm.UNOP: UNOPS}[kind]
        if t is None or t.text not in table or t.kind not in ("op", "ident"):
            got = "end of line" if t is None else repr(t.text)
            raise self.error(f"expected a {kind.value} operator, got {got}")
        self.i += 1
        return t.text

    def target(self) -> Target:
        tok = self.take("label_ref", what="a block like ^bb1")
        t = Target(tok.text[1:])
        if self.accept("punct", "("):
            if not self.accept("punct", ")"):
                t.args.append(self.value())
                while self.accept("punct", ","):
                    t.args.append(self.value())
                self.take("punct", ")")
        return t

    def exit(self) -> Exit:
        self.take("punct", "(")
        label = self.ident("a block label")
        self.take("punct", ":")
        idx = self.take("number", what="a uop index")
        if not idx.text.isdigit():
            raise self.error("expected a uop index", idx)
        e = Exit(label, self.integer(idx.text, idx))
        while self.accept("punct", ","):
            if self.at("value"):
                k = self.value()
                v = self.value() if self.accept("punct", "=") else k
                e.values.append((k, v))
            else:
                name = self.ident("a tier-1 value or a local")
                self.take("punct", "=")
                e.locals.append((name, self.value()))
        self.take("punct", ")")
        return e

    def uop(self, fn: Function, defined: set[int], line: int | None) -> Uop:
        out = None
        if self.at("value"):
            out = self.value_def(fn, defined)
            self.take("punct", "=")
        name_tok = self.take("ident", what="a uop name")
        d = UOPS.get(name_tok.text)
        if d is None:
            raise self.error(f"unknown uop {name_tok.text!r}", name_tok)
        if out is not None and not d.output:
            raise self.error(f"{d.name} produces no value", name_tok)
        if out is None and d.output:
            raise self.error(f"{d.name} produces a value; write '%N = {d.name} ...'", name_tok)
        imms = tuple(self.imm(k) for k in d.imms)
        inputs: list[int] = []
        targets: list[Target] = []
        if self.at("value") or self.at("label_ref"):
            while True:
                if self.at("value"):
                    if targets:
                        raise self.error("values must come before successor blocks")
                    inputs.append(self.value())
                else:
                    targets.append(self.target())
                if not self.accept("punct", ","):
                    break
        n = len(inputs)
        if (n < d.fixed_inputs) or (n > d.fixed_inputs and not d.variadic):
            want = f"at least {d.fixed_inputs}" if d.variadic else str(d.fixed_inputs)
            raise self.error(f"{d.name} takes {want} input(s), got {n}", name_tok)
        if not d.takes_targets(len(targets)):
            want = "one or more" if d.targets == -1 else d.targets
            raise self.error(f"{d.name} takes {want} successor(s), got {len(targets)}",
                             name_tok)
        ex = None
        if self.accept("ident", "exit"):
            ex = self.exit()
        self.done()
        return Uop(d.name, inputs, out, imms, targets, ex, line)


_NAMED_CONSTS = {"None": None, "True": True, "False": False, "inf": float("inf"),
                 "nan": float("nan"), "Ellipsis": Ellipsis}


def _line_parser(text: str, filename: str, lineno: int,
                 numbers: dict[int, int] | None = None) -> _LineParser:
    return _LineParser(tokenize(text, filename, lineno), filename, lineno, len(text), numbers)


def parse_module(text: str, filename: str = "<string>", *, header: bool = True) -> Module:
    """Parse a module; with ``header=False`` the ``module "NAME"`` line is absent."""
    lines = text.split("\n")
    module: Module | None = None if header else Module(filename)
    fn: Function | None = None
    block: Block | None = None
    defined: set[int] = set()
    names: set[str] = set()
    labels: set[str] = set()
    cur_line: int | None = None
    numbers: dict[int, int] = {}
    for lineno, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        p = _line_parser(raw, filename, lineno, numbers)
        if module is None:
            p.take("ident", "module", what="'module \"NAME\"' first")
            name = p.take("string", what="a module name string")
            p.done()
            try:
                module = Module(ast.literal_eval(name.text))
            except (ValueError, SyntaxError):
                raise p.error(f"bad string literal {name.text}", name) from None
            continue
        if fn is None:
            p.take("ident", "func", what="'func @name(...) {' or end of file")
            ftok = p.take("func", what="a function name like @f")
            if ftok.text[1:] in names:
                raise p.error(f"function {ftok.text} is defined twice", ftok)
            fn = Function(ftok.text[1:])
            names.add(fn.name)
            p.take("punct", "(")
            fn.params = [t.text for t in _ident_list(p, "a parameter name")]
            fn.locals = list(fn.params)
            if p.accept("ident", "sig"):
                fn.signature = _signature(p, len(fn.params))
            if p.accept("ident", "locals"):
                p.take("punct", "(")
                for tok in _ident_list(p, "a local name"):
                    if tok.text in fn.locals:
                        raise p.error(f"local {tok.text!r} is declared twice", tok)
                    fn.locals.append(tok.text)
            if p.accept("ident", "line"):
                fn.line = p.line_number()
            p.take("punct", "{")
            p.done()
            defined, labels, block, cur_line = set(), set(), None, None
            continue
        if stripped == "}":
            if block is None:
                raise ParseError(filename, lineno, raw.index("}") + 1,
                                 f"function @{fn.name} has no blocks")
            module.functions.append(fn)
            fn, block = None, None
            continue
        if stripped.startswith(".line"):
            directive = p.take("directive", ".line")
            if block is None:
                raise p.error(".line outside a block", directive)
            if p.accept("ident", "none"):
                cur_line = None
            else:
                cur_line = p.line_number()
            p.done()
            continue
        if stripped.endswith(":") and not raw.startswith(" ") and p.at("ident"):
            tok = p.take("ident")
            if tok.text in labels:
                raise p.error(f"block {tok.text!r} is defined twice", tok)
            labels.add(tok.text)
            block = Block(tok.text)
            if p.accept("punct", "("):
                if not p.accept("punct", ")"):
                    block.params.append(p.value_def(fn, defined))
                    while p.accept("punct", ","):
                        block.params.append(p.value_def(fn, defined))
                    p.take("punct", ")")
            if p.accept("ident", "except"):
                block.handler = p.take("label_ref", what="a handler block like ^bb1").text[1:]
            p.take("punct", ":")
            p.done()
            fn.blocks.append(block)
            cur_line = None
            continue
        if block is None:
            raise p.error("expected a block label like 'bb0:'")
        block.uops.append(p.uop(fn, defined, cur_line))
    if module is None:
        raise ParseError(filename, max(len(lines), 1), 1, "empty input: expected 'module \"NAME\"'")
    if fn is not None:
        raise ParseError(filename, len(lines), 1, f"function @{fn.name} is not closed with '}}'")
    return module


def _ident_list(p: _LineParser, what: str) -> list[Tok]:
    out: list[Tok] = []
    if p.accept("punct", ")"):
        return out
    out.append(p.take("ident", what=what))
    while p.accept("punct", ","):
        out.append(p.take("ident", what=what))
    p.take("punct", ")")
    return out


def _signature(p: _LineParser, nparams: int) -> Signature:
    """``sig(defaults 1, varargs, free(x))``: the clauses Signature.text prints."""
    fields: dict = {}
    p.take("punct", "(")
    while not p.accept("punct", ")"):
        if fields:
            p.take("punct", ",")
        key = p.take("ident", what="a signature field").text
        if key in ("posonly", "defaults", "kwonly"):
            tok = p.take("number", what="a count")
            fields[key] = p.integer(tok.text, tok)
        elif key in ("varargs", "varkw"):
            fields[key] = True
        elif key in ("kwdefaults", "free"):
            p.take("punct", "(")
            fields[key] = tuple(t.text for t in _ident_list(p, "a name"))
        elif key == "kind":
            fields[key] = p.take("ident", what="a function kind").text
        else:
            raise p.error(f"unknown signature field {key!r}")
    try:
        return Signature.of(nparams, **fields)
    except ValueError as e:
        raise p.error(str(e)) from None


def parse_function(text: str, filename: str = "<string>") -> Function:
    """Parse one ``func`` (without a ``module`` header)."""
    m = parse_module(text, filename, header=False)
    if len(m.functions) != 1:
        raise ParseError(filename, 1, 1, f"expected one function, got {len(m.functions)}")
    return m.functions[0]
