"""The generated C: warning-free with strict flags (-Wconversion included) under gcc and clang on the
host and arm-none-eabi-gcc for Cortex-M55/M4/M0+, each runtime header on its own too; clean under
ASan/UBSan with the documented init/invoke contract; byte-identical when generated twice."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import aotc
import aotc.demo
import aotc.resources
from aotc.tflite_writer import ModelBuilder
from conftest import SHARED_MODELS
from oputil import fc_chain

WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion", "-Werror"]
STRICT = [*WARNINGS, "-O2"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1"]
COMPILERS = ["gcc", "clang"]   # clang's -Wconversion also implies -Wsign-conversion; gcc's does too in C
ARM_CC = "arm-none-eabi-gcc"
ARM_CPUS = {
    "cortex-m55": ["-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"],
    "cortex-m4": ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"],
    "cortex-m0plus": ["-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"],
}
RUNTIME = aotc.resources.resource_dir("runtime")
ALL_HEADERS = sorted(p.name for p in (RUNTIME / "aotc").glob("*.h"))
# glue around CMSIS-NN (cmsis_*.h) needs the user's CMSIS-NN headers; the rest needs nothing
CMSIS_HEADERS = [h for h in ALL_HEADERS if h.startswith("cmsis_")]
HEADERS = [h for h in ALL_HEADERS if h not in CMSIS_HEADERS]


def reshape_fc_two_outputs() -> bytes:
    """Two inputs, two outputs, RESHAPE aliasing, an int16x8 FC: more header macros to exercise."""
    rng = np.random.default_rng(1)
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 2, 5), "int8", scale=0.05, zero_point=-3)
    r = mb.tensor("r", (1, 10), "int8", scale=0.05, zero_point=-3)
    w = mb.tensor("w", (3, 10), "int8", data=rng.integers(-127, 128, (3, 10)), scale=0.01)
    y = mb.tensor("y", (1, 3), "int8", scale=0.1, zero_point=4)
    x16 = mb.tensor("x16", (2, 4), "int16", scale=0.001, zero_point=0)
    w16 = mb.tensor("w16", (5, 4), "int8", data=rng.integers(-127, 128, (5, 4)), scale=[0.01] * 5, axis=0)
    b16 = mb.tensor("b16", (5,), "int64", data=rng.integers(-900, 900, 5), scale=[1e-5] * 5)
    y16 = mb.tensor("y16", (2, 5), "int16", scale=0.002, zero_point=0)
    mb.op("RESHAPE", [x], [r], {"NewShape": [1, 10]})
    mb.op("FULLY_CONNECTED", [r, w, -1], [y], {}, version=4)
    mb.op("FULLY_CONNECTED", [x16, w16, b16], [y16], {}, version=7)
    return mb.build([x, x16], [y, y16])


# ---- one model per op family, so every runtime header is reached from generated code -----------

def _w(shape, seed, dtype="int8", lo=-127, hi=127):
    rng = np.random.default_rng(seed)
    if dtype == "float32":
        return rng.normal(0, 0.5, shape).astype(np.float32)
    return rng.integers(lo, hi + 1, shape).astype(dtype)


def family_conv(dtype: str = "int8") -> bytes:
    """CONV_2D (stride 2, SAME, per-channel, bias) then DEPTHWISE_CONV_2D (multiplier 2, dilation 2)."""
    mb = ModelBuilder()
    q = dtype != "float32"
    s_in, zp = (0.05, -3) if dtype == "int8" else (0.0005, 0)
    bias_t = "int32" if dtype == "int8" else "int64"
    qa = (lambda s: {"scale": s, "zero_point": zp}) if q else (lambda s: {})
    wdt = "int8" if q else "float32"
    x = mb.tensor("x", (1, 7, 6, 4), dtype, **qa(s_in))
    w1 = mb.tensor("w1", (6, 3, 3, 4), wdt, data=_w((6, 3, 3, 4), 1, wdt),
                   **({"scale": [0.004] * 6, "axis": 0} if q else {}))
    b1 = mb.tensor("b1", (6,), bias_t if q else "float32", data=_w((6,), 2, bias_t if q else "float32", -900, 900),
                   **({"scale": [s_in * 0.004] * 6, "axis": 0} if q else {}))
    h = mb.tensor("h", (1, 4, 3, 6), dtype, **qa(s_in * 4))
    w2 = mb.tensor("w2", (1, 3, 3, 12), wdt, data=_w((1, 3, 3, 12), 3, wdt),
                   **({"scale": [0.01] * 12, "axis": 3} if q else {}))
    b2 = mb.tensor("b2", (12,), bias_t if q else "float32", data=_w((12,), 4, bias_t if q else "float32", -900, 900),
                   **({"scale": [s_in * 0.04] * 12, "axis": 0} if q else {}))
    y = mb.tensor("y", (1, 4, 3, 12), dtype, **qa(s_in * 8))
    v_conv, v_dw = {"int8": (3, 3), "int16": (4, 5), "float32": (1, 1)}[dtype]
    mb.op("CONV_2D", [x, w1, b1], [h], {"Padding": 0, "StrideH": 2, "StrideW": 2,
                                        "FusedActivationFunction": 1}, version=v_conv)
    mb.op("DEPTHWISE_CONV_2D", [h, w2, b2], [y], {"Padding": 0, "DepthMultiplier": 2, "DilationHFactor": 2,
                                                  "DilationWFactor": 2, "StrideH": 1, "StrideW": 1},
          version=v_dw)
    return mb.build([x], [y])


def family_fully_connected_s16() -> bytes:
    """int16x8 FULLY_CONNECTED with an int64 bias (fc_chain covers int8)."""
    mb = ModelBuilder()
    x = mb.tensor("x", (2, 9), "int16", scale=0.001, zero_point=0)
    w = mb.tensor("w", (5, 9), "int8", data=_w((5, 9), 5), scale=[0.01] * 5, axis=0)
    b = mb.tensor("b", (5,), "int64", data=_w((5,), 6, "int64", -900, 900), scale=[1e-5] * 5)
    y = mb.tensor("y", (2, 5), "int16", scale=0.004, zero_point=0)
    mb.op("FULLY_CONNECTED", [x, w, b], [y], {}, version=7)
    return mb.build([x], [y])


def family_pool(dtype: str = "int8") -> bytes:
    mb = ModelBuilder()
    q = {"int8": {"scale": 0.03, "zero_point": -4}, "int16": {"scale": 0.0002, "zero_point": 0}}.get(dtype, {})
    v = {"float32": 1, "int8": 2, "int16": 3}[dtype]
    x = mb.tensor("x", (1, 7, 8, 5), dtype, **q)
    h = mb.tensor("h", (1, 4, 4, 5), dtype, **q)
    y = mb.tensor("y", (1, 2, 2, 5), dtype, **q)
    opts = {"Padding": 0, "StrideH": 2, "StrideW": 2, "FilterHeight": 3, "FilterWidth": 3}
    mb.op("AVERAGE_POOL_2D", [x], [h], opts, version=v)
    mb.op("MAX_POOL_2D", [h], [y], dict(opts, FusedActivationFunction=1), version=v)
    return mb.build([x], [y])


def family_elementwise(dtype: str = "int8") -> bytes:
    """ADD, SUB and MUL with broadcasting."""
    mb = ModelBuilder()
    q = (lambda s, z: {"scale": s, "zero_point": z if dtype == "int8" else 0}) if dtype in ("int8", "int16") \
        else (lambda s, z: {})
    vs = {"int8": (2, 2, 2), "int16": (3, 3, 5), "float32": (1, 1, 1), "int32": (1, 1, 1)}[dtype]
    a = mb.tensor("a", (1, 4, 4, 3), dtype, **q(0.001 if dtype == "int16" else 0.05, -3))
    b = mb.tensor("b", (1, 1, 4, 3), dtype, **q(0.001 if dtype == "int16" else 0.03, 7))
    h1 = mb.tensor("h1", (1, 4, 4, 3), dtype, **q(0.002 if dtype == "int16" else 0.06, 2))
    h2 = mb.tensor("h2", (1, 4, 4, 3), dtype, **q(0.002 if dtype == "int16" else 0.07, -1))
    y = mb.tensor("y", (1, 4, 4, 3), dtype, **q(0.001 if dtype == "int16" else 0.05, 3))
    mb.op("ADD", [a, b], [h1], {"FusedActivationFunction": 0}, version=vs[0])
    mb.op("SUB", [h1, b], [h2], {"FusedActivationFunction": 1}, version=vs[1])
    mb.op("MUL", [h2, b], [y], {"FusedActivationFunction": 0}, version=vs[2])
    return mb.build([a, b], [y])


def family_activation() -> bytes:
    """int8 RELU, RELU6, LOGISTIC, TANH, HARD_SWISH from one input; int16 RELU; float RELU/LOGISTIC/TANH/
    HARD_SWISH."""
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 64), "int8", scale=0.05, zero_point=-3)
    outs = []
    for kind, v, (s, z) in (("RELU", 2, (0.03, 4)), ("RELU6", 2, (0.03, 4)), ("LOGISTIC", 2, (1 / 256, -128)),
                            ("TANH", 2, (1 / 128, 0)), ("HARD_SWISH", 1, (0.03, 4))):
        y = mb.tensor(f"y_{kind.lower()}", (1, 64), "int8", scale=s, zero_point=z)
        mb.op(kind, [x], [y], version=v)
        outs.append(y)
    x16 = mb.tensor("x16", (1, 64), "int16", scale=0.001, zero_point=0)
    y16 = mb.tensor("y16", (1, 64), "int16", scale=0.0007, zero_point=0)
    mb.op("RELU", [x16], [y16], version=3)
    xf = mb.tensor("xf", (1, 64), "float32")
    for kind in ("RELU", "LOGISTIC", "TANH", "HARD_SWISH"):
        yf = mb.tensor(f"yf_{kind.lower()}", (1, 64), "float32")
        mb.op(kind, [xf], [yf], version=1)
        outs.append(yf)
    return mb.build([x, x16, xf], [*outs, y16])


def family_softmax() -> bytes:
    mb = ModelBuilder()
    x = mb.tensor("x", (2, 10), "int8", scale=0.1, zero_point=5)
    y = mb.tensor("y", (2, 10), "int8", scale=1 / 256, zero_point=-128)
    y2 = mb.tensor("y2", (2, 10), "int16", scale=1 / 65536, zero_point=-32768)
    x16 = mb.tensor("x16", (2, 10), "int16", scale=0.001, zero_point=0)
    y16 = mb.tensor("y16", (2, 10), "int16", scale=1 / 32768, zero_point=0)
    xf = mb.tensor("xf", (2, 10), "float32")
    yf = mb.tensor("yf", (2, 10), "float32")
    mb.op("SOFTMAX", [x], [y], {"Beta": 1.0}, version=2)
    mb.op("SOFTMAX", [x], [y2], {"Beta": 0.5}, version=2)
    mb.op("SOFTMAX", [x16], [y16], {"Beta": 1.0}, version=3)
    mb.op("SOFTMAX", [xf], [yf], {"Beta": 1.0}, version=1)
    return mb.build([x, x16, xf], [y, y2, y16, yf])


def family_quantize() -> bytes:
    """float -> int8 -> int16 -> int8 -> uint8 -> int8 -> float, and float -> int16 -> float."""
    mb = ModelBuilder()
    shape = (2, 9)
    xf = mb.tensor("xf", shape, "float32")
    a = mb.tensor("a", shape, "int8", scale=0.03, zero_point=-5)
    b = mb.tensor("b", shape, "int16", scale=0.0002, zero_point=0)
    c = mb.tensor("c", shape, "uint8", scale=0.02, zero_point=130)
    d = mb.tensor("d", shape, "int8", scale=0.025, zero_point=3)
    yf = mb.tensor("yf", shape, "float32")
    e = mb.tensor("e", shape, "int16", scale=0.0003, zero_point=0)
    yf2 = mb.tensor("yf2", shape, "float32")
    d0 = mb.tensor("d0", shape, "int8", scale=0.035, zero_point=-2)
    mb.op("QUANTIZE", [xf], [a], version=2)
    mb.op("QUANTIZE", [a], [b], version=3)
    mb.op("QUANTIZE", [b], [d0], version=3)
    mb.op("QUANTIZE", [d0], [c], version=2)
    mb.op("QUANTIZE", [c], [d], version=2)
    mb.op("DEQUANTIZE", [d], [yf], version=2)
    mb.op("QUANTIZE", [xf], [e], version=3)
    mb.op("DEQUANTIZE", [e], [yf2], version=3)
    return mb.build([xf], [yf, yf2])


def family_reduce() -> bytes:
    mb = ModelBuilder()
    x = mb.tensor("x", (2, 3, 4, 5), "int8", scale=0.05, zero_point=-7)
    axes = mb.tensor("axes", (2,), "int32", data=np.array([1, 2], np.int32))
    outs = []
    for kind, v, q in (("MEAN", 3, {"scale": 0.02, "zero_point": 4}),
                       ("REDUCE_MAX", 3, {"scale": 0.05, "zero_point": -7}),
                       ("REDUCE_MIN", 3, {"scale": 0.05, "zero_point": -7})):
        y = mb.tensor(f"y_{kind.lower()}", (2, 1, 1, 5), "int8", **q)
        mb.op(kind, [x, axes], [y], {"KeepDims": True}, version=v)
        outs.append(y)
    xf = mb.tensor("xf", (2, 3, 4, 5), "float32")
    for kind, v in (("MEAN", 1), ("SUM", 1), ("REDUCE_MAX", 1)):
        yf = mb.tensor(f"yf_{kind.lower()}", (2, 5), "float32")
        mb.op(kind, [xf, axes], [yf], {"KeepDims": False}, version=v)
        outs.append(yf)
    xb = mb.tensor("xb", (2, 3, 4), "bool")
    ax_b = mb.tensor("ax_b", (2,), "int32", data=np.array([0, -1], np.int32))
    for kind in ("REDUCE_ALL", "REDUCE_ANY"):
        yb = mb.tensor(f"yb_{kind.lower()}", (3,), "bool")
        mb.op(kind, [xb, ax_b], [yb], {"KeepDims": False})
        outs.append(yb)
    return mb.build([x, xf, xb], outs)


def family_data() -> bytes:
    """PAD, TRANSPOSE and CONCATENATION (int8), a float PAD, and DYNAMIC_UPDATE_SLICE with run-time
    (int32) and constant (int64) start indices."""
    mb = ModelBuilder()
    q = {"scale": 0.05, "zero_point": -7}
    x = mb.tensor("x", (1, 3, 4, 2), "int8", **q)
    x2 = mb.tensor("x2", (1, 5, 6, 3), "int8", **q)
    pads = mb.tensor("pads", (4, 2), "int32", data=np.array([[0, 0], [1, 1], [2, 0], [0, 0]], np.int32))
    perm = mb.tensor("perm", (4,), "int32", data=np.array([0, 2, 1, 3], np.int32))
    p = mb.tensor("p", (1, 5, 6, 2), "int8", **q)
    c = mb.tensor("c", (1, 5, 6, 5), "int8", **q)
    t = mb.tensor("t", (1, 6, 5, 5), "int8", **q)
    mb.op("PAD", [x, pads], [p], version=4)
    mb.op("CONCATENATION", [p, x2], [c], {"Axis": 3}, version=4)
    mb.op("TRANSPOSE", [c, perm], [t], version=6)
    xf = mb.tensor("xf", (1, 3, 4, 2), "float32")
    pf = mb.tensor("pf", (1, 5, 6, 2), "float32")
    mb.op("PAD", [xf, pads], [pf], version=4)
    uf = mb.tensor("uf", (1, 2, 3, 2), "float32")
    starts = mb.tensor("starts", (4,), "int32")
    df = mb.tensor("df", (1, 5, 6, 2), "float32")
    mb.op("DYNAMIC_UPDATE_SLICE", [pf, uf, starts], [df])
    u8 = mb.tensor("u8", (1, 1, 2, 2), "int8", **q)
    starts64 = mb.tensor("starts64", (4,), "int64", data=np.array([0, 2, 1, 0], np.int64))
    d8 = mb.tensor("d8", (1, 6, 5, 5), "int8", **q)
    mb.op("DYNAMIC_UPDATE_SLICE", [t, u8, starts64], [d8], version=2)
    return mb.build([x, x2, xf, uf, starts, u8], [d8, df])


def _to_s32(mb, t, name, shape):
    """CAST (bool ->) int32, so no graph output is bool."""
    y = mb.tensor(f"{name}_i32", shape, "int32")
    mb.op("CAST", [t], [y])
    return y


def family_arg() -> bytes:
    """ARG_MAX / ARG_MIN over float32, int8, uint8, int32 and bool inputs, int32 and int64 outputs."""
    mb = ModelBuilder()
    ax1 = mb.tensor("ax1", (1,), "int32", data=np.array([1], np.int32))
    ax0 = mb.tensor("ax0", (1,), "int64", data=np.array([0], np.int64))
    ins, outs = [], []
    for i, (kind, dt, out, ax) in enumerate((("ARG_MAX", "float32", "int32", ax1), ("ARG_MIN", "int8", "int64", ax1),
                                             ("ARG_MAX", "uint8", "int64", ax0), ("ARG_MIN", "int32", "int32", ax0))):
        x = mb.tensor(f"x{i}", (3, 5, 2), dt)
        y = mb.tensor(f"y{i}", (3, 2) if ax is ax1 else (5, 2), out)
        mb.op(kind, [x, ax], [y], {"OutputType": 2 if out == "int32" else 4}, version=2 if dt == "int8" else 1)
        ins.append(x)
        outs.append(y)
    zero = mb.tensor("zero", (), "float32", data=np.array(0, np.float32))
    b = mb.tensor("b", (3, 5, 2), "bool")
    mb.op("GREATER", [ins[0], zero], [b])
    yb = mb.tensor("yb", (3, 2), "int32")
    mb.op("ARG_MAX", [b, ax1], [yb], {"OutputType": 2})
    return mb.build(ins, outs + [yb])


def family_batch_matmul() -> bytes:
    """BATCH_MATMUL: float32 (adj_x, broadcast RHS), int8 (constant RHS), int16 (adj_y, broadcast)."""
    mb = ModelBuilder()
    a = mb.tensor("a", (2, 5, 3), "float32")
    b = mb.tensor("b", (5, 4), "float32")
    y = mb.tensor("y", (2, 3, 4), "float32")
    mb.op("BATCH_MATMUL", [a, b], [y], {"AdjX": True, "AdjY": False}, version=1)
    a8 = mb.tensor("a8", (2, 3, 5), "int8", scale=0.05, zero_point=-3)
    b8 = mb.tensor("b8", (5, 4), "int8", data=_w((5, 4), 7), scale=0.04, zero_point=5)
    y8 = mb.tensor("y8", (2, 3, 4), "int8", scale=0.9, zero_point=2)
    mb.op("BATCH_MATMUL", [a8, b8], [y8], {"AdjX": False, "AdjY": False}, version=2)
    a16 = mb.tensor("a16", (2, 3, 5), "int16", scale=0.001, zero_point=0)
    b16 = mb.tensor("b16", (1, 4, 5), "int16", scale=0.002, zero_point=0)
    y16 = mb.tensor("y16", (2, 3, 4), "int16", scale=0.5, zero_point=0)
    mb.op("BATCH_MATMUL", [a16, b16], [y16], {"AdjX": False, "AdjY": True}, version=3)
    return mb.build([a, b, a8, a16, b16], [y, y8, y16])


def family_compare() -> bytes:
    """Comparisons of float32, int32, int64, int8 (rescaled), int16 (rescaled and raw) and bool, with
    broadcasting; the bool results are cast to int32."""
    mb = ModelBuilder()
    ins, outs, bools = [], [], []
    q8 = ({"scale": 0.05, "zero_point": 3}, {"scale": 0.07, "zero_point": -2})
    q16 = ({"scale": 0.001, "zero_point": 0}, {"scale": 0.0007, "zero_point": 0})
    for i, (kind, dt, (qa, qb)) in enumerate((("GREATER", "float32", ({}, {})), ("LESS_EQUAL", "int32", ({}, {})),
                                              ("LESS", "int64", ({}, {})), ("EQUAL", "int8", q8),
                                              ("GREATER_EQUAL", "int8", q8), ("NOT_EQUAL", "int16", q16),
                                              ("GREATER", "int16", q16))):
        a = mb.tensor(f"a{i}", (2, 3, 4), dt, **qa)
        b = mb.tensor(f"b{i}", (3, 1), dt, **qb)
        c = mb.tensor(f"c{i}", (2, 3, 4), "bool")
        mb.op(kind, [a, b], [c], version=2)
        ins += [a, b]
        bools.append(c)
        outs.append(_to_s32(mb, c, f"c{i}", (2, 3, 4)))
    for kind in ("EQUAL", "NOT_EQUAL"):
        c = mb.tensor(f"c_{kind.lower()}", (2, 3, 4), "bool")
        mb.op(kind, [bools[0], bools[3]], [c], version=2)
        outs.append(_to_s32(mb, c, f"c_{kind.lower()}", (2, 3, 4)))
    return mb.build(ins, outs)


def family_gather() -> bytes:
    """GATHER with int16 / int32 / int64 indices (batch_dims too), GATHER_ND, EMBEDDING_LOOKUP (a row
    copy and the int8 -> float32 dequantizing one, per-row scales)."""
    mb = ModelBuilder()
    q8, q16 = {"scale": 0.05, "zero_point": -7}, {"scale": 0.001, "zero_point": 0}
    x8 = mb.tensor("x8", (2, 5, 3), "int8", **q8)
    xf = mb.tensor("xf", (5, 3), "float32")
    x16 = mb.tensor("x16", (2, 4, 3), "int16", **q16)
    outs = []

    def idx(name, data, dt):
        return mb.tensor(name, np.shape(data), dt, data=np.array(data, dt))
    y = mb.tensor("g8", (2, 2, 2, 3), "int8", scale=0.05, zero_point=-7)
    mb.op("GATHER", [x8, idx("i16", [[1, 4], [0, 0]], "int16")], [y], {"Axis": 1, "BatchDims": 0}, version=2)
    outs.append(y)
    y = mb.tensor("gf", (3, 3), "float32")
    mb.op("GATHER", [xf, idx("i64", [4, 0, 2], "int64")], [y], {"Axis": 0, "BatchDims": 0}, version=1)
    outs.append(y)
    y = mb.tensor("g16", (2, 3, 3), "int16", scale=0.001, zero_point=0)
    mb.op("GATHER", [x16, idx("i32", [[0, 3, 1], [2, 2, 0]], "int32")], [y], {"Axis": 1, "BatchDims": 1}, version=5)
    outs.append(y)
    for name, x, data, dt, shape, v in (("n8", x8, [[1, 4], [0, 2]], "int64", (2, 3), 2),
                                        ("nf", xf, [[1], [3]], "int32", (2, 3), 1),
                                        ("n16", x16, [[1, 0, 2], [0, 3, 1]], "int16", (2,), 3)):
        ydt, q = {"n8": ("int8", q8), "nf": ("float32", {}), "n16": ("int16", q16)}[name]
        y = mb.tensor(name, shape, ydt, **q)
        mb.op("GATHER_ND", [x, idx(f"i_{name}", data, dt)], [y], {}, version=v)
        outs.append(y)
    ids = idx("ids", [3, 0, 5, 3], "int32")
    vf = mb.tensor("vf", (6, 4), "float32")
    ef = mb.tensor("ef", (4, 4), "float32")
    mb.op("EMBEDDING_LOOKUP", [ids, vf], [ef], version=1)
    v8 = mb.tensor("v8", (6, 2, 2), "int8", scale=list(np.linspace(0.01, 0.05, 6)), zero_point=[0] * 6, axis=0)
    e8 = mb.tensor("e8", (4, 2, 2), "float32")
    mb.op("EMBEDDING_LOOKUP", [ids, v8], [e8], version=3)
    return mb.build([x8, xf, x16, vf, v8], outs + [ef, e8])


def _lstm_s8(mb, batch: int, steps: int, n_in: int, n: int):
    """A time-major int8 (8x8_16) LSTM with peephole, layer norm, a projection (to the cell size) and
    clipping, quantized like the converter does it: per-tensor symmetric weights, int16 cell state at
    2^-11, biases at layer-norm scale * 2^-10, five intermediates (gate scales, hidden state)."""
    rng = np.random.default_rng(70)

    def q(name, shape, std, dt="int8"):
        f = rng.normal(0, std, shape)
        qmax = 127 if dt == "int8" else 32767
        s = float(np.abs(f).max()) / qmax
        return mb.tensor(name, shape, dt, data=np.clip(np.round(f / s), -qmax, qmax).astype(dt), scale=s,
                         zero_point=0), s
    hid_s, hid_zp = 1 / 128, -2
    x = mb.tensor("x8", (steps, batch, n_in), "int8", scale=1 / 40, zero_point=-3)
    ins = [x] + [q(f"w8_{g}", (n, n_in), 0.5)[0] for g in "ifco"] + [q(f"r8_{g}", (n, n), 0.5)[0] for g in "ifco"]
    ins += [q(f"p8_{g}", (n,), 0.3, "int16")[0] for g in "ifo"]
    ln_s = {g: float(rng.uniform(0.5, 1.5)) / 32767 * 2 for g in "ifco"}
    for g in "ifco":
        bs = ln_s[g] / 1024
        fb = rng.normal(0, 0.5, n) + (1.0 if g == "f" else 0.0)
        ins.append(mb.tensor(f"b8_{g}", (n,), "int32", data=np.round(fb / bs).astype(np.int32), scale=bs,
                             zero_point=0))
    pw, ps = q("proj_w", (n, n), 0.4)
    pbs = hid_s * ps
    ins += [pw, mb.tensor("proj_b", (n,), "int32", data=np.round(rng.normal(0, 0.2, n) / pbs).astype(np.int32),
                          scale=pbs, zero_point=0)]
    ins += [mb.tensor("h8", (batch, n), "int8", scale=1 / 64, zero_point=-2, variable=True),
            mb.tensor("c8", (batch, n), "int16", scale=2.0 ** -11, zero_point=0, variable=True)]
    ins += [mb.tensor(f"ln_{g}", (n,), "int16", data=np.round(rng.uniform(0.5, 1.5, n) / ln_s[g]).astype(np.int16),
                      scale=ln_s[g], zero_point=0) for g in "ifco"]
    inter = [mb.tensor(f"gate{k}", (0,), "int16", scale=float(rng.uniform(0.6, 1.2)) * 2.0 ** -12, zero_point=0)
             for k in range(4)]
    inter.append(mb.tensor("hidden", (0,), "int8", scale=hid_s, zero_point=hid_zp))
    y = mb.tensor("y8", (steps, batch, n), "int8", scale=1 / 64, zero_point=-2)
    mb.op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [y], {"FusedActivationFunction": 4, "CellClip": 0.5, "ProjClip": 0.9,
                                                     "TimeMajor": True}, version=1, intermediates=inter)
    return x, y


def family_lstm() -> bytes:
    """UNIDIRECTIONAL_SEQUENCE_LSTM: float32 (batch-major, cell clip) and int8 (time-major, every
    option); h and c are variables."""
    mb = ModelBuilder()
    batch, steps, n_in, n_cell = 2, 2, 3, 2
    x = mb.tensor("x", (batch, steps, n_in), "float32")
    ins = [x]
    for k, g in enumerate("ifco"):
        ins.append(mb.tensor(f"w_{g}", (n_cell, n_in), "float32", data=_w((n_cell, n_in), 10 + k, "float32")))
    for k, g in enumerate("ifco"):
        ins.append(mb.tensor(f"r_{g}", (n_cell, n_cell), "float32", data=_w((n_cell, n_cell), 20 + k, "float32")))
    ins += [-1, -1, -1]
    for k, g in enumerate("ifco"):
        ins.append(mb.tensor(f"b_{g}", (n_cell,), "float32", data=_w((n_cell,), 30 + k, "float32")))
    ins += [-1, -1]
    h = mb.tensor("h", (batch, n_cell), "float32", variable=True)
    c = mb.tensor("c", (batch, n_cell), "float32", variable=True)
    ins += [h, c, -1, -1, -1, -1]
    y = mb.tensor("y", (batch, steps, n_cell), "float32")
    mb.op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [y], {"FusedActivationFunction": 4, "CellClip": 0.8,
                                                     "TimeMajor": False}, version=1)
    x8, y8 = _lstm_s8(mb, batch, steps, n_in, n_cell)
    return mb.build([x, x8], [y, y8])


def family_normalization() -> bytes:
    """L2_NORMALIZATION, int8 and float32."""
    mb = ModelBuilder()
    x = mb.tensor("x", (3, 12), "int8", scale=0.1, zero_point=5)
    y = mb.tensor("y", (3, 12), "int8", scale=1 / 128, zero_point=0)
    mb.op("L2_NORMALIZATION", [x], [y], {"FusedActivationFunction": 0}, version=2)
    xf = mb.tensor("xf", (2, 3, 5), "float32")
    yf = mb.tensor("yf", (2, 3, 5), "float32")
    mb.op("L2_NORMALIZATION", [xf], [yf], {"FusedActivationFunction": 0}, version=1)
    return mb.build([x, xf], [y, yf])


def family_spatial() -> bytes:
    """MIRROR_PAD, SPACE_TO_BATCH_ND (padded with the zero point), BATCH_TO_SPACE_ND (cropped),
    RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR for float32, int8 and int16."""
    mb = ModelBuilder()
    q8 = {"scale": 0.05, "zero_point": -7}
    q16 = {"scale": 0.001, "zero_point": 0}

    def const(name, data):
        return mb.tensor(name, np.shape(data), "int32", data=np.array(data, np.int32))
    x8 = mb.tensor("x8", (1, 3, 4, 2), "int8", **q8)
    xf = mb.tensor("xf", (6, 2, 2, 3), "float32")
    x16 = mb.tensor("x16", (1, 3, 3, 2), "int16", **q16)
    outs = []
    y = mb.tensor("mp", (1, 6, 6, 2), "int8", **q8)
    mb.op("MIRROR_PAD", [x8, const("pads", [[0, 0], [1, 2], [2, 0], [0, 0]])], [y], {"Mode": 0}, version=2)
    outs.append(y)
    y = mb.tensor("s2b", (6, 2, 2, 2), "int8", **q8)
    mb.op("SPACE_TO_BATCH_ND", [x8, const("blk", [2, 3]), const("s2b_pads", [[1, 0], [0, 2]])], [y], version=2)
    outs.append(y)
    y = mb.tensor("b2s", (1, 3, 4, 3), "float32")
    mb.op("BATCH_TO_SPACE_ND", [xf, const("blk2", [2, 3]), const("crops", [[1, 0], [0, 2]])], [y], version=1)
    outs.append(y)
    size = const("size", [5, 4])
    y = mb.tensor("nn16", (1, 5, 4, 2), "int16", **q16)
    mb.op("RESIZE_NEAREST_NEIGHBOR", [x16, size], [y], {"AlignCorners": False, "HalfPixelCenters": True}, version=4)
    outs.append(y)
    for name, x, dt, q, v in (("bl8", x8, "int8", q8, 3), ("bl16", x16, "int16", q16, 4)):
        y = mb.tensor(name, (1, 5, 4, 2), dt, **q)
        mb.op("RESIZE_BILINEAR", [x, size], [y], {"AlignCorners": name == "bl8", "HalfPixelCenters": False},
              version=v)
        outs.append(y)
    y = mb.tensor("blf", (6, 5, 4, 3), "float32")
    mb.op("RESIZE_BILINEAR", [xf, size], [y], {"AlignCorners": False, "HalfPixelCenters": True}, version=3)
    outs.append(y)
    return mb.build([x8, xf, x16], outs)


def family_svdf() -> bytes:
    """SVDF, int8 (int16 weights_time and state) and float32; the states are variables."""
    mb = ModelBuilder()
    batch, n_in, units, rank, memory = 2, 6, 3, 2, 3
    filters = units * rank
    x = mb.tensor("x", (batch, n_in), "int8", scale=0.05, zero_point=-3)
    wf = mb.tensor("wf", (filters, n_in), "int8", data=_w((filters, n_in), 40), scale=0.01)
    wt = mb.tensor("wt", (filters, memory), "int16", data=_w((filters, memory), 41, "int16", -3000, 3000),
                   scale=0.0005)
    b = mb.tensor("b", (units,), "int32", data=_w((units,), 42, "int32", -20000, 20000),
                  scale=float(np.float32(0.0005) * np.float32(0.0005)))
    s = mb.tensor("s", (batch, filters * memory), "int16", variable=True, scale=0.0005, zero_point=0)
    y = mb.tensor("y", (batch, units), "int8", scale=0.3, zero_point=4)
    mb.op("SVDF", [x, wf, wt, b, s], [y], {"Rank": rank, "FusedActivationFunction": 1}, version=3)
    xf = mb.tensor("xf", (batch, n_in), "float32")
    wff = mb.tensor("wff", (filters, n_in), "float32", data=_w((filters, n_in), 43, "float32"))
    wtf = mb.tensor("wtf", (filters, memory), "float32", data=_w((filters, memory), 44, "float32"))
    bf = mb.tensor("bf", (units,), "float32", data=_w((units,), 45, "float32"))
    sf = mb.tensor("sf", (batch, filters * memory), "float32", variable=True)
    yf = mb.tensor("yf", (batch, units), "float32")
    mb.op("SVDF", [xf, wff, wtf, bf, sf], [yf], {"Rank": rank, "FusedActivationFunction": 4}, version=1)
    return mb.build([x, xf], [y, yf])


def family_transpose_conv() -> bytes:
    """TRANSPOSE_CONV: int8, int16x8 with int64 and with int32 (QuantizedBiasType) bias, float32."""
    mb = ModelBuilder()
    n, h, w, c, out_c, k = 1, 3, 3, 2, 3, 3
    shape = mb.tensor("out_shape", (4,), "int32", data=np.array([n, 2 * h, 2 * w, out_c], np.int32))
    opts = {"Padding": 0, "StrideH": 2, "StrideW": 2}
    ws = list(np.linspace(0.002, 0.01, out_c))
    ins, outs = [], []
    for name, dt, bt, extra, v in (("s8", "int8", "int32", {"FusedActivationFunction": 1}, 4),
                                   ("s16", "int16", "int64", {}, 3),
                                   ("s16b32", "int16", "int32", {"QuantizedBiasType": 2}, 5)):
        s_in, zi, zo = (0.05, -3, 5) if dt == "int8" else (0.0005, 0, 0)
        x = mb.tensor(f"x_{name}", (n, h, w, c), dt, scale=s_in, zero_point=zi)
        wt = mb.tensor(f"w_{name}", (out_c, k, k, c), "int8", data=_w((out_c, k, k, c), 50), scale=ws, axis=0)
        b = mb.tensor(f"b_{name}", (out_c,), bt, data=_w((out_c,), 51, bt, -3000, 3000),
                      scale=[s_in * s for s in ws], axis=0)
        y = mb.tensor(f"y_{name}", (n, 2 * h, 2 * w, out_c), dt, scale=(0.04 if dt == "int8" else 0.00035) * 1.5,
                      zero_point=zo)
        mb.op("TRANSPOSE_CONV", [shape, wt, x, b], [y], dict(opts, **extra), version=v)
        ins.append(x)
        outs.append(y)
    x = mb.tensor("xf", (n, h, w, c), "float32")
    wt = mb.tensor("wf", (out_c, k, k, c), "float32", data=_w((out_c, k, k, c), 52, "float32"))
    b = mb.tensor("bf", (out_c,), "float32", data=_w((out_c,), 53, "float32"))
    y = mb.tensor("yf", (n, 2 * h, 2 * w, out_c), "float32")
    mb.op("TRANSPOSE_CONV", [shape, wt, x, b], [y], dict(opts, FusedActivationFunction=3), version=4)
    return mb.build(ins + [x], outs + [y])


def family_unary() -> bytes:
    """The unary kernels LiteRT's reference runs: float32 math, LEAKY_RELU / GELU / PRELU, int16 tables,
    ABS / SQRT / NEG of the integer types, LOGICAL_NOT, ZEROS_LIKE and CASTs between the types. A few long
    chains (every tensor is also an output), not many parallel branches: the schedule search of a wide
    graph would dominate the compile time."""
    mb = ModelBuilder()
    shape = (2, 8)
    outs, count = [], [0]

    def chain(x, *steps):
        for kind, dtype, q, options, version, extra in steps:
            count[0] += 1
            y = mb.tensor(f"y{count[0]}_{kind.lower()}", shape, dtype, **(q or {}))
            mb.op(kind, [x, *extra], [y], options, version=version)
            if dtype != "bool":   # no bool graph outputs
                outs.append(y)
            x = y
        return x

    def s(kind, dtype="float32", q=None, options=None, version=1, extra=()):
        return kind, dtype, q, options, version, extra
    xf = mb.tensor("xf", shape, "float32")
    x32 = mb.tensor("x32", shape, "int32")
    x16 = mb.tensor("x16", shape, "int16", scale=0.001, zero_point=0)
    x8 = mb.tensor("x8", shape, "int8", scale=0.05, zero_point=-3)
    alpha_f = mb.tensor("alpha_f", (8,), "float32", data=_w((8,), 60, "float32"))
    chain(xf, *[s(k) for k in ("ABS", "SQRT", "LOG", "NEG", "EXP", "SIN", "COS", "RSQRT", "SQUARE")],
          s("LEAKY_RELU", options={"Alpha": 0.3}), s("GELU", options={"Approximate": True}),
          s("GELU", options={"Approximate": False}), s("PRELU", extra=[alpha_f]))
    casts = [step for dt in ("int8", "uint8", "int16", "int64", "bool") for step in (s("CAST", dt), s("CAST"))]
    chain(xf, s("FLOOR"), *casts, s("CAST", "int32"))
    i64 = chain(x32, s("ABS", "int32", version=3), s("NEG", "int32"), s("CAST", "int64"), s("NEG", "int64"))
    chain(i64, s("ZEROS_LIKE", "int64"))
    r16 = chain(i64, s("CAST", "int32"), s("CAST", "int16"), s("ABS", "int16", version=3))
    chain(r16, s("CAST", "bool"), s("CAST", "int32"))
    chain(r16, s("CAST", "int8"), s("CAST", "uint8"), s("CAST", "int8"), s("CAST", "int32"), s("CAST", "bool"),
          s("LOGICAL_NOT", "bool"), s("CAST", "int32"), s("ZEROS_LIKE", "int32"))
    alpha16 = mb.tensor("alpha16", (8,), "int8", data=_w((8,), 62), scale=0.01, zero_point=5)
    q16 = {"scale": 0.004, "zero_point": 0}
    chain(x16, s("ABS", "int16", {"scale": 0.0007, "zero_point": 0}, version=3),
          s("SQRT", "int16", {"scale": 0.0003, "zero_point": 0}, version=2), s("EXP", "int16", q16, version=2),
          s("LEAKY_RELU", "int16", q16, {"Alpha": 0.2}, version=2), s("NEG", "int16", q16),
          s("PRELU", "int16", {"scale": 0.003, "zero_point": 0}, extra=[alpha16]))
    alpha8 = mb.tensor("alpha8", (8,), "int8", data=_w((8,), 61), scale=0.01, zero_point=5)
    chain(x8, s("PRELU", "int8", {"scale": 0.03, "zero_point": 4}, extra=[alpha8]),
          s("NEG", "int8", {"scale": 0.03, "zero_point": 4}))
    return mb.build([xf, x32, x16, x8], outs)


def family_unary_tflm() -> bytes:
    """float32 CEIL, ROUND and ELU: not in LiteRT's reference resolver (TFLM runs them)."""
    mb = ModelBuilder()
    x = mb.tensor("x", (2, 8), "float32")
    outs = []
    for kind in ("CEIL", "ROUND", "ELU"):
        y = mb.tensor(f"y_{kind.lower()}", (2, 8), "float32")
        mb.op(kind, [x], [y], version=1)
        outs.append(y)
    return mb.build([x], outs)


