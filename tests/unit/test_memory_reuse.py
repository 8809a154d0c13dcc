"""The planner registry (exact search against the heuristics), schedule search, in-place elementwise
ops and concatenation in place: each rule checked on its plan and bit-exact end to end."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import aotc
from aotc import reader
from aotc.compiler import Options, compile_graph
from aotc.memory.check import check
from aotc.memory.liveness import Buffer, lower_bound, round_up
from aotc.memory.planners import HEURISTICS, PLANNERS, arena_size
from conftest import SHARED_MODEL_FILES
from oputil import ModelBuilder, assert_exact

MODELS = Path(__file__).resolve().parents[2].parent / "shared" / "models"


def random_buffers(rng, n_max=14):
    align = int(rng.choice([1, 4, 16]))
    steps = int(rng.integers(1, 10))
    bs = []
    for i in range(int(rng.integers(1, n_max))):
        first = int(rng.integers(0, steps))
        last = int(rng.integers(first, steps))
        bs.append(Buffer(f"b{i}", int(rng.choice([1, 7, 16, 100, int(rng.integers(1, 900))])), align, first, last))
    return bs, align


# ---- planners -------------------------------------------------------------------------------------

def test_exact_search_reaches_the_bound_greedy_misses():
    # greedy_by_size needs 155 bytes here although no step has more than 135 bytes live
    bs = [Buffer(n, s, 1, f, l) for n, s, f, l in
          [("Q", 70, 0, 0), ("P", 60, 0, 2), ("R", 50, 1, 2), ("S", 25, 2, 2)]]
    assert arena_size(bs, PLANNERS["greedy_by_size"](bs)) == 155
    offsets = PLANNERS["branch_and_bound"](bs)
    check(bs, offsets, 135)
    assert arena_size(bs, offsets) == lower_bound(bs) == 135


@pytest.mark.parametrize("name", HEURISTICS + ("best",))
def test_every_planner_gives_valid_plans_on_random_lifetimes(name):
    rng = np.random.default_rng(7)
    for _ in range(150):
        bs, align = random_buffers(rng)
        offsets = PLANNERS[name](bs)
        size = round_up(arena_size(bs, offsets), align)
        check(bs, offsets, size)
        assert size >= lower_bound(bs)


def test_exact_search_never_loses_to_a_heuristic():
    rng = np.random.default_rng(11)
    wins = 0
    for _ in range(300):
        bs, _ = random_buffers(rng, n_max=12)
        exact = arena_size(bs, PLANNERS["branch_and_bound"](bs))
        heuristics = [arena_size(bs, PLANNERS[n](bs)) for n in ("greedy_by_size", "greedy_by_conflicts")]
        assert exact <= min(heuristics)
        wins += exact < heuristics[0]
    assert wins > 0   # the random cases include ones where TFLM's greedy order is not optimal


def test_planners_are_deterministic():
    rng = np.random.default_rng(3)
    bs, _ = random_buffers(rng, n_max=20)
    for name in HEURISTICS:
        assert PLANNERS[name](bs) == PLANNERS[name](list(bs))


@pytest.mark.parametrize("model", SHARED_MODEL_FILES)
def test_best_plan_on_shared_models(model):
    path = MODELS / model
    if not path.is_file():
        pytest.skip(f"{model} not in ../shared/models")
    c = compile_graph(reader.read(path), Options(measure_code=False))
    p = c.plan
    assert p.candidates["branch_and_bound"] <= min(p.candidates.values())
    assert p.arena_size == min(p.candidates.values())
    # within 2% of the layer-by-layer bound over the chosen schedule (one aligned block for tiny arenas)
    assert p.arena_size <= max(p.lower_bound * 1.02, p.lower_bound + p.align)


# ---- schedule search ------------------------------------------------------------------------------

def fc(mb, rng, x, n_in, n_out, name, scale=0.1):
    w = mb.tensor(f"{name}_w", (n_out, n_in), "int8", data=rng.integers(-127, 128, (n_out, n_in)),
                  scale=0.02)
    y = mb.tensor(name, (1, n_out), "int8", scale=scale, zero_point=1)
    mb.op("FULLY_CONNECTED", [x, w, -1], [y], {}, version=4)
    return y


def two_branch_model() -> bytes:
    """x -> a (256) -> a2 (4) and x -> b (256) -> b2 (4), then a2 + b2. The file runs both wide
    layers first, so a and b are alive together; running each branch to its end first is smaller."""
    rng = np.random.default_rng(0)
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 8), "int8", scale=0.05, zero_point=-3)
    wa = mb.tensor("wa", (256, 8), "int8", data=rng.integers(-127, 128, (256, 8)), scale=0.02)
    wb = mb.tensor("wb", (256, 8), "int8", data=rng.integers(-127, 128, (256, 8)), scale=0.02)
    a = mb.tensor("a", (1, 256), "int8", scale=0.2, zero_point=1)
    b = mb.tensor("b", (1, 256), "int8", scale=0.2, zero_point=1)
    mb.op("FULLY_CONNECTED", [x, wa, -1], [a], {}, version=4)
    mb.op("FULLY_CONNECTED", [x, wb, -1], [b], {}, version=4)
    a2, b2 = fc(mb, rng, a, 256, 4, "a2", 1.0), fc(mb, rng, b, 256, 4, "b2", 1.0)
    y = mb.tensor("y", (1, 4), "int8", scale=1.5, zero_point=0)
    mb.op("ADD", [a2, b2], [y], {})
    return mb.build([x], [y])


def test_schedule_search_runs_one_branch_to_its_end_first():
    model = two_branch_model()
    given = aotc.compile(model, schedule="given", measure_code=False)
    searched = aotc.compile(model, measure_code=False)
    assert [c.op.index for c in given.calls] == [0, 1, 2, 3, 4]
    order = [c.op.index for c in searched.calls]
    assert order.index(2) < order.index(1)          # a2 runs before b is made
    assert searched.plan.arena_size < given.plan.arena_size
    # b2 is computed from b while a2 waits, in the caller's output buffer (the ADD runs in place there)
    assert searched.plan.arena_size == 256 + 16
    assert_exact(model, inputs=3)


# ---- in place -------------------------------------------------------------------------------------

def activation_chain(residual: bool) -> bytes:
    """x -> FC -> h (64) -> TANH -> g -> FC -> y; with `residual`, also h + g -> y2, so h is still
    needed after TANH and must not be overwritten."""
    rng = np.random.default_rng(1)
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 16), "int8", scale=0.05, zero_point=-3)
    h = fc(mb, rng, x, 16, 64, "h", 0.08)
    g = mb.tensor("g", (1, 64), "int8", scale=1 / 128, zero_point=0)
    mb.op("TANH", [h], [g])
    y = fc(mb, rng, g, 64, 4, "y", 0.05)
    outs = [y]
    if residual:
        y2 = mb.tensor("y2", (1, 64), "int8", scale=0.1, zero_point=0)
        mb.op("ADD", [h, g], [y2], {})
        outs.append(y2)
    return mb.build([x], outs)


def test_activation_overwrites_its_input_at_its_last_use():
    c = aotc.compile(activation_chain(residual=False), measure_code=False)
    t = {t.name: t for t in c.graph.tensors}
    assert c.plan.owner(t["g"]) is t["h"] and c.plan.offset_of(t["g"]) == c.plan.offset_of(t["h"])
    assert [u["rule"] for u in c.plan.reuses] == ["in-place"]
    assert c.report["memory_reuse"][0]["kind"] == "TANH"
    assert_exact(activation_chain(residual=False), inputs=4, sanitize=True)


def test_no_in_place_while_the_input_is_still_needed():
    model = activation_chain(residual=True)
    c = aotc.compile(model, measure_code=False)
    t = {t.name: t for t in c.graph.tensors}
    assert c.plan.owner(t["g"]) is t["g"]
    assert_exact(model, inputs=4)


def test_in_place_add_in_the_resnet_blocks():
    path = MODELS / "pretrainedResnet_quant.tflite"
    if not path.is_file():
        pytest.skip("pretrainedResnet_quant.tflite not in ../shared/models")
    c = compile_graph(reader.read(path), Options(measure_code=False))
    assert [u["kind"] for u in c.plan.reuses] == ["ADD"] * 3
    assert_exact(path.read_bytes(), inputs=2)


# ---- concatenation in place -----------------------------------------------------------------------

def concat_model(axis: int = 1, same_quant: bool = True) -> bytes:
    """Two FCs write [1,8] halves, CONCATENATION joins them, an FC reads the [1,16] result."""
    rng = np.random.default_rng(2)
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 8), "int8", scale=0.05, zero_point=-3)
    a = fc(mb, rng, x, 8, 8, "a", 0.1)
    b = fc(mb, rng, x, 8, 8, "b", 0.1 if same_quant else 0.2)
    shape = (1, 16) if axis == 1 else (2, 8)
    cat = mb.tensor("cat", shape, "int8", scale=0.1, zero_point=1)
    mb.op("CONCATENATION", [a, b], [cat], {"Axis": axis})
    flat = cat
    if axis == 0:
        flat = mb.tensor("flat", (1, 16), "int8", scale=0.1, zero_point=1)
        mb.op("RESHAPE", [cat], [flat], {"NewShape": [1, 16]})
    y = fc(mb, rng, flat, 16, 4, "y", 0.1)
    return mb.build([x], [y])


@pytest.mark.parametrize("axis", [1, 0])
def test_concatenation_inputs_are_written_into_the_output(axis):
    model = concat_model(axis)
    c = aotc.compile(model, measure_code=False)
    t = {t.name: t for t in c.graph.tensors}
    cat = t["cat"]
    assert c.plan.offset_of(t["a"]) == c.plan.offset_of(cat)
    assert c.plan.offset_of(t["b"]) == c.plan.offset_of(cat) + 8
    assert "aotc_data_concat" not in c.files["model.c"]
    assert any(o["elided"] for o in c.report["ops"])
    assert_exact(model, inputs=4, sanitize=True)


def test_concatenation_with_rescaling_is_a_copy():
    with pytest.raises(aotc.ModelError, match="scale"):   # LiteRT refuses mixed int8 scales itself
        aotc.compile(concat_model(same_quant=False), measure_code=False)


def test_concatenation_along_an_inner_axis_is_a_copy():
    rng = np.random.default_rng(3)
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 2, 4), "float32")
    a = mb.tensor("a", (1, 2, 4), "float32")
    mb.op("RELU", [x], [a])
    b = mb.tensor("b", (1, 2, 4), "float32")
    mb.op("TANH", [x], [b])
    cat = mb.tensor("cat", (1, 2, 8), "float32")
    mb.op("CONCATENATION", [a, b], [cat], {"Axis": 2})
    del rng
    model = mb.build([x], [cat])
    c = aotc.compile(model, measure_code=False)
    assert "aotc_data_concat" in c.files["model.c"]
    assert not any(u["rule"] == "concat-in-place" for u in c.plan.reuses)
    assert_exact(model, inputs=3)


def test_concatenation_input_read_after_an_in_place_op_over_the_result():
    """Random-model seed 46: `a` is written into its slice of `cat` (concatenation in place), RELU
    then overwrites `cat` in place, and NEG reads `a` afterwards. The in-place rule saw only
    `cat`'s own last read, not that of `a`, a view of it, and RELU clobbered `a` first."""
    mb = ModelBuilder()
    q = dict(scale=0.05, zero_point=-3)
    x = mb.tensor("x", (1, 8), "int8", **q)
    a = mb.tensor("a", (1, 8), "int8", **q)
    mb.op("MAXIMUM", [x, mb.tensor("k", (1, 8), "int8", data=np.arange(-4, 4), **q)], [a])
    b = mb.tensor("b", (1, 8), "int8", **q)
    mb.op("MINIMUM", [x, mb.tensor("k2", (1, 8), "int8", data=np.arange(8), **q)], [b])
    cat = mb.tensor("cat", (1, 16), "int8", **q)
    mb.op("CONCATENATION", [a, b], [cat], {"Axis": 1})
    r = mb.tensor("r", (1, 16), "int8", scale=0.05, zero_point=-128)
    mb.op("RELU", [cat], [r], version=2)
    n = mb.tensor("n", (1, 8), "int8", **q)
    mb.op("NEG", [a], [n])
    model = mb.build([x], [r, n])
    c = aotc.compile(model, measure_code=False, schedule="given")
    assert any(u["rule"] == "concat-in-place" for u in c.plan.reuses)
    for schedule in ("given", "search"):
        assert_exact(model, inputs=4, schedule=schedule)


