"""generic_c: aotc's own portable C99 kernels (runtime/aotc/*.h), bit-exact with TFLite's reference
kernels. One module per op family registers its lowerings with @lowering("KIND")."""
from __future__ import annotations

import importlib
import pkgutil

from ..base import Backend

LOWERINGS: dict = {}


def lowering(*kinds: str, supports=None):
    """Register fn(op, options) -> KernelCall for these op kinds; `supports(op) -> (ok, reason)`."""
    def register(fn):
        if supports is not None:
            fn.supports = supports
        for k in kinds:
            LOWERINGS[k] = fn
        return fn
    return register


class GenericC(Backend):
    name = "generic_c"
    lowerings = LOWERINGS


# Every module in this package registers its lowerings on import.
for _m in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_m.name}")
