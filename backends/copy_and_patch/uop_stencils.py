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
            _JIT_COLD[], _JIT_RESUME[];
/* Frame offsets are small: with the small code model for these symbols a slot access is
   one `mov r, [r12 + disp32]` (an R_X86_64_32S hole) instead of `movabs rax, off` plus
   `mov r, [r12 + rax]` (clang >= 20 accepts `model` on x86-64; else the latter). */
#if defined(__clang_major__) && __clang_major__ >= 20
#define SMALL_SYM __attribute__((model("small")))
#else
#define SMALL_SYM
#endif
extern char _JIT_SLOT0[] SMALL_SYM, _JIT_SLOT1[] SMALL_SYM, _JIT_SLOT2[] SMALL_SYM;
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
#define CAT_(a, b) a ## b
#define CAT(a, b) CAT_(a, b)
#define CHECKED(call) CAT(CHECKED_, PART_)(call)  /* PART_: WHOLE or HOT, per variant */
#define CHECKED_WHOLE(call) ({ int64_t v_ = (int64_t)(call); failed_ |= STATUS; v_; })
/* In a hot part every slow path is a jump to the stencil's cold twin (Variant.part). */
#define CHECKED_HOT(call) ({ JUMPV(_JIT_COLD); (int64_t)0; })
#define SLOW() JUMPV(_JIT_COLD)
/* Boxed-word tests and constructors of the generic fast paths (ir/uops.py bodies). */
#define INTLIKE(x) (TAGOF(x) - TAG_INT <= 1)      /* an int or a bool */
#define INTLIKE2(x, y) (((TAGOF(x) - TAG_INT) | (TAGOF(y) - TAG_INT)) <= 1)  /* one test */
#define ISFLOAT(x) ((uint64_t)(x) < (TAG_INT << 48))
#define NUMF(x) (ISFLOAT(x) ? AS_F(x) : (double)SEXT48(x))  /* exact: |int| < 2**47 */
#define FITS48(r) ((uint64_t)(r) + (UINT64_C(1) << 47) < (UINT64_C(1) << 48))
#define BOXI(r) ((int64_t)((TAG_INT << 48) | ((uint64_t)(r) & 0xFFFFFFFFFFFFull)))
#define BOXF(x) ({ double x_ = (x); x_ != x_ ? INT64_C(0x7FF8000000000000) : AS_I(x_); })
#define BOXB(b) ((int64_t)((TAG_BOOL << 48) | (uint64_t)(b)))
#define TAG_NONE 0xFFFBull
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

# Direct calls between compiled functions (`_CALL_DIRECT_{n}`, backends.native.direct):
# a call site of a known module function reads the callee's *cell*, a runtime-owned row
# of words, and the runtime's native frame *stack* header, both by address.
CELL_ENTRY, CELL_WORDS, CELL_TEMPLATE, CELL_RET, CELL_CODE, CELL_STACK, CELL_NPARAMS, \
    CELL_PARAMS = range(8)
MAX_DIRECT_ARGS = 8
CELL_RUNS = CELL_PARAMS + MAX_DIRECT_ARGS  # direct calls of the installed code, and those
CELL_RETURNS = CELL_RUNS + 1               # that returned on the fast path
CELL_SIZE = CELL_RETURNS + 1
STK_TOP, STK_LIMIT, STK_DEPTH, STK_MAXDEPTH, STK_CALLS, STK_DIRTY = range(6)
STK_SIZE = 8
DIRECT_HEADER = 2  # words below a callee frame: its code id, the status it returned
RET_REPS = {"box": 0, "int": 1, "float": 2, "bool": 3}  # CELL_RET

DIRECT_PRELUDE = r"""
extern char _JIT_OPERAND2[], _JIT_HELPER2[];
typedef STENCIL int64_t (*direct_t)(int64_t *f);
#define HELPER2_CALL(site, a) (((helper_t)_JIT_HELPER2)(f, (site), (a)))
"""


