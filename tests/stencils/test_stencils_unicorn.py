"""The same linked stencils inside Unicorn: results, helpers, and the two counting modes."""

import struct

import pytest

from backends.unicorn_rt.emulator import (CODE_BASE, DATA_BASE, EmulationError, Emulator,
                                          signed)

INT64_MAX = (1 << 63) - 1


def run_unicorn(library, programs, program, slots, mode="none", helpers=None, **kw):
    emu = Emulator()
    labels = {name: emu.add_helper(fn, nargs=2) for name, fn in (helpers or {}).items()}
    blob, where = programs.link(library, program, CODE_BASE, labels)
    emu.load(blob)
    emu.write(DATA_BASE, struct.pack("<8q", *slots, *[0] * (8 - len(slots))))
    result = emu.call(where["jit_entry"], where[program[1][0]], DATA_BASE, mode=mode, **kw)
    frame = struct.unpack("<8q", emu.read(DATA_BASE, 64))
    return result, frame


def test_counted_loop_matches_native(library, programs):
    result, _ = run_unicorn(library, programs, programs.SUM_LOOP, [0, 0, 1_000_000])
    assert signed(result.rax) == 499999500000


def test_side_exit_float_table(library, programs):
    result, frame = run_unicorn(library, programs, programs.ADD_10, [INT64_MAX - 5])
    assert signed(result.rax) == -7 and frame[0] == INT64_MAX - 5
    result, _ = run_unicorn(library, programs, programs.FLOAT, [4])
    assert struct.unpack("<d", struct.pack("<Q", result.rax))[0] == 10.125
    assert run_unicorn(library, programs, programs.LOOKUP, [5])[0].rax == 13


def test_helper_hook(library, programs):
    calls = []

    def helper(a, b):
        calls.append((a, b))
        return a * 1000 + b

    for mode in ("none", "blocks", "trace"):
        result, _ = run_unicorn(library, programs, programs.HELPER, [12, -3], mode,
                                {"helper": helper})
        assert signed(result.rax) == 11997 and result.helper_calls == 1
    assert calls == [(12, -3)] * 3

    def failing(a, b):
        raise ZeroDivisionError("from the helper")

    with pytest.raises(ZeroDivisionError, match="from the helper"):
        run_unicorn(library, programs, programs.HELPER, [1, 0], "none", {"helper": failing})


def test_block_and_instruction_counts_agree(library, programs):
    n = 1000
    blocks, _ = run_unicorn(library, programs, programs.SUM_LOOP, [0, 0, n], "blocks")
    trace, _ = run_unicorn(library, programs, programs.SUM_LOOP, [0, 0, n], "trace")
    assert signed(blocks.rax) == signed(trace.rax) == n * (n - 1) // 2
    assert blocks.counts == trace.counts and blocks.instructions == trace.instructions
    assert len(trace.trace) == trace.instructions
    # the loop body runs n times (its back edge n - 1): each extra iteration costs exactly it
    body = [a for a, c in trace.counts.items() if c >= n - 1]
    twice, _ = run_unicorn(library, programs, programs.SUM_LOOP, [0, 0, 2 * n], "blocks")
    assert twice.instructions - blocks.instructions == n * len(body)


def test_trace_records_memory_accesses(library, programs):
    result, _ = run_unicorn(library, programs, programs.SUM_LOOP, [0, 0, 3], "trace")
    frame_reads = [(r.address - DATA_BASE, r.value) for step in result.trace
                   for r in step.reads if DATA_BASE <= r.address < DATA_BASE + 64]
    assert frame_reads == [(0, 0), (8, 0), (16, 3)]  # load3 reads slots 0, 1, 2
    calls = [s for s in result.trace if s.text.startswith("call")]
    assert len(calls) == 1 and calls[0].writes[0].size == 8  # jit_entry pushes a return
    assert result.trace[-1].text == "ret" and result.trace[-1].reads[0].size == 8
    assert result.reads >= 3 and result.writes >= 1


def test_runaway_code_is_stopped(library, programs):
    with pytest.raises(EmulationError, match="before returning"):
        run_unicorn(library, programs, programs.SUM_LOOP, [0, 0, 10**9], max_instructions=10_000)


def test_counting_after_an_unhooked_run_still_counts():
    """Hooks apply to code translated before them too (the translation cache is flushed)."""
    from backends.unicorn_rt.emulator import CODE_BASE, Emulator

    emu = Emulator()
    # mov rax, rdi ; add rax, 1 ; ret
    emu.load(bytes.fromhex("4889f8" "4883c001" "c3"))
    assert emu.call(CODE_BASE, 41, mode="none").rax == 42
    counted = emu.call(CODE_BASE, 41, mode="blocks")
    assert counted.rax == 42 and sum(counted.counts.values()) == 3
