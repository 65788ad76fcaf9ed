"""C stencils for optimized uops, frame-slot variant: the first slice of the JIT tier.

Every value lives in a 64-bit word of the frame; the frame pointer `int64_t *f` is the
single preserve_none argument (r12). A stencil reads its inputs from the words at byte
offsets `_JIT_SLOT0` / `_JIT_SLOT1` and writes its output to `_JIT_SLOT2`; immediates
(constants, comparison results...) come from `_JIT_OPERAND`. Control goes on with a
`musttail` jump to `_JIT_CONTINUE` (dropped when the next stencil follows), a branch to
`_JIT_TARGET`, or a side exit to `_JIT_EXIT` (a per-exit stub, `exit_stub`).

Value model (only types typeprop proved): int = raw int64 (overflow leaves through the
side exit), float = raw IEEE double bits, bool = 0/1.

Frame layout (word indices; see emitter.FrameLayout): word 0 = exit index written by an
exit stub, word 1 = returned value, word 2 = helper status (HELPER_STATUS_WORD), then the
register save area, one word per function local (fn.locals order), one word per SSA
value, helper argument words and a scratch word for parallel moves on edges.

Return protocol of the entry shim (`jit_entry(code, frame)`): an exit stub returns its
exit index (>= 0); `_RETURN` stores the value in word 1 and returns -1 - its return site.

The C bodies of the uops are in the uop table itself (ir/uops.py, each UopDef's `stencil`)
(the lead will move them); comparisons get one stencil per operator (`_COMPARE_OP_INT_LT`).

Register variants (when regalloc ran, fn.locs present): every stencil of a function has
the signature `(int64_t *f, int64_t r0, ..., int64_t r{N-1})`, preserve_none, so the
frame is in r12 and rK is in REG_ARGS[K] (r13, r14, r15, rdi, rsi, rdx, rcx, r8, r9,
r11). A stencil passes all register arguments unchanged to its `musttail` continuation
except the one it writes, so values stay in machine registers across stencils. One
stencil is generated per (uop, operand-location variant) the function needs (`Variant`):
each input is a register `rK` or a frame word (`_JIT_SLOT0/1`), optionally unboxed on
read; the output is a register or `_JIT_SLOT2`. Variants whose operands are all frame
words with no conversion and N == 0 keep the plain uop name (the frame-slot shape).

Boxed values (any value whose type is not proven int/float/bool; NaN-boxing):
  double            its IEEE bits; NaNs are canonicalized to 0x7FF8000000000000 when
                    boxed, so a double's top 16 bits are always <= 0xFFF8
  0xFFF9 << 48 | p  int, p = 48-bit two's complement payload (|x| < 2**47); bigger
                    ints are object handles (0xFFFD)
  0xFFFA << 48 | b  bool (b = 0/1)
  0xFFFB << 48      None; 0xFFFB << 48 | 1 = an unbound local (never a value)
  0xFFFC << 48 | h  list, h = index in the runner's handle table
  0xFFFD << 48 | h  any other Python object (str, tuple, big int, functions...)
Every 64-bit pattern is a possible value of some representation (a raw int is any int64),
so no word is reserved to signal anything: helpers signal out of band (below).
Guards are tag tests on the boxed word (`(w >> 48) == 0xFFF9` for int; `w < 0xFFF9 <<
48` for float). A proven-typed consumer of a boxed value unboxes on read (int: shift
the payload's sign in; bool: low bit; float: as is), boxing happens on moves into boxed
locations. Ints past 48 bits are handles: `_BOX_INT` makes one through the helper, and
the int unbox and the int guard have a helper slow path for a handle (so the guard is
exact: it passes any int that fits in int64).

Runtime helpers: `_CALL_HELPER` calls the SysV function at `_JIT_HELPER` (natively a
ctypes callback; the runners link each site to a function of its own) as
`helper(f, site, 0)`; the inputs were first stored in the frame's argument words, the
helper returns the output word in the representation the site needs. Status is out of band, in the frame's word HELPER_STATUS_WORD: 0 while all goes
well; a helper that raised writes STATUS_ERROR (the code jumps to the error stub, which
returns ERROR_STATUS, and the runner re-raises the exception), one that wants its uop's
side exit taken (a failed generic guard, a result the site's type cannot hold; nothing
was done) writes STATUS_DEOPT. A status is only written just before the code leaves, so
the word never needs resetting. `_CALL_HELPER` tests it right after the call; the int
box/unbox slow paths (`CHECKED`) note it and leave for the error stub at the end of the
stencil (a `_GUARD_INT` whose slow path failed takes its side exit first: the runner
raises whenever the word says STATUS_ERROR, however the code left). Nothing ever tests
the returned value.
"""

