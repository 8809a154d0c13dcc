"""Kernel libraries, by name. A target lists the backends it may use in order of preference."""
from __future__ import annotations

from .base import Backend, KernelCall
from .cmsis_nn import CmsisNN
from .generic_c import GenericC

BACKENDS: dict[str, Backend] = {b.name: b for b in (GenericC(), CmsisNN())}

__all__ = ["BACKENDS", "Backend", "KernelCall"]