def direct_call_body(nargs: int, exit: bool) -> str:
    """C of `_CALL_DIRECT_{nargs}` (module doc of backends.native.direct): the boxed
    arguments are the frame words from byte offset _JIT_SLOT0; the cell is at
    _JIT_OPERAND2. Fast path: the callee's code is called on a new frame of the native
    stack and its returned word boxed. `slow` (nothing ran: no cell, an argument that
    is an object handle, arity, depth or stack overflow): the site's ordinary helper
    (_JIT_HELPER). `finish` (the callee ran but left otherwise than by a plain return:
    a side exit, an error, a result that is an object): the site's finishing helper
    (_JIT_HELPER2) with the callee frame still pushed, which resumes / re-raises /
    converts in Python and returns the boxed result."""
    deopt = "if (STATUS == STATUS_DEOPT) JUMP(_JIT_EXIT); " if exit else ""
    n = nargs
    return f"""
    int64_t *cell_ = (int64_t *)(intptr_t)_JIT_OPERAND2;
    int64_t *args_ = (int64_t *)((char *)f + (intptr_t)_JIT_SLOT0);
    int64_t *stk_ = (int64_t *)cell_[{CELL_STACK}];
    int64_t entry_ = cell_[{CELL_ENTRY}];
    int64_t hr, *top_, *nf_;
    uint64_t objs_ = 0;
    if (__builtin_expect(entry_ == 0 || cell_[{CELL_NPARAMS}] != {n}
                         || stk_[{STK_DEPTH}] >= stk_[{STK_MAXDEPTH}], 0))
        goto slow_;
    for (int k = 0; k < {n}; k++)
        objs_ |= (uint64_t)(TAGOF(args_[k]) - TAG_LIST) <= 1;
    top_ = (int64_t *)stk_[{STK_TOP}];
    nf_ = top_ + {DIRECT_HEADER};
    if (__builtin_expect(objs_ != 0 || nf_ + cell_[{CELL_WORDS}]
                         > (int64_t *)stk_[{STK_LIMIT}], 0))
        goto slow_;
    {{
        const int64_t *tpl_ = (const int64_t *)cell_[{CELL_TEMPLATE}];
        int64_t nw_ = cell_[{CELL_WORDS}];
        for (int64_t k = 0; k < nw_; k++) {{
            __asm__("" : "+r"(k));   /* a plain loop: no memcpy call */
            nf_[k] = tpl_[k];
        }}
        for (int k = 0; k < {n}; k++) {{
            int64_t w_ = cell_[{CELL_PARAMS} + k];
            if (w_ >= 0) nf_[w_] = args_[k];
        }}
        top_[0] = cell_[{CELL_CODE}];
        stk_[{STK_TOP}] = (int64_t)(nf_ + nw_);
        stk_[{STK_DEPTH}] += 1;
        stk_[{STK_CALLS}] += 1;
        cell_[{CELL_RUNS}] += 1;
    }}
    {{
        int64_t s_ = ((direct_t)entry_)(nf_);
        top_[1] = s_;
        if (__builtin_expect(s_ < 0 && s_ != INT64_MIN
                             && nf_[{HELPER_STATUS_WORD}] != {STATUS_ERROR}
                             && stk_[{STK_DIRTY}] == 0, 1)) {{
            int64_t w_ = nf_[1];
            int64_t rep_ = cell_[{CELL_RET}];
            if (rep_ == 1) {{
                if (!FITS48(w_)) goto finish_;
                w_ = BOXI(w_);
            }} else if (rep_ == 2) {{
                w_ = BOXF(AS_F(w_));
            }} else if (rep_ == 3) {{
                w_ = BOXB(w_ & 1);
            }} else if ((uint64_t)(TAGOF(w_) - TAG_LIST) <= 1) {{
                goto finish_;
            }}
            stk_[{STK_TOP}] = (int64_t)top_;
            stk_[{STK_DEPTH}] -= 1;
            cell_[{CELL_RETURNS}] += 1;
            OUT = w_;
            goto done_;
        }}
    }}
finish_:
    hr = (int64_t)HELPER2_CALL(OPERAND, (int64_t)nf_);
    stk_[{STK_TOP}] = (int64_t)top_;
    stk_[{STK_DEPTH}] -= 1;
    if (HELPER_FAILED) JUMP(_JIT_ERROR);
    OUT = hr;
    goto done_;
slow_:
    hr = (int64_t)HELPER_CALL(OPERAND, 0);
    if (HELPER_FAILED) {{ {deopt}JUMP(_JIT_ERROR); }}
    OUT = hr;
done_: ;
"""


