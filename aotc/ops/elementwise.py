"""ADD, SUB, MUL: elementwise binary arithmetic with NumPy-style broadcasting (up to 6-D) and a fused
activation. int8 and int16 are quantized (TFLite's rescaling paths), float32 and int32 are plain."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .registry import OpDef, activation, expect_dtype, expect_inputs, expect_quantized, op

MAX_DIMS = 6
QUANTIZED = ("int8", "int16")


def broadcast_shape(a, b) -> tuple[int, ...] | None:
    """NumPy broadcasting of two shapes; None when they do not broadcast."""
    a, b = tuple(a), tuple(b)
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + a
    b = (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            return None
    return tuple(out)


def _fused_clamp(act: str, y: np.ndarray) -> np.ndarray:
    lo, hi = {"NONE": (None, None), "RELU": (0, None), "RELU6": (0, 6), "RELU_N1_TO_1": (-1, 1)}[act]
    if lo is not None:
        y = np.maximum(y, y.dtype.type(lo))
    if hi is not None:
        y = np.minimum(y, y.dtype.type(hi))
    return y


class _Binary(OpDef):
    max_version = 5
    dtypes = ("float32", "int32", "int8", "int16")
    numpy_fn = None

    def parse(self, opts) -> dict:
        attrs = {"activation": activation(opts)}
        pot = getattr(opts, "PotScaleInt16", None) if opts is not None else None
        attrs["pot_scale_int16"] = bool(pot()) if pot is not None else True
        return attrs

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
        if a.dtype not in self.dtypes:
            expect_dtype(op, a, *self.dtypes)
        expect_dtype(op, b, a.dtype)
        expect_dtype(op, y, a.dtype)
        shape = broadcast_shape(a.shape, b.shape)
        if shape is None:
            raise op.error(f"input shapes {list(a.shape)} and {list(b.shape)} do not broadcast", b)
        if tuple(y.shape) != shape:
            raise op.error(f"output shape {list(y.shape)} is not the broadcast shape {list(shape)}", y)
        if len(shape) > MAX_DIMS:
            raise op.error(f"broadcasting over {len(shape)} dimensions is not supported (max {MAX_DIMS})", y)
        act = op.attrs["activation"]
        if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
            raise op.error(f"fused activation {act} is not supported")
        if a.dtype in QUANTIZED:
            for t in (a, b, y):
                expect_quantized(op, t)
                if t.quant.per_channel:
                    raise op.error("per-channel quantization is not supported here", t)
            if a.dtype == "int16":
                for t in (a, b, y):
                    if t.quant.zp != 0:
                        raise op.error("int16 tensors must have zero point 0", t)
            self.check_quantized(op)

    def check_quantized(self, op: Op) -> None:
        pass

    def evaluate(self, op, values):
        a, b = values[0], values[1]
        if a is None or b is None or a.dtype not in (np.float32, np.int32):
            return None
        with np.errstate(over="ignore"):
            y = type(self).numpy_fn(a, b).astype(a.dtype)
        return [_fused_clamp(op.attrs["activation"], y).reshape(op.outputs[0].shape)]


def _log2_pot(scale: float) -> int | None:
    """TFLite CheckedLog2 (float arithmetic): the rounded log2 when scale is a power of two, else None."""
    f = np.float32
    x_log2 = f(np.log(f(scale))) * (f(1.0) / f(np.log(f(2.0))))
    r = f(np.floor(x_log2 + f(0.5))) if x_log2 >= 0 else f(-np.floor(-x_log2 + f(0.5)))
    return int(r) if abs(f(x_log2 - r)) < f(1e-3) else None


def int16_pot_shifts(op: Op) -> tuple[int, int] | None:
    """(input1 shift, input2 shift) when the int16 op takes the power-of-two path, else None."""
    a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
    if a.dtype != "int16" or not op.attrs.get("pot_scale_int16", True):
        return None
    logs = [_log2_pot(t.quant.s) for t in (a, b, y)]
    if any(v is None for v in logs):
        return None
    return logs[0] - logs[2], logs[1] - logs[2]


class _AddSub(_Binary):
    def check_quantized(self, op: Op) -> None:
        a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
        shifts = int16_pot_shifts(op)
        if shifts is not None:
            s1, s2 = shifts
            if not (s1 == 0 or s2 == 0) or s1 > 0 or s2 > 0:
                raise op.error(f"int16 power-of-two scales need one input at the output scale and the "
                               f"other finer (input shifts {s1}, {s2})", y)
            return
        twice = 2 * max(np.float32(a.quant.s), np.float32(b.quant.s))
        left = 15 if a.dtype == "int16" else 20
        out_m = float(twice) / ((1 << left) * float(np.float32(y.quant.s)))
        if not 0.0 < out_m < 1.0:
            raise op.error(f"output rescale {out_m:g} is outside (0, 1): output scale too small for "
                           "the input scales", y)


@op("ADD")
class Add(_AddSub):
    options = "AddOptions"
    numpy_fn = np.add


@op("SUB")
class Sub(_AddSub):
    options = "SubOptions"
    numpy_fn = np.subtract


@op("MUL")
class Mul(_Binary):
    options = "MulOptions"
    max_version = 6
    numpy_fn = np.multiply
