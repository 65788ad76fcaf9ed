"""What a uop is (``UopDef``, its flags, immediates and effect), the table they live in
(``UOPS``, the checked names ``U``, ``define``), and what every definition must satisfy
(``validate``).  The definitions themselves are in ir/uops.py (and ir/uops_language.py)."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Callable

from .semantics import base_binop


INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


def fits_int64(x: int) -> bool:
    return INT64_MIN <= x <= INT64_MAX


class Flag(enum.Flag):
    NONE = 0
    PURE = enum.auto()        # no observable effect: removable when unused
    GUARD = enum.auto()       # checks a fact and leaves through its side exit if false
    DEOPT = enum.auto()       # may leave through a side exit (guards, overflow checks)
    ESCAPES = enum.auto()     # runs arbitrary Python (a runtime helper in compiled code)
    BRANCH = enum.auto()      # conditional control transfer
    TERMINATOR = enum.auto()  # ends a block
    PROFILE = enum.auto()     # tier 1 records the operand types seen at this site
    TIER1_ONLY = enum.auto()  # the passes do not model it: a function that has it is
                              # never optimized (stays in tier 1, as `del` of a local)
    EXIT_MAY_RAISE = enum.auto()  # its exit may be where tier 1 raises (a zero divisor,
                                  # an index out of range): it is never dead code


class Imm(enum.Enum):
    """Kinds of immediates; each has its own spelling in the text form."""

    LOCAL = "local"      # frame slot name: total, $seq0
    GLOBAL = "global"    # module global name
    CONST = "const"      # Python literal: 3, 2.5, 'x', None, True
    BINOP = "binop"      # + - * / // % ** << >> & | ^ and in-place +=, ...
    CMPOP = "cmpop"      # < <= > >= == != is is_not in not_in
    UNOP = "unop"        # neg pos invert
    FUNC = "func"        # @name of a module function
    NAME = "name"        # builtin or method name
    INT = "int"          # small integer count
    NAMES = "names"      # a tuple of identifiers, names(end, sep): keyword names of a call


class Effect(enum.Enum):
    """What the interpreter must do beyond calling ``impl``."""

    VALUE = "value"              # output = impl(*inputs)
    GUARD = "guard"              # exit unless impl(*inputs)
    CHECKED = "checked"          # output = impl(*inputs), or exit if it returns DEOPT
    LOAD_CONST = "load_const"
    LOAD_FAST = "load_fast"
    LOAD_FAST_CHECK = "load_fast_check"
    STORE_FAST = "store_fast"
    DELETE_FAST = "delete_fast"  # unbind a frame local (UnboundLocalError if unbound)
    LOAD_GLOBAL = "load_global"
    STORE_GLOBAL = "store_global"
    CALL_FUNCTION = "call_function"
    CALL_BUILTIN = "call_builtin"
    CALL_METHOD = "call_method"
    RUNTIME = "runtime"          # output = runtime(env, ...)(*inputs): needs the executor
    JUMP = "jump"
    BRANCH = "branch"
    RETURN = "return"
    YIELD = "yield"              # suspend a generator, to resume at the target block
    ENTRY = "entry"              # dispatch to the entry point the runtime asks for
    COPY = "copy"                # output = input (a register move or a reload)
    NOP = "nop"


class Deopt:
    """Returned by a CHECKED uop's ``impl`` when its fast path does not apply."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DEOPT"


DEOPT = Deopt()

VARIADIC = "*"


@dataclass(frozen=True)
class Family:
    """A generic uop that ``specialize`` may replace: the profile keys on the types of
    its first ``arity`` inputs. ``sites(imms, ninputs)``: which sites are candidates at
    all (default: those that some member's ``When`` could match)."""

    arity: int
    sites: Callable[[tuple, int], bool] | None = None


