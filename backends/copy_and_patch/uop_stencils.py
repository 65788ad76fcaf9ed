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
exit stub (or error site written by an error stub), word 1 = returned value, word 2 =
helper status (HELPER_STATUS_WORD), word 3 = the pending exception of an error, then the
register save area, one word per function local (fn.locals order), one word per SSA
value, helper argument words and a scratch word for parallel moves on edges.

Return protocol of the entry shim (`jit_entry(code, frame)`): an exit stub returns its
exit index (>= 0); `_RETURN` stores the value in word 1 and returns -1 - its return site.

The C bodies of the uops are in the uop table itself (ir/uops.py, each UopDef's `stencil`);
comparisons get one stencil per operator (`_COMPARE_OP_INT_LT`).

Register variants (when regalloc ran, fn.locs present): every stencil of a function has
the signature `(int64_t *f, int64_t r0, ..., int64_t r{N-1})`, preserve_none, so the
frame is in r12 and rK is in REG_ARGS[K] (r13, r14, r15, rdi, rsi, rdx, rcx, r8, r9,
r11). A stencil passes all register arguments unchanged to its `musttail` continuation
except the one it writes, so values stay in machine registers across stencils. One
stencil is generated per (uop, operand-location variant) the function needs (`variants.Variant`):
each input is a register `rK` or a frame word (`_JIT_SLOT0/1`), optionally unboxed on
read; the output is a register or `_JIT_SLOT2`. Variants whose operands are all frame
words with no conversion and N == 0 keep the plain uop name (the frame-slot shape).

Boxed values (any value whose type is not proven int/float/bool) are CPython's own
objects: a word is a `PyObject *` holding a strong reference, with CPython's
reference-count discipline (see emitter: every boxed SSA value owns one reference from
its definition to its death, which the emitter computes; a frame local owns the object it
holds; an unbound local is NULL). A side exit, an error and a return hand tier 1 the very
objects. Guards are type tests (`Py_IS_TYPE(o, &PyLong_Type)`, plus a size test: a
proven "int" is a Python int that fits in int64); a proven-typed consumer of a boxed
value unboxes on read (int: the digits of a one-digit int inline, else
`PyLong_AsLongLong`; float: `PyFloat_AS_DOUBLE`; bool: `o == Py_True`); boxing
(`PyLong_FromLongLong`, `PyFloat_FromDouble`, `Py_True`/`Py_False`) happens on moves into
boxed locations. The stencils include the running interpreter's `Python.h`, so layouts and
macros are CPython's own; the interpreter symbols they use are EXTERN holes (capi.py).

Generic uops call the C API (`PyNumber_Add`, `PyObject_RichCompare`, ...) straight from
their stencils; an error is a NULL (or -1) plus the error indicator: the stencil jumps to
its site's error stub (`_JIT_ERROR`), which saves the registers holding live objects,
records the site in word 0, moves the pending exception into word 3
(`PENDING_EXCEPTION_WORD`, normalized, with its traceback) and returns ERROR_STATUS; the
runner releases the site's live objects and raises that exception.

Runtime helpers (Python-level work only: calls into functions tier 1 runs, globals, ...):
`_CALL_HELPER` calls the SysV function at `_JIT_HELPER` (natively a ctypes callback; the
runners link each site to a function of its own) as `helper(f, site, 0)`; the inputs were
first stored in the frame's argument words (borrowed references), the helper returns the
output word in the representation the site needs (a new reference when boxed). Status is
out of band, in the frame's word HELPER_STATUS_WORD: 0 while all goes well; a helper that
raised writes STATUS_ERROR (the code jumps to the error stub, and the runner re-raises the
exception), one that wants its uop's side exit taken (a result the site's type cannot
hold; nothing was done) writes STATUS_DEOPT. A status is only written just before the
code leaves, so the word never needs resetting. Nothing ever tests the returned value.
"""

from __future__ import annotations

from ir.uops import UOPS, U

from .cache import build_library
from .entry_shim import ENTRY_SHIM_SOURCE


REG_ARGS = ("r13", "r14", "r15", "rdi", "rsi", "rdx", "rcx", "r8", "r9", "r11")
MAX_REGS = len(REG_ARGS)
HELPER_STATUS_WORD = 2  # frame word: a helper's out-of-band status
PENDING_EXCEPTION_WORD = 3  # frame word: the exception an error stub took from the indicator
HEADER_WORDS = 4  # words 0..3: exit index, returned value, helper status, exception
STATUS_OK, STATUS_DEOPT, STATUS_ERROR = 0, 1, 2
ERROR_STATUS = -(1 << 63)  # what an error stub returns

PRELUDE = r"""
#include <Python.h>
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
#define AS_F(x) __builtin_bit_cast(double, (int64_t)(x))
#define AS_I(x) __builtin_bit_cast(int64_t, (double)(x))
/* A frame word as the object it holds, and back. */
#define O(x) ((PyObject *)(intptr_t)(x))
#define WORD(o) ((int64_t)(intptr_t)(o))
"""

# Extra prelude for generated variants.
VARIANT_PRELUDE = r"""
extern char _JIT_HELPER[], _JIT_ERROR[];
typedef uint64_t (*helper_t)(int64_t *f, int64_t site, int64_t a);
#define HELPER_CALL(site, a) (((helper_t)_JIT_HELPER)(f, (site), (a)))
#define STATUS (f[HELPER_STATUS_WORD])
#define HELPER_FAILED __builtin_expect(STATUS != 0, 0)
/* A C-API call failed (NULL or -1, the error indicator set): the site's error stub. */
#define ERROR_IF(c) do { if (__builtin_expect(!!(c), 0)) JUMP(_JIT_ERROR); } while (0)
#define CAT_(a, b) a ## b
#define CAT(a, b) CAT_(a, b)
/* A slow path as an expression: in a hot part (PART_ HOT, Variant.split) a jump to the
   stencil's cold twin, which evaluates it; in a whole or cold stencil, its value. */
