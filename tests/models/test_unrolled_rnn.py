"""The unrolled recurrent cell Keras exports when it does not fuse an LSTM/GRU: per step small
FULLY_CONNECTED ops, LOGISTIC / TANH gates, MUL and ADD, the steps split off the input with SPLIT.
A 3-step int8 gated cell (h_t = tanh(W x_t + R h_{t-1}) * sigmoid(Z x_t + Q h_{t-1})) must compile,
run bit-exact, and get a compact arena plan."""
import numpy as np
import pytest

import aotc
from oputil import ModelBuilder, assert_exact

STEPS, N_IN, N_H = 3, 6, 8


def unrolled_cell(dtype="int8", seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    mb = ModelBuilder()
    q = dict(scale=0.05, zero_point=-2)

    def act(name, shape, scale=0.06, zp=3):
        return mb.tensor(name, shape, "int8", scale=scale, zero_point=zp)

    def weights(name, shape):
        return mb.tensor(name, shape, "int8", data=rng.integers(-100, 101, shape), scale=[0.01] * shape[0], axis=0)

    def bias(name, n, in_scale):
        return mb.tensor(name, (n,), "int32", data=rng.integers(-400, 401, n), scale=[in_scale * 0.01] * n)

    x = mb.tensor("x", (STEPS, N_IN), "int8", **q)
    axis = mb.tensor("axis", (), "int32", data=np.array(0))
    xs = [mb.tensor(f"x{t}", (1, N_IN), "int8", **q) for t in range(STEPS)]
    mb.op("SPLIT", [axis, x], xs, {"NumSplits": STEPS}, version=2)
    w, z = weights("w", (N_H, N_IN)), weights("z", (N_H, N_IN))
    r, qw = weights("r", (N_H, N_H)), weights("q", (N_H, N_H))
    bw, bz = bias("bw", N_H, 0.05), bias("bz", N_H, 0.05)
    h = None
    for t in range(STEPS):
        pre_a = act(f"a{t}", (1, N_H))
        pre_b = act(f"b{t}", (1, N_H))
        mb.op("FULLY_CONNECTED", [xs[t], w, bw], [pre_a], {}, version=4)
        mb.op("FULLY_CONNECTED", [xs[t], z, bz], [pre_b], {}, version=4)
        if h is not None:
            ra, rb = act(f"ra{t}", (1, N_H)), act(f"rb{t}", (1, N_H))
            mb.op("FULLY_CONNECTED", [h, r, -1], [ra], {}, version=4)
            mb.op("FULLY_CONNECTED", [h, qw, -1], [rb], {}, version=4)
            sa, sb = act(f"sa{t}", (1, N_H), 0.09, 0), act(f"sb{t}", (1, N_H), 0.09, 0)
            mb.op("ADD", [pre_a, ra], [sa], {}, version=2)
            mb.op("ADD", [pre_b, rb], [sb], {}, version=2)
            pre_a, pre_b = sa, sb
        g = act(f"g{t}", (1, N_H), 1 / 128, 0)
        s = act(f"s{t}", (1, N_H), 1 / 256, -128)
        mb.op("TANH", [pre_a], [g], version=2)
        mb.op("LOGISTIC", [pre_b], [s], version=2)
        h_new = act(f"h{t}", (1, N_H), 1 / 128, 0)
        mb.op("MUL", [g, s], [h_new], {}, version=2)
        h = h_new
    return mb.build([x], [h])


@pytest.mark.parametrize("reference", ["litert", "tflm"])
def test_unrolled_cell_is_bit_exact(reference):
    assert_exact(unrolled_cell(), inputs=6, reference=reference)


def test_unrolled_cell_outputs_are_not_trivial():
    from aotc import reader
    from aotc.verify import input_sets, open_reference
    model = unrolled_cell()
    g = reader.read(model)
    ref = open_reference("litert", model, g)
    outs = np.concatenate([np.asarray(ref.run(feed)[g.outputs[0].index]).reshape(-1)
                           for _, feed in input_sets(g, 6, 0, ())])
    assert len(np.unique(outs)) > 8 and np.mean(np.abs(outs) == 127) < 0.2


def test_unrolled_cell_plan_is_compact():
    compiled = aotc.compile(unrolled_cell())
    plan = compiled.plan
    assert plan.arena_size <= plan.lower_bound * 1.25, (plan.arena_size, plan.lower_bound)


# ---- Keras's unrolled LSTM / GRU: recurrent weights shared by every step, RESHAPE views -----------
from aotc.memory import PLANNERS, check_schedule
from aotc.memory.check import PlanError, ScheduleError
from rnn_models import unrolled_rnn

KERAS_CELLS = [(kind, bias) for kind in ("lstm", "gru") for bias in (False, True)]


@pytest.mark.parametrize("kind,recurrent_bias", KERAS_CELLS)
@pytest.mark.parametrize("schedule", ["search", "given"])
@pytest.mark.parametrize("planner", sorted(PLANNERS))
def test_keras_unrolled_rnn_is_bit_exact(kind, recurrent_bias, schedule, planner):
    """The searched schedule once ran each step's RESHAPE before the recurrent FULLY_CONNECTED it
    views, and the step's ADD read stale bytes (max abs diff 14 of 4 outputs)."""
    model = unrolled_rnn(kind, steps=5, recurrent_bias=recurrent_bias)
    assert_exact(model, inputs=4, schedule=schedule, planner=planner)


@pytest.mark.parametrize("kind,recurrent_bias", KERAS_CELLS)
def test_searched_order_runs_views_after_their_producers(kind, recurrent_bias):
    """The search's own order, before the compiler compares it with the file's."""
    from aotc.memory.schedule import search
    graph, calls = _compiled_parts(unrolled_rnn(kind, recurrent_bias=recurrent_bias))
    order = [calls[i] for i in search(graph, calls, 16)]
    assert sum(c.op.kind == "RESHAPE" for c in order) >= 7
    check_schedule(graph, order, [c.op for c in calls])


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_searched_schedule_is_never_worse_than_the_file_order(kind):
    model = unrolled_rnn(kind, steps=12, n_h=16)
    searched = aotc.compile(model, measure_code=False)
    given = aotc.compile(model, measure_code=False, schedule="given")
    assert searched.plan.lower_bound <= given.plan.lower_bound


def _compiled_parts(model):
    from aotc import passes, reader
    from aotc import target as targets
    from aotc.compiler import Options, lower
    tgt = targets.load("generic")
    graph = passes.run(reader.read(model), tgt)
    opts = Options()
    opts.target_info = tgt
    return graph, lower(graph, tgt, opts)


def test_schedule_check_refuses_a_view_before_its_producer():
    graph, calls = _compiled_parts(unrolled_rnn("lstm", steps=3))
    check_schedule(graph, calls, [c.op for c in calls])
    k = next(i for i, c in enumerate(calls) if c.op.kind == "RESHAPE")
    broken = calls[:k - 1] + [calls[k], calls[k - 1]] + calls[k + 1:]
    with pytest.raises(ScheduleError, match="before any step writes it"):
        check_schedule(graph, broken)


def test_schedule_check_refuses_a_missing_or_repeated_op():
    graph, calls = _compiled_parts(unrolled_rnn("gru", steps=3))
    ops = [c.op for c in calls]
    with pytest.raises(ScheduleError, match="never scheduled"):
        check_schedule(graph, calls[:-1], ops)
    with pytest.raises(ScheduleError, match="twice"):
        check_schedule(graph, calls + [calls[-1]], ops)


def test_a_broken_search_is_an_internal_error_not_output(monkeypatch, tmp_path):
    """Whatever the search returns, the compile checks it: exit 3, no output folder."""
    from aotc import cli
    model = tmp_path / "lstm.tflite"
    model.write_bytes(unrolled_rnn("lstm", steps=3))

    def reversed_order(graph, calls, align, **kw):
        return list(range(len(calls)))[::-1]
    monkeypatch.setattr("aotc.memory.search_schedule", reversed_order)
    # make the broken order look better than the file's (which starts with the UNPACK)
    monkeypatch.setattr("aotc.memory.peak", lambda graph, order, *a, **k: (int(order[0].op.kind == "UNPACK"), []))
    out = tmp_path / "out"
    assert cli.main(["compile", str(model), "-o", str(out)]) == 3
    assert not out.exists()


def test_view_check_refuses_a_view_outliving_its_owner():
    from aotc import memory
    from aotc.memory.check import check_views
    graph, calls = _compiled_parts(unrolled_rnn("lstm", steps=3))
    plan = memory.plan(graph, calls, 16, "greedy_by_size")
    check_views(calls, plan.buffers, plan.views, plan.external)
    step = next(i for i, c in enumerate(calls) if c.op.kind == "RESHAPE")
    owner = plan.owner(calls[step].op.outputs[0])
    buf = plan.buffer_of(owner)
    buf.last = step - 1          # the owner's storage ends before its view is read
    with pytest.raises(PlanError, match="alive only in steps"):
        check_views(calls, plan.buffers, plan.views, plan.external)
