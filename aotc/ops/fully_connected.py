"""FULLY_CONNECTED: out[b, u] = act(sum_i (in[b, i] + in_off) * (w[u, i] + w_off) + bias[u]), requantized."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .registry import (OpDef, activation, expect_dtype, expect_inputs, expect_nonempty, expect_quantized,
                       expect_shape, op)

TYPES = {  # input dtype -> (weights, bias, output); int4 weights: versions 10 (int8) and 13 (int16)
    "int8": (("int8", "int4"), ("int32",), "int8"),
    "int16": (("int8", "int4"), ("int64", "int32"), "int16"),
    "float32": (("float32",), ("float32",), "float32"),
}


@op("FULLY_CONNECTED")
class FullyConnected(OpDef):
    options = "FullyConnectedOptions"
    max_version = 13
    types = ("float32", "int8", "int16x8")

    def parse(self, opts) -> dict:
        return {
            "activation": activation(opts),
            "weights_format": opts.WeightsFormat() if opts is not None else 0,
            "keep_num_dims": bool(opts.KeepNumDims()) if opts is not None else False,
            "asymmetric_quantize_inputs": bool(opts.AsymmetricQuantizeInputs()) if opts is not None else False,
        }

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2, 3)
        x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
        b = op.input(2)
        if op.attrs["weights_format"] != 0:
            raise op.error("shuffled weights format is not supported", w)
        if x.dtype not in TYPES:
            expect_dtype(op, x, *TYPES)
        wts, bts, yt = TYPES[x.dtype]
        if x.dtype == "float32" and w.dtype != "float32":
            raise op.error(f"hybrid (float input, {w.dtype} weights) fully connected is not supported", w)
        expect_dtype(op, w, *wts)
        if w.dtype == "int4" and not w.is_const:
            raise op.error("int4 weights must be constant", w)
        expect_dtype(op, y, yt)
        if b is not None:
            expect_dtype(op, b, *bts)
        if len(w.shape) != 2:
            raise op.error(f"weights must be 2-D [units, depth], got {list(w.shape)}", w)
        units, depth = w.shape
        expect_nonempty(op, w, "weights")
        if x.size % depth:
            raise op.error(f"input of {x.size} elements is not a multiple of depth {depth}", x)
        batches = x.size // depth
        if not y.shape:
            raise op.error("output must have at least one dimension", y)
        if op.attrs["keep_num_dims"]:
            expect_shape(op, y, tuple(x.shape[:-1]) + (units,))
        elif y.size != batches * units or y.shape[-1] != units:
            raise op.error(f"output shape {list(y.shape)} should hold {batches} x {units}", y)
        if b is not None:
            expect_shape(op, b, (units,))
        if x.dtype != "float32":
            for t in (x, w, y):
                expect_quantized(op, t)
            if w.quant.per_channel and len(w.quant.scale) != units:
                raise op.error(f"{len(w.quant.scale)} weight scales for {units} units", w)
            if w.dtype == "int4" and any(z != 0 for z in w.quant.zero_point):
                raise op.error("int4 weights must have zero point 0", w)
            if x.dtype == "int16" and (x.quant.zp != 0 or y.quant.zp != 0):
                raise op.error("int16 activations must have zero point 0", x if x.quant.zp else y)
        if op.attrs["activation"] not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
            raise op.error(f"fused activation {op.attrs['activation']} is not supported")

    def evaluate(self, op, values):
        x, w = values[0], values[1]
        if x.dtype != np.float32 or op.attrs["activation"] != "NONE":
            return None
        y = x.reshape(-1, w.shape[1]) @ w.T
        if values[2] is not None:
            y = y + values[2]
        return [y.astype(np.float32).reshape(op.outputs[0].shape)]
