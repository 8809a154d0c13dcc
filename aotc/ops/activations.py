"""RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1, LOGISTIC, TANH, HARD_SWISH: unary activations.
int8 (via a 256-entry table computed at compile time), int16 (RELU family), float32."""
from __future__ import annotations

import math

import numpy as np

from ..ir import Graph, Op
from .registry import OpDef, expect_dtype, expect_inputs, expect_quantized, op

# clamp bounds of the RELU family (TFLite's QuantizedReluX arguments)
RELU_BOUNDS = {"RELU": (0.0, math.inf), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0),
               "RELU_0_TO_1": (0.0, 1.0)}
INT16_OK = ("RELU", "RELU6")


class _Unary(OpDef):
    max_version = 3
    dtypes = ("float32", "int8")

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1)
        x, y = op.inputs[0], op.outputs[0]
        if x.dtype == "int16" and "int16" not in self.dtypes:
            raise op.error(f"int16 {op.kind} is not supported by aotc (LiteRT's int16 kernel uses a "
                           "table aotc does not reproduce)", x)
        expect_dtype(op, x, *self.dtypes)
        expect_dtype(op, y, x.dtype)
        if tuple(x.shape) != tuple(y.shape):
            raise op.error(f"output shape {list(y.shape)} differs from input shape {list(x.shape)}", y)
        if x.dtype != "float32":
            for t in (x, y):
                expect_quantized(op, t)
                if t.quant.per_channel:
                    raise op.error("per-channel quantization is not supported here", t)
            if x.dtype == "int16" and (x.quant.zp != 0 or y.quant.zp != 0):
                raise op.error("int16 tensors must have zero point 0", x if x.quant.zp else y)
            self.check_quantized(op)

    def check_quantized(self, op: Op) -> None:
        pass

    def float_fn(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def evaluate(self, op, values):
        x = values[0]
        if x is None or x.dtype != np.float32:
            return None
        with np.errstate(all="ignore"):
            return [self.float_fn(x).astype(np.float32)]


class _Relu(_Unary):
    dtypes = ("float32", "int8", "int16")

    def check_quantized(self, op: Op) -> None:
        if op.inputs[0].dtype == "int16" and op.kind not in INT16_OK:
            raise op.error(f"int16 {op.kind} is not supported (LiteRT supports int16 RELU and RELU6 only)",
                           op.inputs[0])

    def float_fn(self, x):
        lo, hi = RELU_BOUNDS[self.kind]
        y = np.where(x < np.float32(lo), np.float32(lo), x)
        return np.where(y > np.float32(hi), np.float32(hi), y) if hi != math.inf else y


@op("RELU")
class Relu(_Relu):
    pass


@op("RELU6")
class Relu6(_Relu):
    pass


@op("RELU_N1_TO_1")
class ReluN1To1(_Relu):
    pass


@op("RELU_0_TO_1")
class Relu0To1(_Relu):
    pass


@op("LOGISTIC")
class Logistic(_Unary):
    def check_quantized(self, op: Op) -> None:
        y = op.outputs[0]
        if float(np.float32(y.quant.s)) != 1.0 / 256:
            raise op.error(f"int8 LOGISTIC needs output scale 1/256, got {y.quant.s:g}", y)

    def float_fn(self, x):
        return None   # libm-dependent; not folded

    def evaluate(self, op, values):
        return None


@op("TANH")
class Tanh(_Unary):
    def evaluate(self, op, values):
        return None


@op("HARD_SWISH")
class HardSwish(_Unary):
    max_version = 1

    def check_quantized(self, op: Op) -> None:
        x, y = op.inputs[0], op.outputs[0]
        hires = np.float32(np.float32(1.0 / 128.0) * np.float32(x.quant.s))
        m = float(np.float32(hires / np.float32(y.quant.s)))
        if math.frexp(m)[1] > 0 and m != 0.0:
            raise op.error(f"output scale {y.quant.s:g} is too small for HARD_SWISH's int8 kernel "
                           "(output multiplier exponent > 0)", y)

    def float_fn(self, x):
        f = np.float32
        return x * np.minimum(f(6), np.maximum(f(0), x + f(3))) / f(6)