@dataclass(frozen=True)
class When:
    """When ``specialize`` picks a uop for a site of its generic one.

    ``types``: the operand types (profile or static) it applies to, exactly, or a
    predicate of them; ``ops``: the operator immediates (``base_binop`` form) it applies
    to (empty: any). ``guards``: how the operands are made safe first: a position
    ("TOS"/"NOS") per guarded operand, guarded to its type; ``"pair"``: both operands of
    the one type (``_GUARD_BOTH_*``); ``"floats"``: int and float operands guarded and the
    ints converted (``_INT_TO_FLOAT``). A ``When`` in a generic uop's ``guards_only``
    emits its guards alone (the generic's result is then its input)."""

    types: tuple[str, ...] | Callable[[tuple[str, ...]], bool]
    guards: str | tuple[str, ...] = ()
    ops: tuple[str, ...] = ()

    def matches(self, types: tuple[str, ...], imms: tuple) -> bool:
        if self.ops and base_binop(imms[0]) not in self.ops:
            return False
        if isinstance(self.types, tuple):
            return types == self.types
        return bool(self.types(types))


@dataclass(frozen=True)
class UopDef:
    name: str
    inputs: tuple[str, ...] = ()           # names; a trailing "*" entry means variadic
    output: bool = False
    imms: tuple[Imm, ...] = ()
    targets: int = 0                       # successor blocks; -1: one or more
    flags: Flag = Flag.NONE
    effect: Effect = Effect.VALUE
    impl: Callable | None = None           # reference semantics (see Effect)
    make_impl: Callable | None = None      # impl built from the immediates
    result: str | None = None              # type of the output, when the uop fixes it
    requires: tuple[str | None, ...] = ()  # input types a specialized uop relies on
    guard_type: str | None = None          # a guard proves all its inputs have this type
    doc: str = ""
    stencil: str = ""                      # C body for the copy-and-patch backend
    stencil_slow: str = ""                 # a generic uop's C-API slow path (cold part)
    generic: str | None = None             # the generic uop this one specializes
    # typeprop's rule when the output type is not fixed: (input types, imms) -> a type,
    # or None for "unknown"
    result_rule: Callable[[tuple[str, ...], tuple], str | None] | None = None
    family: Family | None = None           # a generic uop: what the profile keys on
    when: When | None = None               # a specialized uop: when specialize picks it
    guards_only: tuple[When, ...] = ()     # a generic uop: guards that replace it alone
    # frame and call semantics: runtime(env, unbound, *imms) -> f(*inputs); ``env`` has
    # ``globals`` and ``call(name, args)`` (or is None), ``unbound`` is the caller's
    # marker of an unbound local
    runtime: Callable | None = None

    @property
    def variadic(self) -> bool:
        return bool(self.inputs) and self.inputs[-1] == VARIADIC

    @property
    def fixed_inputs(self) -> int:
        return len(self.inputs) - (1 if self.variadic else 0)

    def takes_targets(self, n: int) -> bool:
        return n >= 1 if self.targets == -1 else n == self.targets

    def has(self, flag: Flag) -> bool:
        # On the members' plain ``_value_`` ints: ``Flag.__and__`` builds a new
        # member through Python-level enum code, and passes ask this ~20 times
        # per uop.
        return bool(self.flags._value_ & flag._value_)

    @property
    def is_terminator(self) -> bool:
        return self.has(Flag.TERMINATOR)

    @property
    def is_guard(self) -> bool:
        return self.has(Flag.GUARD)

    @property
    def can_exit(self) -> bool:
        return self.has(Flag.DEOPT)

    def implementation(self, imms: tuple) -> Callable | None:
        if self.make_impl is not None:
            return self.make_impl(*imms)
        return self.impl

    def output_type(self, input_types: tuple[str, ...], imms: tuple) -> str | None:
        """typeprop's transfer rule: the output's type from the inputs' (None: unknown)."""
        if self.result_rule is not None:
            return self.result_rule(input_types, imms)
        return self.result


UOPS: dict[str, UopDef] = {}


