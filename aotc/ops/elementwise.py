"""Elementwise ops with NumPy-style broadcasting (up to 6-D).

ADD, SUB, MUL, DIV: binary arithmetic with a fused activation; int8 and int16 are quantized (TFLite's
rescaling paths), float32 and int32 are plain. MAXIMUM, MINIMUM, FLOOR_DIV, FLOOR_MOD, POW compare or
compute on the stored values (the reference ignores quantization for them). SQUARED_DIFFERENCE
(quantized int8 rescales like ADD), ADD_N (no broadcasting), LOGICAL_AND / LOGICAL_OR (bool), SELECT
and SELECT_V2 (a bool condition picks x or y; SELECT takes a scalar or rank-1 condition over the first
dimension, SELECT_V2 broadcasts all three). The comparisons are in compare.py."""
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
    types = dtypes
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


# ---- the other binary elementwise ops ---------------------------------------------------------

def check_broadcast(op: Op, inputs, y) -> tuple[int, ...]:
    """The broadcast shape of `inputs`, which must be y's shape; op.error otherwise."""
    shape: tuple[int, ...] | None = ()
    for t in inputs:
        shape = broadcast_shape(shape, t.shape)
        if shape is None:
            shapes = ", ".join(str(list(t.shape)) for t in inputs)
            raise op.error(f"input shapes {shapes} do not broadcast", t)
    if tuple(y.shape) != shape:
        raise op.error(f"output shape {list(y.shape)} is not the broadcast shape {list(shape)}", y)
    if len(shape) > MAX_DIMS:
        raise op.error(f"broadcasting over {len(shape)} dimensions is not supported (max {MAX_DIMS})", y)
    return shape


def _check_same_type(op: Op, dtypes, n: int = 2, out: str | None = None) -> None:
    expect_inputs(op, n)
    a, y = op.inputs[0], op.outputs[0]
    if a.dtype not in dtypes:
        expect_dtype(op, a, *dtypes)
    for t in op.inputs[1:n]:
        expect_dtype(op, t, a.dtype)
    expect_dtype(op, y, out or a.dtype)


class _Plain(OpDef):
    """Same-type binary op on the stored values (quantization, if any, is ignored, as the reference
    kernels do), with broadcasting."""
    max_version = 4
    types: tuple[str, ...] = ()
    numpy_fn = None

    def check(self, op: Op, graph: Graph) -> None:
        _check_same_type(op, self.types)
        check_broadcast(op, op.inputs[:2], op.outputs[0])

    def evaluate(self, op, values):
        a, b = values[0], values[1]
        if a is None or b is None or type(self).numpy_fn is None:
            return None
        with np.errstate(all="ignore"):
            y = type(self).numpy_fn(a, b)
        if y is None:
            return None
        return [np.asarray(y).astype(a.dtype).reshape(op.outputs[0].shape)]


@op("MAXIMUM")
class Maximum(_Plain):
    options = "MaximumMinimumOptions"
    types = ("float32", "int8", "int16", "int32", "int64")
    numpy_fn = staticmethod(lambda a, b: np.where(a > b, a, b))


@op("MINIMUM")
class Minimum(_Plain):
    options = "MaximumMinimumOptions"
    types = ("float32", "int8", "int16", "int32", "int64")
    numpy_fn = staticmethod(lambda a, b: np.where(a < b, a, b))


def _floor_div_np(a, b):
    if np.any(b == 0) or a.dtype != np.float32:
        return None
    return np.floor(a.astype(np.float64) / b.astype(np.float64)).astype(np.float32)


def _floor_mod_np(a, b):
    if np.any(b == 0) or a.dtype not in (np.float32, np.int32):
        return None
    return np.mod(a, b)


