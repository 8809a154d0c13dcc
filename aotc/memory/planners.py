"""Arena planners, chosen by name. Each maps buffers to {buffer name: offset}.

The heuristics share one placement routine (a buffer goes to the lowest aligned offset that overlaps
no already-placed buffer alive at the same time), so they differ only in the order they place
buffers, as in TVM's USMP. `branch_and_bound` searches placements exactly, and `best` runs them all
and keeps the smallest arena. Everything is deterministic: no clocks, seeded randomness only."""
from __future__ import annotations

import bisect
import random
import threading
from contextlib import contextmanager
from typing import Callable

import numpy as np

from .liveness import Buffer, lower_bound, round_up

PLANNERS: dict[str, Callable[[list[Buffer]], dict[str, int]]] = {}


def planner(name: str):
    def register(fn):
        PLANNERS[name] = fn
        return fn
    return register


def arena_size(bufs: list[Buffer], offsets: dict[str, int]) -> int:
    return max((offsets[b.name] + b.size for b in bufs), default=0)


class Placed:
    """Placed buffers with their offsets, indexed by lifetime so that a query meets only buffers whose
    lifetimes can overlap its own: buffers are grouped by lifetime length (powers of two) and sorted
    by first step within a group, so a chain of short-lived buffers is placed in near-linear time.
    A query that meets many buffers (a wide graph: thousands alive at once) is answered from numpy
    arrays of every placed buffer instead, so its cost per met buffer is a few machine instructions,
    not a Python step: the same answer, with the work of a wide graph done in C."""

    SMALL = 48   # queries meeting at most this many candidates stay in Python

    def __init__(self):
        self._groups: dict[int, tuple[list[int], list[tuple[Buffer, int]]]] = {}
        cap = 64
        self._first = np.zeros(cap, np.int64)
        self._last = np.zeros(cap, np.int64)
        self._off = np.zeros(cap, np.int64)
        self._size = np.zeros(cap, np.int64)
        self._active = np.zeros(cap, bool)
        self._bufs: list[Buffer] = []
        self._slot: dict[str, int] = {}                 # buffer name -> row of the arrays
        self._trails_to: dict[str, list[int]] = {}      # buffer name -> rows of buffers trailing it

    def add(self, buf: Buffer, offset: int) -> None:
        firsts, items = self._groups.setdefault((buf.last - buf.first).bit_length(), ([], []))
        at = bisect.bisect_right(firsts, buf.first)
        firsts.insert(at, buf.first)
        items.insert(at, (buf, offset))
        slot = self._slot.get(buf.name)
        if slot is None:
            slot = self._slot[buf.name] = len(self._bufs)
            self._bufs.append(buf)
            if slot == len(self._first):
                self._first, self._last, self._off, self._size, self._active = (
                    np.concatenate([a, np.zeros_like(a)]) for a in
                    (self._first, self._last, self._off, self._size, self._active))
            for name in buf.trails:
                self._trails_to.setdefault(name, []).append(slot)
        self._first[slot], self._last[slot], self._size[slot] = buf.first, buf.last, buf.size
        self._off[slot], self._active[slot] = offset, True

    def remove(self, buf: Buffer) -> None:
        firsts, items = self._groups[(buf.last - buf.first).bit_length()]
        at = bisect.bisect_left(firsts, buf.first)
        while items[at][0] is not buf:
            at += 1
        del firsts[at], items[at]
        self._active[self._slot[buf.name]] = False

    def _candidates(self, buf: Buffer) -> list[tuple[list, int, int]]:
        """Per lifetime group, the slice of placed buffers born early enough to meet `buf` and no
        later than it dies (a superset of those alive with it)."""
        out = []
        for group, (firsts, items) in self._groups.items():
            longest = (1 << group) - 1   # lifetimes in this group span at most this many steps more
            lo = bisect.bisect_left(firsts, buf.first - longest)
            hi = bisect.bisect_right(firsts, buf.last)
            if hi > lo:
                out.append((items, lo, hi))
        return out

    def alive_with(self, buf: Buffer):
        """(placed buffer, offset) of every placed buffer alive at some step `buf` is alive."""
        for items, lo, hi in self._candidates(buf):
            for b, off in items[lo:hi]:
                if b.last >= buf.first:
                    yield b, off

    def busy(self, buf: Buffer):
        """The ranges of busy(buf, self): a sorted list of (start, end), or, when many buffers are
        alive with `buf`, two numpy arrays (starts ascending, ends in the same order)."""
        cands = self._candidates(buf)
        if sum(hi - lo for _, lo, hi in cands) <= self.SMALL:
            return sorted((off + buf.size - buf.room_below(b), off + b.room_below(buf))
                          for items, lo, hi in cands for b, off in items[lo:hi] if b.last >= buf.first)
        n = len(self._bufs)
        alive = self._active[:n] & (self._last[:n] >= buf.first) & (self._first[:n] <= buf.last)
        rows = np.flatnonzero(alive)
        off = self._off[rows]
        starts, ends = off.copy(), off + self._size[rows]
        # the few pairs where one buffer may overlap the other from below (Buffer.room_below)
        for name, trail in buf.trails.items():
            slot = self._slot.get(name)
            if slot is not None and alive[slot]:
                at = np.searchsorted(rows, slot)
                starts[at] = off[at] + buf.size - trail
        for slot in self._trails_to.get(buf.name, ()):
            if alive[slot]:
                at = np.searchsorted(rows, slot)
                ends[at] = off[at] + self._bufs[slot].trails[buf.name]
        order = np.argsort(starts, kind="stable")
        return starts[order], ends[order]


