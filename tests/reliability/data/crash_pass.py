"""Passes that crash the process (for the --isolate tests), as a native-code bug would.

``segv``: the first time it runs, the process sends itself SIGSEGV.
``nullread``: leaves a breadcrumb as the native runner does before entering machine
code (uop and address), then reads address 0 through ctypes: a real fault.
"""

import ctypes
import os
import signal

from passes.base import Pass
from passes.registry import register_pass


@register_pass
class Segv(Pass):
    name = "segv"
    description = "kill the process with SIGSEGV (a crash, for tests)"

    def run(self, fn, ctx) -> bool:
        os.kill(os.getpid(), signal.SIGSEGV)
        return False


@register_pass
class NullRead(Pass):
    name = "nullread"
    description = "read address 0 after leaving a breadcrumb (a crash, for tests)"

    def run(self, fn, ctx) -> bool:
        from workbench.isolate import breadcrumb

        breadcrumb("_BINARY_OP_ADD_INT", 0x7000_0000_1234, fn.name, "bb2:3")
        ctypes.string_at(0)
        return False