class UopNames:
    """Checked uop names: ``U._LOAD_FAST`` is the string ``"_LOAD_FAST"``; a name the
    table does not define raises AttributeError (``U["_GUARD_TOS_INT"]`` for a computed
    name: KeyError). Filled by ``define``."""

    def __getattr__(self, name: str) -> str:
        raise AttributeError(f"no uop {name!r} in the uop table (ir/uops.py)")

    def __getitem__(self, name: str) -> str:
        if name in UOPS:
            return name
        raise KeyError(f"no uop {name!r} in the uop table (ir/uops.py)")

    def __setattr__(self, name, value):
        raise AttributeError("uop names are defined by ir.uops.define")

    def __iter__(self):
        return iter(UOPS)

    def __dir__(self):
        return list(UOPS)


U = UopNames()
GUARD_POSITIONS = ("TOS", "NOS", "BOTH")   # where a guard checks: top, next, both
_loaded = False   # the built-in table is complete (define then validates at once)


def define(d: UopDef) -> UopDef:
    """Add ``d`` to the table: the one step of adding a uop. Once the built-in table has
    loaded, ``d`` is validated against it at once (``validate``)."""
    if d.name in UOPS:
        raise ValueError(f"uop {d.name} is already defined")
    UOPS[d.name] = d
    U.__dict__[d.name] = d.name
    _families.clear()
    if _loaded:
        try:
            validate([d])
        except Exception:
            undefine(d.name)
            raise
    return d


def undefine(name: str) -> None:
    """Remove a uop that ``define`` added (a test's fixture uop)."""
    del UOPS[name]
    U.__dict__.pop(name, None)
    _families.clear()




def lookup(name: str) -> UopDef | None:
    return UOPS.get(name)


def family(generic: str) -> tuple[tuple[str | None, When], ...]:
    """The specializations of a generic uop, in the order ``specialize`` tries them:
    (uop, when) for each specialized uop naming it as ``generic``, then (None, when) for
    its ``guards_only``."""
    found = _families.get(generic)
    if found is None:
        members = [(n, d.when) for n, d in UOPS.items() if d.generic == generic and d.when]
        found = _families[generic] = tuple(
            members + [(None, w) for w in UOPS[generic].guards_only])
    return found


_families: dict[str, tuple] = {}



# --------------------------------------------------------------------------- validation
#
# What every definition must satisfy, checked when the table loads and for each uop
# ``define`` adds later (as CPython's cases generator validates each uop): the flags,
# effect and semantics agree; type rules, families and guards name what exists; a C body
# uses only the inputs, the output and the side exit its signature has.

TYPES = ("int", "float", "bool", "none", "list", "tuple", "str")
WORD_TYPES = ("int", "float", "bool")       # raw machine words in compiled code
_STENCIL_EFFECTS = (Effect.VALUE, Effect.CHECKED, Effect.LOAD_CONST)
_RUNTIME_EFFECTS = (Effect.LOAD_FAST_CHECK, Effect.LOAD_GLOBAL, Effect.STORE_GLOBAL,
                    Effect.CALL_FUNCTION, Effect.CALL_BUILTIN, Effect.CALL_METHOD,
                    Effect.RUNTIME)
_CONTROL_EFFECTS = (Effect.JUMP, Effect.BRANCH, Effect.RETURN, Effect.ENTRY, Effect.YIELD)
_C_OPERAND = re.compile(r"\b([FO]?)([ABC])\b")