SMALL = {"fc_chain": fc_chain, "two_io": reshape_fc_two_outputs}
FAMILIES = {
    "family_conv_s8": lambda: family_conv("int8"),
    "family_conv_s16": lambda: family_conv("int16"),
    "family_conv_f32": lambda: family_conv("float32"),
    "family_fc_s16": family_fully_connected_s16,
    "family_pool_s8": lambda: family_pool("int8"),
    "family_pool_s16": lambda: family_pool("int16"),
    "family_pool_f32": lambda: family_pool("float32"),
    "family_elementwise_s8": lambda: family_elementwise("int8"),
    "family_elementwise_s16": lambda: family_elementwise("int16"),
    "family_elementwise_f32": lambda: family_elementwise("float32"),
    "family_elementwise_s32": lambda: family_elementwise("int32"),
    "family_activation": family_activation,
    "family_softmax": family_softmax,
    "family_quantize": family_quantize,
    "family_reduce": family_reduce,
    "family_data": family_data,
    "family_arg": family_arg,
    "family_batch_matmul": family_batch_matmul,
    "family_compare": family_compare,
    "family_gather": family_gather,
    "family_lstm": family_lstm,
    "family_normalization": family_normalization,
    "family_spatial": family_spatial,
    "family_svdf": family_svdf,
    "family_transpose_conv": family_transpose_conv,
    "family_unary": family_unary,
    "family_unary_tflm": family_unary_tflm,
}
DEMO = {"demo": aotc.demo.build_demo_model, "demo_float": aotc.demo.build_demo_model_float}
BUILT = {**SMALL, **FAMILIES, **DEMO}   # built here: they must compile, never skipped
SHARED = sorted(p.name for p in SHARED_MODELS.glob("*.tflite")) if SHARED_MODELS.is_dir() else []
ALL = list(BUILT) + SHARED