from __future__ import annotations

import dataclasses

from ir.uops import UOPS

from .entry_shim import ENTRY_SHIM_SOURCE

REG_ARGS = ("r13", "r14", "r15", "rdi", "rsi", "rdx", "rcx", "r8", "r9", "r11")
MAX_REGS = len(REG_ARGS)
TAG_SHIFT = 48
TAG_INT, TAG_BOOL, TAG_NONE, TAG_LIST, TAG_OBJ = 0xFFF9, 0xFFFA, 0xFFFB, 0xFFFC, 0xFFFD
NONE_WORD = TAG_NONE << TAG_SHIFT
UNBOUND_WORD = NONE_WORD | 1
CANON_NAN = 0x7FF8000000000000
HELPER_STATUS_WORD = 2  # frame word: a helper's out-of-band status
HEADER_WORDS = 3  # words 0..2: exit index, returned value, helper status
STATUS_OK, STATUS_DEOPT, STATUS_ERROR = 0, 1, 2
ERROR_STATUS = -(1 << 63)  # what the error stub returns
BOX_INT_SITE = -1  # helper site ids: box an int past 48 bits,
UNBOX_INT_SITE = -2  # the int64 of a handle (an int past 48 bits),
IS_INT64_SITE = -3  # 1 if a handle is an int that fits in int64

PRELUDE = r"""
#include <stdint.h>
#define STENCIL __attribute__((preserve_none))
typedef STENCIL int64_t (*cont_t)(int64_t *f);
typedef int64_t __attribute__((may_alias)) i64a;
typedef double __attribute__((may_alias)) f64a;
extern char _JIT_CONTINUE[], _JIT_TARGET[], _JIT_EXIT[], _JIT_OPERAND[],
            _JIT_SLOT0[], _JIT_SLOT1[], _JIT_SLOT2[];
#define JUMP(to) __attribute__((musttail)) return ((cont_t)(to))(f)
#define NEXT JUMP(_JIT_CONTINUE)
#define EXIT_IF(c) do { if (__builtin_expect(!!(c), 0)) JUMP(_JIT_EXIT); } while (0)
#define W(sym) (*(i64a *)((char *)f + (intptr_t)(sym)))
#define D(sym) (*(f64a *)((char *)f + (intptr_t)(sym)))
#define A W(_JIT_SLOT0)
#define B W(_JIT_SLOT1)
#define OUT W(_JIT_SLOT2)
#define FA D(_JIT_SLOT0)
#define FB D(_JIT_SLOT1)
#define FOUT D(_JIT_SLOT2)
#define OPERAND ((int64_t)(intptr_t)_JIT_OPERAND)
"""

# Extra prelude for generated variants.
VARIANT_PRELUDE = r"""
extern char _JIT_HELPER[], _JIT_ERROR[];
typedef uint64_t (*helper_t)(int64_t *f, int64_t site, int64_t a);
#define HELPER_CALL(site, a) (((helper_t)_JIT_HELPER)(f, (site), (a)))
#define STATUS (f[HELPER_STATUS_WORD])
#define HELPER_FAILED __builtin_expect(STATUS != 0, 0)
/* A slow-path helper call as an expression: its result; a failure is noted in failed_
   and the stencil leaves for the error stub at its end (Variant.source). */
#define CHECKED(call) ({ int64_t v_ = (int64_t)(call); failed_ |= STATUS; v_; })
#define SEXT48(x) ((int64_t)((uint64_t)(x) << 16) >> 16)
#define UNBOX_INT(x) (__builtin_expect(TAGOF(x) == TAG_INT, 1) ? SEXT48(x) \
                      : CHECKED(HELPER_CALL(-2, (x))))
#define TAGOF(x) ((uint64_t)(x) >> 48)
#define AS_F(x) __builtin_bit_cast(double, (int64_t)(x))
#define AS_I(x) __builtin_bit_cast(int64_t, (double)(x))
#define TAG_INT 0xFFF9ull
#define TAG_BOOL 0xFFFAull
#define TAG_LIST 0xFFFCull
#define HELPER_STATUS_WORD %d
#define STATUS_DEOPT %d
""" % (HELPER_STATUS_WORD, STATUS_DEOPT)

CMP_NAMES = {"<": "LT", "<=": "LE", ">": "GT", ">=": "GE", "==": "EQ", "!=": "NE"}

