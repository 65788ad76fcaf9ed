"""Python source (via ``ast``) to generic uop IR.

The frontend keeps every SSA value inside the block that defines it; whatever
crosses a block boundary goes through a frame local (user locals, or hidden
``$``-temporaries for ``and``/``or``/conditional expressions and loop state).  So
the generic IR needs no phis, a block boundary is a point where the whole state
is in the frame (the tiered runtime enters and leaves there), and ``promote`` has
real work to do.

``for`` loops are lowered to counted loops over hidden locals: ``range`` loops to
int arithmetic (``$cur < $stop``), other loops to index loops over the sequence
(``$idx < len($seq)``, which is exactly how CPython's list iterator behaves).
Every later pass and the JIT then see plain int arithmetic, not iterators.

Anything outside the supported subset is rejected with
``file:line:col: unsupported: <construct>``.
"""

from .module import compile_source
from .syntax import BUILTINS, UNSUPPORTED_NAMES, FrontendError, unsupported

__all__ = ["BUILTINS", "UNSUPPORTED_NAMES", "FrontendError", "compile_source", "unsupported"]
