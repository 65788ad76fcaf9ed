"""The reference executor of the IR (tier 1, and tier 2 without a JIT) and its profile."""