CMP_NAMES = {"<": "LT", "<=": "LE", ">": "GT", ">=": "GE", "==": "EQ", "!=": "NE"}

# Straight-line stencils: name -> C body (NEXT is appended). Inputs A, B (or FA, FB),
# output OUT (or FOUT).
BODIES: dict[str, str] = {
    "_MOVE": "OUT = A;",  # _LOAD_FAST, _STORE_FAST, _COPY, edge moves, _RANGE_ARG on int
}
# Every other body comes from the uop table (ir/uops.py, UopDef.stencil); a comparison
# has one stencil per operator, its "{op}" filled in.
# Generic uops with an inline fast path (hot part) in front of their helper (cold part).
GENERIC_FAST = ("_BINARY_OP", "_COMPARE_OP", "_TO_BOOL", "_UNARY_OP")
GENERIC_PREFIX = "_GEN"
GENERIC_BINOPS = {"+": "ADD", "-": "SUB", "*": "MUL", "/": "TDIV", "//": "FDIV", "%": "MOD",
                  "<<": "LSH", ">>": "RSH", "&": "AND", "|": "OR", "^": "XOR"}
GENERIC_UNOPS = {"neg": "NEG", "pos": "POS", "invert": "INVERT"}
for _name, _d in UOPS.items():
    if _d.stencil and "{op}" not in _d.stencil and _name not in GENERIC_FAST:
        BODIES[_name] = _d.stencil
for _op, _n in CMP_NAMES.items():
    for _t in ("INT", "FLOAT"):
        BODIES[f"_COMPARE_OP_{_t}_{_n}"] = UOPS[f"_COMPARE_OP_{_t}"].stencil.replace("{op}", _op)


