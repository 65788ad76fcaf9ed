"""The Python side of machine code's runtime helpers: boxed-word handles and per-site
helper functions, shared by the native and the Unicorn runner.

`Handles` maps boxed words (uop_stencils' NaN-boxing) to Python objects and back.

`HelperRuntime(blob, handles, env)` compiles, once per code blob, one Python function per
`HelperSite` (`site_functions[k]`, called with no arguments: the machine code links each
`_CALL_HELPER` to its own site's function) and `box_call(frame, site, arg)` for the int
box/unbox slow paths. Why generated code: a helper call is the hottest path between
machine code and Python, and everything about a site is known at emission (which frame
words its inputs are in, in which representation, what to do with the result), so each
site function is straight-line Python: read the words, decode, run the uop's semantics,
encode. The frame of the innermost running activation is read through `q` (signed int64
words) and `d` (the same memory as doubles), which the runner installs with `enter` /
`leave` (natively an `array('q')` and a memoryview cast of it, in Unicorn an accessor of
emulator memory).

Status is out of band (uop_stencils): a helper that raises stores the exception in
`error` and writes STATUS_ERROR into the frame's HELPER_STATUS_WORD; one whose uop must
take its side exit instead (a failed generic guard, a result the site's representation
cannot hold) writes STATUS_DEOPT. The returned word is then meaningless; every other
return is a value, whatever its bits.

The uop semantics of each site are in `steps` (one callable per site taking the argument
list, kept for callers that wrap them: assigning `steps[k] = wrapper(steps[k])` makes
site k call the wrapper). Recording a helper's function and source line in the
exceptions it raises is built in (`record_frames`), so needs no wrapper.
"""

from __future__ import annotations

import array
import builtins
import ctypes
import struct

from backends.copy_and_patch import uop_stencils as S
from ir.uops import DEOPT, Effect

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
MASK64 = (1 << 64) - 1
MASK48 = (1 << 48) - 1
SIGN47 = 1 << 47
# Signed tags (word >> 48 of a signed word): 0xFFF9 -> -7 ... 0xFFFD -> -3. Doubles have
# tags <= 0xFFF8 (NaNs are canonical), i.e. signed < -7 or >= 0.
_T_INT, _T_BOOL, _T_NONE, _T_LIST, _T_OBJ = (t - (1 << 16) for t in (
    S.TAG_INT, S.TAG_BOOL, S.TAG_NONE, S.TAG_LIST, S.TAG_OBJ))
INT_BASE = S.TAG_INT << 48
INT_BASE_SIGNED = INT_BASE - (1 << 64)
UNBOUND_SIGNED = S.UNBOUND_WORD - (1 << 64)


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


