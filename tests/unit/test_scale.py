"""Compile time on large graphs, asserted on the work done, never on the clock: the planners place
each greedy order once, a wide graph's placement and plan check do no Python step per pair of
buffers alive together, and the generated invoke of a long chain is split into step functions."""
from __future__ import annotations

import random

import importlib

import pytest

from aotc.memory import planners
from aotc.memory.check import PlanError, check
from aotc.memory.liveness import Buffer, round_up

check_mod = importlib.import_module("aotc.memory.check")   # aotc.memory.check is also the function


def wide_buffers(n: int, size: int = 16) -> list[Buffer]:
    """n buffers all alive at the last step (a graph fanning out to n branches joined at the end)."""
    return [Buffer(f"b{k}", size, 16, k, n) for k in range(n)]


class Counter:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *a, **kw):
        self.calls += 1
        return self.fn(*a, **kw)


def test_best_places_each_greedy_order_once(monkeypatch):
    """`best` ran 9 placements for 3 distinct greedy orders (hill_climb and branch_and_bound restart
    from them); each is now placed once and looked up after."""
    bufs = wide_buffers(50)
    count = Counter(planners._place_in_order)
    monkeypatch.setattr(planners, "_place_in_order", count)
    planners.PLANNERS["best"](bufs)
    assert count.calls <= 3   # greedy_by_size, greedy_by_size_late_first, greedy_by_conflicts (before: 9)


def test_wide_placement_does_no_python_step_per_pair(monkeypatch):
    """n buffers alive together: each placement met every placed one in Python (n^2/2 pairs, two
    room_below calls each); the vectorised path calls room_below only for trail pairs."""
    n = 400
    bufs = wide_buffers(n)
    count = Counter(Buffer.room_below)
    monkeypatch.setattr(Buffer, "room_below", lambda self, other: count(self, other))
    offsets = planners.greedy_by_size(bufs)
    assert count.calls <= 4 * planners.Placed.SMALL ** 2   # the few small queries at the start, not n^2
    assert sorted(offsets.values()) == [16 * k for k in range(n)]


def test_wide_plan_check_judges_only_pairs_that_meet(monkeypatch):
    """The check compared every pair alive together in Python; now only pairs whose bytes meet."""
    n = 400
    bufs = wide_buffers(n)
    offsets = {b.name: 16 * k for k, b in enumerate(bufs)}
    count = Counter(check_mod._check_pair)
    monkeypatch.setattr(check_mod, "_check_pair", count)
    check(bufs, offsets, 16 * n)
    assert count.calls == 0
    offsets["b300"] = offsets["b7"]   # one overlap among thousands of pairs is still found
    monkeypatch.undo()
    with pytest.raises(PlanError, match="b7 .* b300|b300 .* b7"):
        check(bufs, offsets, 16 * n)


def random_buffers(rng: random.Random, n: int, steps: int, trails: bool) -> list[Buffer]:
    bufs = []
    for k in range(n):
        first = rng.randrange(steps)
        bufs.append(Buffer(f"t{k}", rng.choice([16, 48, 64, 100, 256]), rng.choice([1, 16]),
                           first, first + rng.choice([0, 1, 3, steps // 2, steps])))
    if trails:   # outputs that may overlap their inputs from below (Buffer.trails)
        for a, b in zip(bufs, bufs[1:]):
            if rng.random() < 0.3 and a.overlaps_in_time(b):
                b.trails[a.name] = rng.choice([0, 16, b.size // 2])
    return bufs


@pytest.mark.parametrize("seed", range(6))
def test_vectorised_placement_is_the_python_placement(monkeypatch, seed):
    """The numpy path answers every query exactly as the Python walk does (trails included)."""
    rng = random.Random(seed)
    bufs = random_buffers(rng, 120, 40, trails=seed % 2 == 0)
    results = []
    for small in (10 ** 9, 0):   # every query in Python, then every query in numpy
        monkeypatch.setattr(planners.Placed, "SMALL", small)
        results.append({name: planners.PLANNERS[name](bufs) for name in planners.HEURISTICS[:3]})
    assert results[0] == results[1]
    for offsets in results[1].values() if seed % 2 else ():   # (random trails are not all real ones)
        check(bufs, offsets, round_up(planners.arena_size(bufs, offsets), 16))
