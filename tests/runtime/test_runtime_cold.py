"""Cold exits: code tier 1 never ran when a function was optimized leaves to tier 1
(``_EXIT_COLD``) instead of running generic uops; once tier 1 has profiled it, the
runtime re-optimizes, and those re-optimizations do not use up MAX_REOPTIMIZE."""

import pytest

from runtime_util import expected, trace_json, write

# Six loops run one after the other: when the first gets hot, the other five have no
# profile yet.  More phases than MAX_REOPTIMIZE (4), so a limit on cold re-optimizations
# would leave the last loops generic.
PHASES = "\n".join(f"""    i = 0
    while i < n:
        total = total + i * {k}
        if i % {k + 1} == 0:
            total -= i
        i += 1""" for k in range(1, 7))
PROGRAM = f"""
def phases(n):
    total = 0
{PHASES}
    return total


print(phases(3000))
"""
GENERIC = {"_BINARY_OP", "_COMPARE_OP", "_TO_BOOL", "_BINARY_SUBSCR", "_UNARY_OP"}


@pytest.mark.parametrize("backend", ["interp", "native", "unicorn"])
def test_cold_code_is_reoptimized_not_run_generic(tmp_path, backend):
    path = write(tmp_path, "phases", PROGRAM)
    report = trace_json(path, "--backend", backend)
    assert report["stdout"] == expected(PROGRAM)
    versions = [v for v in report["functions"] if v["function"] == "phases"]
    assert len(versions) >= 6           # one version per phase that was cold when compiled
    assert all(v["tier2"] == ("interp" if backend == "interp" else backend) for v in versions)
    assert report["totals"]["side_exits"] > 0
    if backend != "native":             # nothing counts what native code executed
        ran = {u["uop"] for u in report["per_uop"] if u["count"]}
        assert "_EXIT_COLD" in ran and not ran & GENERIC, ran


def test_cold_generic_option_keeps_generic_uops(tmp_path):
    path = write(tmp_path, "phases", PROGRAM)
    report = trace_json(path, "--backend", "interp", "--passes",
                        "specialize{cold=generic},typeprop,guardelim,dce")
    assert report["stdout"] == expected(PROGRAM)
    ran = {u["uop"] for u in report["per_uop"] if u["count"]}
    assert "_EXIT_COLD" not in ran and ran & GENERIC