def compile_model(which: str, out: Path) -> aotc.compiler.Compiled:
    if which in BUILT:
        return aotc.compile(BUILT[which](), out_dir=out, name=which)
    try:
        return aotc.compile(SHARED_MODELS / which, out_dir=out)
    except aotc.UnsupportedError as e:
        pytest.skip(f"{which} does not compile yet: {e}")


def need(cc: str) -> None:
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} is not installed")


def run(cmd, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))}\n{r.stdout}\n{r.stderr}"
    return r


# ---- warning-free -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Each model compiled once per module: name -> Compiled (or the skip reason)."""
    cache: dict[str, object] = {}

    def get(which: str):
        if which not in cache:
            out = tmp_path_factory.mktemp("gen") / which.replace(".tflite", "")
            try:
                cache[which] = compile_model(which, out)
            except pytest.skip.Exception as e:
                cache[which] = str(e)
        if isinstance(cache[which], str):
            pytest.skip(cache[which])
        return cache[which]
    return get


@pytest.mark.parametrize("cc", COMPILERS)
@pytest.mark.parametrize("which", ALL)
def test_generated_c_compiles_without_warnings(generated, which, cc, tmp_path):
    need(cc)
    c = generated(which)
    d = c.out_dir
    run([cc, *STRICT, "-c", d / f"{c.name}.c", "-I", d, "-o", tmp_path / "model.o"])
    # the header on its own, included from C99 user code
    (tmp_path / "user.c").write_text(f'#include "{c.name}.h"\nint user_dummy(void) {{ return {c.name.upper()}_OK; }}\n')
    run([cc, *STRICT, "-c", tmp_path / "user.c", "-I", d, "-o", tmp_path / "user.o"])


