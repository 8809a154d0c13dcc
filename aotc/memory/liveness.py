"""Liveness over the schedule: every activation tensor and kernel scratch buffer becomes a Buffer
with a lifetime [first, last] in op steps. Aliased tensors (RESHAPE/SQUEEZE outputs) share the
buffer of the tensor they view, whose lifetime grows to cover them. Variable (state) tensors live
over every step, so no other buffer ever shares their bytes and they survive from invoke to invoke."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import UnsupportedError, where
from ..ir import Graph, Tensor


@dataclass
class Buffer:
    name: str
    size: int
    align: int
    first: int
    last: int
    tensor: Tensor | None = None      # None for scratch
    pool: str = "arena"

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last


def round_up(n: int, align: int) -> int:
    return (n + align - 1) // align * align


def buffers(graph: Graph, calls, align: int) -> tuple[list[Buffer], dict[Tensor, Tensor]]:
    """Return the buffers to place and the alias map (tensor -> tensor owning its storage)."""
    root: dict[Tensor, Tensor] = {}

    def owner(t: Tensor) -> Tensor:
        while t in root:
            t = root[t]
        return t

    for call in calls:
        if call.alias:
            src = owner(call.op.inputs[0])
            if src.is_const:  # nothing would ever write the output's bytes in the arena
                raise UnsupportedError(f"{where(call.op, call.op.outputs[0])}: output views constant data "
                                       "(a graph output that is a reshaped constant is not supported)")
            root[call.op.outputs[0]] = src

    last_step = max(len(calls) - 1, 0)
    span: dict[Tensor, list[int]] = {}

    def touch(t: Tensor | None, step: int) -> None:
        if t is None or t.is_const:
            return
        t = owner(t)
        s = span.setdefault(t, [step, step])
        s[0], s[1] = min(s[0], step), max(s[1], step)

    for t in graph.inputs:
        touch(t, 0)
    for step, call in enumerate(calls):
        for t in call.op.inputs:
            touch(t, step)
        for t in call.op.outputs:
            touch(t, step)
    for t in graph.outputs:
        touch(t, last_step)
    for t in list(span):   # state lives for the whole invoke and keeps its bytes between invokes
        if t.variable:
            span[t] = [0, last_step]

    bufs = [Buffer(f"t{t.index}" if t.index >= 0 else t.name, t.nbytes, align, s[0], s[1], tensor=t)
            for t, s in span.items()]
    for step, call in enumerate(calls):
        if call.scratch_bytes:
            bufs.append(Buffer(f"scratch{step}", call.scratch_bytes, align, step, step))
    return bufs, {t: owner(t) for t in root}


def lower_bound(bufs: list[Buffer]) -> int:
    """The largest total of (aligned) sizes live at one step: no placement can use less."""
    if not bufs:
        return 0
    steps = max(b.last for b in bufs) + 1
    return max(sum(round_up(b.size, b.align) for b in bufs if b.first <= s <= b.last) for s in range(steps))