def _when_problems(d: UopDef, g: UopDef, w: When, uop: UopDef | None) -> list[str]:
    out = []
    fam = g.family
    where = f"{d.name}" + ("" if uop is not None else " guards_only")
    if fam is None:
        return [f"{where}: generic {g.name} has no family"]
    if w.ops and not g.imms:
        out.append(f"{where}: ops {w.ops} but {g.name} has no operator immediate")
    if isinstance(w.guards, str):
        if w.guards not in ("pair", "floats"):
            out.append(f"{where}: unknown guard plan {w.guards!r}")
        elif fam.arity != 2 or (uop is not None and uop.fixed_inputs != 2):
            out.append(f"{where}: guards {w.guards!r} need two operands")
        elif w.guards == "pair" and isinstance(w.types, tuple) and (
                len(set(w.types)) != 1 or not ({f"_GUARD_{p}_{w.types[0].upper()}"
                                                for p in ("TOS", "NOS")} <= UOPS.keys())):
            out.append(f"{where}: no guards for the pair {w.types}")
    else:
        if len(w.guards) > fam.arity:
            out.append(f"{where}: {len(w.guards)} guards, but {g.name}'s profile has "
                       f"{fam.arity} operand types")
        if not isinstance(w.types, tuple):
            out.append(f"{where}: per-operand guards need exact types")
        else:
            for pos, t in zip(w.guards, w.types):
                if pos not in GUARD_POSITIONS or f"_GUARD_{pos}_{t.upper()}" not in UOPS:
                    out.append(f"{where}: no guard {pos} {t}")
    if isinstance(w.types, tuple):
        if len(w.types) != fam.arity:
            out.append(f"{where}: types {w.types} but {g.name}'s profile has "
                       f"{fam.arity} operand types")
        if any(t not in TYPES for t in w.types):
            out.append(f"{where}: unknown type in {w.types}")
    if uop is not None:
        if g.variadic:
            if uop.variadic or uop.fixed_inputs < fam.arity:
                out.append(f"{where}: takes {len(uop.inputs)} inputs for variadic {g.name}")
        elif len(uop.inputs) != len(g.inputs):
            out.append(f"{where}: {len(uop.inputs)} inputs, generic {g.name} has "
                       f"{len(g.inputs)}")
        if uop.imms and uop.imms != g.imms:
            out.append(f"{where}: immediates {uop.imms} are not {g.name}'s")
        if uop.output != g.output:
            out.append(f"{where}: output differs from {g.name}'s")
        if isinstance(w.types, tuple) and w.guards not in ("floats",) \
                and tuple(uop.requires[:len(w.types)]) != w.types:
            out.append(f"{where}: requires {uop.requires} but is picked for {w.types}")
    return out


