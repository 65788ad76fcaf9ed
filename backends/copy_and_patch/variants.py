"""Stencil variants: one stencil per (uop body, operand locations, saved registers), its
C text generated from the uop's body (uop_stencils) and compiled per function's set.

Split from uop_stencils (the value model, the preludes and the bodies stay there).
"""

from __future__ import annotations

import dataclasses
import functools

from ir.uops import U

from .cache import build_library
from .entry_shim import ENTRY_SHIM_SOURCE
from .uop_stencils import (DIRECT_PRELUDE, GENERIC_PREFIX, HEADER_WORDS, PRELUDE, VARIANT_PRELUDE,
                          direct_call_body, generic_body, variant_body)

CONVERSIONS = {"": "{}", "i": "UNBOX_INT({})", "b": "UNBOX_BOOL({})", "f": "UNBOX_FLOAT({})"}


@dataclasses.dataclass(frozen=True)
class Variant:
    """One stencil: `base` (a body, or a control/helper/exit kind) with its operands.

    `inputs`: per input (register index or None for the frame word _JIT_SLOT{i}, unbox
    conversion "" | "i" | "f" | "b"); `output`: register index, None (frame word
    _JIT_SLOT2) or absent (`has_output`); `nregs` register arguments; `saves`: the
    registers an exit or error stub stores; `exit`: a helper call that may take the side
    exit (STATUS_DEOPT).
    """

    base: str
    inputs: tuple[tuple[int | None, str], ...] = ()
    output: int | None = None
    has_output: bool = False
    nregs: int = 0
    saves: tuple[int, ...] = ()
    exit: bool = False
    part: str = ""  # "" the whole uop; "hot" / "cold": see `split`

    @functools.cached_property
    def splittable(self) -> bool:
        """Has slow paths that belong out of line: the emitter then places `split()`'s
        hot part inline and its cold part after the exit stubs."""
        if self.part:
            return False
        if self.base.startswith(GENERIC_PREFIX):
            return True
        body = variant_body(self.base) or ""
        return "SLOWV" in body or any(c == "i" for _, c in self.inputs)

    def split(self) -> tuple["Variant", "Variant"]:
        """(hot, cold). Hot: the fast path only; every slow path is a jump to `_JIT_COLD`
        with the stencil's inputs untouched (outputs are written last), so it keeps no
        slow call and no register saves (clang would otherwise merge them into the fast
        path: push/pop around the call). Cold: the whole uop again, from its inputs (a
        generic uop: its C-API slow path), going on at `_JIT_RESUME` (the hot part's
        continuation)."""
        return dataclasses.replace(self, part="hot"), dataclasses.replace(self, part="cold")

    @property
    def plain(self) -> bool:
        return (self.nregs == 0 and not self.saves and not self.exit
                and all(r is None and not c for r, c in self.inputs)
                and (not self.has_output or self.output is None))

    @functools.cached_property
    def name(self) -> str:
        if self.plain and not self.part and self.base not in ("_CALL_HELPER",):
            return self.base
        parts = [self.base, f"n{self.nregs}"]
        for r, c in self.inputs:
            parts.append(("m" if r is None else f"r{r}") + c)
        if self.has_output:
            parts.append("o" + ("m" if self.output is None else f"r{self.output}"))
        if self.saves:
            parts.append("s" + "s".join(map(str, self.saves)))
        if self.exit:
            parts.append("x")
        if self.part:
            parts.append(self.part)
        return "__".join(parts)

    def source(self) -> str:
        n = self.nregs
        params = "".join(f", int64_t r{k}" for k in range(n))
        args = "".join(f", r{k}" for k in range(n))
        lines = [f"STENCIL int64_t {self.name}(int64_t *f{params}) {{"]
        defs = [f"#define JUMPV(to) __attribute__((musttail)) return "
                f"((cont{n}_t)(to))(f{args})",
                "#define PART_ " + ("HOT" if self.part == "hot" else "WHOLE")]
        if self.part == "cold":
            defs.append("#undef NEXT\n#define NEXT JUMP(_JIT_RESUME)")
        for k, (r, c) in enumerate(self.inputs):
            raw = f"W(_JIT_SLOT{k})" if r is None else f"r{r}"
            x = "ABC"[k]
            defs.append(f"#define {x} ((int64_t)" + CONVERSIONS[c].format(raw) + ")")
            defs.append(f"#define F{x} AS_F({x})")
            defs.append(f"#define O{x} O({x})")
        out_loc = "W(_JIT_SLOT2)" if self.output is None else f"r{self.output}"
        body, tail = self._body()
        uses_f = "FOUT" in body
        pre = ["int64_t out_ = 0; (void)out_;", "double fout_ = 0; (void)fout_;"]
        body = body.replace("FOUT", "fout_").replace("OUT", "out_")
        post = []
        if self.has_output:
            post.append(f"{out_loc} = " + ("AS_I(fout_);" if uses_f else "out_;"))
        text = "\n".join(defs) + "\n" + "\n".join(lines) + "\n" + "\n".join(pre) + "\n" + body \
            + "\n" + "\n".join(post) + "\n" + tail + "\n}\n"
        undefs = ["#undef JUMPV", "#undef PART_"] + [
            f"#undef {p}{'ABC'[k]}" for k in range(len(self.inputs)) for p in ("", "F", "O")]
        if self.part == "cold":
            undefs.append("#undef NEXT\n#define NEXT JUMP(_JIT_CONTINUE)")
        return text + "\n".join(undefs) + "\n"

    def _body(self) -> tuple[str, str]:
        b = self.base
        if b.startswith(GENERIC_PREFIX):
            return generic_body(b, slow=self.part == "cold"), "NEXT;"
        body = variant_body(b)
        if body is not None:
            return body, "NEXT;"
        if b == U._LOAD_CONST:
            return "OUT = OPERAND;", "NEXT;"
        if b == "_LOAD_CONST_OBJ":   # a new reference to a constant the code keeps alive
            return "Py_INCREF(O(OPERAND)); OUT = OPERAND;", "NEXT;"
        if b == U._JUMP:
            return "", "JUMP(_JIT_TARGET);"
        if b == "_BRANCH_IF":
            return "if (A) JUMP(_JIT_TARGET);", "NEXT;"
        if b == "_BRANCH_IFNOT":
            return "if (!A) JUMP(_JIT_TARGET);", "NEXT;"
        if b == U._RETURN:
            return "f[1] = A;", "return OPERAND;"
        if b == "_EXIT_STUB":
            saves = "".join(f"f[{HEADER_WORDS + k}] = r{k}; " for k in self.saves)
            return saves + "f[0] = OPERAND;", "return OPERAND;"
        if b == "_ERROR_STUB":
            # the site in word 0; the error indicator's exception (normalized, with its
            # traceback; NULL when a Python helper failed: the runner has it) in word 3
            saves = "".join(f"f[{HEADER_WORDS + k}] = r{k}; " for k in self.saves)
            return saves + """
                f[0] = OPERAND;
                PyObject *t_, *v_, *tb_;
                PyErr_Fetch(&t_, &v_, &tb_);
                if (t_ != NULL) {
                    PyErr_NormalizeException(&t_, &v_, &tb_);
                    if (tb_ != NULL) {
                        PyException_SetTraceback(v_, tb_);
                        Py_DECREF(tb_);
                    }
                    Py_DECREF(t_);
                }
                f[PENDING_EXCEPTION_WORD] = WORD(v_);
                f[HELPER_STATUS_WORD] = STATUS_ERROR;""", "return INT64_MIN;"
        if b.startswith("_CALL_DIRECT_"):
            return direct_call_body(int(b.rsplit("_", 1)[1]), self.exit), "NEXT;"
        if b == "_CALL_HELPER":
            deopt = "if (STATUS == STATUS_DEOPT) JUMP(_JIT_EXIT); " if self.exit else ""
            body = ("int64_t hr = (int64_t)HELPER_CALL(OPERAND, 0);\n"
                    f"if (HELPER_FAILED) {{ {deopt}JUMP(_JIT_ERROR); }}\n")
            return body + "OUT = hr;", "NEXT;"
        raise KeyError(b)


