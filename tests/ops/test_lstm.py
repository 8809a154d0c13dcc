"""UNIDIRECTIONAL_SEQUENCE_LSTM one-op models (plain float32 LSTM), h and c carried over six input sets
in sequence; compared with LiteRT and TFLM. Unsupported variants raise a clear ModelError."""
import numpy as np
import pytest

import aotc
from aotc.errors import ModelError
from oputil import ModelBuilder, assert_exact

ACTS = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3, "TANH": 4}
def lstm_model(batch=2, steps=3, n_in=5, n_cell=4, time_major=False, act="TANH", cell_clip=0.0, seed=0,
               cifg=False, peephole=False, dtype="float32"):
    rng = np.random.default_rng(seed)
    mb = ModelBuilder()
    q = {} if dtype == "float32" else dict(scale=0.05, zero_point=0)
    x = mb.tensor("x", (steps, batch, n_in) if time_major else (batch, steps, n_in), dtype, **q)
    def w(name, shape):
        return mb.tensor(name, shape, "float32", data=rng.normal(0, 0.4, shape))
    ins = [x]
    for g in "ifco":
        ins.append(-1 if (cifg and g == "i") else w(f"w_{g}", (n_cell, n_in)))
    for g in "ifco":
        ins.append(-1 if (cifg and g == "i") else w(f"r_{g}", (n_cell, n_cell)))
    ins += [w("p_i", (n_cell,)) if peephole else -1, -1, -1]
    for g in "ifco":
        ins.append(w(f"b_{g}", (n_cell,)))
    ins += [-1, -1]
    h = mb.tensor("h", (batch, n_cell), dtype, variable=True, **q)
    c = mb.tensor("c", (batch, n_cell), "float32" if dtype == "float32" else "int16", variable=True)
    ins += [h, c, -1, -1, -1, -1]
    y = mb.tensor("y", (steps, batch, n_cell) if time_major else (batch, steps, n_cell), dtype, **q)
    mb.op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [y], {"FusedActivationFunction": ACTS[act], "CellClip": cell_clip,
          "TimeMajor": time_major}, version=1)
    return mb.build([x], [y])


@pytest.mark.parametrize("reference", ["litert", "tflm"])
@pytest.mark.parametrize("kw", [dict(), dict(time_major=True, batch=3), dict(cell_clip=0.5, steps=5),
                                dict(batch=1, steps=1, n_in=9, n_cell=7, seed=4)], ids=str)
def test_lstm_float32(kw, reference):
    assert_exact(lstm_model(**kw), inputs=6, reference=reference)


@pytest.mark.parametrize("act", ["RELU6", "RELU_N1_TO_1", "RELU"])
def test_lstm_float32_activation(act):
    # LiteRT only: TFLM applies sigmoid/tanh whatever the fused activation says
    assert_exact(lstm_model(act=act, cell_clip=0.8), inputs=6)


def test_lstm_state_carries_over():
    """The reference's output for a repeated input changes from set to set: the state is live."""
    from aotc import reader
    from aotc.verify import open_reference
    model = lstm_model()
    g = reader.read(model)
    ref = open_reference("litert", model, g)
    feed = {g.inputs[0].index: np.full(g.inputs[0].shape, 0.7, np.float32)}
    a = np.asarray(ref.run(feed)[g.outputs[0].index]).copy()
    b = np.asarray(ref.run(feed)[g.outputs[0].index]).copy()
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("kw,msg", [
    (dict(cifg=True), "CIFG"),
    (dict(peephole=True), "peephole"),
    (dict(act="NONE"), "activation NONE"),
    (dict(dtype="int8"), "int8 UNIDIRECTIONAL_SEQUENCE_LSTM is not supported"),
])
def test_lstm_unsupported(kw, msg):
    with pytest.raises(ModelError, match=msg):
        aotc.compile(lstm_model(**kw))
