"""Optimization passes over the uop IR, the pass manager and its registry."""
