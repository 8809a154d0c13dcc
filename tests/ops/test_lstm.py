"""UNIDIRECTIONAL_SEQUENCE_LSTM one-op models, h and c carried over six input sets in sequence: the plain
float32 LSTM compared with LiteRT and TFLM; the int8 (8x8_16) LSTM with CIFG, peephole, layer norm,
projection and clipping compared bit-exact with LiteRT. Unsupported variants raise a clear ModelError."""
import shutil
import subprocess

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



def _q(rng, shape, std, dtype="int8"):
    """Float weights ~ N(0, std) quantized symmetric per tensor like the converter: (data, scale)."""
    f = rng.normal(0, std, shape)
    qmax = 127 if dtype == "int8" else 32767
    scale = float(np.abs(f).max()) / qmax
    return np.clip(np.round(f / scale), -qmax, qmax).astype(dtype), scale


def lstm_int8_model(batch=2, steps=3, n_in=5, n_cell=4, n_out=None, time_major=False, cell_clip=0.0,
                    proj_clip=0.0, seed=0, cifg=False, peephole=False, layer_norm=False, projection=False,
                    proj_bias=True, in_scale=1 / 40, in_zp=-3, hidden_scale=1 / 128, hidden_zp=-2,
                    h_scale=None, h_zp=None, cell_log2=-11, w_std=0.5, n_intermediates=5):
    """A one-op int8 (8x8_16) LSTM with the quantization the TFLite converter produces: int8 input and
    output state, int16 cell state with scale 2^cell_log2, per-tensor int8 weights, int32 biases at
    input_scale * weight_scale (layer norm: at coefficient_scale * 2^-10), five intermediates (gate
    scales 2^-12 unless layer norm, hidden state). The output state shares the hidden intermediate's
    quantization unless h_scale / h_zp say otherwise."""
    rng = np.random.default_rng(seed)
    n_out = n_out or (n_cell if not projection else n_cell + 1)
    h_scale = hidden_scale if h_scale is None else h_scale
    h_zp = hidden_zp if h_zp is None else h_zp
    if projection:   # the output state is the projection's output: give it a wider range
        h_scale, h_zp = (1 / 64 if h_scale == hidden_scale else h_scale), h_zp
    mb = ModelBuilder()
    x = mb.tensor("x", (steps, batch, n_in) if time_major else (batch, steps, n_in), "int8",
                  scale=in_scale, zero_point=in_zp)
    ins = [x]
    wsc = {}
    for g in "ifco":
        if cifg and g == "i":
            ins.append(-1)
            continue
        d, s = _q(rng, (n_cell, n_in), w_std)
        wsc["w" + g] = s
        ins.append(mb.tensor(f"w_{g}", (n_cell, n_in), "int8", data=d, scale=s, zero_point=0))
    for g in "ifco":
        if cifg and g == "i":
            ins.append(-1)
            continue
        d, s = _q(rng, (n_cell, n_out), w_std)
        ins.append(mb.tensor(f"r_{g}", (n_cell, n_out), "int8", data=d, scale=s, zero_point=0))
    for g in "ifo":
        if peephole and not (cifg and g == "i"):
            d, s = _q(rng, (n_cell,), 0.3, "int16")
            ins.append(mb.tensor(f"p_{g}", (n_cell,), "int16", data=d, scale=s, zero_point=0))
        else:
            ins.append(-1)
    ln_scales = {}
    for g in "ifco":
        ln_scales[g] = float(rng.uniform(0.5, 1.5)) / 32767 * 2
        if cifg and g == "i":
            ins.append(-1)
            continue
        bscale = ln_scales[g] / 1024 if layer_norm else in_scale * wsc["w" + g]
        fb = rng.normal(0, 0.5, n_cell) + (1.0 if g == "f" else 0.0)
        ins.append(mb.tensor(f"b_{g}", (n_cell,), "int32", data=np.round(fb / bscale).astype(np.int32),
                             scale=bscale, zero_point=0))
    if projection:
        d, s = _q(rng, (n_out, n_cell), 0.4)
        ins.append(mb.tensor("proj_w", (n_out, n_cell), "int8", data=d, scale=s, zero_point=0))
        pbs = hidden_scale * s
        ins.append(mb.tensor("proj_b", (n_out,), "int32", data=np.round(rng.normal(0, 0.2, n_out) / pbs)
                             .astype(np.int32), scale=pbs, zero_point=0) if proj_bias else -1)
    else:
        ins += [-1, -1]
    h = mb.tensor("h", (batch, n_out), "int8", scale=h_scale, zero_point=h_zp, variable=True)
    c = mb.tensor("c", (batch, n_cell), "int16", scale=2.0 ** cell_log2, zero_point=0, variable=True)
    ins += [h, c]
    for g in "ifco":
        if layer_norm and not (cifg and g == "i"):
            coef = rng.uniform(0.5, 1.5, n_cell)
            ins.append(mb.tensor(f"ln_{g}", (n_cell,), "int16", data=np.round(coef / ln_scales[g])
                                 .astype(np.int16), scale=ln_scales[g], zero_point=0))
        else:
            ins.append(-1)
    inter = []
    for k in range(4):
        inter.append(mb.tensor(f"gate{k}", (0,), "int16", scale=2.0 ** -12 if not layer_norm else
                               float(rng.uniform(0.6, 1.2)) * 2.0 ** -12, zero_point=0))
    inter.append(mb.tensor("hidden", (0,), "int8", scale=hidden_scale, zero_point=hidden_zp))
    y = mb.tensor("y", (steps, batch, n_out) if time_major else (batch, steps, n_out), "int8",
                  scale=h_scale, zero_point=h_zp)
    mb.op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [y], {"FusedActivationFunction": 4, "CellClip": cell_clip,
          "ProjClip": proj_clip, "TimeMajor": time_major}, version=1, intermediates=inter[:n_intermediates])
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


