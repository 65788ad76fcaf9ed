"""Run a `CodeBlob` (backends.copy_and_patch.emitter) natively: W^X memory + ctypes.

`NativeCode(blob, env=None)` links the blob at a fresh mapping, writes it while RW and
seals it RX. `run(frame_values, entry_index)` converts the locals the code uses into
native frame words (raw `int` fitting int64 / `float` / `bool`, or boxed words; see
uop_stencils for the encoding), calls the SysV entry shim, and converts the result:

* `("return", value)`
* `("exit", exit_index, values, locals)`: `values` maps each tier-1 value named by the
  exit to its exact Python object, `locals` is the frame after the exit (the caller's
  dict updated with every local the code wrote, plus the exit's promoted locals).

A Python exception raised by a runtime helper (ZeroDivisionError from a generic `//`,
IndexError...) propagates out of `run` as itself.

Runtime helpers (backends.native.helpers.HelperRuntime) are ctypes callbacks: each
`_CALL_HELPER` site calls its own site function (reads the site's input words from the
frame, runs the uop's Python semantics: the uop table's impl, or globals/builtins/calls
through `env`, any object with `.globals` (dict) and `.call(name, args)`, e.g. the tier-1
Interpreter; returns the output word), the int slow paths call `box_call`. A helper's
status comes back out of band, in the frame's HELPER_STATUS_WORD (uop_stencils). The
frame is an `array('q')`, which the helpers read directly. Objects live in a
per-NativeCode handle table (constants first), emptied back to the constants when the
outermost run returns.

`invoker(params)` builds the shortest call path (positional arguments, returned value
or `EXITED`) that the runtime uses for calls between compiled functions.

A frame value that the compiled code cannot hold raises `Refused`: the caller stays in
tier 1 (nothing has run).
"""

from __future__ import annotations

import array
import ctypes
import struct

from backends.copy_and_patch import uop_stencils as S
from backends.copy_and_patch.emitter import HEADER_WORDS, CodeBlob  # noqa: F401

from .execmem import ExecutableMemory
from .helpers import (INT64_MAX, INT64_MIN, INT_BASE_SIGNED, MASK48, MASK64,  # noqa: F401
                      SIGN47, UNBOUND, UNBOUND_SIGNED, Handles, HelperRuntime, Refused, box,
                      signed, unbox)

_signed = signed  # the name other modules used
SITE_T = ctypes.CFUNCTYPE(ctypes.c_int64)  # a site function: no arguments needed
BOX_T = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)
FINISH_T = BOX_T  # a direct call site's finishing helper: (frame, site, callee frame)


class _Exited:
    def __repr__(self):
        return "<exited>"


EXITED = _Exited()  # what `NativeCode.invoker`'s functions return after a side exit


