"""``workbench run --isolate`` (and ``trace``): the run happens in a child process.

The parent re-runs the same command line without ``--isolate`` as
``python -P -m workbench ...``; the child inherits stdin, stdout and stderr, so
what the program prints, and the exit status, pass through exactly.  When the
child dies of a fault signal (machine code gone wrong), the parent reports one line
and exits with status 2 instead of dying with it::

    workbench: compiled code crashed with SIGSEGV (signal 11) in _BINARY_OP_ADD_INT at 0x7f3a5c0010a4 (@f bb2:3)

Where it crashed comes from the child, through a small file named by
``$WORKBENCH_CRASH_REPORT``:

* breadcrumbs: ``breadcrumb(uop, address, function, where)`` records the last
  place the child was about to enter machine code (the hook point).  The native
  backend does not call it itself yet; ``child_setup`` wraps
  ``backends.native.runner.NativeCode.run`` to leave one (the entry block's first
  uop and the entry address) before every call into machine code, and registers
  the code's address map (``register_code``);
* on x86-64 Linux, a SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP handler (installed with
  ``sigaction`` through ctypes) writes the faulting instruction address and, when
  it lies in registered code, the uop there; then the default action kills the
  child with the same signal.

Both are best effort: without them the line says "unknown uop" / "unknown address".
"""

from __future__ import annotations

import bisect
import ctypes
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile


CRASH_ENV = "WORKBENCH_CRASH_REPORT"
FAULT_SIGNALS = (signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGTRAP)
CRASH_SIGNALS = FAULT_SIGNALS + (signal.SIGABRT, signal.SIGSYS)
_RECORD = 2048              # bytes for the breadcrumb; the fault record follows

_fd: int | None = None
_code: list[tuple[int, int, str, list[int], list[tuple]]] = []   # sorted by base
_keep: list = []            # ctypes callbacks that must stay alive


# --------------------------------------------------------------------------- the child

def breadcrumb(uop: str, address: int | None = None, function: str | None = None,
               where: str | None = None) -> None:
    """Note that the child is about to run machine code at ``address`` (uop ``uop``).
    Cheap (one ``pwrite``); does nothing unless this is an isolated child."""
    if _fd is None:
        return
    data = json.dumps({"uop": uop, "address": address, "function": function,
                       "where": where}).encode()[:_RECORD - 1] + b"\n"
    try:
        os.pwrite(_fd, data.ljust(_RECORD, b" "), 0)
    except OSError:
        pass


def register_code(function: str, base: int, size: int, address_map: dict) -> None:
    """Machine code of ``function`` at ``[base, base+size)``; ``address_map`` maps the
    start address of each uop to ``(block, index, uop name, line)``."""
    starts = sorted(address_map)
    entry = (base, base + size, function, starts, [address_map[a] for a in starts])
    i = bisect.bisect_left([c[0] for c in _code], base)
    _code.insert(i, entry)


def lookup(pc: int) -> dict | None:
    """The uop of registered code at address ``pc``."""
    i = bisect.bisect_right([c[0] for c in _code], pc) - 1
    if i < 0:
        return None
    base, end, function, starts, infos = _code[i]
    if not base <= pc < end or not starts:
        return None
    j = max(0, bisect.bisect_right(starts, pc) - 1)
    block, index, name, _line = infos[j]
    return {"uop": name, "function": function, "where": f"{block}:{index}"}


def child_setup(argv: list[str] | None = None) -> None:
    """In the isolated child: open the report file, install the fault handler, wrap
    the native runner to leave breadcrumbs (when ``argv`` asks for that backend)."""
    global _fd
    path = os.environ.pop(CRASH_ENV, None)
    if not path:
        return
    try:
        _fd = os.open(path, os.O_WRONLY)
    except OSError:
        return
    _install_fault_handler()
    if argv is None or any("native" in a for a in argv):
        _wrap_native_runner()


def _on_fault(signum: int, info: int, context: int) -> None:
    try:
        pc = ctypes.c_uint64.from_address(context + 168).value  # uc_mcontext.gregs[REG_RIP]
        fault = ctypes.c_uint64.from_address(info + 16).value   # siginfo.si_addr
        rec = {"signal": signum, "pc": pc, "fault_address": fault}
        found = lookup(pc)
        if found:
            rec.update(found)
        os.pwrite(_fd, json.dumps(rec).encode() + b"\n", _RECORD)
    except BaseException:  # noqa: BLE001 - we are dying anyway
        pass
    # SA_RESETHAND restored the default action: die of the same signal now (a signal
    # sent with kill() would otherwise just return here and carry on).
    os.kill(os.getpid(), signum)