def _problems(d: UopDef) -> list[str]:
    out = []
    n = d.name
    if not n.startswith("_") or not n.isupper() or not n.isidentifier():
        out.append(f"{n}: a uop name is _UPPER_CASE")
    # flags and effect
    if (d.targets != 0) and not d.is_terminator:
        out.append(f"{n}: has targets but is not a TERMINATOR")
    if d.is_terminator != (d.effect in _CONTROL_EFFECTS):
        out.append(f"{n}: TERMINATOR flag and effect {d.effect.name} disagree")
    if d.is_guard != (d.effect is Effect.GUARD):
        out.append(f"{n}: GUARD flag and effect {d.effect.name} disagree")
    if d.effect in (Effect.GUARD, Effect.CHECKED) and not d.can_exit:
        out.append(f"{n}: effect {d.effect.name} needs the DEOPT flag")
    if d.is_guard and d.inputs and d.guard_type not in TYPES:
        out.append(f"{n}: a guard needs a guard_type")
    if d.guard_type is not None and not d.is_guard:
        out.append(f"{n}: guard_type on a uop that is not a GUARD")
    # semantics
    if d.effect in (Effect.VALUE, Effect.CHECKED, Effect.GUARD) \
            and d.impl is None and d.make_impl is None:
        out.append(f"{n}: effect {d.effect.name} needs impl or make_impl")
    if d.effect in _RUNTIME_EFFECTS and d.runtime is None:
        out.append(f"{n}: effect {d.effect.name} needs its runtime semantics")
    if d.effect not in _RUNTIME_EFFECTS and d.runtime is not None:
        out.append(f"{n}: runtime semantics on effect {d.effect.name}")
    # types
    if (d.result is not None or d.result_rule is not None) and not d.output:
        out.append(f"{n}: a result type without an output")
    if d.result is not None and d.result_rule is not None:
        out.append(f"{n}: both a fixed result and a result rule")
    if d.result is not None and d.result not in TYPES:
        out.append(f"{n}: unknown result type {d.result!r}")
    if d.requires and len(d.requires) != len(d.inputs):
        out.append(f"{n}: requires {len(d.requires)} types for {len(d.inputs)} inputs")
    if any(t is not None and t not in TYPES for t in d.requires):
        out.append(f"{n}: unknown type in requires {d.requires}")
    # specialization
    if d.family is not None:
        if not d.has(Flag.PROFILE):
            out.append(f"{n}: a family needs the PROFILE flag (tier 1 records its types)")
        if d.family.arity > max(d.fixed_inputs, 1 if d.variadic else 0):
            out.append(f"{n}: profile arity {d.family.arity} exceeds its inputs")
    if d.when is not None and d.generic is None:
        out.append(f"{n}: `when` without a generic uop")
    if d.generic is not None:
        g = UOPS.get(d.generic)
        if g is None:
            out.append(f"{n}: generic {d.generic} is not defined")
        elif d.when is not None:
            out += _when_problems(d, g, d.when, d)
    for w in d.guards_only:
        out += _when_problems(d, d, w, None)
    # C body
    body = d.stencil
    if d.stencil_slow and not body:
        out.append(f"{n}: a slow path without a fast one")
    if body and d.effect not in _STENCIL_EFFECTS:
        out.append(f"{n}: a C body on effect {d.effect.name} (never compiled)")
    if body and not d.stencil_slow and d.effect is not Effect.LOAD_CONST:
        if "{op}" in body and not d.imms:
            out.append(f"{n}: C body has {{op}} but the uop has no operator")
        if "EXIT_IF" in body and not d.can_exit:
            out.append(f"{n}: C body exits (EXIT_IF) but the uop has no DEOPT flag")
        if d.can_exit and "EXIT_IF" not in body:
            out.append(f"{n}: DEOPT flag but its C body never exits (EXIT_IF)")
        writes = re.search(r"\bF?OUT\b", body) is not None
        if writes != d.output:
            out.append(f"{n}: C body {'writes' if writes else 'never writes'} OUT, "
                       f"output={d.output}")
        if re.search(r"\bFOUT\b", body) and d.result != "float":
            out.append(f"{n}: C body writes FOUT but the result is not a float")
        if re.search(r"\bOUT\b", body) and d.result == "float":
            out.append(f"{n}: a float result is written as FOUT")
        if d.inputs and len(d.requires) != len(d.inputs):
            out.append(f"{n}: a C body needs `requires` for each input")
        for kind, letter in set(_C_OPERAND.findall(body)):
            k = "ABC".index(letter)
            if k >= len(d.inputs):
                out.append(f"{n}: C body reads {kind}{letter}, the uop has "
                           f"{len(d.inputs)} inputs")
                continue
            req = d.requires[k] if k < len(d.requires) else None
            want = {"": ("int", "bool"), "F": ("float",)}.get(kind)
            if want is not None and req not in want:
                out.append(f"{n}: C body reads input {k} as {kind}{letter} (a "
                           f"{'float' if kind else 'raw int'} word) but requires {req}")
            if kind == "O" and req in WORD_TYPES:
                out.append(f"{n}: C body reads input {k} as an object but requires {req}")
    return out


def validate(defs=None) -> None:
    """Check ``defs`` (default: the whole table); ValueError lists every problem."""
    problems = [p for d in (UOPS.values() if defs is None else defs) for p in _problems(d)]
    if problems:
        raise ValueError("invalid uop table:\n  " + "\n  ".join(problems))




def table_loaded() -> None:
    """The built-in table is complete: validate it, and from now on each ``define``."""
    global _loaded
    validate()
    _loaded = True
