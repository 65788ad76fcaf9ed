"""`workbench trace`: the interp backend's JSON, plus machine-level counts for Unicorn;
counting and full-trace modes agree; uop counts recovered from instruction counts equal
the interpreter's."""

import json

import pytest

from runtime_util import cli, expected, kernel_source, trace_json, write

TINY = """\
def f(n):
    t = 0
    for i in range(n):
        t += i * 3
    return t


print(f(60))
"""

BASE_TOTALS = {"uops", "guards", "side_exits", "local_loads", "local_stores"}
MACHINE_TOTALS = {"instructions", "loads", "stores", "calls", "code_bytes"}


def per_uop(report, key="count"):
    return {(r["function"], r["uop"]): r[key] for r in report["per_uop"]}


def test_unicorn_trace_json_keys_and_consistency(tmp_path):
    source = kernel_source("sum_loop")
    path = write(tmp_path, "sum_loop", source)
    report = trace_json(path, "--backend", "unicorn")
    assert report["stdout"] == expected(source)
    assert report["backend"] == "unicorn"
    totals = report["totals"]
    assert set(totals) == BASE_TOTALS | MACHINE_TOTALS
    assert totals["loads"] + totals["stores"] > 0
    assert totals["instructions"] > totals["uops"] > 0 and totals["code_bytes"] > 0
    for key in ("instructions", "loads", "stores", "calls"):
        assert sum(r[key] for r in report["per_uop"]) == totals[key]
    assert sum(r["count"] for r in report["per_uop"]) == totals["uops"]
    for row in report["per_uop"]:
        assert set(row) == {"function", "uop", "count", "instructions", "loads", "stores",
                            "calls"}
    # hottest first
    hot = [r["instructions"] for r in report["per_uop"]]
    assert hot == sorted(hot, reverse=True)
    (version,) = report["functions"]
    assert version["function"] == "sum_loop" and version["tier2"] == "unicorn"
    assert version["runs"] == 1 and version["instructions"] == totals["instructions"]


@pytest.mark.parametrize("kernel,passes", [("sum_loop", "default"), ("gcd_sum", "default"),
                                           ("sieve", "default,regalloc{algo=linear-scan}")])
def test_uop_counts_from_machine_code_equal_interpreter(tmp_path, kernel, passes):
    """Per-uop counts recovered from Unicorn's per-address counts (blocks without code
    by CFG flow) are exactly what the tier-2 interpreter counts running the same IR."""
    path = write(tmp_path, kernel, kernel_source(kernel))
    interp = trace_json(path, "--backend", "interp", "--passes", passes)
    emulated = trace_json(path, "--backend", "unicorn", "--passes", passes)
    assert emulated["stdout"] == interp["stdout"]
    assert per_uop(emulated) == per_uop(interp)
    assert {k: v for k, v in emulated["totals"].items() if k in BASE_TOTALS} == \
        interp["totals"]


def test_interp_and_native_trace_shape(tmp_path):
    path = write(tmp_path, "tiny", TINY)
    interp = trace_json(path)
    assert set(interp["totals"]) == BASE_TOTALS
    assert set(interp["per_uop"][0]) == {"function", "uop", "count"}
    assert interp["functions"][0]["tier2"] == "interp"
    native = trace_json(path, "--backend", "native")
    assert native["stdout"] == interp["stdout"] == expected(TINY)
    assert native["functions"][0]["tier2"] == "native"
    assert native["functions"][0]["runs"] == 1


def test_native_trace_says_it_does_not_count(tmp_path):
    """Native code is not watched: one line on stderr says so and what to use instead,
    and no totals of zero or empty table are printed as if nothing ran."""
    path = write(tmp_path, "tiny", TINY)
    status, out, err = cli("trace", "--backend", "native", path)
    assert status == 0
    assert err == ("workbench trace: native code is not counted (f ran natively); use "
                   "--backend unicorn to count what the machine code executes\n")
    assert out == expected(TINY) + \
        "tier 2: f (v1) ran in native: 1 runs, 1 returns, 0 side exits, 0 refused\n"
    assert "totals" not in out and "count" not in out
    native = trace_json(path, "--backend", "native")
    assert native["not_counted"] == ["f"] and native["per_uop"] == []
    # interp and unicorn count everything: no such line, nothing left out
    for backend in ("interp", "unicorn"):
        status, out, err = cli("trace", "--backend", backend, path)
        assert (status, err) == (0, "") and "totals: uops=" in out
        assert trace_json(path, "--backend", backend)["not_counted"] == []


def test_native_trace_of_code_the_jit_refused_is_counted(tmp_path):
    """What the JIT refuses runs in the tier-2 interpreter, which counts it."""
    path = write(tmp_path, "mandelbrot", kernel_source("mandelbrot"))
    status, out, err = cli("trace", "--backend", "native", "--passes",
                           "default,regalloc{regs=16}", path)
    assert (status, err) == (0, "")
    assert "totals: uops=" in out and "ran in interp" in out


