"""An independent check of an arena plan: alignment, bounds, and no two buffers alive at the same
step sharing a byte, except an output that starts its trail or more below the input it may overlap
(Buffer.trails). It trusts nothing the planner computed but the offsets."""
from __future__ import annotations

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
    events = sorted(bufs, key=lambda b: offsets[b.name])
    for i, a in enumerate(events):
        a_off = offsets[a.name]
        for b in events[i + 1:]:
            b_off = offsets[b.name]
            if b_off >= a_off + a.size:
                break
            if b_off >= a_off + a.room_below(b):
                continue   # a may overlap b from below (an output trailing its input, overlap.py)
            if a.overlaps_in_time(b) and a.size and b.size:
                raise PlanError(f"buffers {a.name} [{a_off}, {a_off + a.size}) steps {a.first}-{a.last} and "
                                f"{b.name} [{b_off}, {b_off + b.size}) steps {b.first}-{b.last} overlap")