def variants_source(variants) -> str:
    """C text of the given variants (sorted by name, deduplicated), plus the shim."""
    by_name = {v.name: v for v in variants}
    ns = sorted({v.nregs for v in by_name.values()} | {0})
    parts = [PRELUDE, VARIANT_PRELUDE, DIRECT_PRELUDE, "#undef JUMP\n#define JUMP(to) JUMPV(to)\n"]
    for n in ns:
        params = "".join(", int64_t" for _ in range(n))
        parts.append(f"typedef STENCIL int64_t (*cont{n}_t)(int64_t *f{params});")
    for name in sorted(by_name):
        parts.append(by_name[name].source())
    parts.append(ENTRY_SHIM_SOURCE)
    return "\n".join(parts)


_libraries: dict[frozenset, object] = {}


def variant_library(variants):
    """The compiled stencils of `variants` (cached on disk by source; in memory by the
    set of variant names, so emitting code whose stencils were built before makes no C
    text at all)."""
    return library_of(frozenset(v.name for v in variants), lambda: variants)


def library_of(names: frozenset, variants):
    """`variant_library` for a set of variant names already known; `variants()` gives
    the variants themselves, needed only when that set was never built before."""
    lib = _libraries.get(names)
    if lib is None:

        lib = _libraries[names] = build_library(variants_source(variants()))
    return lib
