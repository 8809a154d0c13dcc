"""Arena planning: exact offsets of greedy_by_size on hand-made buffer lists (in the style of TFLM's
greedy_memory_planner_test), the lower bound, the independent checker, random lifetimes, and
RESHAPE aliasing in a compiled model."""
from __future__ import annotations

import numpy as np
import pytest

import aotc
from aotc.memory import plan as plan_graph
from aotc.memory.check import PlanError, check
from aotc.memory.liveness import Buffer, lower_bound, round_up
from aotc.memory.planners import PLANNERS, greedy_by_size
from aotc.tflite_writer import ModelBuilder


def bufs(*specs, align=1):
    """specs: (name, size, first, last)."""
    return [Buffer(n, size, align, first, last) for n, size, first, last in specs]


def arena_of(bs, offsets, align):
    return round_up(max((offsets[b.name] + b.size for b in bs), default=0), align)


# ---- exact placements ---------------------------------------------------------------------------

# (buffers, align, expected offsets, expected arena, expected lower bound)
CASES = {
    "three_buffers": (
        [("b0", 10, 0, 1), ("b1", 20, 2, 3), ("b2", 10, 1, 2)], 1,
        {"b1": 0, "b0": 0, "b2": 20}, 30, 30),
    "long_lived_small_goes_on_top": (
        [("a", 1000, 0, 1), ("b", 500, 1, 2), ("c", 1000, 2, 3), ("d", 200, 0, 3)], 1,
        {"a": 0, "c": 0, "b": 1000, "d": 1500}, 1700, 1700),
    "aligned_to_16": (
        [("p", 10, 0, 0), ("q", 33, 0, 1), ("r", 7, 1, 2)], 16,
        {"q": 0, "p": 48, "r": 48}, 64, 64),
    "ties_by_first_use_then_name": (
        [("x1", 100, 2, 3), ("x2", 100, 0, 1), ("x3", 100, 1, 2), ("x0", 100, 2, 3)], 1,
        {"x2": 0, "x3": 100, "x0": 0, "x1": 200}, 300, 300),
    "small_buffer_fills_a_hole": (
        [("big1", 400, 0, 1), ("big2", 300, 1, 4), ("mid", 200, 2, 3), ("small", 100, 0, 4)], 1,
        {"big1": 0, "big2": 400, "mid": 0, "small": 700}, 800, 800),
    "later_buffers_stack_at_zero": (
        [("a", 64, 0, 0), ("b", 32, 0, 2), ("c", 48, 1, 1), ("d", 40, 2, 2)], 8,
        # a, c, d never live together: all at 0; b lives with each of them and goes above a
        {"a": 0, "c": 0, "d": 0, "b": 64}, 96, 96),
    "hole_too_small_is_skipped_and_filled_later": (
        # Q@0 pushes P to 70; R fits under P once Q is dead, leaving the hole [50, 70). S (25) does
        # not fit in it and goes on top at 130; T (20) then fills it exactly.
        [("Q", 70, 0, 0), ("P", 60, 0, 2), ("R", 50, 1, 2), ("S", 25, 2, 2), ("T", 20, 2, 2)], 1,
        {"Q": 0, "P": 70, "R": 0, "S": 130, "T": 50}, 155, 155),
    "greedy_above_lower_bound": (
        # the same without T: greedy needs 155 bytes while no step has more than 135 live
        [("Q", 70, 0, 0), ("P", 60, 0, 2), ("R", 50, 1, 2), ("S", 25, 2, 2)], 1,
        {"Q": 0, "P": 70, "R": 0, "S": 130}, 155, 135),
    "zero_size_buffer": (
        [("z", 0, 0, 3), ("a", 16, 0, 3)], 16,
        {"a": 0, "z": 0}, 16, 16),
    "disjoint_lifetimes_share_offset_zero": (
        [("s0", 100, 0, 0), ("s1", 90, 1, 1), ("s2", 80, 2, 2), ("s3", 70, 3, 3)], 4,
        {"s0": 0, "s1": 0, "s2": 0, "s3": 0}, 100, 100),
}


@pytest.mark.parametrize("case", list(CASES))
def test_greedy_by_size_exact_offsets(case):
    specs, align, expected, arena, lb = CASES[case]
    bs = bufs(*specs, align=align)
    offsets = greedy_by_size(bs)
    assert offsets == expected
    assert arena_of(bs, offsets, align) == arena
    assert lower_bound(bs) == lb
    check(bs, offsets, arena)


def test_greedy_is_independent_of_input_order():
    specs, align, expected, _, _ = CASES["small_buffer_fills_a_hole"]
    for perm in ([3, 2, 1, 0], [1, 3, 0, 2]):
        assert greedy_by_size(bufs(*[specs[i] for i in perm], align=align)) == expected


