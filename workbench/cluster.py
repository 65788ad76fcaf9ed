"""``--cluster``: the work of ``workbench fuzz`` and ``workbench bench`` on a Dask cluster.

``local`` or ``local:N`` starts a ``distributed.LocalCluster`` of N worker processes
(default: one per CPU), one thread each; ``tcp://HOST:PORT`` connects to a running Dask
scheduler (``dask scheduler`` and ``dask worker tcp://HOST:PORT`` elsewhere; the
workers need the workbench installed, the same version).  The unit of work is a
program: ``Pool.submit`` one task per program, ``Pool.wait`` for the first done, or
``Pool.map`` over a list with the results in submission order.

Only ``workbench.cli`` imports this module, and only when ``--cluster`` is given;
``parse_spec`` needs no Dask, ``connect`` imports it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass

from backends.copy_and_patch import cache, compiler
from ir.errors import WorkbenchError


CONNECT_TIMEOUT = 10.0  # seconds to reach a tcp:// scheduler
INSTALL_HINT = "pip install 'uop-workbench[cluster]'"


@dataclass(frozen=True)
class Spec:
    text: str
    workers: int | None = None    # local: worker processes
    address: str | None = None    # tcp://HOST:PORT


def parse_spec(text: str) -> Spec:
    """``local``, ``local:N`` (N >= 1) or ``tcp://HOST:PORT``; else a ``WorkbenchError``."""
    if text == "local":
        return Spec(text, workers=os.cpu_count() or 1)
    if text.startswith("local:"):
        n = text[len("local:"):]
        if not n.isdigit() or int(n) < 1:
            raise WorkbenchError(f"--cluster {text}: local:N needs a number of worker "
                                 f"processes N >= 1")
        return Spec(text, workers=int(n))
    if text.startswith("tcp://"):
        host, _, port = text[len("tcp://"):].rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise WorkbenchError(f"--cluster {text}: expected tcp://HOST:PORT")
        return Spec(text, address=text)
    raise WorkbenchError(f"--cluster {text}: expected local, local:N or tcp://HOST:PORT")


def toolchain() -> tuple:
    """This process's stencil compiler and cache folder (the library's settings, which
    the CLI made from --clang / --stencil-cache), as a task takes them to its worker."""
    return compiler.chosen_compiler(), cache.chosen_cache_dir()


def run_with_toolchain(settings: tuple, fn, *args):
    """``fn(*args)`` in a worker process, with the submitting process's ``toolchain``."""
    clang, stencils = settings
    compiler.use_compiler(clang)
    cache.use_cache_dir(stencils)
    return fn(*args)


class Pool:
    """Tasks on the cluster of a ``distributed.Client``."""

    def __init__(self, client, spec: Spec):
        self.client = client
        self.spec = spec

    def slots(self) -> int:
        """How many tasks can run at once (worker threads, at least 1)."""
        return max(1, sum(self.client.nthreads().values()))

    def submit(self, fn, *args, near: list[str] | None = None):
        """A future of ``fn(*args)``; ``near``: preferably on these workers.  The task
        builds stencils as this process does (``toolchain``: --clang, --stencil-cache)."""
        kw = {"workers": near, "allow_other_workers": True} if near else {}
        return self.client.submit(run_with_toolchain, toolchain(), fn, *args, pure=False,
                                  **kw)

    def wait(self, futures: list, timeout: float) -> list:
        """Those of ``futures`` done within ``timeout`` s (waiting for the first)."""
        # lazy: Dask is slow to import; only this path needs it
        import distributed

        try:
            done, _ = distributed.wait(futures, timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return []
        return [f for f in futures if f in done]

    def where(self, future) -> list[str]:
        """The workers that hold ``future``'s result (where it ran)."""
        return list(self.client.who_has([future]).get(future.key, ()))

    def cancel(self, futures: list) -> None:
        if futures:
            self.client.cancel(futures)

    def map(self, fn, items: list, *args):
        """``fn(item, *args)`` for each item as one task each; yields the results in
        the order of ``items``."""
        futures = [self.submit(fn, item, *args) for item in items]
        try:
            for f in futures:
                yield f.result()
        finally:
            self.cancel([f for f in futures if not f.done()])


@contextlib.contextmanager
def connect(spec: Spec):
    """A ``Pool`` on the cluster ``spec`` names, closed (a local one shut down) on exit."""
    try:
        # Dask is a heavy import (an event loop, threads, ~1 s): only for --cluster.
        # lazy: Dask is slow to import; only this path needs it
        import dask
        # lazy: Dask is slow to import; only this path needs it
        import distributed
    except ImportError:
        raise WorkbenchError(f"--cluster needs Dask: {INSTALL_HINT}") from None
    # Dask logs to stderr; keep it to errors (stdout carries --json).
    quiet = logging.ERROR
    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(quiet)
    with dask.config.set({"logging.distributed": "error",
                          "distributed.admin.system-monitor.gil.enabled": False}):
        cluster = None
        try:
            if spec.address is None:
                cluster = distributed.LocalCluster(
                    n_workers=spec.workers, threads_per_worker=1, processes=True,
                    dashboard_address=None, silence_logs=quiet, memory_limit=0)
                client = distributed.Client(cluster)
            else:
                client = distributed.Client(spec.address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as e:
            if cluster is not None:
                cluster.close()
            why = (str(e).strip().splitlines() or [type(e).__name__])[0]
            where = f"the Dask scheduler at {spec.address}" if spec.address else \
                "a local Dask cluster"
            raise WorkbenchError(f"--cluster {spec.text}: cannot reach {where}: {why}") \
                from None
        try:
            yield Pool(client, spec)
        finally:
            with contextlib.suppress(Exception):
                client.close()
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.close()
