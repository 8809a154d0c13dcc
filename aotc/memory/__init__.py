"""Static memory planning: liveness -> buffers -> planner -> checked Plan."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ModelError, UsageError
from ..ir import Graph, Tensor
from .check import check
from .liveness import Buffer, buffers, lower_bound, round_up
from .planners import PLANNERS


@dataclass
class Plan:
    buffers: list[Buffer]
    offsets: dict[str, int]
    arena_size: int
    lower_bound: int
    planner: str
    align: int
    alias: dict[Tensor, Tensor]

    def buffer_of(self, t: Tensor) -> Buffer:
        t = self.alias.get(t, t)
        for b in self.buffers:
            if b.tensor is t:
                return b
        raise KeyError(t)

    def offset_of(self, t: Tensor) -> int:
        return self.offsets[self.buffer_of(t).name]

    def scratch_offset(self, step: int) -> int:
        return self.offsets[f"scratch{step}"]


def plan(graph: Graph, calls, align: int = 16, planner: str = "greedy_by_size") -> Plan:
    if planner not in PLANNERS:
        raise UsageError(f"unknown planner '{planner}' (known: {', '.join(sorted(PLANNERS))})")
    bufs, alias = buffers(graph, calls, align)
    offsets = PLANNERS[planner](bufs)
    size = round_up(max((offsets[b.name] + b.size for b in bufs), default=0), align)
    check(bufs, offsets, size)
    return Plan(bufs, offsets, size, lower_bound(bufs), planner, align, alias)


def check_fits(plan: Plan, limit: int | None, what: str) -> None:
    """ModelError when the arena exceeds `limit` bytes: by how much, and which buffer is largest."""
    if limit is None or plan.arena_size <= limit:
        return
    big = max(plan.buffers, key=lambda b: (b.size, b.name))
    t = big.tensor
    desc = f'tensor {t.index} "{t.name}"' if t is not None else big.name
    raise ModelError(f"the arena needs {plan.arena_size:,} bytes, {plan.arena_size - limit:,} more than the "
                     f"{limit:,} of {what}; the largest buffer is {desc}, {big.size:,} bytes, "
                     f"live from step {big.first} to {big.last}")
