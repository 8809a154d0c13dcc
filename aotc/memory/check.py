"""An independent check of an arena plan: alignment, bounds, and no two buffers alive at the same
step sharing a byte, except an output that starts its trail or more below the input it may overlap
(Buffer.trails). It trusts nothing the planner computed but the offsets."""
from __future__ import annotations

import numpy as np

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
    all the buffers it shares a step with that were born no later. The comparison with them is one
    numpy expression (a wide graph has thousands alive at once) that flags every pair whose bytes
    meet; each flagged pair is then judged by _check_pair, which alone knows the overlaps an output
    trailing its input may have."""
    ordered = sorted(bufs, key=lambda b: offsets[b.name])   # address order
    rank = {id(b): i for i, b in enumerate(ordered)}
    visit = sorted(bufs, key=lambda b: (b.first, rank[id(b)]))
    last = np.array([b.last for b in visit], np.int64)
    off = np.array([offsets[b.name] for b in visit], np.int64)
    size = np.array([b.size for b in visit], np.int64)
    ranks = np.array([rank[id(b)] for b in visit], np.int64)
    alive = np.zeros(0, np.int64)   # rows of `visit` born so far and not yet dead
    for i, b in enumerate(visit):
        alive = alive[last[alive] >= b.first]
        if len(alive):
            below = ranks[alive] < ranks[i]   # the alive buffer is the lower one of the pair
            meet = np.where(below, off[i] < off[alive] + size[alive], off[alive] < off[i] + size[i])
            for j in alive[meet].tolist():
                a = visit[j]
                low, high = (a, b) if ranks[j] < ranks[i] else (b, a)
                _check_pair(low, offsets[low.name], high, offsets[high.name])
        alive = np.append(alive, i)


def _check_pair(a: Buffer, a_off: int, b: Buffer, b_off: int) -> None:
    """a starts at or below b (a before b in address order) and they share a step."""
    if b_off >= a_off + a.size or b_off >= a_off + a.room_below(b):
        return   # apart, or a may overlap b from below (an output trailing its input, overlap.py)
    raise PlanError(f"buffers {a.name} [{a_off}, {a_off + a.size}) steps {a.first}-{a.last} and "
                    f"{b.name} [{b_off}, {b_off + b.size}) steps {b.first}-{b.last} overlap")


class ScheduleError(AssertionError):
    pass


def check_schedule(graph, calls, ops=None, views=None) -> None:
    """An independent check of an execution order: no op appears twice (and with `ops`, each of
    them exactly once), every non-constant tensor an op reads is a graph input, state, or written
    by an earlier step, no tensor is written twice, and every graph output is written.
    With `views` (tensor -> (owner, offset), patch-based execution: bands of a tensor, line
    buffers), a band counts as written once a step wrote the tensor holding it or a band of it."""
    views = views or {}

    def storage(t):
        while t in views:
            t = views[t][0]
        return t
    seen: set[int] = set()
    written = set(graph.inputs)
    for step, call in enumerate(calls):
        op = call.op
        if id(op) in seen:
            raise ScheduleError(f"step {step}: op {op.index} {op.kind} is scheduled twice")
        seen.add(id(op))
        for t in op.inputs:
            if (t is not None and not t.is_const and not t.variable and t not in written
                    and (t not in views or storage(t) not in written)):
                raise ScheduleError(f"step {step}: op {op.index} {op.kind} reads tensor {t.index} "
                                    f'"{t.name}" before any step writes it')
        for t in op.outputs:
            if t in written and not t.variable:
                raise ScheduleError(f"step {step}: op {op.index} {op.kind} writes tensor {t.index} "
                                    f'"{t.name}", which an earlier step or the caller already wrote')
            written.add(t)
            written.add(storage(t))
    if ops is not None:
        missing = [op for op in ops if id(op) not in seen]
        if missing or len(seen) != len(ops):
            what = f"op {missing[0].index} {missing[0].kind} is never scheduled" if missing else \
                   f"{len(seen)} steps for {len(ops)} ops"
            raise ScheduleError(f"the schedule does not run the graph: {what}")
    for t in graph.outputs:
        if not t.is_const and t not in written and storage(t) not in written:
            raise ScheduleError(f'graph output tensor {t.index} "{t.name}" is never written')


def check_views(calls, buffers, views, external=()) -> None:
    """Every tensor a step touches lives in storage alive at that step: its own buffer, or, for a
    view (alias, in-place, concatenation slice, band), its owner's buffer, which must cover the
    step and hold the view's bytes. Tensors in the caller's buffers (`external` owners) are alive
    for the whole invoke."""
    by_tensor = {b.tensor: b for b in buffers if b.tensor is not None}
    for step, call in enumerate(calls):
        for t in list(call.op.inputs) + list(call.op.outputs):
            if t is None or t.is_const:
                continue
            owner, offset = views.get(t, (t, 0))
            if owner in external:
                continue
            b = by_tensor.get(owner)
            if b is None:
                raise PlanError(f"step {step}: tensor {t.index} \"{t.name}\" has no storage")
            if not b.first <= step <= b.last:
                raise PlanError(f"step {step}: tensor {t.index} \"{t.name}\" lives in buffer {b.name}, "
                                f"which is alive only in steps {b.first}-{b.last}")
            if offset < 0 or offset + t.nbytes > b.size:
                raise PlanError(f"tensor {t.index} \"{t.name}\" at byte {offset} of buffer {b.name} "
                                f"({b.size} bytes) does not fit in it")