# ---- random graphs --------------------------------------------------------------------------------

def random_graph(seed: int) -> bytes:
    """A random DAG of float32 elementwise ops and FCs over [1, n] tensors: branches, joins, values
    read long after they are made, several outputs."""
    rng = np.random.default_rng(seed)
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 16), "float32")
    live = [x]
    readers = {x: 0}
    for k in range(int(rng.integers(6, 14))):
        kind = str(rng.choice(["ADD", "MUL", "TANH", "RELU", "FULLY_CONNECTED", "LOGISTIC"]))
        a = live[int(rng.integers(len(live)))]
        y = mb.tensor(f"t{k}", (1, 16), "float32")
        if kind in ("ADD", "MUL"):
            b = live[int(rng.integers(len(live)))]
            mb.op(kind, [a, b], [y], {})
            readers[b] = readers.get(b, 0) + 1
        elif kind == "FULLY_CONNECTED":
            w = mb.tensor(f"w{k}", (16, 16), "float32", data=rng.normal(0, 0.3, (16, 16)))
            mb.op(kind, [a, w, -1], [y], {})
        else:
            mb.op(kind, [a], [y])
        readers[a] = readers.get(a, 0) + 1
        readers[y] = 0
        live.append(y)
    outs = [t for t in live[1:] if readers[t] == 0] or [live[-1]]
    return mb.build([x], outs)