# Straight-line stencils: name -> C body (NEXT is appended). Inputs A, B (or FA, FB),
# output OUT (or FOUT).
BODIES: dict[str, str] = {
    "_MOVE": "OUT = A;",  # _LOAD_FAST, _STORE_FAST, _COPY, edge moves, _RANGE_ARG on int
}
# Every other body comes from the uop table (ir/uops.py, UopDef.stencil); a comparison
# has one stencil per operator, its "{op}" filled in.
for _name, _d in UOPS.items():
    if _d.stencil and "{op}" not in _d.stencil:
        BODIES[_name] = _d.stencil
for _op, _n in CMP_NAMES.items():
    for _t in ("INT", "FLOAT"):
        BODIES[f"_COMPARE_OP_{_t}_{_n}"] = UOPS[f"_COMPARE_OP_{_t}"].stencil.replace("{op}", _op)


# Bodies only generated as variants (inputs A, B; output OUT / FOUT).
VARIANT_BODIES: dict[str, str] = {
    "_BOX_INT": """
        int64_t a = A;
        if (a >= -(INT64_C(1) << 47) && a < (INT64_C(1) << 47))
            OUT = (int64_t)((TAG_INT << 48) | ((uint64_t)a & 0xFFFFFFFFFFFFull));
        else
            OUT = CHECKED(HELPER_CALL(-1, a));""",
    "_BOX_FLOAT": "double x = FA; OUT = x != x ? INT64_C(0x7FF8000000000000) : AS_I(x);",
    "_BOX_BOOL": "OUT = (int64_t)((TAG_BOOL << 48) | ((uint64_t)A & 1));",
    "_GUARD_INT": """
        int64_t a = A;
        if (__builtin_expect(TAGOF(a) != TAG_INT, 0))
            EXIT_IF(TAGOF(a) != 0xFFFDull || !CHECKED(HELPER_CALL(-3, a)));""",
    "_GUARD_BOOL": "EXIT_IF(TAGOF(A) != TAG_BOOL);",
    "_GUARD_LIST": "EXIT_IF(TAGOF(A) != TAG_LIST);",
    "_GUARD_FLOAT": "EXIT_IF((uint64_t)A >= (TAG_INT << 48));",
    "_GUARD2_INT": "EXIT_IF(TAGOF(A) != TAG_INT); EXIT_IF(TAGOF(B) != TAG_INT);",
    "_GUARD2_FLOAT": "EXIT_IF((uint64_t)A >= (TAG_INT << 48)); "
                     "EXIT_IF((uint64_t)B >= (TAG_INT << 48));",
    "_GUARD_NEVER": "JUMP(_JIT_EXIT);",
}
for _n, _b in BODIES.items():
    VARIANT_BODIES.setdefault(_n, _b)

CONVERSIONS = {"": "{}", "i": "UNBOX_INT({})", "b": "((int64_t)({}) & 1)", "f": "{}"}