def _install_fault_handler() -> None:
    if not (sys.platform.startswith("linux") and platform.machine() == "x86_64"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)

        class SigAction(ctypes.Structure):
            _fields_ = [("handler", ctypes.c_void_p), ("mask", ctypes.c_ulong * 16),
                        ("flags", ctypes.c_int), ("restorer", ctypes.c_void_p)]

        handler_t = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
        callback = handler_t(_on_fault)
        _keep.append(callback)
        act = SigAction()
        act.handler = ctypes.cast(callback, ctypes.c_void_p).value
        # SA_SIGINFO | SA_NODEFER | SA_RESETHAND: after the handler returns, the
        # faulting instruction faults again and the default action kills us.
        act.flags = 0x4 | 0x40000000 | 0x80000000
        for sig in FAULT_SIGNALS:
            libc.sigaction(int(sig), ctypes.byref(act), None)
    except Exception:  # noqa: BLE001 - best effort
        pass


def _wrap_native_runner() -> None:
    try:
        from backends.native import runner  # lazy: optional; a machine without it still isolates
    except Exception:  # noqa: BLE001 - no native backend here
        return
    original = runner.NativeCode.run
    if getattr(original, "_workbench_breadcrumbs", False):
        return

    def run(self, frame_values, entry_index=0):
        try:
            amap = self.__dict__.get("_wb_address_map")
            if amap is None:
                amap = self.__dict__["_wb_address_map"] = self.address_map()
                register_code(self.blob.fn_name, self.base, self.blob.size, amap)
            address = self.entry_addresses[entry_index]
            info = amap.get(address)
            breadcrumb(info[2] if info else "unknown uop", address, self.blob.fn_name,
                       f"{info[0]}:{info[1]}" if info else None)
        except Exception:  # noqa: BLE001 - breadcrumbs must never change the run
            pass
        return original(self, frame_values, entry_index)

    run._workbench_breadcrumbs = True
    runner.NativeCode.run = run


# --------------------------------------------------------------------------- the parent

def child_argv(argv: list[str]) -> list[str]:
    """``argv`` without ``--isolate`` (or an abbreviation argparse accepted)."""
    out, rest = [], False
    for a in argv:
        if not rest and a == "--":
            rest = True
        elif not rest and len(a) >= 3 and a.startswith("--i") and "--isolate".startswith(a):
            continue
        out.append(a)
    return out


def run_isolated(argv: list[str]) -> int:
    fd, report = tempfile.mkstemp(prefix="workbench-crash-")
    os.close(fd)
    env = dict(os.environ)
    env[CRASH_ENV] = report
    python = [sys.executable] + (["-P"] if sys.version_info >= (3, 11) else [])
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        proc = subprocess.Popen(python + ["-m", "workbench", *child_argv(argv)], env=env)
        while True:
            try:
                code = proc.wait()
                break
            except KeyboardInterrupt:  # the child got it too and ends as it sees fit
                continue
        if code >= 0:
            return code
        sig = -code
        if sig == signal.SIGINT:
            return 130
        sys.stderr.write(crash_message(sig, _read_report(report)) + "\n")
        return 2
    finally:
        try:
            os.unlink(report)
        except OSError:
            pass


def _read_report(path: str) -> tuple[dict, dict]:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return {}, {}
    return _parse(data[:_RECORD]), _parse(data[_RECORD:])


def _parse(chunk: bytes) -> dict:
    line = chunk.split(b"\n", 1)[0].strip()
    try:
        value = json.loads(line) if line else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def signal_text(sig: int) -> str:
    try:
        return f"{signal.Signals(sig).name} (signal {sig})"
    except ValueError:
        return f"signal {sig}"


def crash_message(sig: int, report: tuple[dict, dict]) -> str:
    crumb, fault = report
    if sig not in [int(s) for s in CRASH_SIGNALS]:
        return f"workbench: the isolated run was killed by {signal_text(sig)}"
    uop = fault.get("uop") or crumb.get("uop") or "unknown uop"
    address = fault.get("pc") if fault.get("pc") is not None else crumb.get("address")
    addr = f"0x{address:x}" if isinstance(address, int) else "unknown address"
    function = fault.get("function") or crumb.get("function")
    where = fault.get("where") or crumb.get("where")
    place = f" (@{function}{' ' + where if where else ''})" if function else ""
    return f"workbench: compiled code crashed with {signal_text(sig)} in {uop} at {addr}{place}"
