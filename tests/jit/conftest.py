"""JIT tests share one private stencil cache per session."""

import pytest

@pytest.fixture(scope="session", autouse=True)
def _stencil_cache(tmp_path_factory):
    """Build the uop stencil library into a private cache once per session."""
    import os

    old = os.environ.get("WORKBENCH_CACHE_DIR")
    os.environ["WORKBENCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("jit-stencils"))
    yield
    if old is None:
        os.environ.pop("WORKBENCH_CACHE_DIR", None)
    else:
        os.environ["WORKBENCH_CACHE_DIR"] = old