@op("FLOOR_DIV")
class FloorDiv(_Plain):
    """floor(double(a) / double(b)) converted to the type. The reference rejects a zero divisor at
    run time; the C kernels then give 0 rather than trap."""
    options = "FloorDivOptions"
    types = ("float32", "int8", "int16", "int32")
    numpy_fn = staticmethod(_floor_div_np)

    def check(self, op: Op, graph: Graph) -> None:
        super().check(op, graph)
        b = op.inputs[1]
        if b.is_const and np.any(b.data == 0):
            raise op.error("divisor has zero elements (the reference fails on division by 0)", b)


@op("FLOOR_MOD")
class FloorMod(FloorDiv):
    """fmod / % with the sign of the divisor."""
    options = "FloorModOptions"
    types = ("float32", "int8", "int16", "int32")
    numpy_fn = staticmethod(_floor_mod_np)


@op("POW")
class Pow(_Plain):
    """std::pow: float32 powf; int32 through double pow, negative exponents rejected (as the
    reference does at run time)."""
    options = "PowOptions"
    types = ("float32", "int32")

    def check(self, op: Op, graph: Graph) -> None:
        super().check(op, graph)
        b = op.inputs[1]
        if b.dtype == "int32" and b.is_const and np.any(b.data < 0):
            raise op.error("int32 POW with a negative exponent is not supported (the reference fails)", b)


@op("SQUARED_DIFFERENCE")
class SquaredDifference(OpDef):
    """(a - b)^2; int8 rescales both inputs to twice the larger scale (left shift 7) like ADD, squares
    and rescales to the output. int16 exists only in TFLM (left shift 0): the lowering accepts it
    with rounding "tflm" only."""
    options = "SquaredDifferenceOptions"
    max_version = 2
    types = ("float32", "int8", "int16", "int32")

    def check(self, op: Op, graph: Graph) -> None:
        _check_same_type(op, self.types)
        check_broadcast(op, op.inputs[:2], op.outputs[0])
        if op.inputs[0].dtype in QUANTIZED:
            for t in (op.inputs[0], op.inputs[1], op.outputs[0]):
                expect_quantized(op, t)
                if t.quant.per_channel:
                    raise op.error("per-channel quantization is not supported here", t)
                if t.dtype == "int16" and t.quant.zp != 0:
                    raise op.error("int16 tensors must have zero point 0", t)

    def evaluate(self, op, values):
        a, b = values[0], values[1]
        if a is None or b is None or a.dtype not in (np.float32, np.int32):
            return None
        with np.errstate(over="ignore"):
            d = (a - b).astype(a.dtype)
            return [(d * d).astype(a.dtype).reshape(op.outputs[0].shape)]


@op("DIV")
class Div(_Binary):
    """float32 and int32 divide (int32 truncates); int8 and int16 are quantized: TFLite's fixed-point
    reciprocal of the divisor (GetReciprocal) times the dividend, rescaled by s1 / (s2 * s_out)."""
    options = "DivOptions"
    max_version = 2
    numpy_fn = None

    def check(self, op: Op, graph: Graph) -> None:
        super().check(op, graph)
        b = op.inputs[1]
        if b.dtype != "float32" and b.is_const:
            zp = b.quant.zp if b.quant is not None and b.dtype in QUANTIZED else 0
            if np.any(b.data.astype(np.int64) == zp):
                raise op.error("divisor has zero elements (the reference fails on division by 0)", b)

    def evaluate(self, op, values):
        a, b = values[0], values[1]
        if a is None or b is None or a.dtype != np.float32 or np.any(b == 0):
            return None
        return [_fused_clamp(op.attrs["activation"], (a / b).astype(np.float32)).reshape(op.outputs[0].shape)]

    def parse(self, opts) -> dict:
        return {"activation": activation(opts)}


