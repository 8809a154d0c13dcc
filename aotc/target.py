"""Targets are data: one TOML file per chip in targets/ (CPU, flags, alignment, backends in order)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import UsageError
from .resources import resource_dir

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    alignment: int
    backends: tuple[str, ...]
    cflags: tuple[str, ...] = ()
    raw: dict = field(default_factory=dict, compare=False, hash=False)


def available() -> list[str]:
    return sorted(p.stem for p in resource_dir("targets").glob("*.toml"))


def load(name: str) -> Target:
    path = resource_dir("targets") / f"{name}.toml"
    if not path.is_file():
        raise UsageError(f"unknown target '{name}' (available: {', '.join(available())})")
    raw = tomllib.loads(path.read_text())
    return Target(raw["name"], raw.get("description", ""), int(raw.get("alignment", 16)),
                  tuple(raw["backends"]), tuple(raw.get("cflags", ())), raw)
