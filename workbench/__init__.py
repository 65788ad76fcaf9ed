"""uop workbench: watch tier-2 uop passes rewrite IR and measure them on machine code.

Importing this package stays cheap (the CLI's start-up matters for whole-process
benchmarks); heavy modules are imported where they are used.
"""

__version__ = "0.1.0"
