"""Static memory planning: liveness -> buffers -> planner -> checked Plan."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ModelError, UsageError
from ..ir import Graph, Tensor
from .check import check
from .liveness import Buffer, buffers, lower_bound, round_up
from .planners import PLANNERS


IO_MODES = ("caller", "arena")


@dataclass
class Plan:
    buffers: list[Buffer]
    offsets: dict[str, int]
    arena_size: int
    lower_bound: int
    planner: str
    align: int
    alias: dict[Tensor, Tensor]
    io: str = "arena"
    # tensors whose storage is a caller's buffer: owner tensor -> ("input" | "output", position)
    external: dict[Tensor, tuple[str, int]] = field(default_factory=dict)

    def owner(self, t: Tensor) -> Tensor:
        return self.alias.get(t, t)

    def buffer_of(self, t: Tensor) -> Buffer:
        t = self.owner(t)
        for b in self.buffers:
            if b.tensor is t:
                return b
        raise KeyError(t)

    def location(self, t: Tensor) -> tuple[str, int]:
        """("arena", offset) or ("input" | "output", position) of the caller's buffer holding t."""
        ext = self.external.get(self.owner(t))
        return ext if ext is not None else ("arena", self.offset_of(t))

    def offset_of(self, t: Tensor) -> int:
        return self.offsets[self.buffer_of(t).name]

    def scratch_offset(self, step: int) -> int:
        return self.offsets[f"scratch{step}"]


def external_storage(graph: Graph, alias: dict[Tensor, Tensor]) -> dict[Tensor, tuple[str, int]]:
    """Zero-copy I/O: kernels read graph inputs from the caller's input buffers and write graph outputs
    straight into the caller's output buffers. An output that views an input, or a second output
    viewing the same tensor as an earlier one, stays a copy (codegen emits it)."""
    external: dict[Tensor, tuple[str, int]] = {}
    for i, t in enumerate(graph.inputs):
        external[alias.get(t, t)] = ("input", i)
    for j, t in enumerate(graph.outputs):
        external.setdefault(alias.get(t, t), ("output", j))
    return external


def plan(graph: Graph, calls, align: int = 16, planner: str = "greedy_by_size", io: str = "arena") -> Plan:
    if planner not in PLANNERS:
        raise UsageError(f"unknown planner '{planner}' (known: {', '.join(sorted(PLANNERS))})")
    if io not in IO_MODES:
        raise UsageError(f"unknown I/O mode '{io}' (known: {', '.join(IO_MODES)})")
    bufs, alias = buffers(graph, calls, align)
    external = external_storage(graph, alias) if io == "caller" else {}
    bufs = [b for b in bufs if b.tensor is None or b.tensor not in external]
    offsets = PLANNERS[planner](bufs)
    # at least one aligned block even when every tensor lives in the caller's buffers: C has no
    # zero-length arrays, and the API stays the same for every model
    size = max(round_up(max((offsets[b.name] + b.size for b in bufs), default=0), align), align)
    check(bufs, offsets, size)
    return Plan(bufs, offsets, size, lower_bound(bufs), planner, align, alias, io, external)


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
