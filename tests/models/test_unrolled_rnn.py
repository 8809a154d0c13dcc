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