def run_all(cmds: dict) -> None:
    """Run the commands concurrently; fail listing every one that failed, with its diagnostics."""
    procs = {k: subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for k, cmd in cmds.items()}
    failed = []
    for k, proc in procs.items():
        out, _ = proc.communicate(timeout=300)
        if proc.returncode != 0:
            failed.append(f"[{k}] {' '.join(map(str, cmds[k]))}\n{out}")
    assert not failed, "\n".join(failed)


def need_arm() -> None:
    if shutil.which(ARM_CC) is None:
        pytest.skip(f"{ARM_CC} is not installed (Debian: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)")


@pytest.mark.parametrize("which", ALL)
def test_generated_c_compiles_without_warnings_for_cortex_m(generated, which, tmp_path):
    """arm-none-eabi-gcc for M55, M4 (single-precision FPU) and M0+ (no FPU): int32_t is `long` there."""
    need_arm()
    c = generated(which)
    d = c.out_dir
    (tmp_path / "user.c").write_text(f'#include "{c.name}.h"\nint user_dummy(void) {{ return {c.name.upper()}_OK; }}\n')
    cmds = {}
    for cpu, flags in ARM_CPUS.items():
        cmds[cpu] = [ARM_CC, *STRICT, *flags, "-c", d / f"{c.name}.c", "-I", d, "-o", tmp_path / f"model_{cpu}.o"]
        cmds[f"{cpu} user"] = [ARM_CC, *STRICT, *flags, "-c", tmp_path / "user.c", "-I", d,
                               "-o", tmp_path / f"user_{cpu}.o"]
    run_all(cmds)


