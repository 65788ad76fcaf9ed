"""Every kernel produces CPython's stdout with tier 2 on native and Unicorn machine code,
with no optimization ('', generic uops run by runtime helpers), the default pipeline, and
the default pipeline plus a register allocator (values in machine registers)."""

import pytest

from runtime_util import KERNEL_NAMES, cli, expected, kernel_source, trace_json, write

PIPELINES = ["", "default", "default,regalloc{algo=linear-scan}"]


@pytest.mark.parametrize("passes", PIPELINES, ids=["none", "default", "regalloc"])
@pytest.mark.parametrize("backend", ["native", "unicorn"])
@pytest.mark.parametrize("kernel", KERNEL_NAMES)
def test_kernel_stdout_is_cpython(tmp_path, kernel, backend, passes):
    source = kernel_source(kernel)
    path = write(tmp_path, kernel, source)
    status, out, err = cli("run", "--backend", backend, "--passes", passes, path)
    assert (status, err) == (0, "")
    assert out == expected(source)


@pytest.mark.parametrize("algo", ["tos", "graph-coloring"])
@pytest.mark.parametrize("kernel", ["sum_loop", "collatz", "fib_big"])
def test_other_allocators_native(tmp_path, kernel, algo):
    source = kernel_source(kernel)
    path = write(tmp_path, kernel, source)
    status, out, err = cli("run", "--backend", "native", "--passes",
                           f"default,regalloc{{algo={algo}}}", path)
    assert (status, err, out) == (0, "", expected(source))


def test_hot_kernel_functions_run_as_machine_code(tmp_path):
    """With the default pipeline every tier-2 function of these kernels is compiled (the
    trace says where each ran) and its code ran."""
    for kernel in ("sum_loop", "fib_mod", "gcd_sum", "collatz"):
        path = write(tmp_path, kernel, kernel_source(kernel))
        report = trace_json(path, "--backend", "native")
        assert report["functions"], kernel
        for v in report["functions"]:
            assert v["tier2"] == "native", (kernel, v)
            assert v["runs"] > 0 and v["runs"] == v["returns"] + v["exits"], (kernel, v)


def test_fib_big_full_size_exact_on_native(tmp_path):
    """fib(20000) outgrows 64 bits (and fib(93) the int64 range): exits and boxed big ints
    must give CPython's exact digits."""
    source = kernel_source("fib_big", "20_000")
    path = write(tmp_path, "fib_big", source)
    status, out, err = cli("run", "--backend", "native", path)
    assert (status, err) == (0, "")
    assert out == expected(source)
    report = trace_json(path, "--backend", "native")
    assert any(v["tier2"] == "native" and v["runs"] for v in report["functions"])


@pytest.mark.slow
@pytest.mark.parametrize("kernel", KERNEL_NAMES)
def test_full_size_kernel_on_native(tmp_path, kernel):
    """The kernels as shipped (sieve takes about a minute: its list stores are helpers)."""
    from helpers import KERNELS

    source = next(k for k in KERNELS if k.stem == kernel).read_text()
    path = write(tmp_path, kernel, source)
    status, out, err = cli("run", "--backend", "native", path)
    assert (status, err) == (0, "")
    assert out == expected(source)
