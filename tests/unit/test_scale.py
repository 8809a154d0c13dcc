"""Compile time on large graphs, asserted on the work done, never on the clock: the planners place
each greedy order once, a wide graph's placement and plan check do no Python step per pair of
buffers alive together, and the generated invoke of a long chain is split into step functions."""
from __future__ import annotations

import random

import importlib
import re
import shutil
import subprocess

import numpy as np
import pytest

import aotc
from aotc import codegen
from aotc.tflite_writer import ModelBuilder
from aotc.verify import verify

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


# ---- the generated invoke of a long chain -------------------------------------------------------

def add_chain(n: int) -> bytes:
    rng = np.random.default_rng(0)
    mb = ModelBuilder()
    q = dict(scale=0.05, zero_point=-3)
    x = mb.tensor("x", (1, 64), "int8", **q)
    c = mb.tensor("c", (1, 64), "int8", data=rng.integers(-8, 9, (1, 64)), **q)
    t = x
    for k in range(n):
        y = mb.tensor(f"a{k}", (1, 64), "int8", **q)
        mb.op("ADD", [t, c], [y], {"FusedActivationFunction": 0})
        t = y
    return mb.build([x], [t])


def steps_per_function(c_text: str) -> dict[str, list[int]]:
    """Function name -> the step numbers whose comments it holds."""
    out: dict[str, list[int]] = {}
    fn = None
    for line in c_text.splitlines():
        m = re.match(r"^(?:static )?\w[\w\s\*]*?\b(\w+)\(.*\)$", line)
        if m and not line.startswith(" "):
            fn = m.group(1)
            out[fn] = []
        s = re.match(r"^    /\* step (\d+): op ", line)
        if s:
            out[fn].append(int(s.group(1)))
    return out


def test_large_invoke_is_split_into_step_functions(tmp_path):
    """A 1,000-op chain was one invoke of 1,000 steps, which gcc -O1 builds in time superlinear in its
    size; now static functions of at most STEPS_PER_FUNCTION steps, named by their step range, each
    step still commented, warning-free under gcc and clang, and bit-exact against LiteRT."""
    model = add_chain(1000)
    compiled = aotc.compile(model, name="chain", out_dir=tmp_path / "out", measure_code=False)
    text = compiled.files["chain.c"]
    fns = steps_per_function(text)
    assert fns["chain_invoke"] == []
    parts = {f: s for f, s in fns.items() if s}
    assert max(len(s) for s in parts.values()) <= codegen.STEPS_PER_FUNCTION
    assert sorted(x for s in parts.values() for x in s) == list(range(1000))
    for f, s in parts.items():
        assert f == f"chain_steps_{s[0]}_{s[-1]}" and s == list(range(s[0], s[-1] + 1))
        assert f"    {f}(arena, input0, output0);" in text
    for cc in ("gcc", "clang"):
        if shutil.which(cc):
            subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion",
                            "-Werror", "-O1", "-c", str(tmp_path / "out" / "chain.c"), "-I", str(tmp_path / "out"),
                            "-o", str(tmp_path / f"{cc}.o")], check=True)
    r = verify(model, inputs=2)
    assert all(o.bit_exact for o in r.outputs)


def test_small_invoke_keeps_its_steps():
    text = aotc.compile(add_chain(codegen.STEPS_PER_FUNCTION), name="chain", measure_code=False).files["chain.c"]
    fns = steps_per_function(text)
    assert fns["chain_invoke"] == list(range(codegen.STEPS_PER_FUNCTION))
    assert "_steps_" not in text