class Handles:
    """Python objects referenced by boxed words; `constants` are handles 0..k-1."""

    def __init__(self, constants):
        self.constants = list(constants)
        self.objects = list(constants)
        self.depth = 0
        scratch = array.array("q", [0])
        sq, sd = scratch, memoryview(scratch).cast("B").cast("d")
        objects = self.objects

        def decode(word: int):
            """A boxed word (signed or unsigned) to its Python object."""
            if word > INT64_MAX:
                word -= 1 << 64
            t = word >> 48
            if t == _T_INT:
                return ((word & MASK48) ^ SIGN47) - SIGN47
            if t < _T_INT or t >= 0:
                sq[0] = word
                return sd[0]
            if t == _T_BOOL:
                return (word & 1) == 1
            if t == _T_NONE:
                return None if word & MASK48 == 0 else UNBOUND
            if t == _T_LIST or t == _T_OBJ:
                return objects[word & MASK48]
            raise ValueError(f"not a boxed value: {word & MASK64:#x}")

        def encode(obj) -> int:
            """The boxed word (unsigned) of a Python object."""
            t = type(obj)
            if t is int and -SIGN47 <= obj < SIGN47:
                return INT_BASE | (obj & MASK48)
            if t is float:
                if obj != obj:
                    return S.CANON_NAN
                sd[0] = obj
                return sq[0] & MASK64
            if t is bool:
                return (S.TAG_BOOL << 48) | obj
            if obj is None:
                return S.NONE_WORD
            if obj is UNBOUND:
                return S.UNBOUND_WORD
            objects.append(obj)
            return ((S.TAG_LIST if t is list else S.TAG_OBJ) << 48) | (len(objects) - 1)

        def to_box(obj) -> int:
            """The boxed word of a Python object, signed (as frame words are)."""
            if type(obj) is int and -SIGN47 <= obj < SIGN47:
                return (obj & MASK48) + INT_BASE_SIGNED
            w = encode(obj)
            return w - (1 << 64) if w > INT64_MAX else w

        self.decode, self.encode, self.to_box = decode, encode, to_box

    def to_word(self, obj, rep: str) -> int:
        """Signed word for `obj` in representation `rep` (Refused if impossible)."""
        if rep == "box":
            return self.to_box(obj)
        return unbox(obj, rep)

    def converter(self, rep: str):
        """`to_word` for one representation, as a function of the object."""
        if rep == "box":
            return self.to_box
        if rep == "int":
            def to_int(value) -> int:
                if type(value) is int and INT64_MIN <= value <= INT64_MAX:
                    return value
                return unbox(value, "int")   # Refused, with the reason
            return to_int
        return lambda value: unbox(value, rep)

    def from_word(self, word: int, rep: str):
        if rep == "box":
            return self.decode(word)
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
    """Site functions and the int slow-path helper of one code blob (see module doc)."""

    def __init__(self, blob, handles: Handles, env=None):
        self.blob, self.handles, self.env = blob, handles, env
        self.error: BaseException | None = None
        self.frames_of: str | None = None
        scratch = array.array("q", [0])
        self.ns = ns = {
            "q": None, "d": None, "sq": scratch, "sd": memoryview(scratch).cast("B").cast("d"),
            "dec": handles.decode, "enc": handles.encode, "DEOPT": DEOPT,
            "failed": self._failed,
            "objs": handles.objects,
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
        # set by the native runner: write a failing slow path's status through the frame
        # address (a directly called code's frame is not `q`), and the direct calls'
        # stack header, whose DIRTY word says a callee made handles
        self.native = False
        self.direct_header = None
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
        if site >= 0:
            return self.site_functions[site]()
        return self.box_call(frame, site, arg)

    def box_call(self, frame: int, site: int, arg: int) -> int:
        """The int slow paths: box an int64 past 48 bits, unbox a handle's int, test
        that a handle is an int that fits in int64."""
        try:
            if site == S.BOX_INT_SITE:
                if self.direct_header is not None:
                    self.direct_header[S.STK_DIRTY] = 1   # a handle the caller must see
                return self.handles.encode(signed(arg))
            x = self.handles.decode(arg)
            fits = type(x) is int and INT64_MIN <= x <= INT64_MAX
            if site == S.IS_INT64_SITE:
                return int(fits)
            if site == S.UNBOX_INT_SITE and fits:
                return x
            raise RuntimeError(f"helper site {site} on {x!r}")
        except BaseException as e:  # noqa: BLE001 - re-raised by the runner
            if self.native:
                self.error = e
                ctypes.c_int64.from_address(frame + 8 * S.HELPER_STATUS_WORD).value = \
                    S.STATUS_ERROR
                return 0
            return self._failed(self.ns["q"], e)

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
        """`site_k()`: read, decode, run `step_k`, encode (or deopt / fail). With
        `finish`: `finish_k(frame, site, callee_frame)`, the direct call site's finishing
        helper: the same with `dfin_k(callee_frame, *args)` (backends.native.direct)."""
        reads, body = [], []
        for j, (w, rep) in enumerate(site.inputs):
            if rep == "box":   # inline decoding of objects and small ints, else dec()
                body += [f"w{j} = fq[{w}]", f"t{j} = w{j} >> 48",
                         f"a{j} = (objs[w{j} & {MASK48}] if {_T_LIST} <= t{j} <= {_T_OBJ}"
                         f" else ((w{j} & {MASK48}) ^ {SIGN47}) - {SIGN47} if t{j} == {_T_INT}"
                         f" else dec(w{j}))"]
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
            body += ["if type(r) is float:", "    sd[0] = r", "    return sq[0]",
                     f"return deopt_{k}(fq, r)"]
        elif out == "box":
            body += [f"if type(r) is int and {-SIGN47} <= r < {SIGN47}: "
                     f"return {INT_BASE} | (r & {MASK48})",
                     "if type(r) is float and r == r:", "    sd[0] = r", "    return sq[0]",
                     f"if r is True: return {(S.TAG_BOOL << 48) | 1}",
                     f"if r is False: return {S.TAG_BOOL << 48}",
                     f"if r is DEOPT: return deopt_{k}(fq, r)", "return enc(r)"]
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
        if e is Effect.LOAD_FAST_CHECK:
            name = u.imms[0]

            def load_fast_check(value):
                if value is UNBOUND:
                    raise UnboundLocalError(
                        f"cannot access local variable '{name}' where it is not "
                        "associated with a value")
                return value
            return load_fast_check
        if e is Effect.LOAD_GLOBAL:
            name = u.imms[0]

            def load_global():
                g = env.globals if env is not None else {}
                if name in g:
                    return g[name]
                try:
                    return builtins.__dict__[name]
                except KeyError:
                    raise NameError(f"name '{name}' is not defined") from None
            return load_global
        if e is Effect.STORE_GLOBAL:
            name = u.imms[0]

            def store_global(value):
                if env is None:
                    raise RuntimeError("native code has no globals (NativeCode env)")
                env.globals[name] = value
            return store_global
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

            def call_function(*args):
                if env is None:
                    raise RuntimeError("native code cannot call functions without an env")
                return env.call(callee, list(args))
            return call_function
        if e is Effect.CALL_BUILTIN:
            return getattr(builtins, u.imms[0])
        if e is Effect.CALL_METHOD:
            name = u.imms[0]
            return lambda obj, *args: getattr(obj, name)(*args)
        f = d.implementation(u.imms)
        if f is None:
            def missing(*args):
                raise RuntimeError(f"no helper semantics for {u.name}")
            return missing
        return f