def busy(buf: Buffer, placed: Placed) -> list[tuple[int, int]]:
    """For each placed buffer alive with `buf`, the range [start, end) `buf` may not overlap: an
    offset o is taken when o < end and start < o + buf.size. That is the placed buffer's bytes,
    unless one of the two may overlap the other from below (Buffer.trails)."""
    ranges = placed.busy(buf)
    if isinstance(ranges, list):
        return ranges
    return sorted(zip(ranges[0].tolist(), ranges[1].tolist()))


def lowest_offset(buf: Buffer, placed: Placed) -> int:
    """The lowest aligned offset where `buf` overlaps no placed buffer alive at the same time."""
    ranges = placed.busy(buf)
    if isinstance(ranges, list):
        offset = 0
        for start, end in ranges:
            if offset + buf.size <= start:
                break
            offset = max(offset, round_up(end, buf.align))
        return offset
    # the same walk over the ranges in start order, vectorised: before range i the offset is the
    # largest rounded-up end of the ranges before it (or 0); the walk stops at the first range that
    # starts at or above that offset plus the buffer's size
    starts, ends = ranges
    if not len(starts):
        return 0
    reach = np.maximum.accumulate((ends + buf.align - 1) // buf.align * buf.align)
    before = np.empty_like(reach)
    before[0] = 0
    np.maximum(reach[:-1], 0, out=before[1:])
    stop = np.flatnonzero(before + buf.size <= starts)
    return int(before[stop[0]]) if len(stop) else max(int(reach[-1]), 0)


MEMO_ORDERS = 8
_memo = threading.local()   # per thread (compiles may run in threads): the stack of same_buffers() blocks


def _memo_stack() -> list[dict]:
    if not hasattr(_memo, "stack"):
        _memo.stack = []
    return _memo.stack


@contextmanager
def same_buffers():
    """Within this block the planners see one unchanging list of buffers, so a placement order met
    again (hill_climb and branch_and_bound start from the greedy orders `best` has just placed) is
    looked up, not placed again."""
    stack = _memo_stack()
    stack.append({})
    try:
        yield
    finally:
        stack.pop()


def place_in_order(order: list[Buffer]) -> dict[str, int]:
    stack = _memo_stack()
    memo = stack[-1] if stack else None
    key = tuple(map(id, order))
    if memo is not None and key in memo:
        return dict(memo[key])
    offsets = _place_in_order(order)
    if memo is not None and len(memo) < MEMO_ORDERS:   # the first few: the greedy orders, not hill_climb's swaps
        memo[key] = dict(offsets)
    return offsets


def _place_in_order(order: list[Buffer]) -> dict[str, int]:
    placed = Placed()
    offsets: dict[str, int] = {}
    for buf in order:
        offsets[buf.name] = offset = lowest_offset(buf, placed)
        placed.add(buf, offset)
    return offsets


def time_conflicts(bufs: list[Buffer]) -> dict[str, int]:
    """For each buffer, how many others are alive at some step it is: all but those that die before
    it is born or are born after it dies (two bisections in sorted lifetimes)."""
    firsts, lasts = sorted(b.first for b in bufs), sorted(b.last for b in bufs)
    n = len(bufs)
    return {b.name: n - 1 - bisect.bisect_left(lasts, b.first) - (n - bisect.bisect_right(firsts, b.last))
            for b in bufs}


@planner("greedy_by_size")
def greedy_by_size(bufs: list[Buffer]) -> dict[str, int]:
    """TFLM's GreedyMemoryPlanner: largest first; ties by earlier first use, then by name."""
    return place_in_order(sorted(bufs, key=lambda b: (-b.size, b.first, b.name)))


@planner("greedy_by_size_late_first")
def greedy_by_size_late_first(bufs: list[Buffer]) -> dict[str, int]:
    """Largest first; ties by later first use. An output that may overlap its input from below
    (Buffer.trails) is then placed before that input, so a chain of such ops builds downwards, each
    input resting its trail above its output."""
    return place_in_order(sorted(bufs, key=lambda b: (-b.size, -b.first, b.name)))


@planner("greedy_by_conflicts")
def greedy_by_conflicts(bufs: list[Buffer]) -> dict[str, int]:
    """USMP's greedy_by_conflicts: the buffers overlapping the most others in time first, then the
    largest."""
    conflicts = time_conflicts(bufs)
    return place_in_order(sorted(bufs, key=lambda b: (-conflicts[b.name], -b.size, b.first, b.name)))


@planner("hill_climb")
def hill_climb(bufs: list[Buffer], iterations: int = 400, seed: int = 0) -> dict[str, int]:
    """USMP's hill climb: start from the better of the two size orders and swap two buffers of the
    placement order, keeping the swap when the arena does not grow (seeded, so deterministic)."""
    order = min((sorted(bufs, key=lambda b: (-b.size, b.first, b.name)),
                 sorted(bufs, key=lambda b: (-b.size, -b.first, b.name))),
                key=lambda o: arena_size(bufs, place_in_order(o)))
    best = place_in_order(order)
    best_size = arena_size(bufs, best)
    bound = lower_bound(bufs)
    rng = random.Random(seed)
    for _ in range(iterations if len(order) > 1 else 0):
        if best_size <= bound:
            break
        i, j = rng.randrange(len(order)), rng.randrange(len(order))
        order[i], order[j] = order[j], order[i]
        offsets = place_in_order(order)
        size = arena_size(bufs, offsets)
        if size <= best_size:
            best, best_size = offsets, size
        else:
            order[i], order[j] = order[j], order[i]
    return best


@planner("branch_and_bound")
def branch_and_bound(bufs: list[Buffer], work_budget: int = 1_000_000) -> dict[str, int]:
    """Exact search over placements, within a work budget: each offset tried costs one plus the
    buffers alive with the one it places (a node budget alone let an unrolled LSTM, whose buffers
    are long-lived, take half a minute). Every placement can be normalised so each buffer sits at 0
    or right above a buffer it overlaps in time, so only those offsets are tried; a branch stops
    when its arena reaches the best found. A buffer that may overlap another from below
    (Buffer.trails) also tries the offset right below it. Starts from the best heuristic plan and
    returns it unless a smaller one is found: the result is optimal when the search finishes within
    the budget or when the arena equals the lower bound."""
    start = min((PLANNERS[n](bufs) for n in ("greedy_by_size", "greedy_by_size_late_first", "greedy_by_conflicts")),
                key=lambda o: arena_size(bufs, o))
    best = [arena_size(bufs, start), dict(start)]
    bound = lower_bound(bufs)
    order = sorted(bufs, key=lambda b: (-b.size, b.first, b.name))
    work = [0]
    placed: list[tuple[Buffer, int]] = []   # the branch so far, in order; `index` holds the same
    index = Placed()

    def search(k: int, top: int) -> None:
        if best[0] <= bound or work[0] >= work_budget:
            return
        if k == len(order):
            best[0], best[1] = top, {b.name: off for b, off in placed}
            return
        buf = order[k]
        overlapping = busy(buf, index)
        candidates = sorted({0} | {round_up(end, buf.align) for _, end in overlapping}
                            | {start - buf.size for start, _ in overlapping if start - buf.size > 0
                               and (start - buf.size) % buf.align == 0})   # right below, overlapping
        for off in candidates:
            if max(top, off + buf.size) >= best[0]:
                break
            work[0] += 1 + len(overlapping)
            if any(off < end and start < off + buf.size for start, end in overlapping):
                continue
            placed.append((buf, off))
            index.add(buf, off)
            search(k + 1, max(top, off + buf.size))
            index.remove(buf)
            placed.pop()

    search(0, 0)
    return best[1]


HEURISTICS = ("greedy_by_size", "greedy_by_size_late_first", "greedy_by_conflicts", "hill_climb",
              "branch_and_bound")


@planner("best")
def best(bufs: list[Buffer]) -> dict[str, int]:
    """The smallest arena any planner finds (ties go to the first in HEURISTICS)."""
    with same_buffers():
        return min((PLANNERS[n](bufs) for n in HEURISTICS), key=lambda o: arena_size(bufs, o))


@planner("unshared")
def unshared(bufs: list[Buffer]) -> dict[str, int]:
    """Every buffer its own region (no reuse): used by per-layer verification to read every
    intermediate tensor after one invoke."""
    offsets, end = {}, 0
    for b in sorted(bufs, key=lambda b: (b.first, b.name)):
        offsets[b.name] = end
        end = round_up(end + b.size, b.align)
    return offsets