def test_lower_bound_cases():
    assert lower_bound([]) == 0
    assert lower_bound(bufs(("a", 10, 0, 0), ("b", 10, 1, 1))) == 10
    assert lower_bound(bufs(("a", 10, 0, 1), ("b", 10, 1, 1))) == 20
    # sizes are counted aligned
    assert lower_bound(bufs(("a", 1, 0, 1), ("b", 1, 1, 1), align=16)) == 32
    assert lower_bound(bufs(("a", 5, 0, 4), ("b", 7, 2, 3), ("c", 11, 3, 9))) == 23


def test_unshared_planner_gives_every_buffer_its_own_region():
    bs = bufs(("a", 10, 0, 0), ("b", 20, 1, 1), ("c", 5, 2, 2), align=16)
    offsets = PLANNERS["unshared"](bs)
    assert offsets == {"a": 0, "b": 16, "c": 48}
    check(bs, offsets, 64)


# ---- the checker ----------------------------------------------------------------------------------

def test_checker_rejects_overlap():
    bs = bufs(("a", 32, 0, 2), ("b", 32, 2, 3), align=16)
    with pytest.raises(PlanError, match="overlap"):
        check(bs, {"a": 0, "b": 16}, 64)
    check(bs, {"a": 0, "b": 32}, 64)          # adjacent is fine


def test_checker_rejects_overlap_hidden_behind_a_later_start():
    # c starts inside a and overlaps it; b sits between them in offset order but lives elsewhere
    bs = bufs(("a", 100, 0, 0), ("b", 4, 5, 5), ("c", 10, 0, 0), align=4)
    with pytest.raises(PlanError, match="overlap"):
        check(bs, {"a": 0, "b": 8, "c": 96}, 112)


def test_checker_accepts_same_offset_at_different_times():
    bs = bufs(("a", 32, 0, 1), ("b", 32, 2, 3), align=16)
    check(bs, {"a": 0, "b": 0}, 32)


def test_checker_rejects_misaligned_offset():
    bs = bufs(("a", 32, 0, 1), ("b", 32, 2, 3), align=16)
    with pytest.raises(PlanError, match="aligned"):
        check(bs, {"a": 0, "b": 8}, 64)
    with pytest.raises(PlanError, match="aligned"):
        check(bs, {"a": -16, "b": 0}, 64)


def test_checker_rejects_buffer_past_arena_and_missing_offset():
    bs = bufs(("a", 32, 0, 1), align=16)
    with pytest.raises(PlanError, match="exceeds"):
        check(bs, {"a": 16}, 32)
    with pytest.raises(PlanError, match="no offset"):
        check(bs, {}, 32)


# ---- random lifetimes -----------------------------------------------------------------------------

@pytest.mark.parametrize("planner", ["greedy_by_size", "unshared"])
def test_random_lifetimes(planner):
    rng = np.random.default_rng(2024)
    for case in range(300):
        align = int(rng.choice([1, 4, 16]))
        steps = int(rng.integers(1, 16))
        n = int(rng.integers(1, 25))
        bs = []
        for i in range(n):
            first = int(rng.integers(0, steps))
            last = int(rng.integers(first, steps))
            size = int(rng.choice([0, 1, 7, 16, 100, 1000, int(rng.integers(1, 5000))]))
            bs.append(Buffer(f"b{i}", size, align, first, last))
        offsets = PLANNERS[planner](bs)
        arena = arena_of(bs, offsets, align)
        check(bs, offsets, arena)
        assert arena >= lower_bound(bs), (case, bs, offsets)
        if planner == "unshared":
            assert arena == round_up(sum(round_up(b.size, align) for b in bs), align)


# ---- plans of compiled models -------------------------------------------------------------------

def reshape_fc_model() -> bytes:
    """x[1,2,4] -RESHAPE-> r[1,8] -FC-> h[1,6] -RESHAPE-> y[1,2,3] (graph output)."""
    rng = np.random.default_rng(0)
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 2, 4), "int8", scale=0.05, zero_point=-3)
    shape = mb.tensor("shape", (2,), "int32", data=[1, 8])
    r = mb.tensor("r", (1, 8), "int8", scale=0.05, zero_point=-3)
    w = mb.tensor("w", (6, 8), "int8", data=rng.integers(-127, 128, (6, 8)), scale=[0.01] * 6, axis=0)
    h = mb.tensor("h", (1, 6), "int8", scale=0.1, zero_point=2)
    y = mb.tensor("y", (1, 2, 3), "int8", scale=0.1, zero_point=2)
    mb.op("RESHAPE", [x, shape], [r], {"NewShape": [1, 8]})
    mb.op("FULLY_CONNECTED", [r, w, -1], [h], {"FusedActivationFunction": 1}, version=4)
    mb.op("RESHAPE", [h], [y], {"NewShape": [1, 2, 3]})
    return mb.build([x], [y])


