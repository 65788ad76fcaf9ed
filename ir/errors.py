"""The one error type the CLI turns into a one-line message and exit status 2."""


class WorkbenchError(Exception):
    """A user-facing error: its message is complete (``file:line:col: ...`` where known)."""
