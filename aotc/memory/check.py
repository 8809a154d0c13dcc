"""An independent check of an arena plan: alignment, bounds, and no two buffers alive at the same
step sharing a byte, except an output that starts its trail or more below the input it may overlap
(Buffer.trails). It trusts nothing the planner computed but the offsets."""
from __future__ import annotations

import heapq

from .liveness import Buffer


class PlanError(AssertionError):
    pass


def check(bufs: list[Buffer], offsets: dict[str, int], arena_size: int) -> None:
    for b in bufs:
        if b.name not in offsets:
            raise PlanError(f"buffer {b.name} has no offset")
        off = offsets[b.name]
        if off < 0 or off % b.align:
            raise PlanError(f"buffer {b.name} at offset {off} is not {b.align}-byte aligned")
        if off + b.size > arena_size:
            raise PlanError(f"buffer {b.name} [{off}, {off + b.size}) exceeds the arena of {arena_size} bytes")
    _check_no_overlap([b for b in bufs if b.size], offsets)


def _check_no_overlap(bufs: list[Buffer], offsets: dict[str, int]) -> None:
    """A sweep over time: each buffer is compared with the buffers alive when it is born, which are
    all the buffers it shares a step with that were born no later."""
    rank = {id(b): i for i, b in enumerate(sorted(bufs, key=lambda b: offsets[b.name]))}   # address order
    alive: list[tuple[int, int, Buffer]] = []   # heap of (last step, rank, buffer)
    for b in sorted(bufs, key=lambda b: (b.first, rank[id(b)])):
        while alive and alive[0][0] < b.first:
            heapq.heappop(alive)
        for _, _, a in alive:
            low, high = (a, b) if rank[id(a)] < rank[id(b)] else (b, a)
            _check_pair(low, offsets[low.name], high, offsets[high.name])
        heapq.heappush(alive, (b.last, rank[id(b)], b))


def _check_pair(a: Buffer, a_off: int, b: Buffer, b_off: int) -> None:
    """a starts at or below b (a before b in address order) and they share a step."""
    if b_off >= a_off + a.size or b_off >= a_off + a.room_below(b):
        return   # apart, or a may overlap b from below (an output trailing its input, overlap.py)
    raise PlanError(f"buffers {a.name} [{a_off}, {a_off + a.size}) steps {a.first}-{a.last} and "
                    f"{b.name} [{b_off}, {b_off + b.size}) steps {b.first}-{b.last} overlap")