@pytest.mark.parametrize("which", SHARED)
def test_cmsis_nn_target_output_compiles_without_warnings(cmsis_nn_path, which, tmp_path):
    """The m55 target's output (CMSIS-NN calls) under the same flags, for gcc, clang and the M55;
    CMSIS-NN's own headers are the user's, so they come in with -isystem."""
    path = cmsis_nn_path
    need_arm()
    c = aotc.compile(SHARED_MODELS / which, target="m55", out_dir=tmp_path / "gen")
    d = c.out_dir
    inc = ["-isystem", f"{path}/Include"]
    cmds = {cc: [cc, *STRICT, *inc, "-c", d / f"{c.name}.c", "-I", d, "-o", tmp_path / f"{cc}.o"]
            for cc in COMPILERS if shutil.which(cc)}
    cmds["cortex-m55"] = [ARM_CC, *STRICT, *ARM_CPUS["cortex-m55"], *inc, "-c", d / f"{c.name}.c", "-I", d,
                          "-o", tmp_path / "m55.o"]
    run_all(cmds)


@pytest.mark.parametrize("header", CMSIS_HEADERS)
def test_cmsis_glue_header_compiles_alone(cmsis_nn_path, header, tmp_path):
    """The CMSIS-NN glue headers on their own with CMSIS-NN's headers, for gcc, clang and every Arm CPU
    (the M55 compiles their Helium paths); the shared models reach them from generated code in
    test_cmsis_nn_target_output_compiles_without_warnings."""
    path = cmsis_nn_path
    need_arm()
    src = tmp_path / "alone.c"
    src.write_text(f'#include "aotc/{header}"\n')
    inc = ["-isystem", f"{path}/Include", "-I", RUNTIME]
    cmds = {cc: [cc, *STRICT, "-c", src, *inc, "-o", tmp_path / f"{cc}.o"] for cc in COMPILERS if shutil.which(cc)}
    cmds.update({cpu: [ARM_CC, *STRICT, *flags, "-c", src, *inc, "-o", tmp_path / f"{cpu}.o"]
                 for cpu, flags in ARM_CPUS.items()})
    run_all(cmds)


