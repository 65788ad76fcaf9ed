"""Run a `CodeBlob` (backends.copy_and_patch.emitter) natively: W^X memory + ctypes.

`NativeCode(blob, env=None)` links the blob at a fresh mapping, writes it while RW and
seals it RX. `run(frame_values, entry_index)` converts the locals the code uses into
native frame words (raw `int` fitting int64 / `float` / `bool`, or `PyObject *` words;
see uop_stencils), calls the SysV entry shim with the GIL held (the code calls the C API),
and converts the result:

* `("return", value)`
* `("exit", exit_index, values, locals)`: `values` maps each tier-1 value named by the
  exit to its exact Python object, `locals` is the frame after the exit (the caller's
  dict updated with every local the code wrote, plus the exit's promoted locals).

An exception (a C-API error such as a TypeError from `PyNumber_Add`, or one raised by a
Python runtime helper) propagates out of `run` as itself. Reference counts stay exact
whichever way the code leaves: the code owns a reference for every boxed value and local
(emitter, ownership); an exit or an error hands the runner the frame words of everything
it still held (`CodeBlob.exit_releases`, `CodeBlob.errors`), which `_result` takes over
or releases, and a return has released all but the returned object itself.

Runtime helpers (backends.native.helpers.HelperRuntime) are ctypes callbacks: each
`_CALL_HELPER` site calls its own site function (reads the site's input words from the
frame, runs the uop's Python semantics: globals, builtins, calls through `env`, any object
with `.globals` (dict) and `.call(name, args)`, e.g. the tier-1 Interpreter; returns the
output word). A helper's status comes back out of band, in the frame's
HELPER_STATUS_WORD (uop_stencils). The frame is an `array('q')`, which the helpers read
directly.

`invoker(params)` builds the shortest call path (positional arguments, returned value
or `EXITED`) that the runtime uses for calls between compiled functions.

A frame value that the compiled code cannot hold raises `Refused`: the caller stays in
tier 1 (nothing has run).
"""

from __future__ import annotations

import array
import ctypes
import dataclasses
import struct

from backends.copy_and_patch import uop_stencils as S
from backends.copy_and_patch.emitter import HEADER_WORDS, CodeBlob  # noqa: F401
from backends.copy_and_patch.stencil import HoleValue as V
from ir.uops import U

from .execmem import ExecutableMemory
from .helpers import (INT64_MAX, INT64_MIN, MASK64, UNBOUND, HelperRuntime, Refused,  # noqa: F401
                      box, converter, from_word, release, signed, take, to_word, unbox)


SITE_T = ctypes.CFUNCTYPE(ctypes.c_int64)  # a site function: no arguments needed
FINISH_T = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)
# a direct call site's finishing helper: (frame, site, callee frame)


class _Exited:
    def __repr__(self):
        return "<exited>"


EXITED = _Exited()  # what `NativeCode.invoker`'s functions return after a side exit


