"""Static memory planning: liveness -> buffers -> planner -> checked Plan."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
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