@pytest.mark.parametrize("target", [*COMPILERS, "cortex-m"])
@pytest.mark.parametrize("header", HEADERS)
def test_runtime_header_compiles_alone(header, target, tmp_path):
    """Each runtime header included on its own, nothing else: it must bring its own includes and
    compile warning-free, its unused static kernels included."""
    src = tmp_path / "alone.c"
    src.write_text(f'#include "aotc/{header}"\n')
    if target == "cortex-m":
        need_arm()
        cmds = {cpu: [ARM_CC, *STRICT, *flags, "-c", src, "-I", RUNTIME, "-o", tmp_path / f"{cpu}.o"]
                for cpu, flags in ARM_CPUS.items()}
    else:
        need(target)
        cmds = {target: [target, *STRICT, "-c", src, "-I", RUNTIME, "-o", tmp_path / "alone.o"]}
    run_all(cmds)


def test_family_models_reach_every_runtime_header(generated):
    """The family models above must include every runtime header, so the strict compiles check each
    header's kernels as called from generated code. A new header needs a family model here."""
    reached = set()
    for which in FAMILIES:
        c = generated(which)
        reached |= set(re.findall(r'#include "aotc/([a-z0-9_]+\.h)"', (c.out_dir / f"{c.name}.c").read_text()))
    missing = sorted(set(HEADERS) - reached)
    assert not missing, f"no family model in {Path(__file__).name} reaches runtime header(s) {missing}"


