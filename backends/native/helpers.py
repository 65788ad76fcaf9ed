"""The Python side of machine code's runtime helpers, shared by the native and the
Unicorn runner: converting frame words to Python objects and back, and per-site helpers.

Boxed words are `PyObject *` (uop_stencils): `from_word` gives the object a word points
to (a new Python reference; the word keeps its own), `take` takes a word's reference over
(a returned value), `release` drops one (what the runner does for everything an exit or
an error leaves held), and `to_word` writes an object into a frame the code is about to
enter (a borrowed reference: the code takes its own at its entry).

`HelperRuntime(blob, env)` compiles, once per code blob, one Python function per
`HelperSite` (`site_functions[k]`, called with no arguments: the machine code links each
`_CALL_HELPER` to its own site's function). Why generated code: everything about a site
is known at emission (which frame words its inputs are in, in which representation, what
to do with the result), so each site function is straight-line Python: read the words,
run the uop's semantics, write the result (a new reference when boxed). The frame of the
innermost running activation is read through `q` (signed int64 words) and `d` (the same
memory as doubles), which the runner installs with `enter` / `leave` (natively an
`array('q')` and a memoryview cast of it, in Unicorn an accessor of emulator memory).

Status is out of band (uop_stencils): a helper that raises stores the exception in
`error` and writes STATUS_ERROR into the frame's HELPER_STATUS_WORD; one whose uop must
take its side exit instead (a result the site's representation cannot hold) writes
STATUS_DEOPT. The returned word is then meaningless; every other return is a value,
whatever its bits.

The uop semantics of each site are in `steps` (one callable per site taking the argument
list, kept for callers that wrap them: assigning `steps[k] = wrapper(steps[k])` makes
site k call the wrapper). Recording a helper's function and source line in the
exceptions it raises is built in (`record_frames`), so needs no wrapper.
"""

from __future__ import annotations

import struct
from _ctypes import PyObj_FromPtr, Py_DECREF, Py_INCREF

from backends.copy_and_patch import uop_stencils as S
from ir.uops import DEOPT, Effect

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
MASK64 = (1 << 64) - 1


class Refused(Exception):
    """The frame holds something the native code cannot represent; stay in tier 1."""


class _Unbound:
    def __repr__(self):
        return "<unbound>"


UNBOUND = _Unbound()


def box(word: int, t: str):
    """A raw frame word (as a signed int64) back to its Python object."""
    if t == "int":
        return word
    if t == "bool":
        return bool(word)
    if t == "float":
        return struct.unpack("<d", struct.pack("<q", word))[0]
    raise TypeError(t)


def unbox(value, t: str) -> int:
    """A Python object to the signed int64 raw word the code expects, or Refused."""
    if t == "int" and type(value) is int:
        if INT64_MIN <= value <= INT64_MAX:
            return value
        raise Refused(f"int {value} does not fit in 64 bits")
    if t == "bool" and type(value) is bool:
        return int(value)
    if t == "float" and type(value) is float:
        return struct.unpack("<q", struct.pack("<d", value))[0]
    raise Refused(f"{type(value).__name__} value where the code expects {t}")


def signed(w: int) -> int:
    w &= MASK64
    return w - (1 << 64) if w >> 63 else w


def object_at(word: int):
    """The object a boxed word points to (a new Python reference), UNBOUND for NULL."""
    return PyObj_FromPtr(word) if word else UNBOUND


def take(word: int):
    """The object of a word whose reference the caller takes over."""
    obj = PyObj_FromPtr(word)
    Py_DECREF(obj)
    return obj


def release(word: int) -> None:
    """Drop the reference a frame word holds (NULL: none)."""
    if word:
        Py_DECREF(PyObj_FromPtr(word))


def new_reference(obj) -> int:
    """The word of `obj` with a reference of its own (what a helper returns)."""
    Py_INCREF(obj)
    return id(obj)


