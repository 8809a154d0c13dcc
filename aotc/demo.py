"""The bundled example: a small keyword-spotting network (DS-CNN shaped like MLPerf Tiny's KWS) with
deterministic weights, post-training quantized to int8 here and written with aotc's own flatbuffer
writer. `aotc demo-model` writes it, so a fresh clone can compile and verify without outside models.

    input int8 [1,49,10,1] (MFCC) -> CONV_2D 10x4/2 SAME RELU (16) -> DEPTHWISE_CONV_2D 3x3 RELU
    -> CONV_2D 1x1 RELU (24) -> AVERAGE_POOL_2D 25x5 -> RESHAPE [1,24] -> FULLY_CONNECTED 12
    -> SOFTMAX -> int8 [1,12]
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .tflite_writer import ModelBuilder

SEED = 2024
IN_SHAPE = (1, 49, 10, 1)


def _same_pad(x, kh, kw, sh, sw):
    _, h, w, _ = x.shape
    oh, ow = -(-h // sh), -(-w // sw)
    ph = max((oh - 1) * sh + kh - h, 0)
    pw = max((ow - 1) * sw + kw - w, 0)
    return np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))


def _conv(x, w, b, stride):  # w: [O, KH, KW, I]
    o, kh, kw, _ = w.shape
    p = sliding_window_view(_same_pad(x, kh, kw, stride, stride), (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nhwcij,oijc->nhwo", p, w) + b


def _dwconv(x, w, b):  # w: [1, KH, KW, C]
    _, kh, kw, _ = w.shape
    p = sliding_window_view(_same_pad(x, kh, kw, 1, 1), (kh, kw), axis=(1, 2))
    return np.einsum("nhwcij,ijc->nhwc", p, w[0]) + b


def _float_model(rng):
    def he(shape, fan_in):
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape).astype(np.float32)
    return {
        "conv1": (he((16, 10, 4, 1), 40), rng.normal(0, 0.1, 16).astype(np.float32)),
        "dw": (he((1, 3, 3, 16), 9), rng.normal(0, 0.1, 16).astype(np.float32)),
        "pw": (he((24, 1, 1, 16), 16), rng.normal(0, 0.1, 24).astype(np.float32)),
        "fc": (he((12, 24), 24), rng.normal(0, 0.1, 12).astype(np.float32)),
    }


def _forward(p, x):
    a1 = np.maximum(_conv(x, *p["conv1"], 2), 0)
    a2 = np.maximum(_dwconv(a1, *p["dw"]), 0)
    a3 = np.maximum(_conv(a2, *p["pw"], 1), 0)
    a4 = a3.mean(axis=(1, 2), keepdims=True)
    a5 = a4.reshape(1, -1)
    a6 = a5 @ p["fc"][0].T + p["fc"][1]
    return [x, a1, a2, a3, a4, a5, a6]


def _act_quant(lo: float, hi: float) -> tuple[float, int]:
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = float(np.float32((hi - lo) / 255.0)) or 1.0
    zp = int(np.clip(-128 - round(lo / scale), -128, 127))
    return scale, zp


def build_demo_model() -> bytes:
    rng = np.random.default_rng(SEED)
    p = _float_model(rng)
    calib = [rng.normal(0.0, 8.0, IN_SHAPE).astype(np.float32) for _ in range(8)]
    acts = [_forward(p, x) for x in calib]
    q = [_act_quant(min(a[i].min() for a in acts), max(a[i].max() for a in acts)) for i in range(7)]
    q[4] = q[3]  # average pooling keeps its input's quantization, as TFLite requires
    q[5] = q[4]  # so does RESHAPE

    mb = ModelBuilder()

    def act(i, name, shape):
        return mb.tensor(name, shape, "int8", scale=q[i][0], zero_point=q[i][1])

    def weights(name, w, b, in_scale, axis=0):
        ch = w.shape[axis]
        wmax = np.maximum(np.abs(np.moveaxis(w, axis, 0).reshape(ch, -1)).max(axis=1), 1e-6)
        ws = (wmax / 127.0).astype(np.float32)
        bshape = [1] * w.ndim
        bshape[axis] = ch
        wq = np.clip(np.round(w / ws.reshape(bshape)), -127, 127).astype(np.int8)
        bs = (np.float32(in_scale) * ws).astype(np.float32)
        bq = np.round(b / bs).astype(np.int32)
        wt = mb.tensor(f"{name}/weights", w.shape, "int8", data=wq, scale=list(ws), axis=axis)
        bt = mb.tensor(f"{name}/bias", (ch,), "int32", data=bq, scale=list(bs))
        return wt, bt

    x = act(0, "input", IN_SHAPE)
    a1 = act(1, "conv1", (1, 25, 5, 16))
    w, b = weights("conv1", *p["conv1"], q[0][0])
    mb.op("CONV_2D", [x, w, b], [a1], {"Padding": 0, "StrideW": 2, "StrideH": 2, "FusedActivationFunction": 1,
                                        "DilationWFactor": 1, "DilationHFactor": 1}, version=3)
    a2 = act(2, "dw", (1, 25, 5, 16))
    w, b = weights("dw", *p["dw"], q[1][0], axis=3)
    mb.op("DEPTHWISE_CONV_2D", [a1, w, b], [a2], {"Padding": 0, "StrideW": 1, "StrideH": 1, "DepthMultiplier": 1,
                                                   "FusedActivationFunction": 1, "DilationWFactor": 1,
                                                   "DilationHFactor": 1}, version=3)
    a3 = act(3, "pw", (1, 25, 5, 24))
    w, b = weights("pw", *p["pw"], q[2][0])
    mb.op("CONV_2D", [a2, w, b], [a3], {"Padding": 1, "StrideW": 1, "StrideH": 1, "FusedActivationFunction": 1,
                                         "DilationWFactor": 1, "DilationHFactor": 1}, version=3)
    a4 = act(4, "pool", (1, 1, 1, 24))
    mb.op("AVERAGE_POOL_2D", [a3], [a4], {"Padding": 1, "StrideW": 5, "StrideH": 25, "FilterWidth": 5,
                                          "FilterHeight": 25, "FusedActivationFunction": 0}, version=2)
    shape = mb.tensor("flatten/shape", (2,), "int32", data=np.array([1, 24], np.int32))
    a5 = act(5, "flatten", (1, 24))
    mb.op("RESHAPE", [a4, shape], [a5], {"NewShape": [1, 24]})
    w, b = weights("fc", *p["fc"], q[5][0])
    a6 = act(6, "logits", (1, 12))
    mb.op("FULLY_CONNECTED", [a5, w, b], [a6], {"FusedActivationFunction": 0}, version=4)
    y = mb.tensor("probabilities", (1, 12), "int8", scale=1.0 / 256.0, zero_point=-128)
    mb.op("SOFTMAX", [a6], [y], {"Beta": 1.0}, version=2)
    return mb.build([x], [y], description="aotc demo keyword spotter (synthetic weights)")


def build_demo_model_float() -> bytes:
    """The same network with its float32 weights, unquantized: float models compile too."""
    p = _float_model(np.random.default_rng(SEED))
    mb = ModelBuilder()

    def f(name, shape, data=None):
        return mb.tensor(name, shape, "float32", data=data)

    conv = {"Padding": 0, "StrideW": 1, "StrideH": 1, "FusedActivationFunction": 1, "DilationWFactor": 1,
            "DilationHFactor": 1}
    x = f("input", IN_SHAPE)
    a1 = f("conv1", (1, 25, 5, 16))
    mb.op("CONV_2D", [x, f("conv1/weights", (16, 10, 4, 1), p["conv1"][0]), f("conv1/bias", (16,), p["conv1"][1])],
          [a1], {**conv, "StrideW": 2, "StrideH": 2})
    a2 = f("dw", (1, 25, 5, 16))
    mb.op("DEPTHWISE_CONV_2D", [a1, f("dw/weights", (1, 3, 3, 16), p["dw"][0]), f("dw/bias", (16,), p["dw"][1])],
          [a2], {**conv, "DepthMultiplier": 1})
    a3 = f("pw", (1, 25, 5, 24))
    mb.op("CONV_2D", [a2, f("pw/weights", (24, 1, 1, 16), p["pw"][0]), f("pw/bias", (24,), p["pw"][1])],
          [a3], conv)
    a4 = f("pool", (1, 1, 1, 24))
    mb.op("AVERAGE_POOL_2D", [a3], [a4], {"Padding": 1, "StrideW": 5, "StrideH": 25, "FilterWidth": 5,
                                          "FilterHeight": 25, "FusedActivationFunction": 0})
    a5 = f("flatten", (1, 24))
    mb.op("RESHAPE", [a4, mb.tensor("flatten/shape", (2,), "int32", data=np.array([1, 24], np.int32))], [a5],
          {"NewShape": [1, 24]})
    a6 = f("logits", (1, 12))
    mb.op("FULLY_CONNECTED", [a5, f("fc/weights", (12, 24), p["fc"][0]), f("fc/bias", (12,), p["fc"][1])], [a6],
          {"FusedActivationFunction": 0})
    y = f("probabilities", (1, 12))
    mb.op("SOFTMAX", [a6], [y], {"Beta": 1.0})
    return mb.build([x], [y], description="aotc demo keyword spotter, float32 (synthetic weights)")


def write_demo_model(path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(build_demo_model())
    return path
