"""Differential fuzzing of the workbench against CPython.

``generator`` writes random programs in the frontend's subset (deterministic per
seed), ``campaign`` runs each under CPython and under every backend x pipeline and
compares stdout, exit status and the last stderr line, and ``reducer`` shrinks a
mismatching program to a small reproducer.  ``workbench fuzz`` is the command.
"""
