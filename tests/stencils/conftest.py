"""A tiny stencil library shared by the backend tests, built into a private cache dir."""

import types

import pytest

from backends.copy_and_patch import cache
from backends.copy_and_patch.entry_shim import ENTRY_SHIM_SOURCE
from backends.copy_and_patch.patcher import layout, link
from backends.copy_and_patch.stencil import HoleValue as V

# Three int64 "registers" r0..r2 travel in preserve_none argument registers (r13-r15);
# the frame pointer f in r12. Frame slots are addressed by byte offset holes.
STENCILS_C = r"""
#include <stdint.h>
typedef struct Frame { int64_t slots[8]; } Frame;
#define STENCIL __attribute__((preserve_none))
#define ARGS Frame *f, int64_t r0, int64_t r1, int64_t r2
typedef STENCIL int64_t (*cont_t)(ARGS);
extern char _JIT_CONTINUE[], _JIT_TARGET[], _JIT_EXIT[], _JIT_OPARG[], _JIT_OPERAND[],
            _JIT_HELPER[], _JIT_SLOT0[], _JIT_SLOT1[], _JIT_SLOT2[];
#define JUMP(to) __attribute__((musttail)) return ((cont_t)(to))(f, r0, r1, r2)
#define SLOT(sym) (*(int64_t *)((char *)f + (intptr_t)(sym)))
#define OPARG ((int64_t)(uint16_t)(uintptr_t)_JIT_OPARG)

STENCIL int64_t load3(ARGS) {
    r0 = SLOT(_JIT_SLOT0); r1 = SLOT(_JIT_SLOT1); r2 = SLOT(_JIT_SLOT2);
    JUMP(_JIT_CONTINUE);
}
STENCIL int64_t add_operand(ARGS) {
    int64_t out;
    if (__builtin_add_overflow(r0, (int64_t)(intptr_t)_JIT_OPERAND, &out)) JUMP(_JIT_EXIT);
    r0 = out;
    JUMP(_JIT_CONTINUE);
}
STENCIL int64_t add_r0_r1(ARGS) {
    int64_t out;
    if (__builtin_add_overflow(r0, r1, &out)) JUMP(_JIT_EXIT);
    r0 = out;
    JUMP(_JIT_CONTINUE);
}
STENCIL int64_t inc_r1(ARGS) { r1 += OPARG; JUMP(_JIT_CONTINUE); }
STENCIL int64_t branch_lt(ARGS) { if (r1 < r2) JUMP(_JIT_TARGET); JUMP(_JIT_CONTINUE); }
STENCIL int64_t load_const_float(ARGS) {
    union { double d; int64_t i; } u = {.d = (double)r0 * 2.5 + 0.125};
    r0 = u.i;
    JUMP(_JIT_CONTINUE);
}
STENCIL int64_t call_helper(ARGS) {
    r0 = ((int64_t (*)(int64_t, int64_t))_JIT_HELPER)(r0, r1);
    JUMP(_JIT_CONTINUE);
}
STENCIL int64_t lookup(ARGS) {
    static const int64_t primes[8] = {2, 3, 5, 7, 11, 13, 17, 19};
    r0 = primes[r0 & 7];
    JUMP(_JIT_CONTINUE);
}
STENCIL int64_t side_exit(ARGS) { SLOT(_JIT_SLOT0) = r0; return -OPARG; }
STENCIL int64_t ret_r0(ARGS) { return r0; }
""" + ENTRY_SHIM_SOURCE


@pytest.fixture(scope="session")
def stencils_source():
    return STENCILS_C


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("stencil-cache")


@pytest.fixture
def private_cache(cache_dir):
    old = cache.use_cache_dir(cache_dir)
    yield cache_dir
    cache.use_cache_dir(old)


@pytest.fixture(scope="session")
def library(cache_dir):
    old = cache.use_cache_dir(cache_dir)
    try:
        return cache.build_library(STENCILS_C)
    finally:
        cache.use_cache_dir(old)

# Programs: (stencil name, hole values) in order. A str value is a label: the code address
# of the stencil of that name in the program, or an address passed to `link_program`.
SLOTS = {V.SLOT0: 0, V.SLOT1: 8, V.SLOT2: 16}  # frame slots 0, 1, 2
EXIT = ("side_exit", {V.OPARG: 7, V.SLOT0: 0})  # stores r0 in slot 0, returns -7
SUM_LOOP = [  # r0 = sum(range(slot2)), from r0 = slot0, r1 = slot1
    ("jit_entry", {}), ("load3", SLOTS), ("add_r0_r1", {V.EXIT: "side_exit"}),
    ("inc_r1", {V.OPARG: 1}), ("branch_lt", {V.TARGET: "add_r0_r1"}), ("ret_r0", {}), EXIT]
ADD_10 = [
    ("jit_entry", {}), ("load3", SLOTS), ("add_operand", {V.OPERAND: 10, V.EXIT: "side_exit"}),
    ("ret_r0", {}), EXIT]
FLOAT = [("jit_entry", {}), ("load3", SLOTS), ("load_const_float", {}), ("ret_r0", {})]
LOOKUP = [("jit_entry", {}), ("load3", SLOTS), ("lookup", {}), ("ret_r0", {})]
HELPER = [("jit_entry", {}), ("load3", SLOTS), ("call_helper", {V.HELPER: "helper"}),
          ("ret_r0", {})]


def link_program(library, program, base, labels=None):
    """(blob linked at base, {label: address}); the entry shim is the first stencil."""
    stencils = [library[name] for name, _ in program]
    placements, _ = layout(stencils, base)
    where = {name: p.code_address for (name, _), p in zip(program, placements)}
    where.update(labels or {})
    values = [{k: where[v] if isinstance(v, str) else v for k, v in given.items()}
              for _, given in program]
    return link(stencils, values, base), where


@pytest.fixture(scope="session")
def programs():
    return types.SimpleNamespace(SUM_LOOP=SUM_LOOP, ADD_10=ADD_10, FLOAT=FLOAT, LOOKUP=LOOKUP,
                                 HELPER=HELPER, link=link_program)
