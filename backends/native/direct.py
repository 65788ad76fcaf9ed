"""Direct calls from machine code to machine code: the runtime-owned cells and stack.

A `_CALL_DIRECT_{n}` site (uop_stencils.direct_call_body) of module function `name` reads
`name`'s *cell* (CELL_SIZE words at a fixed address, patched into the caller as an
operand): the callee's native entry (0 = none: the site takes its ordinary helper), its
frame size, how many of its words the frame template sets (the header and the locals;
every other word is written before it is read) and the template, the representation of
its returned word, its code id (for the finishing helper), the stack header, its
parameter count and each parameter's frame word. The callee frame is pushed on one
native *stack* (`header`: top, limit, depth, depth limit, direct calls made), under
DIRECT_HEADER words (code id, returned status), and the callee's code is entered with a
real `call`:
its `_RETURN` stencil returns the status to the caller's stencil as it would to the SysV
shim.

Which callees qualify (`eligible`): native code with no Python helper sites (so the
callee is a leaf as far as Python is concerned: its helpers never need a frame other than
the one they were given; it may call the C API), every parameter a boxed local (the
caller passes its `PyObject *` words, borrowed; the callee's entry takes its own
references), one return representation. The runtime fills a cell when it
installs `name`'s fast caller and clears it with the code (`invalidate`,
`on_global_write`).

Depth: `header[STK_DEPTH]` is the Python-level depth of the innermost native code (the
runtime writes `Interpreter.depth` there on every entry into machine code); a direct
call counts itself there, and a call at RECURSION_LIMIT takes the helper path, which
raises RecursionError as CPython does.

`finisher(name)` makes the Python half of a site: the callee ran and left otherwise than
by a plain return (a side exit: tier 1 resumes the callee from its exit with exact
values, as `Runtime.fast_caller` does, and its result is the call's; an error: it is
re-raised, after the callee's references are released).
"""

from __future__ import annotations

import ctypes

from backends.copy_and_patch import uop_stencils as S
from backends.interp.interpreter import UNBOUND


STACK_WORDS = 1 << 18   # 2 MiB of frames; a call that does not fit takes the helper path


def eligible(code, params: list[str]) -> str | None:
    """Why `code` (a NativeCode of a function with `params`) cannot be called directly,
    or None."""
    blob = code.blob
    if blob.helper_sites:
        return "calls runtime helpers"
    if len(params) > S.MAX_DIRECT_ARGS:
        return "too many parameters"
    if any(blob.frame.local_types.get(p, "box") != "box" for p in params):
        return "a parameter is not a boxed local"
    reps = set(code._return_reps)
    if len(reps) != 1:
        return "returns in several representations"
    return None


