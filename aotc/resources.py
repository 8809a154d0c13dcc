"""Locate the data shipped with aotc (codegen_templates/, targets/, runtime/): inside the installed
package (aotc/<name>, mapped by pyproject.toml) or, in a source checkout, beside the package."""
from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    for candidate in (_PKG / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"aotc data folder '{name}' is missing from the installation")