#define SLOWV(expr) CAT(SLOWV_, PART_)(expr)
#define SLOWV_WHOLE(expr) (expr)
#define SLOWV_HOT(expr) ({ JUMPV(_JIT_COLD); (int64_t)0; })
#define SLOW() JUMPV(_JIT_COLD)
/* Ints: a one-digit int (|size| <= 1, 30 bits) is read inline; a proven int64 of more
   digits through PyLong_AsLongLong (the guard checked that it fits). */
#define ONE_DIGIT(o) ((size_t)(Py_SIZE(o) + 1) <= 2)
#define DIGIT_VALUE(o) ((int64_t)Py_SIZE(o) * (int64_t)((PyLongObject *)(o))->ob_digit[0])
#define UNBOX_INT(x) ({ PyObject *o_ = O(x); \
    __builtin_expect(ONE_DIGIT(o_), 1) ? DIGIT_VALUE(o_) : SLOWV(PyLong_AsLongLong(o_)); })
#define UNBOX_FLOAT(x) AS_I(PyFloat_AS_DOUBLE(O(x)))
#define UNBOX_BOOL(x) ((int64_t)(O(x) == Py_True))
/* A new reference to True or False. */
#define BOXB(c) ({ PyObject *b_ = (c) ? Py_True : Py_False; Py_INCREF(b_); WORD(b_); })
static inline __attribute__((always_inline)) int fits_int64(PyObject *o) {
    int overflow = 0;
    PyLong_AsLongLongAndOverflow(o, &overflow);
    return overflow == 0;
}
#define HELPER_STATUS_WORD %d
#define PENDING_EXCEPTION_WORD %d
#define STATUS_DEOPT %d
#define STATUS_ERROR %d
""" % (HELPER_STATUS_WORD, PENDING_EXCEPTION_WORD, STATUS_DEOPT, STATUS_ERROR)

# Direct calls between compiled functions (`_CALL_DIRECT_{n}`, backends.native.direct):
# a call site of a known module function reads the callee's *cell*, a runtime-owned row
# of words, and the runtime's native frame *stack* header, both by address.
CELL_ENTRY, CELL_WORDS, CELL_TEMPLATE, CELL_RET, CELL_CODE, CELL_STACK, CELL_NPARAMS, \
    CELL_PARAMS = range(8)
MAX_DIRECT_ARGS = 12   # n-body style kernels pass 9-10 lists and scalars
CELL_RUNS = CELL_PARAMS + MAX_DIRECT_ARGS  # direct calls of the installed code, and those
CELL_RETURNS = CELL_RUNS + 1               # that returned on the fast path
CELL_INIT = CELL_RETURNS + 1   # frame words the template sets: the header and the locals
CELL_SIZE = CELL_INIT + 1
STK_TOP, STK_LIMIT, STK_DEPTH, STK_MAXDEPTH, STK_CALLS = range(5)
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
    arguments are the frame words from byte offset _JIT_SLOT0 (references the caller's
    values own; the callee's entry takes its own); the cell is at _JIT_OPERAND2. Fast
    path: the callee's code is called on a new frame of the native stack and its returned
    word boxed (a new reference). `slow` (nothing ran: no cell, arity, depth or stack
    overflow): the site's ordinary helper (_JIT_HELPER). `finish` (the callee ran but left
    otherwise than by a plain return: a side exit, an error, a result that boxing could
    not make): the site's finishing helper (_JIT_HELPER2) with the callee frame still
    pushed, which resumes / re-raises / converts in Python and returns the boxed result."""
    deopt = "if (STATUS == STATUS_DEOPT) JUMP(_JIT_EXIT); " if exit else ""
    n = nargs
    return f"""
    int64_t *cell_ = (int64_t *)(intptr_t)_JIT_OPERAND2;
    int64_t *args_ = (int64_t *)((char *)f + (intptr_t)_JIT_SLOT0);
    int64_t *stk_ = (int64_t *)cell_[{CELL_STACK}];
    int64_t entry_ = cell_[{CELL_ENTRY}];
    int64_t hr, *top_, *nf_;
    if (__builtin_expect(entry_ == 0 || cell_[{CELL_NPARAMS}] != {n}
                         || stk_[{STK_DEPTH}] >= stk_[{STK_MAXDEPTH}], 0))
        goto slow_;
    top_ = (int64_t *)stk_[{STK_TOP}];
    nf_ = top_ + {DIRECT_HEADER};
    if (__builtin_expect(nf_ + cell_[{CELL_WORDS}] > (int64_t *)stk_[{STK_LIMIT}], 0))
        goto slow_;
    {{
        const int64_t *tpl_ = (const int64_t *)cell_[{CELL_TEMPLATE}];
        int64_t nw_ = cell_[{CELL_WORDS}], ni_ = cell_[{CELL_INIT}];
        /* only the header and the locals need their initial words: every other word
           (values, temporaries) is written before anything reads it */
        for (int64_t k = 0; k < ni_; k++) {{
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
                             && nf_[{HELPER_STATUS_WORD}] != {STATUS_ERROR}, 1)) {{
            int64_t w_ = nf_[1];
            int64_t rep_ = cell_[{CELL_RET}];
            if (rep_ == 1 || rep_ == 2) {{
                PyObject *o_ = rep_ == 1 ? PyLong_FromLongLong(w_)
                                         : PyFloat_FromDouble(AS_F(w_));
                if (o_ == NULL) {{ PyErr_Clear(); goto finish_; }}
                w_ = WORD(o_);
            }} else if (rep_ == 3) {{
                w_ = BOXB(w_ & 1);
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
# Generic uops: an inline fast path (hot part) in front of their C-API slow path (cold).
GENERIC_FAST = (U._BINARY_OP, U._COMPARE_OP, U._TO_BOOL, U._UNARY_OP, U._BINARY_SUBSCR,
                U._STORE_SUBSCR)
GENERIC_PREFIX = "_GEN"
# operator -> (fast-path code, C-API function)
GENERIC_BINOPS = {
    "+": ("ADD", "Add"), "-": ("SUB", "Subtract"), "*": ("MUL", "Multiply"),
    "/": ("TDIV", "TrueDivide"), "//": ("OTHER", "FloorDivide"), "%": ("OTHER", "Remainder"),
    "**": ("OTHER", "Power"), "<<": ("OTHER", "Lshift"), ">>": ("OTHER", "Rshift"),
    "&": ("OTHER", "And"), "|": ("OTHER", "Or"), "^": ("OTHER", "Xor"),
}
GENERIC_BINOPS.update({op + "=": (code, "InPlace" + fn)
                       for op, (code, fn) in list(GENERIC_BINOPS.items())})
GENERIC_OP_NAMES = {"+": "ADD", "-": "SUB", "*": "MUL", "/": "TDIV", "//": "FDIV",
                    "%": "MOD", "**": "POW", "<<": "LSH", ">>": "RSH", "&": "AND",
                    "|": "OR", "^": "XOR"}
GENERIC_CMPOPS = {"<": 0, "<=": 1, "==": 2, "!=": 3, ">": 4, ">=": 5,   # Py_LT .. Py_GE
                  "is": 6, "is_not": 7, "in": 8, "not_in": 9}
GENERIC_CMP_NAMES = {**CMP_NAMES, "is": "IS", "is_not": "IS_NOT", "in": "IN",
                     "not_in": "NOT_IN"}
GENERIC_UNOPS = {"neg": ("NEG", "Negative"), "pos": ("POS", "Positive"),
                 "invert": ("INVERT", "Invert")}
for _name, _d in UOPS.items():
    if _d.stencil and "{op}" not in _d.stencil and _name not in GENERIC_FAST:
        BODIES[_name] = _d.stencil
for _op, _n in CMP_NAMES.items():
    for _t in ("INT", "FLOAT"):
        BODIES[f"_COMPARE_OP_{_t}_{_n}"] = UOPS[f"_COMPARE_OP_{_t}"].stencil.replace("{op}", _op)


# Bodies only generated as variants (inputs A, B; output OUT / FOUT).
VARIANT_BODIES: dict[str, str] = {
    "_BOX_INT": "PyObject *o = PyLong_FromLongLong(A); ERROR_IF(o == NULL); OUT = WORD(o);",
    "_BOX_FLOAT": "PyObject *o = PyFloat_FromDouble(FA); ERROR_IF(o == NULL); OUT = WORD(o);",
    "_BOX_BOOL": "OUT = BOXB(A & 1);",
    "_GUARD_INT": """
        PyObject *o = O(A);
        EXIT_IF(!Py_IS_TYPE(o, &PyLong_Type));
        /* more than two digits (60 bits): ask whether it fits in int64 */
        if (__builtin_expect((size_t)(Py_SIZE(o) + 2) > 4, 0))
            EXIT_IF(!SLOWV(fits_int64(o)));""",
    "_GUARD_BOOL": "EXIT_IF(O(A) != Py_True && O(A) != Py_False);",
    "_GUARD_LIST": "EXIT_IF(!Py_IS_TYPE(O(A), &PyList_Type));",
    "_GUARD_FLOAT": "EXIT_IF(!Py_IS_TYPE(O(A), &PyFloat_Type));",
    "_GUARD_NEVER": "JUMP(_JIT_EXIT);",
    # reference counts of boxed words (where: ownership.Ownership)
    "_INCREF": "Py_INCREF(O(A));",
    "_DECREF": "Py_DECREF(O(A));",
    "_XINCREF": "Py_XINCREF(O(A));",
    "_XDECREF": "Py_XDECREF(O(A));",
    # a boxed frame local (frame word _JIT_SLOT2) takes A's reference; the old one goes
    "_STORE_LOCAL": "PyObject *old = O(W(_JIT_SLOT2)); W(_JIT_SLOT2) = A; Py_XDECREF(old);",
}
# [a, b, ...] and (a, b, ...): OPERAND boxed items in the frame words from _JIT_SLOT0
_BUILD = """
        int64_t n = OPERAND, *items = (int64_t *)((char *)f + (intptr_t)_JIT_SLOT0);
        PyObject *s = {kind}_New(n);
        ERROR_IF(s == NULL);
        for (int64_t k = 0; k < n; k++) {{
            PyObject *o = O(items[k]);
            Py_INCREF(o);
            {kind}_SET_ITEM(s, k, o);
        }}
        OUT = WORD(s);"""
VARIANT_BODIES[U._BUILD_LIST] = _BUILD.format(kind="PyList")
VARIANT_BODIES[U._BUILD_TUPLE] = _BUILD.format(kind="PyTuple")
for _n, _b in BODIES.items():
    VARIANT_BODIES.setdefault(_n, _b)


def uop_body(name: str) -> str | None:
    """The C body of a uop compiled by the stencil of its own name: its table entry's
    `stencil` (ir/uops.py), unless that is a generic uop's fast path or has an "{op}"
    (a comparison: one stencil per operator). Read from the table when asked, so a uop
    defined after this module loaded compiles too."""
    d = UOPS.get(name)
    if d is None or not d.stencil or d.stencil_slow or "{op}" in d.stencil:
        return None
    return d.stencil


def variant_body(base: str) -> str | None:
    """The straight-line C body of a stencil base (None: a control, helper or generic
    base, see `Variant._body`)."""
    body = VARIANT_BODIES.get(base)
    return body if body is not None else uop_body(base)


def may_error(base: str) -> bool:
    """Whether a stencil base can fail (it then jumps to its site's error stub)."""
    if base.startswith((GENERIC_PREFIX, "_CALL_")):
        return True
    return "ERROR_IF" in (variant_body(base) or "")


def generic_base(uop: str, op: str | None, raw_bool: bool) -> str | None:
    """The stencil base of a generic uop (None: none): uop, operator name, and `_RAWB`
    when the bool result is a raw word rather than a boxed one."""
    if uop == U._BINARY_OP:
        if op not in GENERIC_BINOPS:
            return None
        code = GENERIC_OP_NAMES[op.removesuffix("=")] + ("_INPLACE" if op.endswith("=") else "")
    elif uop == U._COMPARE_OP:
        if op not in GENERIC_CMPOPS:
            return None
        code = GENERIC_CMP_NAMES[op]
    elif uop == U._UNARY_OP:
        if op not in GENERIC_UNOPS:
            return None
        code = GENERIC_UNOPS[op][0]
    elif uop in (U._TO_BOOL, U._BINARY_SUBSCR, U._STORE_SUBSCR):
        code = ""
    else:
        return None
    if raw_bool and uop not in (U._COMPARE_OP, U._TO_BOOL):
        return None
    return f"{GENERIC_PREFIX}{uop}" + (f"_{code}" if code else "") + ("_RAWB" if raw_bool else "")


def _generic_parts(base: str) -> tuple[str, str, bool]:
    """(uop, operator, raw bool) of a `generic_base` name."""
    raw = base.endswith("_RAWB")
    rest = base[len(GENERIC_PREFIX):].removesuffix("_RAWB")
    uop = max((u for u in GENERIC_FAST if rest == u or rest.startswith(u + "_")), key=len)
    code = rest[len(uop) + 1:]
    if uop == U._BINARY_OP:
        inplace = code.endswith("_INPLACE")
        name = code.removesuffix("_INPLACE")
        op = next(k for k, v in GENERIC_OP_NAMES.items() if v == name) + ("=" if inplace else "")
    elif uop == U._COMPARE_OP:
        op = next(k for k, v in GENERIC_CMP_NAMES.items() if v == code)
    elif uop == U._UNARY_OP:
        op = next(k for k, (c, _) in GENERIC_UNOPS.items() if c == code)
    else:
        op = ""
    return uop, op, raw


def generic_body(base: str, slow: bool) -> str:
    """The C of a `generic_base`: its fast path (hot part), or with `slow` its C-API slow
    path (cold part); ir/uops.py's bodies with their operator."""
    uop, op, raw = _generic_parts(base)
    d = UOPS[uop]
    body = d.stencil_slow if slow else d.stencil
    if uop == U._BINARY_OP:
        code, fn = GENERIC_BINOPS[op]
        call = (f"PyNumber_{fn}(OA, OB, Py_None)" if fn.endswith("Power")
                else f"PyNumber_{fn}(OA, OB)")
        body = body.replace("{op}", code).replace("{call}", call)
    elif uop == U._COMPARE_OP:
        body = body.replace("{op}", str(GENERIC_CMPOPS[op]))
    elif uop == U._UNARY_OP:
        code, fn = GENERIC_UNOPS[op]
        body = body.replace("{op}", code).replace("{call}", f"PyNumber_{fn}(OA)")
    if raw:
        defs = ["#define BOOLW(c) ((int64_t)(c))",
                "#define OBJ_RESULT(r) do { int c_ = PyObject_IsTrue(r); Py_DECREF(r); "
                "ERROR_IF(c_ < 0); OUT = c_; } while (0)"]
    else:
        defs = ["#define BOOLW(c) BOXB(c)", "#define OBJ_RESULT(r) (OUT = WORD(r))"]
    return "\n" + "\n".join(defs) + f"\n{body}\n#undef BOOLW\n#undef OBJ_RESULT\n"


# Control stencils: complete function bodies.
CONTROL: dict[str, str] = {
    U._JUMP: "JUMP(_JIT_TARGET);",
    "_BRANCH_IF": "if (A) JUMP(_JIT_TARGET); NEXT;",       # to TARGET if true, else next
    "_BRANCH_IFNOT": "if (!A) JUMP(_JIT_TARGET); NEXT;",   # to TARGET if false, else next
    U._RETURN: "f[1] = A; return OPERAND;",                  # OPERAND = -1 - return site
    "_EXIT_STUB": "f[0] = OPERAND; return OPERAND;",         # OPERAND = exit index
}


def stencil_source() -> str:
    """The C text of every stencil, plus the SysV entry shim."""
    parts = [PRELUDE, VARIANT_PRELUDE,
             "#define C W(_JIT_SLOT2)\n#define OA O(A)\n#define OB O(B)\n#define OC O(C)\n"]
    for name, body in BODIES.items():
        parts.append(f"STENCIL int64_t {name}(int64_t *f) {{\n{body}\nNEXT;\n}}\n")
    for name, body in CONTROL.items():
        parts.append(f"STENCIL int64_t {name}(int64_t *f) {{\n{body}\n}}\n")
    parts.append(ENTRY_SHIM_SOURCE)
    return "\n".join(parts)


def library():
    """The compiled stencils (cached on disk by backends.copy_and_patch.cache)."""

    return build_library(stencil_source())
