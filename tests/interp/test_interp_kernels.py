"""Every kernel prints under ``workbench run`` byte for byte what ``python3`` prints: at
reduced sizes in the fast suite, at full size in the slow one."""

import pytest

from helpers import (KERNELS, REDUCED_SIZES, assert_same_as_cpython, reduced_source, run_cli,
                     run_python)

IDS = [p.stem for p in KERNELS]


def test_every_kernel_has_reduced_sizes():
    assert KERNELS, "no kernels found"
    assert sorted(p.stem for p in KERNELS) == sorted(REDUCED_SIZES)


@pytest.mark.parametrize("path", KERNELS, ids=IDS)
def test_reduced_kernel_in_the_interpreter(path):
    src = reduced_source(path)
    assert src != path.read_text()
    out = assert_same_as_cpython(src)
    assert out.error is None and out.stdout.endswith("\n")


@pytest.mark.parametrize("path", KERNELS, ids=IDS)
def test_reduced_kernel_under_the_cli(path, tmp_path):
    f = tmp_path / path.name
    f.write_text(reduced_source(path))
    want = run_python(f.name, cwd=tmp_path)
    got = run_cli("run", "--backend", "interp", f.name, cwd=tmp_path)
    assert want.returncode == 0, want.stderr
    assert (got.returncode, got.stderr) == (0, "")
    assert got.stdout == want.stdout


@pytest.mark.slow
@pytest.mark.parametrize("path", KERNELS, ids=IDS)
def test_full_size_kernel_under_the_cli(path):
    want = run_python(path, timeout=600)
    got = run_cli("run", "--backend", "interp", path, timeout=600)
    assert want.returncode == 0, want.stderr
    assert (got.returncode, got.stderr) == (0, "")
    assert got.stdout == want.stdout