# Bodies only generated as variants (inputs A, B; output OUT / FOUT).
VARIANT_BODIES: dict[str, str] = {
    "_BOX_INT": """
        int64_t a = A;
        /* t = a + 2**47 is in [0, 2**48) iff a fits; then the payload is t ^ 2**47 and
           the boxed word t ^ (tag | 2**47): one add, one shift test, one xor */
        uint64_t t = (uint64_t)a + (UINT64_C(1) << 47);
        if (__builtin_expect(t >> 48 == 0, 1))
            OUT = (int64_t)(t ^ ((TAG_INT << 48) | (UINT64_C(1) << 47)));
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



def generic_base(uop: str, op: str | None, raw_bool: bool) -> str | None:
    """The stencil base of a generic uop's fast path (None: it has none): uop, operator
    code, and `_RAWB` when the bool result is a raw word rather than a boxed one."""
    if uop == "_BINARY_OP":
        code = GENERIC_BINOPS.get(op[:-1] if op.endswith("=") else op)
    elif uop == "_COMPARE_OP":
        code = CMP_NAMES.get(op)
    elif uop == "_UNARY_OP":
        code = GENERIC_UNOPS.get(op)
    else:
        code = "" if uop == "_TO_BOOL" else None
    if code is None or (raw_bool and uop not in ("_COMPARE_OP", "_TO_BOOL")):
        return None
    return f"{GENERIC_PREFIX}{uop}" + (f"_{code}" if code else "") + ("_RAWB" if raw_bool else "")


def generic_body(base: str) -> str:
    """The C fast path of a `generic_base` (ir/uops.py's body with its operator)."""
    raw = base.endswith("_RAWB")
    rest = base[len(GENERIC_PREFIX):].removesuffix("_RAWB")
    uop = next(u for u in GENERIC_FAST if rest == u or rest.startswith(u + "_"))
    code = rest[len(uop) + 1:]
    body = UOPS[uop].stencil
    if uop == "_COMPARE_OP":
        body = body.replace("{op}", {v: k for k, v in CMP_NAMES.items()}[code])
    else:
        body = body.replace("{op}", code)
    boolw = "#define BOOLW(c) " + ("(c)" if raw else "BOXB(c)")
    return f"\n{boolw}\n{body}\n#undef BOOLW\n"


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
    part: str = ""  # "" the whole uop; "hot" / "cold": see `split`

    @property
    def splittable(self) -> bool:
        """Has slow paths (helper calls) that belong out of line: the emitter then places
        `split()`'s hot part inline and its cold part after the exit stubs."""
        if self.part:
            return False
        if self.base.startswith(GENERIC_PREFIX):
            return True
        body = VARIANT_BODIES.get(self.base, "")
        return "CHECKED" in body or any(c == "i" for _, c in self.inputs)

    def split(self) -> tuple["Variant", "Variant"]:
        """(hot, cold). Hot: the fast path only; every slow path is a jump to `_JIT_COLD`
        with the stencil's inputs untouched (outputs are written last), so it keeps no
        helper call, no status test and no register saves (clang would otherwise merge
        them into the fast path: push/pop, `xor eax,eax; test; jne error`). Cold: the
        whole uop again, from its inputs, going on at `_JIT_RESUME` (the hot part's
        continuation)."""
        return dataclasses.replace(self, part="hot"), dataclasses.replace(self, part="cold")

    @property
    def plain(self) -> bool:
        return (self.nregs == 0 and not self.saves and not self.exit
                and all(r is None and not c for r, c in self.inputs)
                and (not self.has_output or self.output is None))

    @property
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
        if self.part != "hot" and ("CHECKED" in body or any(c == "i" for _, c in self.inputs)):
            # A slow path failed: leave after the join, with failed_ made opaque (empty
            # asm) so clang does not thread the slow path straight to the error stub;
            # that second exit would defeat shrink-wrapping and put the slow path's
            # register saves (push/pop) on the fast path.
            post.append('__asm__("" : "+r"(failed_)); '
                        "if (__builtin_expect(failed_ != 0, 0)) JUMP(_JIT_ERROR);")
        text = "\n".join(defs) + "\n" + "\n".join(lines) + "\n" + "\n".join(pre) + "\n" + body \
            + "\n" + "\n".join(post) + "\n" + tail + "\n}\n"
        undefs = ["#undef JUMPV", "#undef PART_"] + [
            f"#undef {x}" for k in range(len(self.inputs)) for x in ("ABC"[k], "F" + "ABC"[k])]
        if self.part == "cold":
            undefs.append("#undef NEXT\n#define NEXT JUMP(_JIT_CONTINUE)")
        return text + "\n".join(undefs) + "\n"

    def _body(self) -> tuple[str, str]:
        b = self.base
        if b.startswith(GENERIC_PREFIX):
            if self.part == "cold":   # the helper, with register inputs in their save words
                spills = "".join(f"f[{HEADER_WORDS + r}] = r{r}; " for r, _ in self.inputs
                                 if r is not None)
                deopt = "if (STATUS == STATUS_DEOPT) JUMP(_JIT_EXIT); " if self.exit else ""
                return (spills + "int64_t hr = (int64_t)HELPER_CALL(OPERAND, 0);\n"
                        f"if (HELPER_FAILED) {{ {deopt}JUMP(_JIT_ERROR); }}\nOUT = hr;",
                        "NEXT;")
            return generic_body(b), "NEXT;"
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