def to_word(obj, rep: str) -> int:
    """Signed word for `obj` entering code in representation `rep` (Refused if
    impossible); a boxed word borrows the caller's reference."""
    if rep == "box":
        return 0 if obj is UNBOUND else id(obj)
    return unbox(obj, rep)


def converter(rep: str):
    """`to_word` for one representation, as a function of the object."""
    if rep == "box":
        return id
    if rep == "int":
        def to_int(value) -> int:
            if type(value) is int and INT64_MIN <= value <= INT64_MAX:
                return value
            return unbox(value, "int")   # Refused, with the reason
        return to_int
    return lambda value: unbox(value, rep)


def from_word(word: int, rep: str):
    """The Python object of a word in representation `rep` (the word keeps its own
    reference)."""
    if rep == "box":
        return object_at(word)
    return box(signed(word), rep)


class _Steps(list):
    """Per-site uop semantics taking the argument list; assigning one re-links its site."""

    def __init__(self, runtime: HelperRuntime, steps):
        super().__init__(steps)
        self._runtime = runtime

    def __setitem__(self, k, step):
        super().__setitem__(k, step)
        self._runtime.ns[f"step_{k}"] = lambda *args: step(args)


class HelperRuntime:
    """Site functions of one code blob (see module doc)."""

    def __init__(self, blob, env=None):
        self.blob, self.env = blob, env
        self.error: BaseException | None = None
        self.frames_of: str | None = None
        self.ns = ns = {
            "q": None, "d": None, "obj": PyObj_FromPtr, "incref": Py_INCREF,
            "UNBOUND": UNBOUND, "DEOPT": DEOPT, "failed": self._failed,
            "FLOAT_BITS": lambda x: struct.unpack("<q", struct.pack("<d", x))[0],
        }
        fast = [self._semantics(s) for s in blob.helper_sites]
        lines = []
        direct = getattr(env, "direct", None)
        self.finish_functions: dict[int, object] = {}
        for k, (site, step) in enumerate(zip(blob.helper_sites, fast)):
            ns[f"step_{k}"] = step
            ns[f"deopt_{k}"] = self._deopter(site)
            lines += self._source(k, site)
            if site.direct is not None and direct is not None:
                ns[f"dfin_{k}"] = direct.finisher(site.direct)
                lines += self._source(k, site, finish=True)
        exec(compile("\n".join(lines) or "pass", f"<helpers of {blob.fn_name}>", "exec"), ns)
        self.site_functions = [ns[f"site_{k}"] for k in range(len(fast))]
        self.finish_functions = {k: ns[f"finish_{k}"] for k in range(len(fast))
                                 if f"finish_{k}" in ns}
        self.steps = _Steps(self, [(lambda f: lambda args: f(*args))(f) for f in fast])
        self.reads_floats = any(rep == "float" for s in blob.helper_sites
                                for _, rep in s.inputs)

    # -- activations -----------------------------------------------------------------
    def enter(self, q, d):
        """Make (q, d) the frame the helpers see; returns what `leave` restores."""
        ns = self.ns
        saved = ns["q"], ns["d"]
        ns["q"], ns["d"] = q, d
        return saved

    def leave(self, saved) -> None:
        self.ns["q"], self.ns["d"] = saved

    # -- calls from machine code ----------------------------------------------------------
    def call(self, frame: int, site: int, arg: int) -> int:
        """One entry point for every helper (`helper(f, site, arg)`), for code linked with
        a single helper address."""
        return self.site_functions[site]()

    def _failed(self, q, e: BaseException, site: int | None = None) -> int:
        self.error = e
        if self.frames_of is not None and site is not None and isinstance(e, Exception):
            e.__dict__.setdefault("_wb_frames", []).append(
                (self.frames_of, self.blob.helper_sites[site].uop.line))
        q[S.HELPER_STATUS_WORD] = S.STATUS_ERROR
        return 0

    def record_frames(self, fn_name: str) -> None:
        """Make an exception raised by a site's helper record `(fn_name, source line)` in
        its `_wb_frames`, as the interpreter records its frames (what wrapping every
        `steps[k]` does, without a wrapper on the hot path)."""
        self.frames_of = fn_name

    @staticmethod
    def _deopter(site):
        name, has_exit = site.uop.name, site.has_exit

        def deopt(q, r):
            """Take the site's side exit (r: why, for the message when it has none)."""
            if not has_exit:
                if r is DEOPT:
                    raise RuntimeError(f"{name} cannot exit here")
                raise RuntimeError(f"{name} made {r!r}, code expects {site.output}")
            q[S.HELPER_STATUS_WORD] = S.STATUS_DEOPT
            return 0
        return deopt

    # -- compiling the sites --------------------------------------------------------------
    @staticmethod
    def _source(k: int, site, finish: bool = False) -> list[str]:
        """`site_k()`: read, run `step_k`, write (or deopt / fail). With `finish`:
        `finish_k(frame, site, callee_frame)`, the direct call site's finishing helper:
        the same with `dfin_k(callee_frame, *args)` (backends.native.direct)."""
        reads, body = [], []
        for j, (w, rep) in enumerate(site.inputs):
            if rep == "box":   # a borrowed reference; NULL only in an unbound local
                body += [f"w{j} = fq[{w}]", f"a{j} = obj(w{j}) if w{j} else UNBOUND"]
                reads.append(f"a{j}")
            else:
                reads.append({"int": f"fq[{w}]", "bool": f"(fq[{w}] != 0)",
                              "float": f"d[{w}]"}[rep])
        guard = site.uop.defn.effect is Effect.GUARD
        out = site.output
        if finish:
            body += [f"r = dfin_{k}(nf, {', '.join(reads)})"]
        else:
            body += [f"r = step_{k}({', '.join(reads)})"]
        if guard:
            body += [f"if not r: return deopt_{k}(fq, DEOPT)", "return 0"]
        elif out is None:
            body += [f"if r is DEOPT: return deopt_{k}(fq, r)", "return 0"]
        elif out == "int":
            body += [f"if type(r) is int and {INT64_MIN} <= r <= {INT64_MAX}: return r",
                     f"return deopt_{k}(fq, r)"]
        elif out == "bool":
            body += ["if r is True: return 1", "if r is False: return 0",
                     f"return deopt_{k}(fq, r)"]
        elif out == "float":
            body += ["if type(r) is float:", "    return FLOAT_BITS(r)",
                     f"return deopt_{k}(fq, r)"]
        elif out == "box":
            body += [f"if r is DEOPT: return deopt_{k}(fq, r)", "incref(r)", "return id(r)"]
        else:
            raise ValueError(f"unknown representation {out!r}")
        head = f"def finish_{k}(fa, site, nf):" if finish else f"def site_{k}():"
        return ([head, "    fq = q", "    try:"]
                + ["        " + line for line in body]
                + ["    except BaseException as e:", f"        return failed(fq, e, {k})", ""])

    def _semantics(self, site):
        """The uop's Python semantics as a function of its decoded inputs."""
        u = site.uop
        d = u.defn
        e = d.effect
        env = self.env
        if e is Effect.CALL_FUNCTION:
            callee = u.imms[0]
            fast = getattr(env, "fast_calls", None)
            fn = getattr(env, "functions", {}).get(callee)
            if fast is not None and fn is not None and len(fn.params) == len(u.inputs):
                # the argument count is right (else env.call raises CPython's TypeError),
                # so a hot callee's direct entry can take the call whole
                call = env.call

                def call_function(*args):
                    f = fast.get(callee)
                    if f is not None:
                        return f(*args)
                    return call(callee, list(args))
                return call_function
        if d.runtime is not None:   # frame and call semantics, shared with tier 1
            return d.runtime(env, UNBOUND, *u.imms)
        f = d.implementation(u.imms)
        if f is None:
            def missing(*args):
                raise RuntimeError(f"no helper semantics for {u.name}")
            return missing
        return f