@op("ADD_N")
class AddN(OpDef):
    """Sum of N same-shape tensors (no broadcasting). LiteRT has float32 and int32 only."""
    options = "AddNOptions"
    types = ("float32", "int32")

    def check(self, op: Op, graph: Graph) -> None:
        if len(op.inputs) < 2:
            raise op.error(f"expects at least 2 inputs, has {len(op.inputs)}")
        _check_same_type(op, self.types, n=len(op.inputs))
        y = op.outputs[0]
        for t in op.inputs:
            if tuple(t.shape) != tuple(op.inputs[0].shape):
                raise op.error(f"input shape {list(t.shape)} differs from input 0's "
                               f"{list(op.inputs[0].shape)} (ADD_N does not broadcast)", t)
        if tuple(y.shape) != tuple(op.inputs[0].shape):
            raise op.error(f"output shape {list(y.shape)} differs from the inputs'", y)

    def evaluate(self, op, values):
        if any(v is None for v in values) or values[0].dtype != np.int32:
            return None
        acc = np.zeros(values[0].shape, np.int64)
        for v in values:
            acc += v
        return [acc.astype(np.uint32).astype(np.int32).reshape(op.outputs[0].shape)]


class _Logical(_Plain):
    types = ("bool",)


@op("LOGICAL_AND")
class LogicalAnd(_Logical):
    options = "LogicalAndOptions"
    numpy_fn = staticmethod(np.logical_and)


@op("LOGICAL_OR")
class LogicalOr(_Logical):
    options = "LogicalOrOptions"
    numpy_fn = staticmethod(np.logical_or)


SELECT_TYPES = ("float32", "int8", "int16", "int32", "int64", "uint8", "bool")


def select_condition_shape(op: Op) -> tuple[int, ...]:
    """The condition's shape as it broadcasts against the output: SELECT's scalar or rank-1 (over
    the first dimension) condition becomes [n, 1, ..., 1]."""
    c, y = op.inputs[0], op.outputs[0]
    if op.kind == "SELECT" and tuple(c.shape) != tuple(y.shape) and len(c.shape) == 1 and y.shape:
        return (c.shape[0],) + (1,) * (len(y.shape) - 1)
    return tuple(c.shape)


@op("SELECT")
class Select(OpDef):
    """out = cond ? x : y. SELECT (v1): x and y have the same shape; the condition has it too, or is
    a scalar, or is rank 1 over x's first dimension."""
    options = "SelectOptions"
    max_version = 4
    types = SELECT_TYPES

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 3)
        c, x, yin, y = op.inputs[0], op.inputs[1], op.inputs[2], op.outputs[0]
        expect_dtype(op, c, "bool")
        if x.dtype not in self.types:
            expect_dtype(op, x, *self.types)
        expect_dtype(op, yin, x.dtype)
        expect_dtype(op, y, x.dtype)
        self.check_shapes(op)

    def check_shapes(self, op: Op) -> None:
        c, x, yin, y = op.inputs[0], op.inputs[1], op.inputs[2], op.outputs[0]
        if tuple(x.shape) != tuple(yin.shape):
            raise op.error(f"x {list(x.shape)} and y {list(yin.shape)} must have the same shape", yin)
        if tuple(y.shape) != tuple(x.shape):
            raise op.error(f"output shape {list(y.shape)} differs from x {list(x.shape)}", y)
        if len(x.shape) > MAX_DIMS:
            raise op.error(f"rank {len(x.shape)} is not supported (max {MAX_DIMS})", x)
        ok = (tuple(c.shape) == tuple(x.shape) or len(c.shape) == 0
              or (len(c.shape) == 1 and x.shape and c.shape[0] == x.shape[0]))
        if not ok:
            raise op.error(f"condition shape {list(c.shape)} must be [], x's shape or [{x.shape[0] if x.shape else 1}]", c)

    def evaluate(self, op, values):
        c, x, y = values
        if c is None or x is None or y is None:
            return None
        return [np.where(c.reshape(select_condition_shape(op)), x, y).astype(x.dtype)
                .reshape(op.outputs[0].shape)]


@op("SELECT_V2")
class SelectV2(Select):
    """out = cond ? x : y with all three broadcast against each other."""
    options = "SelectV2Options"
    max_version = 2

    def check_shapes(self, op: Op) -> None:
        check_broadcast(op, op.inputs[:3], op.outputs[0])
