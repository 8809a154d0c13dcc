"""SOFTMAX over the last dimension: int8 -> int8 / int16, int16 -> int16, float32.
LOG_SOFTMAX over the last dimension: float32, int8 (output scale 16/256, zero point 127)."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .registry import OpDef, expect_dtype, expect_inputs, expect_quantized, op

TYPES = {"int8": ("int8", "int16"), "int16": ("int16",), "float32": ("float32",)}


@op("SOFTMAX")
class Softmax(OpDef):
    options = "SoftmaxOptions"
    max_version = 3
    types = ("float32", "int8", "int16")

    def parse(self, opts) -> dict:
        return {"beta": float(np.float32(opts.Beta())) if opts is not None else 1.0}

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1)
        x, y = op.inputs[0], op.outputs[0]
        if x.dtype not in TYPES:
            expect_dtype(op, x, *TYPES)
        expect_dtype(op, y, *TYPES[x.dtype])
        if tuple(x.shape) != tuple(y.shape):
            raise op.error(f"output shape {list(y.shape)} differs from input shape {list(x.shape)}", y)
        if len(x.shape) < 1:
            raise op.error("input must have at least one dimension", x)
        if x.dtype == "float32":
            return
        for t in (x, y):
            expect_quantized(op, t)
            if t.quant.per_channel:
                raise op.error("per-channel quantization is not supported here", t)
        if y.dtype == "int8":
            if y.quant.zp != -128 or abs(float(np.float32(y.quant.s)) - 1 / 256) > 0.001 / 256:
                raise op.error(f"int8 output must have scale 1/256 and zero point -128 "
                               f"(got {y.quant.s:g}, {y.quant.zp})", y)
        elif x.dtype == "int16":
            if x.quant.zp != 0 or y.quant.zp != 0:
                raise op.error("int16 tensors must have zero point 0", x if x.quant.zp else y)
            if abs(float(np.float32(y.quant.s)) - 1 / 32768) > 0.001 / 32768:
                raise op.error(f"int16 output must have scale 1/32768 (got {y.quant.s:g})", y)
        if op.attrs["beta"] <= 0:
            raise op.error(f"beta must be positive, got {op.attrs['beta']:g}")


@op("LOG_SOFTMAX")
class LogSoftmax(OpDef):
    """LiteRT/TFLM reference: float32 x - max - log(sum(exp(x - max))); int8 in gemmlowp fixed point
    (Q5.26 scaled differences, Q12.19 sum of exps, Q5.26 log) with beta 1."""
    options = "LogSoftmaxOptions"
    max_version = 2
    types = ("float32", "int8")

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1)
        x, y = op.inputs[0], op.outputs[0]
        expect_dtype(op, x, *self.types)
        if y.dtype != x.dtype:
            raise op.error(f"output type {y.dtype} differs from input type {x.dtype}", y)
        if tuple(x.shape) != tuple(y.shape):
            raise op.error(f"output shape {list(y.shape)} differs from input shape {list(x.shape)}", y)
        if len(x.shape) < 1:
            raise op.error("input must have at least one dimension", x)
        if x.dtype == "float32":
            return
        for t in (x, y):
            expect_quantized(op, t)
            if t.quant.per_channel:
                raise op.error("per-channel quantization is not supported here", t)
        if np.float32(y.quant.s) != np.float32(16.0 / 256) or y.quant.zp != 127:
            raise op.error(f"int8 output must have scale 16/256 and zero point 127 "
                           f"(got {y.quant.s:g}, {y.quant.zp})", y)
        if not 0 < float(np.float32(x.quant.s)) * (1 << 26) < 2**31:
            raise op.error(f"input scale {x.quant.s:g} is out of the supported range", x)