class NativeCode:
    def __init__(self, blob: CodeBlob, env=None):
        self.blob = blob
        self.env = env
        self.handles = Handles(blob.constants)
        self.helpers = HelperRuntime(blob, self.handles, env)
        # ctypes callbacks, kept alive with the code: one per helper site, and the int
        # box/unbox slow paths
        self._callbacks = [SITE_T(f) for f in self.helpers.site_functions]
        self._callbacks.append(BOX_T(self.helpers.box_call))
        addresses = [ctypes.cast(c, ctypes.c_void_p).value for c in self._callbacks]
        helpers = {f"call:{k}": a for k, a in enumerate(addresses[:-1])}
        helpers["box"] = addresses[-1]
        self.helpers.native = True
        direct = getattr(env, "direct", None)
        if direct is not None:   # direct call sites: cells, finishing helpers
            self.helpers.direct_header = direct.header
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
        self._entry = self.memory.function(ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p,
                                           offset=blob.shim_offset)
        self.entry_addresses = [self.base + blob.entry_offset(i)
                                for i in range(len(blob.entries))]
        self._stored = self._locals_written()
        layout = blob.frame
        self._zero = array.array("q", bytes(8 * layout.words))
        self._fill = _filler(layout, self.handles)
        self._return_reps = [layout.value_types[v] for v in blob.returns]
        self._returns = [_return_reader(rep, self.handles) for rep in self._return_reps]
        self.last_exit = None  # set by an `invoker` function that returns EXITED

    def _locals_written(self) -> set[str]:
        """Locals some `_STORE_FAST` writes (their frame word is its output)."""
        from backends.copy_and_patch.stencil import HoleValue as V

        by_word = {w: name for name, w in self.blob.frame.local_word.items()}
        return {by_word[values[V.SLOT2] // 8]
                for values, site in zip(self.blob.values, self.blob.sites)
                if site is not None and site.name == "_STORE_FAST" and V.SLOT2 in values
                and values[V.SLOT2] // 8 in by_word}

    def address_map(self):
        return self.blob.address_map(self.base)

    def run(self, frame_values: dict[str, object], entry_index: int = 0):
        h = self.handles
        frame = self._zero[:]
        self._fill(frame, frame_values)
        ns = self.helpers.ns   # the helpers' view of the innermost activation's frame
        saved = ns["q"], ns["d"]
        ns["q"] = frame
        ns["d"] = memoryview(frame).cast("B").cast("d") if self.helpers.reads_floats else None
        h.depth += 1
        try:
            status = self._entry(self.entry_addresses[entry_index], frame.buffer_info()[0])
            if status < 0 and frame[S.HELPER_STATUS_WORD] != S.STATUS_ERROR:
                return ("return", self._returns[-1 - status](frame))
            return self._result(status, frame, frame_values)
        finally:
            ns["q"], ns["d"] = saved
            h.depth -= 1
            if h.depth == 0:
                del h.objects[len(h.constants):]

    def invoker(self, params: list[str]):
        """`invoke(*args)`: a call of the code at its function entry with the parameters
        `params` bound positionally, the shortest path from Python (calls between
        compiled functions take it on every call). Returns the returned value, or
        `EXITED` after a side exit, with `run`'s exit tuple in `self.last_exit`; raises
        Refused (nothing ran) and helpers' exceptions as `run` does.

        Why generated: the frame of each nesting depth is preallocated (reset from a
        template with every other boxed local unbound), each parameter's word conversion
        and the return readers are inlined."""
        layout = self.blob.frame
        template = self._zero[:]
        for name, t in layout.local_types.items():
            if t == "box" and name not in params:
                template[layout.local_word[name]] = UNBOUND_SIGNED
        args = [f"a{k}" for k in range(len(params))]
        frames = []
        ns = {"template": template, "frames": frames, "h": self.handles,
              "hns": self.helpers.ns, "objs": self.handles.objects,
              "nconst": len(self.handles.constants), "entry": self._entry,
              "entry0": self.entry_addresses[0], "code": self, "EXITED": EXITED,
              "ERROR": S.STATUS_ERROR, "dec": self.handles.decode}
        fills = []
        for k, name in enumerate(params):
            t = layout.local_types.get(name)
            if t is None:
                continue   # the code never reads it
            w, a = layout.local_word[name], args[k]
            ns[f"conv_{k}"] = self.handles.converter(t)
            if t == "box":
                fills.append(f"frame[{w}] = ({a} & {MASK48}) + {INT_BASE_SIGNED} if type({a})"
                             f" is int and {-SIGN47} <= {a} < {SIGN47} else conv_{k}({a})")
            elif t == "int":
                fills.append(f"frame[{w}] = {a} if type({a}) is int and {INT64_MIN} <= {a}"
                             f" <= {INT64_MAX} else conv_{k}({a})")
            else:
                fills.append(f"frame[{w}] = conv_{k}({a})")
        readers = {"int": "frame[1]", "bool": "frame[1] != 0", "float": "dview[1]",
                   "box": "dec(frame[1])"}
        reps = set(self._return_reps)
        if len(reps) == 1:
            ret = [f"return {readers[reps.pop()]}"]
        else:
            ret = [f"if status == {-1 - k}: return {readers[rep]}"
                   for k, rep in enumerate(self._return_reps)]
        fv = "{" + ", ".join(f"{p!r}: {a}" for p, a in zip(params, args)) + "}"
        run = (["    status = entry(entry0, address)",
                "    if status < 0 and frame[2] != ERROR:"] + ["        " + r for r in ret]
               + [f"    code.last_exit = code._result(status, frame, {fv})",
                  "    return EXITED"])
        # depth 0 (no activation of this code is running: the usual case) needs no
        # saving of the helpers' frame; the handle table is emptied on the way out
        lines = [f"def invoke({', '.join(args)}):",
                 "    depth = h.depth",
                 "    while depth >= len(frames):",
                 "        fr = template[:]",
                 "        frames.append((fr, fr.buffer_info()[0],"
                 " memoryview(fr).cast('B').cast('d')))",
                 "    frame, address, dview = frames[depth]",
                 "    frame[:] = template"]
        lines += ["    " + f for f in fills]
        lines += ["    if depth == 0:",
                  "        hns['q'] = frame",
                  "        hns['d'] = dview",
                  "        h.depth = 1",
                  "        try:"]
        lines += ["        " + r for r in run]
        lines += ["        finally:",
                  "            h.depth = 0",
                  "            if len(objs) > nconst:",
                  "                del objs[nconst:]",
                  "    saved_q, saved_d = hns['q'], hns['d']",
                  "    hns['q'] = frame",
                  "    hns['d'] = dview",
                  "    h.depth = depth + 1",
                  "    try:"]
        lines += ["    " + r for r in run]
        lines += ["    finally:",
                  "        hns['q'] = saved_q",
                  "        hns['d'] = saved_d",
                  "        h.depth = depth"]
        exec(compile("\n".join(lines), f"<invoke {self.blob.fn_name}>", "exec"), ns)
        return ns["invoke"]

    def _result(self, status, frame, frame_values):
        """The run's outcome from the returned status and the frame (any sequence of
        signed words); shared with the Unicorn runner."""
        h = self.handles
        if frame[S.HELPER_STATUS_WORD] == S.STATUS_ERROR:
            # whichever way the code left (the error stub; a guard whose int slow path
            # failed takes its side exit), a helper raised: that is the outcome
            error, self.helpers.error = self.helpers.error, None
            raise error if error is not None else RuntimeError("helper failed, no error")
        if status < 0:
            return ("return", h.from_word(frame[1], self._return_reps[-1 - status]))
        layout = self.blob.frame
        ex = self.blob.exits[status]
        assert frame[0] == status
        values = {k: h.from_word(frame[layout.value_word[v]], layout.value_types[v])
                  for k, v in ex.values}
        out = dict(frame_values)
        # Locals bound at entry (given in frame_values) or written by the code: an unbound raw local that no
        # executed store wrote would read back as 0 (boxed locals know "unbound").
        for name, t in layout.local_types.items():
            if name in frame_values or name in self._stored or t == "box":
                value = h.from_word(frame[layout.local_word[name]], t)
                if value is UNBOUND:
                    out.pop(name, None)
                else:
                    out[name] = value
        for name, v in ex.locals:
            out[name] = h.from_word(frame[layout.value_word[v]], layout.value_types[v])
        return ("exit", status, values, out)

    def free(self) -> None:
        self.memory.free()


def _filler(layout, handles):
    """`fill(frame, frame_values)`: the locals the code uses, as frame words (Refused if
    one cannot be represented), unbound boxed locals as UNBOUND. Generated once per code:
    it runs on every call into the code."""
    lines = ["def fill(frame, fv):"]
    ns = {"UNBOUND_SIGNED": UNBOUND_SIGNED}
    for k, (name, t) in enumerate(layout.local_types.items()):
        w = layout.local_word[name]
        ns[f"conv_{k}"] = handles.converter(t)
        lines += [f"    if {name!r} in fv:", f"        x = fv[{name!r}]"]
        if t == "box":   # small ints inline, as Handles.to_box
            lines.append(f"        frame[{w}] = (x & {MASK48}) + {INT_BASE_SIGNED} if type(x) is int"
                         f" and {-SIGN47} <= x < {SIGN47} else conv_{k}(x)")
            lines.append(f"    else:\n        frame[{w}] = UNBOUND_SIGNED")
        elif t == "int":
            lines.append(f"        frame[{w}] = x if type(x) is int and {INT64_MIN} <= x <= "
                         f"{INT64_MAX} else conv_{k}(x)")
        else:
            lines.append(f"        frame[{w}] = conv_{k}(x)")
    lines.append("    return frame")
    exec(compile("\n".join(lines), "<frame filler>", "exec"), ns)
    return ns["fill"]


_UNPACK_DOUBLE = struct.Struct("<d").unpack_from


def _return_reader(rep: str, handles):
    """The returned value (frame word 1) in representation `rep`, from an array frame."""
    if rep == "int":
        return lambda frame: frame[1]
    if rep == "bool":
        return lambda frame: frame[1] != 0
    if rep == "float":
        return lambda frame: _UNPACK_DOUBLE(frame, 8)[0]
    decode = handles.decode
    return lambda frame: decode(frame[1])
