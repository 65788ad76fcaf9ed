"""Benchmarks of the workbench itself (not of the programs it runs): how pass
running time scales with the size of the IR.  Run them as modules, e.g.
``python -m workbench.benchmarks.pass_scaling``."""
