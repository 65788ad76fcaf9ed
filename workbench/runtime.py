"""The tiered runtime: tier 1 interprets the generic IR and profiles it."""

from __future__ import annotations

from backends.interp.interpreter import Interpreter
from backends.interp.profile import Profile
from ir.core import Module


class Runtime:
    def __init__(self, module: Module, backend: str = "interp"):
        self.module = module
        self.backend = backend
        self.profile = Profile()
        self.interp = Interpreter(module, self.profile)

    def run(self) -> None:
        self.interp.run_main()