class DirectCalls:
    """The cells of every module function and the native frame stack of one runtime."""

    def __init__(self, runtime, max_depth: int, stack_words: int = STACK_WORDS):
        self.runtime = runtime
        self.stack = (ctypes.c_int64 * stack_words)()
        self.header = (ctypes.c_int64 * S.STK_SIZE)()
        base = ctypes.addressof(self.stack)
        self.header[S.STK_TOP] = base
        self.header[S.STK_LIMIT] = base + 8 * stack_words
        self.header[S.STK_MAXDEPTH] = max_depth
        self.header_address = ctypes.addressof(self.header)
        self.cells: dict[str, ctypes.Array] = {}
        self.codes: list[tuple[str, object]] = []   # code id -> (name, Tier2)
        self.code_ids: dict[int, int] = {}           # id(Tier2) -> code id
        self.templates: dict[int, ctypes.Array] = {}  # code id -> frame template
        self.installed: dict[str, object] = {}       # name -> Tier2 in its cell

    @property
    def calls(self) -> int:
        """Direct calls made so far (every one that pushed a callee frame)."""
        return self.header[S.STK_CALLS]

    def cell(self, name: str) -> int:
        """The address of `name`'s cell (made empty on first use)."""
        c = self.cells.get(name)
        if c is None:
            c = self.cells[name] = (ctypes.c_int64 * S.CELL_SIZE)()
            c[S.CELL_STACK] = self.header_address
        return ctypes.addressof(c)

    def install(self, name: str, t2, params: list[str]) -> str | None:
        """Fill `name`'s cell with `t2`'s native code; returns why not (cell cleared)."""
        code = t2.jit
        why = eligible(code, params)
        if why is not None:
            self.clear(name)
            return why
        cid = self.code_ids.get(id(t2))
        if cid is None:
            cid = self.code_ids[id(t2)] = len(self.codes)
            self.codes.append((name, t2))
            layout = code.blob.frame
            self.templates[cid] = (ctypes.c_int64 * layout.words)()  # boxed: NULL, unbound
        layout = code.blob.frame
        self.cell(name)
        self.sync(name)
        c = self.cells[name]
        c[S.CELL_ENTRY] = 0   # filled last
        c[S.CELL_WORDS] = layout.words
        c[S.CELL_INIT] = max([S.HEADER_WORDS + layout.nregs]
                             + [w + 1 for w in layout.local_word.values()])
        c[S.CELL_TEMPLATE] = ctypes.addressof(self.templates[cid])
        c[S.CELL_RET] = S.RET_REPS[code._return_reps[0]]
        c[S.CELL_CODE] = cid
        c[S.CELL_NPARAMS] = len(params)
        for k, p in enumerate(params):
            c[S.CELL_PARAMS + k] = layout.local_word.get(p, -1) if p in layout.local_types \
                else -1
        c[S.CELL_ENTRY] = code.entry_addresses[0]
        self.installed[name] = t2
        return None

    def clear(self, name: str) -> None:
        """No direct entry for `name` (its code was dropped)."""
        c = self.cells.get(name)
        if c is not None:
            c[S.CELL_ENTRY] = 0
        self.sync(name)
        self.installed.pop(name, None)

    def sync(self, name: str | None = None) -> None:
        """Add the cells' counts of direct runs (and fast-path returns) to the installed
        code's JitInfo (every cell when `name` is None)."""
        for n in ([name] if name is not None else list(self.installed)):
            c, t2 = self.cells.get(n), self.installed.get(n)
            if c is None or t2 is None:
                continue
            t2.info.runs += c[S.CELL_RUNS]
            t2.info.returns += c[S.CELL_RETURNS]
            c[S.CELL_RUNS] = c[S.CELL_RETURNS] = 0

    def enter(self, depth: int) -> None:
        """Machine code is entered from Python at Interpreter depth `depth`."""
        self.header[S.STK_DEPTH] = depth

    def finisher(self, name: str):
        """`finish(callee_frame_address, *args)` for direct call sites of `name`."""

        runtime = self.runtime
        interp = runtime.interp
        header, codes = self.header, self.codes
        params = interp.functions[name].params
        nlocals = len(interp.compile(name).fn.locals)
        unbound = [UNBOUND] * (nlocals - len(params))

        def finish(nfa: int, *args):
            cid = ctypes.c_int64.from_address(nfa - 8 * S.DIRECT_HEADER).value
            status = ctypes.c_int64.from_address(nfa - 8 * S.DIRECT_HEADER + 8).value
            callee, t2 = codes[cid]
            code = t2.jit
            frame = (ctypes.c_int64 * code.blob.frame.words).from_address(nfa)
            saved, depth = interp.depth, header[S.STK_DEPTH]
            interp.depth = depth     # the callee's activation included
            try:
                result = code._result(status, frame, dict(zip(params, args)))
                if result[0] == "return":
                    t2.info.returns += 1
                    return result[1]
                return runtime.resume_from_jit(callee, t2, result, list(args) + unbound)
            finally:
                interp.depth = saved
                header[S.STK_DEPTH] = depth
        return finish