@pytest.mark.parametrize("seed", range(8))
def test_random_graphs_plan_and_run_bit_exact(seed):
    model = random_graph(seed)
    given = aotc.compile(model, schedule="given", measure_code=False)
    searched = aotc.compile(model, measure_code=False)
    assert searched.plan.lower_bound <= given.plan.lower_bound   # the search never does worse
    for c in (given, searched):
        check([b for b in c.plan.buffers], c.plan.offsets, c.plan.arena_size)
    assert_exact(model, inputs=2)


# ---- quantization boundaries ----------------------------------------------------------------------

def boundary_model() -> bytes:
    """float x -> RELU -> r (float) -> QUANTIZE -> q (int8) -> FC -> h (int8) -> DEQUANTIZE -> y (float
    graph output): QUANTIZE narrows in place over r, and h lives inside y's (the caller's) buffer."""
    rng = np.random.default_rng(6)
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 32), "float32")
    r = mb.tensor("r", (1, 32), "float32")
    mb.op("RELU", [x], [r])
    q = mb.tensor("q", (1, 32), "int8", scale=0.02, zero_point=-128)
    mb.op("QUANTIZE", [r], [q])
    h = fc(mb, rng, q, 32, 24, "h", 0.05)
    y = mb.tensor("y", (1, 24), "float32")
    mb.op("DEQUANTIZE", [h], [y])
    return mb.build([x], [y])


@pytest.mark.parametrize("io", ["caller", "arena"])
def test_quantize_narrows_in_place_and_dequantize_widens_into_the_output(io):
    model = boundary_model()
    c = aotc.compile(model, io=io, measure_code=False)
    t = {t.name: t for t in c.graph.tensors}
    p = c.plan
    assert p.owner(t["q"]) is t["r"]          # int8 written over the float it came from
    assert p.owner(t["h"]) is t["y"]          # the FC writes into the output's bytes
    rules = {u["kind"]: u["rule"] for u in p.reuses}
    assert rules["QUANTIZE"] == "in-place" and rules["DEQUANTIZE"] == "into-output"
    if io == "caller":
        assert p.location(t["h"]) == ("output", 0)
    assert_exact(model, inputs=4, io=io, sanitize=True)

