"""Several memory pools (for example DTCM and SRAM on a Cortex-M55, L1 and L2 on GAP9): the hottest
buffers go to the first (fastest) pool while they fit, the rest to the next pool, and so on.

Heat is how often a buffer's bytes are touched per byte: the MACs (or, for ops without MACs, the
elements) of every op that reads or writes it, over its size. Buffers are placed hottest first with
the shared first-fit placement, each into the first pool where it fits under that pool's limit; each
pool is then planned again with the chosen planner and keeps the smaller of the two plans."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UsageError
from .liveness import Buffer
from .planners import Placed, lowest_offset

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
RESERVED = {"arena", "ctx", "input", "output"}


@dataclass(frozen=True)
class Pool:
    name: str
    limit: int | None      # bytes; None: no limit (only the last pool)


def parse(spec: str, target_pools) -> list[Pool]:
    """"target" -> the target's [[pools]]; "dtcm=65536,sram" -> those pools, fastest first (the
    last may omit its size)."""
    if spec == "target":
        if not target_pools:
            raise UsageError("--pools target: this target lists no [[pools]]")
        pools = [Pool(p["name"], int(p["bytes"])) for p in target_pools]
    else:
        pools = []
        for item in (s.strip() for s in spec.split(",")):
            name, _, size = item.partition("=")
            try:
                limit = int(size) if size else None
            except ValueError:
                raise UsageError(f"--pools: '{item}' is not NAME=BYTES") from None
            pools.append(Pool(name, limit))
    names = [p.name for p in pools]
    for p in pools:
        if not IDENT.match(p.name) or p.name.lower() in RESERVED:
            raise UsageError(f"--pools: '{p.name}' is not a usable pool name (a C identifier, not "
                             f"{', '.join(sorted(RESERVED))})")
        if p.limit is not None and p.limit <= 0:
            raise UsageError(f"--pools: pool {p.name} needs a positive size")
    if len(set(names)) != len(names) or len(pools) < 2:
        raise UsageError("--pools: name two or more distinct pools, fastest first")
    if any(p.limit is None for p in pools[:-1]):
        raise UsageError("--pools: only the last pool may leave its size open")
    return pools


def assign(bufs: list[Buffer], calls, pools: list[Pool], owners) -> tuple[dict[str, str], dict[str, int]]:
    """(buffer name -> pool name, buffer name -> first-fit offset in its pool). `owners(t)` maps a
    tensor to the tensor owning its storage, so a buffer counts the ops that touch any view of it."""
    h = heat(bufs, calls, owners)
    placed = {p.name: Placed() for p in pools}
    where: dict[str, str] = {}
    offsets: dict[str, int] = {}
    for b in sorted(bufs, key=lambda b: (-h[b.name], b.first, b.name)):
        for p in pools:
            off = lowest_offset(b, placed[p.name])
            if p.limit is None or off + b.size <= p.limit:
                placed[p.name].add(b, off)
                where[b.name] = p.name
                offsets[b.name] = off
                break
        else:
            raise UsageError(f"buffer {b.name} ({b.size:,} bytes) fits in none of the pools "
                             f"{', '.join(f'{p.name} ({p.limit:,})' for p in pools)}")
    return where, offsets


def heat(bufs: list[Buffer], calls, owners) -> dict[str, float]:
    """Bytes touched per byte of each buffer over one invoke."""
    out = {}
    for b in bufs:
        work = 0
        for step in range(b.first, b.last + 1):
            call = calls[step]
            if b.tensor is None:
                touches = b.name == f"scratch{step}"
            else:
                touches = any(t is not None and not t.is_const and owners(t) is b.tensor
                              for t in call.op.inputs + call.op.outputs)
            if touches:
                work += max(call.macs, b.size)
        out[b.name] = work / max(b.size, 1)
    return out

