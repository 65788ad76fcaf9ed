"""A fuzz campaign on a Dask cluster (``--cluster``): each program and each reduction a
task, run by campaign's worker loop forked in the Dask worker.

Split from campaign (the --jobs campaign, the worker loop and the tally stay there).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import threading
import time
import traceback

from .campaign import (Report, Settings, Tally, crashed_program, failed_reduction, limits,
                       reproducer, worker_loop, write_reproducer)

# On a Dask cluster a task is one program (or one reduction).  The Dask worker runs it
# in a ``worker_loop`` loop forked from itself and kept for the next tasks (the same loop
# as --jobs: one CPython server per loop, memory retirement), watching it the way the
# --jobs parent does, so a crash or a hang in native code is a mismatch, not a dead
# Dask worker.  (os.fork, not multiprocessing: a daemonic Dask worker may not start
# multiprocessing children; the fork also gives the run a main thread for its timer.)

class _ForkedWorker:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.conn, child = multiprocessing.Pipe()
        siblings = [w.conn for w in _IDLE]
        pid = os.fork()
        if pid == 0:  # the child: serve tasks until the Dask worker goes away
            code = 0
            try:
                self.conn.close()
                for c in siblings:  # so that each loop sees its own parent's end close
                    c.close()

                gc.callbacks.clear()  # the Dask worker's GC diagnostics: not ours
                worker_loop(child, settings)
            except (EOFError, OSError):  # the Dask worker went away (shut down)
                code = 1
            except BaseException:

                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        child.close()
        self.pid = pid
        self.exitcode: int | None = None

    def alive(self) -> bool:
        if self.exitcode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.exitcode = os.waitstatus_to_exitcode(status)
        return self.exitcode is None

    def kill(self, wait: float = 0.0) -> None:
        end = time.monotonic() + wait
        while self.alive() and time.monotonic() < end:
            time.sleep(0.05)
        if self.alive():
            try:
                os.kill(self.pid, 9)
            except ProcessLookupError:
                pass
            _, status = os.waitpid(self.pid, 0)
            self.exitcode = os.waitstatus_to_exitcode(status)
        self.conn.close()


_IDLE: list[_ForkedWorker] = []   # this Dask worker's loops between tasks
_LOCK = threading.Lock()          # (a Dask worker may run several tasks at once)


def _take_worker(settings: Settings) -> _ForkedWorker:
    with _LOCK:
        while _IDLE:
            w = _IDLE.pop()
            if w.settings == settings and w.alive():
                return w
            w.kill()
        return _ForkedWorker(settings)


def cluster_task(task: tuple, settings: Settings) -> tuple:
    """One task of a --cluster campaign, on a Dask worker: ``("program", seed)`` gives
    ``("done", seed, runs, mismatches, skipped)``, ``("reduce", mismatch)`` gives
    ``("reduced", seed, file name, reproducer text)``."""
    hard, reduce_hard, _ = limits(settings, 0.0, 0.0)
    limit = reduce_hard if task[0] == "reduce" else hard
    w = _take_worker(settings)
    at, started, since, stuck = None, 0, time.monotonic(), False
    try:
        w.conn.send(task)
        while True:
            if w.conn.poll(0.5):
                msg = w.conn.recv()
                if msg[0] == "at":
                    at, since = msg[1:], time.monotonic()
                    started += 1
                    continue
                if msg[0] == "done":
                    if msg[5]:             # retiring: it exits by itself
                        w.kill(wait=10)
                    else:
                        with _LOCK:
                            _IDLE.append(w)
                    return msg[:5]
                with _LOCK:
                    _IDLE.append(w)
                return msg              # ("reduced", seed, name, text)
            if not w.alive():
                break
            if time.monotonic() - since > limit:
                stuck = True
                break
    except (EOFError, OSError):
        pass
    w.kill()
    code = w.exitcode
    if task[0] == "reduce":
        return ("reduced", task[1].seed, *failed_reduction(task[1], settings, code, stuck))
    if at is None:  # died before its first run (CPython, or generating)
        return ("done", task[1], 0, [], False)
    runs, found = crashed_program(settings, at, started, code, stuck)
    return ("done", task[1], runs, found, False)


def run_cluster_campaign(settings: Settings, seed: int, seconds: float, pool, out_dir: str,
                         programs: int | None = None, max_reductions: int = 10,
                         progress=None) -> Report:
    """``run_campaign`` with the programs and reductions as tasks on ``pool`` (a
    ``workbench.cluster.Pool``): the same programs for the same seed, the same counting;
    reductions run on the Dask worker that found the mismatch, reproducers are written
    here."""
    report = Report(seed)
    start = time.monotonic()
    deadline = start + seconds
    tally = Tally(report, max_reductions, progress, start, deadline)
    _, _, grace = limits(settings, seconds, deadline)
    next_seed = seed
    running: dict = {}             # future -> task
    where: dict[int, list] = {}    # program seed -> the Dask worker that ran it

    def more_programs() -> bool:
        return time.monotonic() < deadline and (programs is None or next_seed - seed < programs)

    try:
        slots, asked = pool.slots(), time.monotonic()
        while True:
            if time.monotonic() - asked > 5:  # workers may come and go
                slots, asked = pool.slots(), time.monotonic()
            while len(running) < slots and (tally.pending or more_programs()):
                if tally.pending:
                    m = tally.pending.pop(0)
                    task = ("reduce", m)
                    future = pool.submit(cluster_task, task, settings, near=where.get(m.seed))
                else:
                    task = ("program", next_seed)
                    next_seed += 1
                    future = pool.submit(cluster_task, task, settings)
                running[future] = task
            if not running:
                break
            for future in pool.wait(list(running), timeout=0.5):
                task = running.pop(future)
                try:
                    result = future.result()
                except Exception as e:  # the Dask worker itself died, repeatedly
                    sys.stderr.write(f"fuzz: --cluster: {task[0]} {_task_seed(task)} "
                                     f"failed: {type(e).__name__}: {e}\n")
                    if task[0] == "program":
                        tally.program(0, [], False)
                    else:  # never lose the program itself
                        m = task[1]
                        report.reproducers.append(write_reproducer(out_dir, *reproducer(
                            m, m.program, m.ref, m.got, 0, settings,
                            note=f"the reduction failed ({type(e).__name__})")))
                    continue
                if result[0] == "done":
                    _, s, runs, found, skipped = result
                    if found:
                        where[s] = pool.where(future)
                    tally.program(runs, found, skipped)
                else:
                    report.reproducers.append(write_reproducer(out_dir, *result[2:]))
            if time.monotonic() > grace:
                late = [f for f, t in running.items() if t[0] == "program"]
                pool.cancel(late)
                report.abandoned += len(late)
                for f in late:
                    del running[f]
            tally.tick()
    except KeyboardInterrupt:
        report.interrupted = True
        pool.cancel(list(running))
    return tally.finish()


def _task_seed(task: tuple) -> str:
    return f"seed {task[1] if task[0] == 'program' else task[1].seed}"