def test_counting_and_full_mode_agree(tmp_path):
    path = write(tmp_path, "tiny", TINY)
    counting = trace_json(path, "--backend", "unicorn")
    full = trace_json(path, "--backend", "unicorn", "--full", "--full-limit", "100000")
    assert full["stdout"] == counting["stdout"] == expected(TINY)
    for key in ("instructions", "loads", "stores", "uops"):
        assert full["totals"][key] == counting["totals"][key]
    for key in ("count", "instructions", "loads", "stores"):
        assert per_uop(full, key) == per_uop(counting, key)
    # capstone's static memory operands match the accesses Unicorn observed
    assert full["totals"]["memory_reads"] == full["totals"]["loads"]
    assert full["totals"]["memory_writes"] == full["totals"]["stores"]
    steps = full["full_trace"]
    assert len(steps) == full["full_trace_steps"] == full["totals"]["instructions"]
    assert not full["full_trace_truncated"]
    first = steps[0]
    assert first["text"].startswith("push") and first["uop"] == "_ENTRY"
    assert first["kind"] == "shim" and first["writes"] and first["writes"][0][1] == 8
    adds = [s for s in steps if s["uop"] == "_BINARY_OP_ADD_INT"]
    assert adds and all(s["function"] == "f" and s["line"] in (3, 4) for s in adds)
    assert any(s["reads"] for s in adds)
    assert all(bytes.fromhex(s["bytes"]) for s in steps)


def test_full_trace_is_capped_and_goes_to_a_file(tmp_path):
    path = write(tmp_path, "tiny", TINY)
    capped = trace_json(path, "--backend", "unicorn", "--full", "--full-limit", "25")
    assert len(capped["full_trace"]) == 25 and capped["full_trace_truncated"]
    assert capped["full_trace_steps"] == capped["totals"]["instructions"]
    out = tmp_path / "trace.txt"
    report = trace_json(path, "--backend", "unicorn", "--full-out", out, "--full-limit", "40")
    assert "full_trace" not in report and report["full_trace_file"] == str(out)
    lines = out.read_text().splitlines()
    assert len(lines) == 40
    assert "push r15" in lines[0] and "_ENTRY (shim)" in lines[0]
    assert any(" f osr0:" in line or " f bb" in line for line in lines)


def test_terminal_form_is_a_table_when_piped(tmp_path):
    path = write(tmp_path, "tiny", TINY)
    status, out, err = cli("trace", "--backend", "unicorn", path)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == expected(TINY).strip()
    assert lines[1].startswith("totals: uops=") and "instructions=" in lines[1]
    assert lines[2].split()[:4] == ["function", "uop", "count", "instructions"]
    assert "tier 2: f (v1) ran in unicorn" in out
    status, out, _ = cli("trace", "--backend", "unicorn", "--full", "--full-limit", "5", path)
    assert "full trace: 5 of " in out


def test_full_needs_unicorn(tmp_path):
    path = write(tmp_path, "tiny", TINY)
    status, out, err = cli("trace", "--backend", "native", "--full", path)
    assert status == 2 and out == "" and err.count("\n") == 1 and "--backend unicorn" in err


def test_side_exits_counted_on_machine_code(tmp_path):
    source = """\
def acc(n):
    t = 2 ** 62
    for i in range(n):
        t += i * 10 ** 14  # past int64 at i = 304: after OSR
    return t


for k in range(3):
    print(acc(600))
"""
    path = write(tmp_path, "acc", source)
    for backend in ("native", "unicorn"):
        report = trace_json(path, "--backend", backend)
        assert report["stdout"] == expected(source)
        assert report["totals"]["side_exits"] >= 1
        assert sum(v["exits"] for v in report["functions"]) >= 1
    assert json.dumps(report)  # serializable


# ------------------------------------------------------------------ the table at 80 columns

TWO = """\
def accumulate_remainders_slowly(n):
    t = 0
    for i in range(n):
        t = (t + i * 7) % 1000003
    return t


def scale_floats(n):
    x = 0.5
    for i in range(n):
        x = x * 1.0001 + 0.25
    return x


print(accumulate_remainders_slowly(300), scale_floats(300))
"""


def _rendered(report, width):
    import io

    from rich.console import Console

    from workbench.render import trace_table

    c = Console(width=width, file=io.StringIO(), color_system=None, highlight=False)
    c.print(trace_table(report, 25, c))
    return c.file.getvalue()


@pytest.mark.parametrize("source, name", [(kernel_source("fib_mod"), "fib_mod"), (TWO, "two")])
@pytest.mark.parametrize("width", [80, 100])
def test_trace_table_keeps_uop_names_whole_at_80_columns(tmp_path, source, name, width):
    report = trace_json(write(tmp_path, name, source), "--backend", "unicorn")
    assert report["per_uop"]
    text = _rendered(report, width)
    lines = text.splitlines()
    assert max(map(len, lines)) <= width
    assert "…" not in text
    cells = {w for line in lines for w in line.split()}
    for r in report["per_uop"][:25]:
        assert r["uop"] in cells, (r["uop"], text)
    if len({r["function"] for r in report["per_uop"]}) == 1:   # named once, in the title
        assert f"optimized code of {report['per_uop'][0]['function']}," in text
    else:
        assert "function" in lines[2]


def test_trace_table_fits_long_function_names_in_80_columns():
    """Long names of several functions wrap; what is left out to fit is said."""
    long = "spectral_norm_eval_A_times_u"
    rows = [{"function": long if k % 2 else "main", "uop": u, "count": 199_902 * k + 1,
             "instructions": 2_198_922 * k, "loads": 11 * k, "stores": 7 * k}
            for k, u in enumerate(["_BINARY_OP_MODULO_INT", "_BINARY_OP_SUBSCR_LIST_INT",
                                   "_GUARD_BOTH_FLOAT", "_STORE_SUBSCR_LIST_INT"])]
    text = _rendered({"per_uop": rows}, 80)
    assert max(map(len, text.splitlines())) <= 80 and "…" not in text
    cells = {w for line in text.splitlines() for w in line.split()}
    assert {r["uop"] for r in rows} <= cells
    assert "fit 80 columns" in text
    wide = _rendered({"per_uop": rows}, 200)
    assert long in wide and "insn/uop" in wide and "6,596,766" in wide and "fit" not in wide
