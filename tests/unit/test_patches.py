"""Patch-based execution: the first windowed layers run band by band of output rows, each kernel on
its sub-window with adjusted padding. Bit-exact end to end for every stage length and band height
tried, and below the layer-by-layer lower bound on the VWW-style shared models."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import aotc
from aotc import reader
from aotc.compiler import Options, compile_graph
from aotc.errors import UsageError
from oputil import ModelBuilder, assert_exact

MODELS = Path(__file__).resolve().parents[2].parent / "shared" / "models"
Q = {"int8": lambda s, z: dict(scale=s, zero_point=z), "float32": lambda s, z: {}}


def chain_model(dtype: str = "int8", h: int = 13, w: int = 11) -> bytes:
    """x[1,h,w,3] -> CONV 3x3 /2 SAME -> DEPTHWISE 3x3 dilation 2 SAME -> MAX_POOL 2x2 /2 VALID
    -> CONV 1x1 -> y (graph output), odd sizes so the bands and halos are uneven."""
    rng = np.random.default_rng(4)
    q = Q[dtype]
    mb = ModelBuilder()

    def weights(name, shape, channels):
        if dtype == "float32":
            return mb.tensor(name, shape, "float32", data=rng.normal(0, 0.4, shape))
        return mb.tensor(name, shape, "int8", data=rng.integers(-127, 128, shape), scale=[0.01] * channels,
                         axis=0 if shape[0] == channels else 3)

    def bias(name, n, scale):
        if dtype == "float32":
            return mb.tensor(name, (n,), "float32", data=rng.normal(0, 0.1, n))
        return mb.tensor(name, (n,), "int32", data=rng.integers(-300, 300, n), scale=[scale] * n)

    x = mb.tensor("x", (1, h, w, 3), dtype, **q(0.05, -3))
    h1, w1 = (h + 1) // 2, (w + 1) // 2
    a = mb.tensor("a", (1, h1, w1, 8), dtype, **q(0.08, 2))
    mb.op("CONV_2D", [x, weights("w0", (8, 3, 3, 3), 8), bias("b0", 8, 0.0005)], [a],
          {"Padding": 0, "StrideH": 2, "StrideW": 2, "FusedActivationFunction": 1}, version=3)
    b = mb.tensor("b", (1, h1, w1, 8), dtype, **q(0.08, 1))
    mb.op("DEPTHWISE_CONV_2D", [a, weights("w1", (1, 3, 3, 8), 8), bias("b1", 8, 0.0008)], [b],
          {"Padding": 0, "StrideH": 1, "StrideW": 1, "DepthMultiplier": 1, "DilationHFactor": 2,
           "DilationWFactor": 2}, version=3)
    p = mb.tensor("p", (1, h1 // 2, w1 // 2, 8), dtype, **q(0.08, 1))
    mb.op("MAX_POOL_2D", [b], [p], {"Padding": 1, "StrideH": 2, "StrideW": 2, "FilterHeight": 2,
                                   "FilterWidth": 2})
    y = mb.tensor("y", (1, h1 // 2, w1 // 2, 4), dtype, **q(0.1, 0))
    mb.op("CONV_2D", [p, weights("w2", (4, 1, 1, 8), 4), bias("b2", 4, 0.0008)], [y],
          {"Padding": 1, "StrideH": 1, "StrideW": 1}, version=3)
    return mb.build([x], [y])


@pytest.mark.parametrize("mode", ["1:1", "2:1", "2:3", "3:2", "4:1", "4:2"])
def test_bands_are_bit_exact_for_every_stage_and_height(mode):
    model = chain_model()
    c = aotc.compile(model, patches=mode, measure_code=False)
    k, band = map(int, mode.split(":"))
    assert c.report["patches"]["ops"] == list(range(k)) and c.report["patches"]["band_rows"] == band
    assert_exact(model, inputs=3, patches=mode)


def test_bands_float32_and_sanitizers():
    model = chain_model("float32")
    assert_exact(model, inputs=2, patches="3:2", sanitize=True)
    assert_exact(chain_model("int8", 16, 16), inputs=2, patches="2:2", sanitize=True, io="arena")


def test_auto_keeps_the_smaller_arena_and_reports_the_cost():
    model = chain_model(h=40, w=40)
    off = aotc.compile(model, measure_code=False)
    auto = aotc.compile(model, patches="auto", measure_code=False)
    p = auto.report["patches"]
    assert p is not None and p["arena_with"] == auto.plan.arena_size < off.plan.arena_size == p["arena_without"]
    assert p["extra_macs"] > 0
    assert_exact(model, inputs=2, patches="auto")


def test_unknown_or_impossible_modes_are_usage_errors():
    with pytest.raises(UsageError, match="K:B"):
        aotc.compile(chain_model(), patches="sometimes", measure_code=False)
    with pytest.raises(UsageError, match="chain of 4"):
        aotc.compile(chain_model(), patches="9:1", measure_code=False)


@pytest.mark.parametrize("model,ref", [("vww_96_int8.tflite", None),
                                       ("person_detect.tflite", "person_detect_fixed.tflite")])
def test_vww_style_models_go_below_the_layer_by_layer_bound(model, ref):
    path = MODELS / model
    if not path.is_file():
        pytest.skip(f"{model} not in ../shared/models")
    layer_by_layer = compile_graph(reader.read(path), Options(measure_code=False)).plan.lower_bound
    c = compile_graph(reader.read(path), Options(measure_code=False, patches="auto"))
    assert c.plan.arena_size < 0.7 * layer_by_layer
    res = aotc.verify(path, inputs=2, patches="auto", reference_model=MODELS / ref if ref else None)
    assert res.bit_exact, res.summary()


def test_patches_with_cmsis_nn():
    path = MODELS / "vww_96_int8.tflite"
    if not os.environ.get("CMSIS_NN_PATH"):
        pytest.skip("CMSIS_NN_PATH not set")
    if not path.is_file():
        pytest.skip("vww_96_int8.tflite not in ../shared/models")
    res = aotc.verify(path, target="m55", reference="tflm", inputs=2, patches="auto")
    assert res.bit_exact, res.summary()