@pytest.mark.parametrize("cc", COMPILERS)
def test_hostile_tensor_names_cannot_inject_c(cc, tmp_path):
    """Tensor names land in C comments: a name holding a comment terminator must stay a comment."""
    need(cc)
    rng = np.random.default_rng(0)
    mb = ModelBuilder()
    x = mb.tensor("x */ int injected; /* a\nb \\", (1, 8), "int8", scale=0.05, zero_point=-3)
    w = mb.tensor("w /* nested", (6, 8), "int8", data=rng.integers(-127, 128, (6, 8)), scale=0.01)
    y = mb.tensor("y ??/", (1, 6), "int8", scale=0.1, zero_point=2)
    mb.op("FULLY_CONNECTED", [x, w, -1], [y], {}, version=4)
    c = aotc.compile(mb.build([x], [y]), out_dir=tmp_path / "out", name="hostile")
    d = c.out_dir
    run([cc, *STRICT, "-c", d / "hostile.c", "-I", d, "-o", tmp_path / "m.o"])
    r = subprocess.run(["nm", str(tmp_path / "m.o")], capture_output=True, text=True)
    assert "injected" not in r.stdout


# ---- init / invoke under the sanitizers ---------------------------------------------------------

MAIN = r"""
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "@name@.h"

@NAME@_ARENA_DEFINE(static_arena);

int main(void)
{
    @name@_ctx_t ctx;
    void *exact = NULL;
    unsigned char *shifted;
    int rc, k;
@decls@
    /* exact-size heap arena: ASan flags any byte read or written past ARENA_SIZE */
    if (posix_memalign(&exact, @NAME@_ARENA_ALIGN, @NAME@_ARENA_SIZE ? @NAME@_ARENA_SIZE : 1) != 0) return 90;
    shifted = (unsigned char *)malloc(@NAME@_ARENA_SIZE + 2 * @NAME@_ARENA_ALIGN);
    if (shifted == NULL) return 91;
@alloc@
    /* documented errors */
    if ((rc = @name@_init(NULL, static_arena, sizeof static_arena)) != @NAME@_ERR_NULL) return 10;
    if ((rc = @name@_init(&ctx, NULL, sizeof static_arena)) != @NAME@_ERR_NULL) return 11;
    if (@NAME@_ARENA_SIZE > 0u) {
        if ((rc = @name@_init(&ctx, exact, @NAME@_ARENA_SIZE - 1u)) != @NAME@_ERR_ARENA_SIZE) return 12;
        if ((rc = @name@_invoke(&ctx@args@)) != @NAME@_ERR_NULL) return 13;   /* failed init: unusable */
    }
    {   /* misaligned by one byte */
        unsigned char *p = shifted;
        while (((size_t)p % @NAME@_ARENA_ALIGN) != 1u) p++;
        if ((rc = @name@_init(&ctx, p, @NAME@_ARENA_SIZE + @NAME@_ARENA_ALIGN)) != @NAME@_ERR_ARENA_ALIGN) return 14;
        if ((rc = @name@_invoke(&ctx@args@)) != @NAME@_ERR_NULL) return 15;
    }
    if ((rc = @name@_invoke(NULL@args@)) != @NAME@_ERR_NULL) return 16;

    /* the macro-defined arena, zero input */
    if ((rc = @name@_init(&ctx, static_arena, sizeof static_arena)) != @NAME@_OK) return 20;
    if ((rc = @name@_invoke(&ctx@args@)) != @NAME@_OK) return 21;
@print@
    /* the exact-size heap arena filled with garbage, then a patterned input, twice */
    if ((rc = @name@_init(&ctx, exact, @NAME@_ARENA_SIZE)) != @NAME@_OK) return 30;
    memset(exact, 0xA5, @NAME@_ARENA_SIZE);
    for (k = 0; k < 2; k++) {
@pattern@
        if ((rc = @name@_invoke(&ctx@args@)) != @NAME@_OK) return 31;
    }
@print@
@free@
    free(exact);
    free(shifted);
    return 0;
}
"""


