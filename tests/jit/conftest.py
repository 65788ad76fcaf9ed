"""JIT tests share one private stencil cache per session."""

import os

import pytest

from backends.copy_and_patch import cache


@pytest.fixture(scope="session", autouse=True)
def _stencil_cache(tmp_path_factory):
    """Build the uop stencil library into a private cache once per session: this
    process's (cache.use_cache_dir) and the workbench processes the tests start
    (WORKBENCH_CACHE_DIR, which their CLI reads)."""
    where = str(tmp_path_factory.mktemp("jit-stencils"))
    old_dir, old_env = cache.use_cache_dir(where), os.environ.get("WORKBENCH_CACHE_DIR")
    os.environ["WORKBENCH_CACHE_DIR"] = where
    yield
    cache.use_cache_dir(old_dir)
    if old_env is None:
        os.environ.pop("WORKBENCH_CACHE_DIR", None)
    else:
        os.environ["WORKBENCH_CACHE_DIR"] = old_env
