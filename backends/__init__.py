"""Executors of the IR: the reference interpreter, the copy-and-patch JIT and its runners."""