@dataclasses.dataclass(frozen=True)
class Variant:
    """One stencil: `base` (a body, or a control/helper/exit kind) with its operands.

    `inputs`: per input (register index or None for the frame word _JIT_SLOT{i}, unbox
    conversion "" | "i" | "f" | "b"); `output`: register index, None (frame word
    _JIT_SLOT2) or absent (`has_output`); `nregs` register arguments; `saves`: the
    registers an exit stub stores; `exit`: a helper call that may take the side exit
    (STATUS_DEOPT).
    """

    base: str
    inputs: tuple[tuple[int | None, str], ...] = ()
    output: int | None = None
    has_output: bool = False
    nregs: int = 0
    saves: tuple[int, ...] = ()
    exit: bool = False

    @property
    def plain(self) -> bool:
        return (self.nregs == 0 and not self.saves and not self.exit
                and all(r is None and not c for r, c in self.inputs)
                and (not self.has_output or self.output is None))

    @property
    def name(self) -> str:
        if self.plain and self.base not in ("_CALL_HELPER",):
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
        return "__".join(parts)

    def source(self) -> str:
        n = self.nregs
        params = "".join(f", int64_t r{k}" for k in range(n))
        args = "".join(f", r{k}" for k in range(n))
        lines = [f"STENCIL int64_t {self.name}(int64_t *f{params}) {{"]
        defs = [f"#define JUMPV(to) __attribute__((musttail)) return "
                f"((cont{n}_t)(to))(f{args})"]
        for k, (r, c) in enumerate(self.inputs):
            raw = f"W(_JIT_SLOT{k})" if r is None else f"r{r}"
            defs.append(f"#define {'ABC'[k]} ((int64_t)" + CONVERSIONS[c].format(raw) + ")")
            defs.append(f"#define F{'ABC'[k]} AS_F({'ABC'[k]})")
        out_loc = "W(_JIT_SLOT2)" if self.output is None else f"r{self.output}"
        body, tail = self._body()
        uses_f = "FOUT" in body
        pre = ["int64_t out_ = 0; (void)out_;", "double fout_ = 0; (void)fout_;",
               "int64_t failed_ = 0; (void)failed_;"]
        body = body.replace("FOUT", "fout_").replace("OUT", "out_")
        post = []
        if self.has_output:
            post.append(f"{out_loc} = " + ("AS_I(fout_);" if uses_f else "out_;"))
        if "CHECKED" in body or any(c == "i" for _, c in self.inputs):
            # A slow path failed: leave after the join, with failed_ made opaque (empty
            # asm) so clang does not thread the slow path straight to the error stub;
            # that second exit would defeat shrink-wrapping and put the slow path's
            # register saves (push/pop) on the fast path.
            post.append('__asm__("" : "+r"(failed_)); '
                        "if (__builtin_expect(failed_ != 0, 0)) JUMP(_JIT_ERROR);")
        text = "\n".join(defs) + "\n" + "\n".join(lines) + "\n" + "\n".join(pre) + "\n" + body \
            + "\n" + "\n".join(post) + "\n" + tail + "\n}\n"
        undefs = ["#undef JUMPV"] + [f"#undef {x}" for k in range(len(self.inputs))
                                     for x in ("ABC"[k], "F" + "ABC"[k])]
        return text + "\n".join(undefs) + "\n"

    def _body(self) -> tuple[str, str]:
        b = self.base
        if b in VARIANT_BODIES:
            return VARIANT_BODIES[b], "NEXT;"
        if b == "_MOVE":
            return "OUT = A;", "NEXT;"
        if b == "_LOAD_CONST":
            return "OUT = OPERAND;", "NEXT;"
        if b == "_JUMP":
            return "", "JUMP(_JIT_TARGET);"
        if b == "_BRANCH_IF":
            return "if (A) JUMP(_JIT_TARGET);", "NEXT;"
        if b == "_BRANCH_IFNOT":
            return "if (!A) JUMP(_JIT_TARGET);", "NEXT;"
        if b == "_RETURN":
            return "f[1] = A;", "return OPERAND;"
        if b == "_EXIT_STUB":
            saves = "".join(f"f[{HEADER_WORDS + k}] = r{k}; " for k in self.saves)
            return saves + "f[0] = OPERAND;", "return OPERAND;"
        if b == "_ERROR_STUB":
            return "", "return INT64_MIN;"
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
    parts = [PRELUDE, VARIANT_PRELUDE, "#undef JUMP\n#define JUMP(to) JUMPV(to)\n"]
    for n in ns:
        params = "".join(", int64_t" for _ in range(n))
        parts.append(f"typedef STENCIL int64_t (*cont{n}_t)(int64_t *f{params});")
    for name in sorted(by_name):
        parts.append(by_name[name].source())
    parts.append(ENTRY_SHIM_SOURCE)
    return "\n".join(parts)


def variant_library(variants):
    """The compiled stencils of `variants` (cached on disk by source)."""
    from .cache import build_library

    return build_library(variants_source(variants))


# Control stencils: complete function bodies.
CONTROL: dict[str, str] = {
    "_JUMP": "JUMP(_JIT_TARGET);",
    "_BRANCH_IF": "if (A) JUMP(_JIT_TARGET); NEXT;",       # to TARGET if true, else next
    "_BRANCH_IFNOT": "if (!A) JUMP(_JIT_TARGET); NEXT;",   # to TARGET if false, else next
    "_RETURN": "f[1] = A; return OPERAND;",                  # OPERAND = -1 - return site
    "_EXIT_STUB": "f[0] = OPERAND; return OPERAND;",         # OPERAND = exit index
}


def stencil_source() -> str:
    """The C text of every stencil, plus the SysV entry shim."""
    parts = [PRELUDE]
    for name, body in BODIES.items():
        parts.append(f"STENCIL int64_t {name}(int64_t *f) {{\n{body}\nNEXT;\n}}\n")
    for name, body in CONTROL.items():
        parts.append(f"STENCIL int64_t {name}(int64_t *f) {{\n{body}\n}}\n")
    parts.append(ENTRY_SHIM_SOURCE)
    return "\n".join(parts)


def library():
    """The compiled stencils (cached on disk by backends.copy_and_patch.cache)."""
    from .cache import build_library

    return build_library(stencil_source())
