"""uop workbench: watch tier-2 uop passes rewrite IR and measure them on machine code.

Importing this package stays cheap (the CLI's start-up matters for whole-process
benchmarks); heavy modules are imported where they are used.
"""

__version__ = "0.1.0"

_API = ("load", "from_source", "toolchain", "Program", "PipelineResult", "Trace",
        "ProgramError")


def __getattr__(name):  # PEP 562: ``import workbench as wb; wb.load(...)`` stays cheap
    if name in _API:
        from . import api  # lazy: `import workbench` stays cheap (PEP 562)

        return getattr(api, name)
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")
