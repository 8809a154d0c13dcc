"""Graph passes against LiteRT: every shared model with all passes and with each one disabled, and
one-op-pattern models where each pass fires, bit-exact with the pass on and off."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import aotc
from aotc import passes
from aotc.compiler import Options, compile_graph
from aotc.reader import read
from aotc.tflite_writer import ModelBuilder

MODELS = Path(__file__).resolve().parents[2] / ".." / "shared" / "models"
SHARED = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8", "person_detect_fixed",
          "micro_speech_quantized", "hello_world_int8", "seanet_conv4_int16x8"]
CONFIGS = [()] + [(p.name,) for p in passes.PASSES if p.default]


def _exact(model, disabled=(), inputs=3):
    res = aotc.verify(model, inputs=inputs, disabled_passes=tuple(disabled))
    assert res.ok and res.bit_exact, res.summary()
    return res


def _ops(model, disabled=()) -> int:
    g = compile_graph(read(model), Options(measure_code=False, disabled_passes=tuple(disabled))).graph
    return len(g.ops)


@pytest.mark.parametrize("name", SHARED)
def test_shared_model_each_pass_disabled(name):
    path = MODELS / f"{name}.tflite"
    if not path.is_file():
        pytest.skip(f"{path.name} not available")
    for disabled in CONFIGS:
        _exact(str(path), disabled, inputs=3 if not disabled else 1)


# ---- pattern models where each pass fires ------------------------------------------------------------

def _conv_relu(dtype="int8", relu="RELU", out_scale=None) -> bytes:
    rng = np.random.default_rng(1)
    mb = ModelBuilder()
    f = dtype == "float32"
    kw = {} if f else {"scale": 0.05, "zero_point": -4}
    x = mb.tensor("x", (1, 6, 6, 3), dtype, **kw)
    w = mb.tensor("w", (4, 3, 3, 3), dtype, data=(rng.normal(0, 0.3, (4, 3, 3, 3)) if f
                                                  else rng.integers(-127, 128, (4, 3, 3, 3))),
                  **({} if f else {"scale": [0.004] * 4, "axis": 0}))
    b = mb.tensor("b", (4,), "float32" if f else "int32", data=rng.normal(0, 0.1, 4) if f
                  else rng.integers(-300, 300, 4), **({} if f else {"scale": [0.0002] * 4}))
    hq = {} if f else {"scale": 0.02, "zero_point": 3}
    h = mb.tensor("h", (1, 6, 6, 4), dtype, **hq)
    y = mb.tensor("y", (1, 6, 6, 4), dtype, **({} if f else {"scale": out_scale or 0.02, "zero_point": 3}))
    mb.op("CONV_2D", [x, w, b], [h], {"Padding": 0, "StrideH": 1, "StrideW": 1, "DilationHFactor": 1, "DilationWFactor": 1}, version=1 if f else 3)
    mb.op(relu, [h], [y], version=1 if f or relu == "RELU_N1_TO_1" else 2)
    return mb.build([x], [y])


def _add_relu6() -> bytes:
    mb = ModelBuilder()
    a = mb.tensor("a", (1, 4, 4, 3), "int8", scale=0.05, zero_point=1)
    b = mb.tensor("b", (1, 4, 4, 3), "int8", scale=0.04, zero_point=-2)
    h = mb.tensor("h", (1, 4, 4, 3), "int8", scale=0.03, zero_point=-10)
    y = mb.tensor("y", (1, 4, 4, 3), "int8", scale=0.03, zero_point=-10)
    mb.op("ADD", [a, b], [h], {}, version=2)
    mb.op("RELU6", [h], [y], version=2)
    return mb.build([a, b], [y])


def _fc_quantize_pair() -> bytes:
    """FC -> identity QUANTIZE -> DEQUANTIZE -> QUANTIZE (round trip) -> TANH."""
    rng = np.random.default_rng(2)
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 8), "int8", scale=0.05, zero_point=-3)
    w = mb.tensor("w", (6, 8), "int8", data=rng.integers(-127, 128, (6, 8)), scale=0.01)
    h = mb.tensor("h", (1, 6), "int8", scale=0.1, zero_point=2)
    y = mb.tensor("y", (1, 6), "int8", scale=0.1, zero_point=2)
    f = mb.tensor("f", (1, 6), "float32")
    z = mb.tensor("z", (1, 6), "int8", scale=0.1, zero_point=2)
    o = mb.tensor("o", (1, 6), "int8", scale=1 / 128, zero_point=0)
    mb.op("FULLY_CONNECTED", [x, w, -1], [h], {}, version=4)
    mb.op("QUANTIZE", [h], [y], version=2)
    mb.op("DEQUANTIZE", [y], [f], version=2)
    mb.op("QUANTIZE", [f], [z], version=2)
    mb.op("TANH", [z], [o], version=2)
    return mb.build([x], [o])


def _requant_chain() -> bytes:
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 16), "int8", scale=0.1, zero_point=0)
    h = mb.tensor("h", (1, 16), "int16", scale=0.1 / 256, zero_point=0)
    y = mb.tensor("y", (1, 16), "int8", scale=0.1, zero_point=0)
    r = mb.tensor("r", (1, 16), "int8", scale=0.1, zero_point=0)
    mb.op("RELU", [x], [r], version=2)
    mb.op("QUANTIZE", [r], [h], version=2)
    mb.op("QUANTIZE", [h], [y], version=2)
    return mb.build([x], [y])


def _layout(dtype="float32") -> bytes:
    mb = ModelBuilder()
    kw = {} if dtype == "float32" else {"scale": 0.1, "zero_point": 0}
    x = mb.tensor("x", (1, 2, 3, 4), dtype, **kw)
    p1 = mb.tensor("p1", (4,), "int32", data=[0, 3, 1, 2])
    p2 = mb.tensor("p2", (4,), "int32", data=[0, 2, 3, 1])
    a = mb.tensor("a", (1, 4, 2, 3), dtype, **kw)
    b = mb.tensor("b", (1, 2, 3, 4), dtype, **kw)
    s1 = mb.tensor("s1", (2,), "int32", data=[6, 4])
    s2 = mb.tensor("s2", (3,), "int32", data=[2, 3, 4])
    c = mb.tensor("c", (6, 4), dtype, **kw)
    d = mb.tensor("d", (2, 3, 4), dtype, **kw)
    y = mb.tensor("y", (2, 3, 4), dtype, **kw)
    mb.op("TRANSPOSE", [x, p1], [a], version=1 if dtype == "float32" else 2)
    mb.op("TRANSPOSE", [a, p2], [b], version=1 if dtype == "float32" else 2)
    mb.op("RESHAPE", [b, s1], [c])
    mb.op("RESHAPE", [c, s2], [d])
    mb.op("RELU", [d], [y], version=1 if dtype == "float32" else 2)
    return mb.build([x], [y])


def _mean(dtype, h, w, zp=0) -> bytes:
    mb = ModelBuilder()
    kw = {} if dtype == "float32" else {"scale": 0.07, "zero_point": zp}
    x = mb.tensor("x", (1, h, w, 5), dtype, **kw)
    ax = mb.tensor("axes", (2,), "int32", data=[1, 2])
    y = mb.tensor("y", (1, 1, 1, 5), dtype, **kw)
    mb.op("MEAN", [x, ax], [y], {"KeepDims": True}, version=1 if dtype == "float32" else 2)
    return mb.build([x], [y])


def _pad_conv(kind="CONV_2D", dtype="int8", pads=((0, 0), (1, 2), (2, 1), (0, 0)), conv_padding=1) -> bytes:
    """PAD (asymmetric, with the input zero point) -> CONV_2D / DEPTHWISE_CONV_2D, as MCUNet-style
    exports emit them; conv_padding 1 is VALID, 0 SAME (then both paddings add up)."""
    rng = np.random.default_rng(3)
    mb = ModelBuilder()
    f = dtype == "float32"
    q = {} if f else {"scale": 0.05, "zero_point": -7}
    x = mb.tensor("x", (1, 7, 6, 4), dtype, **q)
    padded_shape = tuple(d + a + b for d, (a, b) in zip((1, 7, 6, 4), pads))
    p = mb.tensor("p", padded_shape, dtype, **q)
    mb.op("PAD", [x, mb.tensor("pads", (4, 2), "int32", data=np.array(pads, np.int32))], [p])
    k, c_out = 3, (4 if kind == "DEPTHWISE_CONV_2D" else 5)
    wshape = (1, k, k, c_out) if kind == "DEPTHWISE_CONV_2D" else (c_out, k, k, 4)
    w = mb.tensor("w", wshape, dtype, data=rng.normal(0, 0.3, wshape) if f else rng.integers(-127, 128, wshape),
                  **({} if f else {"scale": [0.01] * c_out, "axis": 3 if kind == "DEPTHWISE_CONV_2D" else 0}))
    b = mb.tensor("b", (c_out,), "float32" if f else "int32",
                  data=rng.normal(0, 0.1, c_out) if f else rng.integers(-300, 300, c_out),
                  **({} if f else {"scale": [0.0005] * c_out}))
    h_in, w_in = padded_shape[1], padded_shape[2]
    out_hw = (h_in, w_in) if conv_padding == 0 else (h_in - k + 1, w_in - k + 1)
    y = mb.tensor("y", (1, *out_hw, c_out), dtype, **({} if f else {"scale": 0.1, "zero_point": 2}))
    opts = {"Padding": conv_padding, "StrideH": 1, "StrideW": 1, "DilationHFactor": 1, "DilationWFactor": 1}
    if kind == "DEPTHWISE_CONV_2D":
        opts["DepthMultiplier"] = 1
    mb.op(kind, [p, w, b], [y], opts, version=1 if f else 3)
    return mb.build([x], [y])


PATTERNS = {
    "conv_relu_int8": (_conv_relu, "fuse_activations", 1),
    "conv_relu6_int8": (lambda: _conv_relu(relu="RELU6"), "fuse_activations", 1),
    "conv_relu_n1_int8": (lambda: _conv_relu(relu="RELU_N1_TO_1"), "fuse_activations", 1),
    "conv_relu_f32": (lambda: _conv_relu("float32"), "fuse_activations", 1),
    "add_relu6_int8": (_add_relu6, "fuse_activations", 1),
    "fc_quantize": (_fc_quantize_pair, "requantize", 3),
    "requant_chain": (_requant_chain, "requantize", 1),
    "layout_f32": (lambda: _layout("float32"), "cancel_transposes", 2),
    "layout_int8": (lambda: _layout("int8"), "merge_reshapes", 1),
    "mean_f32": (lambda: _mean("float32", 3, 4), "mean_to_avgpool", 0),
    "pad_conv_int8": (_pad_conv, "fold_pad", 1),
    "pad_conv_same_int8": (lambda: _pad_conv(conv_padding=0), "fold_pad", 1),
    "pad_dwconv_int8": (lambda: _pad_conv("DEPTHWISE_CONV_2D"), "fold_pad", 1),
    "pad_conv_f32": (lambda: _pad_conv(dtype="float32"), "fold_pad", 1),
    "mean_int8_1x1": (lambda: _mean("int8", 1, 1, 0), "mean_to_avgpool", 0),
}


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_fires_and_stays_exact(name):
    build, pass_name, dropped = PATTERNS[name]
    model = build()
    on, off = _ops(model), _ops(model, (pass_name,))
    assert off - on == dropped, (on, off)
    g = compile_graph(read(model), Options(measure_code=False)).graph
    assert any(a["pass"] == pass_name and a["action"] != "kept" for a in g.pass_log["actions"])
    for disabled in ((), (pass_name,)):
        res = aotc.verify(model, inputs=4, disabled_passes=disabled)
        assert res.ok, res.summary()
        if name.endswith("int8") or "quant" in name:
            assert res.bit_exact, res.summary()


def _strict_float(model, disabled=()):
    """float32: compare with LiteRT bit for bit (verify allows a tolerance for float)."""
    from aotc.references import open_reference
    from aotc.verify import HostModel, input_sets
    graph = read(model)
    c = compile_graph(read(model), Options(measure_code=False, disabled_passes=disabled))
    host, ref = HostModel(c), open_reference("litert", model, graph)
    for _, feed in input_sets(c.graph, 4, 0):
        ours, theirs = host.run(feed), ref.run(feed)
        for t in c.graph.outputs:
            assert np.array_equal(ours[t.index], np.asarray(theirs[t.index]).reshape(t.shape))


@pytest.mark.parametrize("build", [lambda: _conv_relu("float32"), lambda: _mean("float32", 3, 4),
                                   lambda: _mean("float32", 7, 5), lambda: _layout("float32")])
def test_float_patterns_bit_for_bit(build):
    _strict_float(build())


@pytest.mark.parametrize("h,w,zp", [(1, 2, 0), (2, 2, 0), (2, 2, -3), (3, 3, 0), (4, 4, 5), (1, 1, 7)])
def test_int8_mean_vs_avgpool_decision(h, w, zp):
    """Whatever mean_to_avgpool decides for int8, LiteRT agrees bit for bit; the proof is checked
    against LiteRT on inputs that hit the rounding boundaries."""
    model = _mean("int8", h, w, zp)
    g = compile_graph(read(model), Options(measure_code=False)).graph
    res = aotc.verify(model, inputs=6)
    assert res.bit_exact, (g.ops[0].kind, res.summary())


def test_disable_pass_cli(tmp_path, capsys):
    from aotc.cli import main
    path = tmp_path / "m.tflite"
    path.write_bytes(_conv_relu())
    assert main(["compile", str(path), "-o", str(tmp_path / "out"), "--disable-pass", "fuse_activations"]) == 0
    assert "(2 ops" in capsys.readouterr().out
    assert main(["compile", str(path), "-o", str(tmp_path / "out")]) == 0
    assert "(1 ops" in capsys.readouterr().out
    assert main(["compile", str(path), "-o", str(tmp_path / "out"), "--disable-pass", "bogus"]) == 2
    err = capsys.readouterr().err
    assert "unknown pass 'bogus'" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as e:
        main(["compile", "--passes"])
    assert e.value.code == 0 and "fold_pad" in capsys.readouterr().out
    import json
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert any(a["action"] == "fused" for a in report["passes"]["actions"])
