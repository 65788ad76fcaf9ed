"""Copy-and-patch: C stencils -> clang -> ELF object -> patchable machine-code templates.

compiler.py runs clang, elf_reader.py turns the object file into `Stencil`s (stencil.py),
patcher.py fills their holes for a chosen address, cache.py keeps built libraries on disk,
entry_shim.py is the C function through which callers enter stencil code. Nothing here
knows about the uop IR: this is the bottom layer of the JIT and usable on its own:

    library = build_library(c_source)                  # {name: Stencil}, cached
    placements, size = layout(stencils, base)          # where each stencil goes
    blob = link(stencils, [values, ...], base)         # patched code, then data
"""