INT8_CASES = [
    dict(),
    dict(time_major=True, batch=3),
    dict(cell_clip=0.3, steps=5),
    dict(cifg=True),
    dict(peephole=True),
    dict(peephole=True, cifg=True, seed=1),
    dict(layer_norm=True),
    dict(layer_norm=True, n_cell=5, seed=2),          # LiteRT's variance is exact only for 2^k cells
    dict(projection=True),
    dict(projection=True, proj_clip=0.3, proj_bias=False, time_major=True),
    dict(h_scale=1 / 100, h_zp=5),                     # output state quantized apart from the hidden
    dict(cell_log2=-9, in_zp=7),
    dict(cell_log2=-15),
    dict(batch=1, steps=8, n_in=9, n_cell=16, seed=3),
    dict(layer_norm=True, cifg=True, peephole=True, projection=True, n_out=4, cell_clip=0.5, seed=5),
]


@pytest.mark.parametrize("kw", INT8_CASES, ids=str)
def test_lstm_int8(kw):
    assert_exact(lstm_int8_model(**kw), inputs=6, reference="litert")


def test_lstm_int8_options_change_the_reference():
    """Clipping, projection bias and layer norm really change LiteRT's outputs on these models (so the
    cases above can fail), and the outputs are spread, not saturated."""
    from aotc import reader
    from aotc.verify import open_reference

    def run(**kw):
        model = lstm_int8_model(**kw)
        g = reader.read(model)
        ref = open_reference("litert", model, g)
        rng = np.random.default_rng(0)
        outs = [np.asarray(ref.run({g.inputs[0].index: rng.integers(-128, 128, g.inputs[0].shape)
                                    .astype(np.int8)})[g.outputs[0].index]).copy() for _ in range(3)]
        return np.stack(outs)
    base = run(steps=5)
    assert len(np.unique(base)) > 30 and base.min() > -128 and base.max() < 127
    assert (base != run(steps=5, cell_clip=0.3)).sum() > base.size // 2
    assert (run(projection=True) != run(projection=True, proj_clip=0.3)).any()
    assert (run(projection=True) != run(projection=True, proj_bias=False)).any()
    assert (run() != run(layer_norm=True)).sum() > 0


@pytest.mark.xfail(reason="--reference tflm is not bit-exact for int8 LSTM: TFLM's integer LSTM is a different "
                          "algorithm (LUT int16 sigmoid/tanh, separate FCs, MulElementwise requantization); "
                          "aotc follows LiteRT's", strict=False)
def test_lstm_int8_tflm():
    assert_exact(lstm_int8_model(), inputs=6, reference="tflm")


STRICT = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion", "-Werror", "-O2"]


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_lstm_compiles_without_warnings(cc, tmp_path):
    if not shutil.which(cc):
        pytest.skip(f"{cc} not installed")
    for name, model in [("i8", lstm_int8_model(layer_norm=True, projection=True, n_out=4, peephole=True)),
                        ("i8cifg", lstm_int8_model(cifg=True)), ("f32", lstm_model())]:
        c = aotc.compile(model, out_dir=tmp_path / name)
        r = subprocess.run([cc, *STRICT, "-c", str(c.out_dir / f"{c.name}.c"), "-I", str(c.out_dir),
                            "-o", str(tmp_path / f"{name}.o")], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("make,msg", [
    (lambda: lstm_model(cifg=True), "CIFG"),
    (lambda: lstm_model(peephole=True), "peephole"),
    (lambda: lstm_model(act="NONE"), "activation NONE"),
    (lambda: lstm_model(dtype="int16"), "int16 UNIDIRECTIONAL_SEQUENCE_LSTM is not supported"),
    (lambda: lstm_int8_model(n_intermediates=4), "5 intermediate tensors"),
    (lambda: lstm_int8_model(cell_log2=-11.5), "power of two"),
    (lambda: lstm_int8_model(cell_log2=-8), "power of two"),
    (lambda: lstm_int8_model(peephole=True, projection=True), "peephole with a projection"),
])
def test_lstm_unsupported(make, msg):
    with pytest.raises(ModelError, match=msg):
        aotc.compile(make())