def test_reshape_input_and_output_share_one_buffer():
    c = aotc.compile(reshape_fc_model(), io="arena")   # inputs and outputs inside the arena
    g, p = c.graph, c.plan
    t = {t.name: t for t in g.tensors}
    assert p.buffer_of(t["x"]) is p.buffer_of(t["r"])
    assert p.buffer_of(t["h"]) is p.buffer_of(t["y"])
    assert p.offset_of(t["x"]) == p.offset_of(t["r"]) and p.offset_of(t["h"]) == p.offset_of(t["y"])
    assert len(p.buffers) == 2                      # {x, r} and {h, y}
    steps = [call.op.kind for call in c.calls]
    assert steps == ["RESHAPE", "FULLY_CONNECTED", "RESHAPE"]
    bx, bh = p.buffer_of(t["x"]), p.buffer_of(t["h"])
    assert (bx.first, bx.last) == (0, 1)            # lives until the FC reads r
    assert (bh.first, bh.last) == (1, 2)            # lives to the end (graph output)
    assert p.offset_of(t["x"]) != p.offset_of(t["h"])  # FC reads one while writing the other
    assert p.arena_size == 16 + 16 and p.lower_bound == 32
    assert c.report["arena_bytes"] == p.arena_size
    # no code for the RESHAPEs: one kernel call in the C
    assert c.files["model.c"].count("aotc_fully_connected") == 1


def test_zero_copy_io_keeps_inputs_and_outputs_out_of_the_arena():
    """Default I/O: x (and its view r) is the caller's input buffer, h (and its view y) the caller's
    output buffer; the kernel reads input0 and writes output0 directly, no copies."""
    c = aotc.compile(reshape_fc_model())
    t = {t.name: t for t in c.graph.tensors}
    assert c.plan.location(t["r"]) == ("input", 0) and c.plan.location(t["h"]) == ("output", 0)
    assert c.plan.buffers == [] and c.plan.arena_size == 16   # one aligned block: C has no empty arrays
    src = c.files["model.c"]
    assert "memcpy" not in src
    assert "aotc_fully_connected_s8_fp((const int8_t *)input0" in src and "(int8_t *)output0" in src
    assert aotc.verify(reshape_fc_model(), inputs=3).bit_exact


def test_compiled_plan_is_checked_and_at_least_the_lower_bound():
    c = aotc.compile(reshape_fc_model())
    check(c.plan.buffers, c.plan.offsets, c.plan.arena_size)
    assert c.plan.arena_size >= c.plan.lower_bound
    assert all(off % c.plan.align == 0 for off in c.plan.offsets.values())


def test_unknown_planner_is_a_usage_error():
    with pytest.raises(aotc.AotcError, match="unknown planner"):
        aotc.compile(reshape_fc_model(), planner="best_fit_magic")


def test_reshape_of_a_constant_as_graph_output_is_rejected():
    """Nothing would write such an output's bytes: a clean UnsupportedError, not garbage output."""
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 4), "int8", scale=0.05, zero_point=-3)
    w = mb.tensor("w", (2, 4), "int8", data=np.arange(8).reshape(2, 4), scale=0.05)
    y = mb.tensor("y", (1, 2), "int8", scale=0.05, zero_point=0)
    y2 = mb.tensor("y2", (8,), "int8", scale=0.05)
    mb.op("FULLY_CONNECTED", [x, w, -1], [y], {}, version=4)
    mb.op("RESHAPE", [w], [y2], {"NewShape": [8]})
    with pytest.raises(aotc.UnsupportedError, match=r'op 1 RESHAPE, tensor 3 "y2"'):
        aotc.compile(mb.build([x], [y, y2]))


def test_plan_function_direct():
    g = aotc.compile(reshape_fc_model()).graph
    from aotc.compiler import Options, lower
    from aotc import target
    calls = lower(g, target.load("generic"), Options())
    p = plan_graph(g, calls, align=64)
    assert p.align == 64 and p.arena_size == 128


def test_branch_and_bound_work_is_bounded_by_the_buffers_it_compares(monkeypatch):
    """The exact search stops after a fixed amount of work, counted in buffer comparisons, not in
    nodes: with many long-lived buffers (an unrolled LSTM's) each node compares dozens, and a node
    budget alone took half a minute."""
    from aotc.memory import planners
    rng = np.random.default_rng(0)   # lifetimes no heuristic plans at the lower bound
    bs = []
    for i in range(40):
        first = int(rng.integers(0, 30))
        bs.append(Buffer(f"b{i}", int(rng.integers(1, 40)) * 16, 16, first, first + int(rng.integers(3, 25))))
    compared = [0]
    real_busy = planners.busy

    def counting_busy(buf, placed):
        ranges = real_busy(buf, placed)
        compared[0] += len(ranges)
        return ranges
    monkeypatch.setattr(planners, "busy", counting_busy)

    def search_cost(budget):
        compared[0] = 0
        offsets = planners.branch_and_bound(bs, work_budget=budget)
        check(bs, offsets, arena_of(bs, offsets, 16))
        assert arena_of(bs, offsets, 16) >= lower_bound(bs)
        return compared[0]
    start = search_cost(0)   # the heuristic plans it starts from
    small, large = search_cost(20_000) - start, search_cost(80_000) - start
    assert small <= 20_000 and large <= 80_000   # within the budget
    assert large > small   # and stopped by it: more budget, more search
