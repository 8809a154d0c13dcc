"""generic_c: aotc's own portable C99 kernels (runtime/aotc/*.h), bit-exact with TFLite's reference
kernels. One module per op family registers its lowerings with @lowering("KIND")."""
from __future__ import annotations

import importlib
import pkgutil

from ..base import Backend, lowering_registry

LOWERINGS, lowering = lowering_registry()


class GenericC(Backend):
    name = "generic_c"
    lowerings = LOWERINGS


# Every module in this package registers its lowerings on import.
for _m in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_m.name}")
