"""Operator definitions, one module per family; importing a module registers its ops in OPS."""
import importlib
import pkgutil

from .registry import OPS, OpDef, op

__all__ = ["OPS", "OpDef", "op"]

for _m in pkgutil.iter_modules(__path__):
    if _m.name != "registry":
        importlib.import_module(f"{__name__}.{_m.name}")
