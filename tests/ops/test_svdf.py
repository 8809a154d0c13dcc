"""SVDF one-op models: float32 and full-integer int8 (int16 state), rank and memory, activation,
state carried over six input sets in sequence; bit-exact with LiteRT and TFLM."""
import numpy as np
import pytest

import aotc
from aotc.errors import ModelError
from oputil import ModelBuilder, assert_exact

ACTS = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3, "TANH": 4}
def svdf_model(dtype="int8", batch=2, n_in=10, units=4, rank=2, memory=4, act="RELU", bias=True, seed=0,
               out_scale=0.3, state_scale=0.0005, wt_dtype=None, state_dtype=None, state_zp=0):
    rng = np.random.default_rng(seed)
    filters = units * rank
    mb = ModelBuilder()
    if dtype == "float32":
        x = mb.tensor("x", (batch, n_in), "float32")
        wf = mb.tensor("wf", (filters, n_in), "float32", data=rng.normal(0, 0.3, (filters, n_in)))
        wt = mb.tensor("wt", (filters, memory), "float32", data=rng.normal(0, 0.5, (filters, memory)))
        b = mb.tensor("b", (units,), "float32", data=rng.normal(0, 0.5, units)) if bias else -1
        s = mb.tensor("state", (batch, filters * memory), "float32", variable=True)
        y = mb.tensor("y", (batch, units), "float32")
        version = 1
    else:
        wt_dtype = wt_dtype or "int16"; state_dtype = state_dtype or "int16"
        x = mb.tensor("x", (batch, n_in), "int8", scale=0.05, zero_point=-3)
        wf = mb.tensor("wf", (filters, n_in), "int8", data=rng.integers(-127, 128, (filters, n_in)), scale=0.01)
        wt = mb.tensor("wt", (filters, memory), wt_dtype, data=rng.integers(-3000, 3001, (filters, memory)), scale=0.0005)
        b = mb.tensor("b", (units,), "int32", data=rng.integers(-20000, 20000, units),
                      scale=float(np.float32(state_scale) * np.float32(0.0005))) if bias else -1
        s = mb.tensor("state", (batch, filters * memory), state_dtype, variable=True, scale=state_scale, zero_point=state_zp)
        y = mb.tensor("y", (batch, units), "int8", scale=out_scale, zero_point=4)
        version = 3
    mb.op("SVDF", [x, wf, wt, b, s], [y], {"Rank": rank, "FusedActivationFunction": ACTS[act]}, version=version)
    return mb.build([x], [y])


@pytest.mark.parametrize("reference", ["litert", "tflm"])
@pytest.mark.parametrize("kw", [dict(), dict(rank=1, batch=1), dict(rank=3, memory=7, n_in=17),
                                dict(units=5, rank=2, memory=1, seed=3)], ids=str)
def test_svdf_int8(kw, reference):
    assert_exact(svdf_model(**kw), inputs=6, reference=reference)


def test_svdf_int8_no_activation_matches_tflm():
    """LiteRT refuses activation NONE on the integer path (it demands RELU and ignores it); TFLM runs it."""
    assert_exact(svdf_model(act="NONE", seed=2), inputs=6, reference="tflm")


@pytest.mark.parametrize("reference", ["litert", "tflm"])
@pytest.mark.parametrize("kw", [dict(act="NONE"), dict(act="RELU6"), dict(act="TANH", rank=1),
                                dict(act="RELU", rank=3, memory=5, batch=3)], ids=str)
def test_svdf_float32(kw, reference):
    assert_exact(svdf_model("float32", **kw), inputs=6, reference=reference)


def test_svdf_float32_no_bias():
    # LiteRT only: the TFLM interpreter crashes on an SVDF without bias
    assert_exact(svdf_model("float32", act="RELU6", bias=False), inputs=6)


def test_svdf_int8_outputs_are_not_saturated():
    from aotc import reader
    from aotc.verify import input_sets, open_reference
    model = svdf_model()
    g = reader.read(model)
    ref = open_reference("litert", model, g)
    outs = [np.asarray(ref.run(feed)[g.outputs[0].index]) for _, feed in input_sets(g, 6, 0, ())]
    allv = np.concatenate([o.reshape(-1) for o in outs])
    assert np.mean((allv == -128) | (allv == 127)) < 0.2


@pytest.mark.parametrize("kw,msg", [
    (dict(wt_dtype="int8", state_dtype="int8"), "int16 weights_time and state"),
    (dict(state_zp=3), "state zero point"),
    (dict(bias=False), "needs a bias"),
])
def test_svdf_unsupported(kw, msg):
    with pytest.raises(ModelError, match=msg):
        aotc.compile(svdf_model(**kw))


def test_svdf_hybrid_is_refused():
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 4), "float32")
    wf = mb.tensor("wf", (2, 4), "int8", data=np.ones((2, 4)), scale=0.1)
    wt = mb.tensor("wt", (2, 3), "float32", data=np.ones((2, 3)))
    s = mb.tensor("s", (1, 6), "float32", variable=True)
    y = mb.tensor("y", (1, 2), "float32")
    mb.op("SVDF", [x, wf, wt, -1, s], [y], {"Rank": 1}, version=2)
    with pytest.raises(ModelError, match="hybrid"):
        aotc.compile(mb.build([x], [y]))