def render_main(c) -> str:
    name, NAME = c.name, c.name.upper()
    decls, alloc, pattern, prints, frees, args = [], [], [], [], [], []
    for kind, ts in (("INPUT", c.graph.inputs), ("OUTPUT", c.graph.outputs)):
        for i, t in enumerate(ts):
            v = f"{kind.lower()}{i}"
            m = f"{NAME}_{kind}{i}"
            decls.append(f"    {m}_TYPE *{v};")
            n = f"({m}_SIZE ? {m}_SIZE : 1)"
            if kind == "INPUT":   # zero input
                alloc.append(f"    {v} = ({m}_TYPE *)calloc({n}, sizeof *{v}); if ({v} == NULL) return 92;")
                pattern.append(f"        {{ size_t j; for (j = 0; j < {m}_SIZE; j++) "
                               f"{v}[j] = ({m}_TYPE)((j * 37u + (size_t)k * 11u) % 97u); }}")
            else:
                alloc.append(f"    {v} = ({m}_TYPE *)malloc({n} * sizeof *{v}); if ({v} == NULL) return 93;")
                cast = "(double)" if t.dtype == "float32" else "(long long)"
                fmt = "%g" if t.dtype == "float32" else "%lld"
                prints.append(f'    {{ size_t j; for (j = 0; j < {m}_SIZE && j < 8u; j++) '
                              f'printf("{fmt} ", {cast}{v}[j]); printf("\\n"); }}')
            frees.append(f"    free({v});")
            args.append(v)
    text = MAIN
    for key, val in {"decls": "\n".join(decls), "alloc": "\n".join(alloc), "pattern": "\n".join(pattern),
                     "print": "\n".join(prints), "free": "\n".join(frees),
                     "args": "".join(f", {a}" for a in args), "name": name, "NAME": NAME}.items():
        text = text.replace(f"@{key}@", val)
    return text


@pytest.mark.parametrize("which", ALL)
def test_init_and_invoke_under_sanitizers(generated, which, tmp_path):
    need("gcc")
    c = generated(which)
    d = c.out_dir
    (tmp_path / "main.c").write_text(render_main(c))
    exe = tmp_path / "main"
    run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", *SANITIZE, "-I", d,
         tmp_path / "main.c", d / f"{c.name}.c", "-lm", "-o", exe])
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS="print_stacktrace=1")
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert "runtime error" not in r.stderr and "AddressSanitizer" not in r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2 * len(c.graph.outputs)


def test_error_codes_are_the_documented_values(generated):
    c = generated("fc_chain")
    h = (c.out_dir / "fc_chain.h").read_text()
    for line in ("#define FC_CHAIN_OK 0", "#define FC_CHAIN_ERR_NULL (-1)", "#define FC_CHAIN_ERR_ARENA_SIZE (-2)",
                 "#define FC_CHAIN_ERR_ARENA_ALIGN (-3)", f"#define FC_CHAIN_ARENA_SIZE {c.plan.arena_size}u",
                 "#define FC_CHAIN_ARENA_ALIGN 16u"):
        assert line in h


# ---- determinism --------------------------------------------------------------------------------

def test_generating_twice_gives_identical_files(tmp_path):
    a = aotc.compile(fc_chain(), out_dir=tmp_path / "a")
    b = aotc.compile(fc_chain(), out_dir=tmp_path / "b")
    assert a.files == b.files
    for f in (tmp_path / "a").rglob("*"):
        if f.is_file():
            assert f.read_bytes() == (tmp_path / "b" / f.relative_to(tmp_path / "a")).read_bytes(), f


def test_generating_in_two_processes_gives_identical_files(tmp_path):
    """Different hash seeds (set/dict iteration order of objects) must not change the output."""
    models = {"fc_chain.tflite": fc_chain(), "two_io.tflite": reshape_fc_two_outputs()}
    for name in ("hello_world_int8.tflite", "ad01_int8.tflite", "kws_ref_model.tflite"):
        if (SHARED_MODELS / name).is_file():
            models[name] = (SHARED_MODELS / name).read_bytes()
    for name, data in models.items():
        (tmp_path / name).write_bytes(data)
    script = ("import sys, aotc\n"
              "for m in sys.argv[2:]:\n"
              "    try:\n"
              "        aotc.compile(m, out_dir=sys.argv[1] + '/' + m[:-7])\n"
              "    except aotc.UnsupportedError:\n"
              "        pass\n")
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        run([sys.executable, "-c", script, f"out{seed}", *models], cwd=tmp_path, env=env)

    def files(root: Path):
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    one, two = files(tmp_path / "out1"), files(tmp_path / "out2")
    assert one.keys() == two.keys() and one, sorted(one)
    for k in one:
        assert one[k] == two[k], k
