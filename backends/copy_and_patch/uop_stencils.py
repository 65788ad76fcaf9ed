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
exit stub, word 1 = returned value, then one word per function local (fn.locals order),
then one word per SSA value, then scratch words for parallel moves on edges.

Return protocol of the entry shim (`jit_entry(code, frame)`): an exit stub returns its
exit index (>= 0); `_RETURN` stores the value in word 1 and returns -1 - its return site.

NOTE: the C bodies in `BODIES` belong in ir/uops.py's `stencil` field of each UopDef
(the lead will move them); comparisons get one stencil per operator (`_COMPARE_OP_INT_LT`).
"""

from __future__ import annotations

from .entry_shim import ENTRY_SHIM_SOURCE

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

CMP_NAMES = {"<": "LT", "<=": "LE", ">": "GT", ">=": "GE", "==": "EQ", "!=": "NE"}

# Straight-line stencils: name -> C body (NEXT is appended). Inputs A, B (or FA, FB),
# output OUT (or FOUT).
BODIES: dict[str, str] = {
    "_LOAD_CONST": "OUT = OPERAND;",
    "_MOVE": "OUT = A;",  # _LOAD_FAST, _STORE_FAST, _COPY, edge moves, _RANGE_ARG on int
    "_BINARY_OP_ADD_INT": "int64_t r; EXIT_IF(__builtin_add_overflow(A, B, &r)); OUT = r;",
    "_BINARY_OP_SUBTRACT_INT":
        "int64_t r; EXIT_IF(__builtin_sub_overflow(A, B, &r)); OUT = r;",
    "_BINARY_OP_MULTIPLY_INT":
        "int64_t r; EXIT_IF(__builtin_mul_overflow(A, B, &r)); OUT = r;",
    "_BINARY_OP_FLOOR_DIVIDE_INT": """
        int64_t a = A, b = B;
        EXIT_IF(b == 0 || (a == INT64_MIN && b == -1));
        int64_t q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
        OUT = q;""",
    "_BINARY_OP_MODULO_INT": """
        int64_t a = A, b = B;
        EXIT_IF(b == 0 || (a == INT64_MIN && b == -1));
        int64_t r = a % b;
        if (r != 0 && ((r < 0) != (b < 0))) r += b;
        OUT = r;""",
    "_BINARY_OP_LSHIFT_INT": """
        int64_t a = A, b = B;
        EXIT_IF((uint64_t)b >= 64);
        int64_t r = (int64_t)((uint64_t)a << b);
        EXIT_IF((r >> b) != a);
        OUT = r;""",
    "_BINARY_OP_RSHIFT_INT": """
        int64_t a = A, b = B;
        EXIT_IF(b < 0);
        OUT = a >> (b > 63 ? 63 : b);""",
    "_BINARY_OP_AND_INT": "OUT = A & B;",
    "_BINARY_OP_OR_INT": "OUT = A | B;",
    "_BINARY_OP_XOR_INT": "OUT = A ^ B;",
    "_BINARY_OP_ADD_FLOAT": "FOUT = FA + FB;",
    "_BINARY_OP_SUBTRACT_FLOAT": "FOUT = FA - FB;",
    "_BINARY_OP_MULTIPLY_FLOAT": "FOUT = FA * FB;",
    "_BINARY_OP_TRUEDIV_FLOAT": "double b = FB; EXIT_IF(b == 0.0); FOUT = FA / b;",
    "_TO_BOOL_INT": "OUT = A != 0;",
    "_TO_BOOL_FLOAT": "OUT = FA != 0.0;",
    "_UNARY_NOT": "OUT = A ^ 1;",
    "_UNARY_NEGATIVE_INT": "int64_t a = A; EXIT_IF(a == INT64_MIN); OUT = -a;",
    "_UNARY_NEGATIVE_FLOAT": "FOUT = -FA;",
    "_UNARY_INVERT_INT": "OUT = ~A;",
    "_INT_TO_FLOAT": """
        int64_t a = A;
        EXIT_IF(a < -(INT64_C(1) << 53) || a > (INT64_C(1) << 53));
        FOUT = (double)a;""",
}
for _op, _n in CMP_NAMES.items():
    BODIES[f"_COMPARE_OP_INT_{_n}"] = f"OUT = A {_op} B;"
    BODIES[f"_COMPARE_OP_FLOAT_{_n}"] = f"OUT = FA {_op} FB;"

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
