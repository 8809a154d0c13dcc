"""Arena planners, chosen by name. Each returns {buffer name: offset}; the shared placement routine
puts a buffer at the lowest aligned offset that overlaps no already-placed buffer alive at the same
time, so planners differ only in the order they place buffers (as in TVM's USMP)."""
from __future__ import annotations

from typing import Callable

from .liveness import Buffer, round_up

PLANNERS: dict[str, Callable[[list[Buffer]], dict[str, int]]] = {}


def planner(name: str):
    def register(fn):
        PLANNERS[name] = fn
        return fn
    return register


def place_in_order(order: list[Buffer]) -> dict[str, int]:
    placed: list[tuple[Buffer, int]] = []
    offsets: dict[str, int] = {}
    for buf in order:
        busy = sorted((off, off + b.size) for b, off in placed if b.overlaps_in_time(buf))
        offset = 0
        for start, end in busy:
            if offset + buf.size <= start:
                break
            offset = max(offset, round_up(end, buf.align))
        offsets[buf.name] = offset
        placed.append((buf, offset))
    return offsets


@planner("greedy_by_size")
def greedy_by_size(bufs: list[Buffer]) -> dict[str, int]:
    """TFLM's GreedyMemoryPlanner: largest first; ties by earlier first use, then by name."""
    return place_in_order(sorted(bufs, key=lambda b: (-b.size, b.first, b.name)))


@planner("unshared")
def unshared(bufs: list[Buffer]) -> dict[str, int]:
    """Every buffer its own region (no reuse): used by per-layer verification to read every
    intermediate tensor after one invoke."""
    offsets, end = {}, 0
    for b in sorted(bufs, key=lambda b: (b.first, b.name)):
        offsets[b.name] = end
        end = round_up(end + b.size, b.align)
    return offsets
