"""QUANTIZE (float32 -> int8/uint8/int16, and requantization between int8/uint8/int16) and
DEQUANTIZE (int8/uint8/int16 -> float32, with numpy evaluation for constant folding)."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .registry import OpDef, expect_dtype, expect_inputs, op

QUANTIZE_TYPES = {"float32": ("int8", "uint8", "int16"), "int8": ("int8", "uint8", "int16"),
                  "uint8": ("int8", "uint8", "int16"), "int16": ("int8", "int16")}


def _expect_same_shape(op: Op) -> None:
    x, y = op.inputs[0], op.outputs[0]
    if tuple(x.shape) != tuple(y.shape):
        raise op.error(f"output shape {list(y.shape)} differs from input shape {list(x.shape)}", y)


@op("QUANTIZE")
class Quantize(OpDef):
    max_version = 3
    types = ("float32", "int8", "uint8", "int16")   # input types; see QUANTIZE_TYPES for the outputs

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1)
        x, y = op.inputs[0], op.outputs[0]
        if x.dtype not in QUANTIZE_TYPES:
            expect_dtype(op, x, *QUANTIZE_TYPES)
        expect_dtype(op, y, *QUANTIZE_TYPES[x.dtype])
        _expect_same_shape(op)
        if y.quant is None:
            raise op.error("output has no quantization parameters", y)
        if y.quant.per_channel:
            raise op.error("per-channel QUANTIZE output is not supported", y)
        if x.dtype != "float32":
            if x.quant is None:
                raise op.error(f"{x.dtype} input has no quantization parameters", x)
            if x.quant.per_channel:
                raise op.error("per-channel QUANTIZE input is not supported", x)
            if x.dtype == "int16" and y.dtype == "int16" and (x.quant.zp or y.quant.zp):
                raise op.error("int16 -> int16 requantization needs zero points 0", x if x.quant.zp else y)


def dequantize_numpy(x: np.ndarray, quant, shape) -> np.ndarray:
    """TFLite Dequantize: per-tensor float(double(scale) * (q - zp)); per-channel in float."""
    q = x.astype(np.int64)
    if len(quant.scale) > 1:
        axis = quant.axis
        bshape = [1] * len(shape)
        bshape[axis] = len(quant.scale)
        scale = np.array(quant.scale, dtype=np.float32).reshape(bshape)
        zps = list(quant.zero_point) if len(quant.zero_point) == len(quant.scale) \
            else [quant.zero_point[0]] * len(quant.scale)
        zp = np.array(zps, dtype=np.int64).reshape(bshape)
        return (scale * (q - zp).astype(np.float32)).astype(np.float32)
    scale = float(np.float32(quant.scale[0]))
    return (scale * (q - quant.zero_point[0]).astype(np.float64)).astype(np.float32)


@op("DEQUANTIZE")
class Dequantize(OpDef):
    max_version = 6
    types = ("int8", "uint8", "int16")

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1)
        x, y = op.inputs[0], op.outputs[0]
        expect_dtype(op, x, "int8", "uint8", "int16")
        expect_dtype(op, y, "float32")
        _expect_same_shape(op)
        if x.quant is None:
            raise op.error(f"{x.dtype} input has no quantization parameters", x)
        if x.quant.per_channel:
            if not x.is_const:
                raise op.error("per-channel DEQUANTIZE of a non-constant tensor is not supported", x)
            if not 0 <= x.quant.axis < len(x.shape) or x.shape[x.quant.axis] != len(x.quant.scale):
                raise op.error(f"{len(x.quant.scale)} scales do not match axis {x.quant.axis} "
                               f"of shape {list(x.shape)}", x)
        if x.dtype == "int16" and x.quant.zp != 0:
            raise op.error("int16 input must have zero point 0", x)

    def evaluate(self, op, values):
        x = values[0]
        if x is None:
            return None
        t = op.inputs[0]
        return [dequantize_numpy(np.asarray(x).reshape(t.shape), t.quant, t.shape)]
