"""The way in from C: a plain SysV function that calls preserve_none stencil code.

ctypes (natively) and the Unicorn runner call `jit_entry(code, frame)` with the ordinary C
convention. Because `jit_entry` itself is SysV, clang saves rbx, rbp and r12-r15 around
the preserve_none call, which may clobber them; the callee keeps rsp and rbp. The stencils
are entered with the frame in r12 (preserve_none's first argument register) and the stack
aligned as after a normal call, so stencils that call helpers keep it 16-byte aligned.
Whatever the last stencil returns in rax comes back. Append this to a stencil source;
it has no holes.
"""

ENTRY_SHIM_NAME = "jit_entry"

ENTRY_SHIM_SOURCE = r"""
typedef __attribute__((preserve_none)) long long (*jit_code_t)(void *frame);
long long jit_entry(void *code, void *frame) { return ((jit_code_t)code)(frame); }
"""