class NativeCode:
    def __init__(self, blob: CodeBlob, env=None):
        self.blob = blob
        self.env = env
        self.helpers = HelperRuntime(blob, env)
        # ctypes callbacks, kept alive with the code: one per helper site
        self._callbacks = [SITE_T(f) for f in self.helpers.site_functions]
        helpers = {f"call:{k}": ctypes.cast(c, ctypes.c_void_p).value
                   for k, c in enumerate(self._callbacks)}
        direct = getattr(env, "direct", None)
        if direct is not None:   # direct call sites: cells, finishing helpers
            for k, f in self.helpers.finish_functions.items():
                cb = FINISH_T(f)
                self._callbacks.append(cb)
                helpers[f"finish:{k}"] = ctypes.cast(cb, ctypes.c_void_p).value
            for site in blob.helper_sites:
                if site.direct is not None:
                    helpers[f"cell:{site.direct}"] = direct.cell(site.direct)
        self.memory = ExecutableMemory(blob.size)
        self.base = self.memory.address
        self.memory.write(blob.code(self.base, helpers))
        self.memory.seal()
        # PYFUNCTYPE: the GIL stays held, as the C API needs (the error stubs leave no
        # error indicator set, so ctypes never raises one itself)
        self._entry = self.memory.function(ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p,
                                           offset=blob.shim_offset, python_api=True)
        self.entry_addresses = [self.base + blob.entry_offset(i)
                                for i in range(len(blob.entries))]
        self._stored = self._locals_written()
        layout = blob.frame
        self._zero = array.array("q", bytes(8 * layout.words))
        self._fill = _filler(layout)
        self._return_reps = [layout.value_types[v] for v in blob.returns]
        self._returns = [_return_reader(rep) for rep in self._return_reps]
        self._boxed_locals = [layout.local_word[n] for n, t in layout.local_types.items()
                              if t == "box"]
        self.last_exit = None  # set by an `invoker` function that returns EXITED

    def _locals_written(self) -> set[str]:
        """Locals some `_STORE_FAST` writes (their frame word is its output)."""

        by_word = {w: name for name, w in self.blob.frame.local_word.items()}
        return {by_word[values[V.SLOT2] // 8]
                for values, site in zip(self.blob.values, self.blob.sites)
                if site is not None and site.name == U._STORE_FAST and V.SLOT2 in values
                and values[V.SLOT2] // 8 in by_word}

    def address_map(self):
        return self.blob.address_map(self.base)

    def run(self, frame_values: dict[str, object], entry_index: int = 0):
        frame = self._zero[:]
        self._fill(frame, frame_values)
        ns = self.helpers.ns   # the helpers' view of the innermost activation's frame
        saved = ns["q"], ns["d"]
        ns["q"] = frame
        ns["d"] = memoryview(frame).cast("B").cast("d") if self.helpers.reads_floats else None
        try:
            status = self._entry(self.entry_addresses[entry_index], frame.buffer_info()[0])
            if status < 0 and frame[S.HELPER_STATUS_WORD] != S.STATUS_ERROR:
                return ("return", self._returns[-1 - status](frame))
            return self._result(status, frame, frame_values)
        finally:
            ns["q"], ns["d"] = saved

    def invoker(self, params: list[str], caller: "Caller | None" = None):
        """`invoke(*args)`: a call of the code at its function entry with the parameters
        `params` bound positionally, the shortest path from Python (calls between
        compiled functions take it on every call). Returns the returned value, or
        `EXITED` after a side exit, with `run`'s exit tuple in `self.last_exit`; raises
        Refused (nothing ran) and the code's exceptions as `run` does.

        With a `caller` (the runtime's bookkeeping of one call, see `Caller`) the same
        function also does that bookkeeping, so a call between compiled functions is one
        Python frame: the recursion limit, the call count, the depth, and what a refusal
        or a side exit becomes (`caller.refused(error, args)`, `caller.exited(exit, args)`
        give the call's result).

        Why generated: the frame of each nesting depth is preallocated (reset from a
        template: every other boxed local unbound, NULL), each parameter's word
        conversion and the return readers are inlined."""
        layout = self.blob.frame
        template = self._zero[:]
        args = [f"a{k}" for k in range(len(params))]
        frames = []
        ns = {"template": template, "frames": frames, "hns": self.helpers.ns,
              "entry": self._entry, "entry0": self.entry_addresses[0], "code": self,
              "EXITED": EXITED, "ERROR": S.STATUS_ERROR, "take": take}
        fills = []
        for k, name in enumerate(params):
            t = layout.local_types.get(name)
            if t is None:
                continue   # the code never reads it
            w, a = layout.local_word[name], args[k]
            ns[f"conv_{k}"] = converter(t)
            if t == "box":
                fills.append(f"frame[{w}] = id({a})")
            elif t == "int":
                fills.append(f"frame[{w}] = {a} if type({a}) is int and {INT64_MIN} <= {a}"
                             f" <= {INT64_MAX} else conv_{k}({a})")
            else:
                fills.append(f"frame[{w}] = conv_{k}({a})")
        readers = {"int": "frame[1]", "bool": "frame[1] != 0", "float": "dview[1]",
                   "box": "take(frame[1])"}
        reps = set(self._return_reps)
        if len(reps) == 1:
            ret = [f"return {readers[reps.pop()]}"]
        else:
            ret = [f"if status == {-1 - k}: return {readers[rep]}"
                   for k, rep in enumerate(self._return_reps)]
        fv = "{" + ", ".join(f"{p!r}: {a}" for p, a in zip(params, args)) + "}"
        if caller is not None:   # count the run and the return, as the runtime does
            ret = [r.replace("return ", "info.runs += 1; info.returns += 1; return ", 1)
                   for r in ret]
        run = (["status = entry(entry0, address)",
                "if status < 0 and frame[2] != ERROR:"] + ["    " + r for r in ret]
               + [f"code.last_exit = code._result(status, frame, {fv})",
                  "return EXITED"])
        # the frame of each activation depth of this code is its own; the helpers see
        # the innermost one
        lines = [f"def invoke({', '.join(args)}):",
                 "    depth = code.depth",
                 "    while depth >= len(frames):",
                 "        fr = template[:]",
                 "        frames.append((fr, fr.buffer_info()[0],"
                 " memoryview(fr).cast('B').cast('d')))",
                 "    frame, address, dview = frames[depth]",
                 "    frame[:] = template"]
        lines += ["    " + f for f in fills]
        lines += ["    saved_q, saved_d = hns['q'], hns['d']",
                  "    hns['q'] = frame",
                  "    hns['d'] = dview",
                  "    code.depth = depth + 1",
                  "    try:"]
        lines += ["        " + r for r in run]
        lines += ["    finally:",
                  "        hns['q'] = saved_q",
                  "        hns['d'] = saved_d",
                  "        code.depth = depth"]
        if caller is not None:
            lines = _with_caller(lines, args, fills, caller, ns)
        exec(compile("\n".join(lines), f"<invoke {self.blob.fn_name}>", "exec"), ns)
        return ns["invoke"]

    depth = 0   # activations of `invoker` functions running (each has its own frame)

    def _result(self, status, frame, frame_values):
        """The run's outcome from the returned status and the frame (any sequence of
        signed words); shared with the Unicorn runner and the direct calls' finishing
        helpers. Every reference the code left in the frame is taken over or released."""
        layout = self.blob.frame
        if frame[S.HELPER_STATUS_WORD] == S.STATUS_ERROR:
            # whichever way the code left, something failed: that is the outcome
            site = self.blob.errors[frame[0]] if status == S.ERROR_STATUS else None
            pending = frame[S.PENDING_EXCEPTION_WORD]
            error, self.helpers.error = self.helpers.error, None
            if pending:
                error = take(pending)
                if site is not None and isinstance(error, Exception) \
                        and self.helpers.frames_of is not None:
                    error.__dict__.setdefault("_wb_frames", []).append(
                        (self.helpers.frames_of, site.line))
            if site is not None:
                for w in site.release:
                    release(frame[w])
            for w in self._boxed_locals:
                release(frame[w])
            raise error if error is not None else RuntimeError("helper failed, no error")
        if status < 0:
            rep = self._return_reps[-1 - status]
            return ("return", take(frame[1]) if rep == "box" else box(signed(frame[1]), rep))
        ex = self.blob.exits[status]
        assert frame[0] == status
        values = {k: from_word(frame[layout.value_word[v]], layout.value_types[v])
                  for k, v in ex.values}
        out = dict(frame_values)
        # Locals bound at entry (given in frame_values) or written by the code: an unbound raw local that no
        # executed store wrote would read back as 0 (boxed locals know "unbound").
        for name, t in layout.local_types.items():
            if name in frame_values or name in self._stored or t == "box":
                value = from_word(frame[layout.local_word[name]], t)
                if value is UNBOUND:
                    out.pop(name, None)
                else:
                    out[name] = value
        for name, v in ex.locals:
            out[name] = from_word(frame[layout.value_word[v]], layout.value_types[v])
        for w in self.blob.exit_releases[status]:
            release(frame[w])
        for w in self._boxed_locals:
            release(frame[w])
        return ("exit", status, values, out)

    def free(self) -> None:
        self.memory.free()


@dataclasses.dataclass
class Caller:
    """The runtime's side of calls into one code (`NativeCode.invoker`): `env.depth` is
    the Python-level call depth (at most `limit`), also written to `header[stk]` for the
    direct calls; `counts[name]` counts the calls; `info` (a JitInfo) its runs and
    returns; `refused(error, args)` and `exited(exit, args)` finish a call whose frame
    the code refused, or that left through a side exit."""

    env: object
    limit: int
    header: object
    stk: int
    counts: dict
    name: str
    info: object
    refused: object
    exited: object


def _with_caller(lines: list[str], args: list[str], fills: list[str], caller: Caller,
                 ns: dict) -> list[str]:
    """`invoke`'s lines wrapped in the caller's bookkeeping: the depth and the count
    before, the depth restored after; a refused argument and a side exit finished by
    the caller."""
    ns.update(env=caller.env, LIMIT=caller.limit, header=caller.header, counts=caller.counts,
              name=caller.name, info=caller.info, refused=caller.refused,
              exited=caller.exited, Refused=Refused)
    head, body = lines[0], lines[1:]
    arglist = "[" + ", ".join(args) + "]"
    out = [head,
           "    d = env.depth",
           "    if d >= LIMIT:",
           "        raise RecursionError('maximum recursion depth exceeded')",
           "    counts[name] += 1",
           "    env.depth = d + 1",
           f"    header[{caller.stk}] = d + 1",
           "    try:"]
    for line in body:
        if line.strip() in fills:        # a parameter's conversion may refuse the frame
            ind = line[:len(line) - len(line.lstrip())]
            # refused outside the except clause: tier 1 then runs the program's code,
            # which must not see Refused as the exception being handled
            out += ["    " + ind + "_refusal = None", "    " + ind + "try:",
                    "    " + ind + "    " + line.strip(),
                    "    " + ind + "except Refused as e:",
                    "    " + ind + "    _refusal = e",
                    "    " + ind + "if _refusal is not None:",
                    "    " + ind + f"    return refused(_refusal, {arglist})"]
        elif line.strip() == "return EXITED":
            continue   # the caller finishes the exit, after the frame is restored
        else:
            out.append("    " + line)
    out += ["        info.runs += 1",
            f"        return exited(code.last_exit, {arglist})",
            "    finally:",
            "        env.depth = d"]
    return out


def _filler(layout):
    """`fill(frame, frame_values)`: the locals the code uses, as frame words (Refused if
    one cannot be represented); boxed ones borrow the caller's reference (the code takes
    its own at entry), unbound ones stay NULL. Generated once per code: it runs on every
    call into the code."""
    lines = ["def fill(frame, fv):"]
    ns = {}
    for k, (name, t) in enumerate(layout.local_types.items()):
        w = layout.local_word[name]
        ns[f"conv_{k}"] = converter(t)
        lines += [f"    if {name!r} in fv:", f"        x = fv[{name!r}]"]
        if t == "box":
            lines.append(f"        frame[{w}] = id(x)")
        elif t == "int":
            lines.append(f"        frame[{w}] = x if type(x) is int and {INT64_MIN} <= x <= "
                         f"{INT64_MAX} else conv_{k}(x)")
        else:
            lines.append(f"        frame[{w}] = conv_{k}(x)")
    lines.append("    return frame")
    exec(compile("\n".join(lines), "<frame filler>", "exec"), ns)
    return ns["fill"]


_UNPACK_DOUBLE = struct.Struct("<d").unpack_from


def _return_reader(rep: str):
    """The returned value (frame word 1) in representation `rep`, from an array frame;
    a returned object's reference is taken over."""
    if rep == "int":
        return lambda frame: frame[1]
    if rep == "bool":
        return lambda frame: frame[1] != 0
    if rep == "float":
        return lambda frame: _UNPACK_DOUBLE(frame, 8)[0]
    return lambda frame: take(frame[1])
