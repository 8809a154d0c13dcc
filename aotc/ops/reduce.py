"""Reductions: MEAN, SUM, REDUCE_PROD, REDUCE_MAX, REDUCE_MIN, REDUCE_ALL, REDUCE_ANY over constant
axes, and CUMSUM.

LiteRT's reference MEAN for int8/int16 is QuantizedMeanOrSum: an int32 sum, minus zp_in * n, times
(s_in / s_out) folded with 1/n into one fixed-point multiplier (see backends/generic_c/reduce.py);
float32 sums in input order and divides by n. Quantized SUM is the same without the 1/n. Quantized
REDUCE_PROD rescales every partial product (QuantizedReduceProd). REDUCE_MAX/MIN compare stored
values (the input and output quantization must match). REDUCE_ALL / REDUCE_ANY are the logical and / or
of bool inputs (LiteRT's reference and TFLM accept bool only). Duplicate and negative axes are resolved as
the reference's ResolveAxis does (duplicates count once).
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .registry import OpDef, expect_dtype, expect_inputs, expect_quantized, op, same_quant


def reduce_axes(op: Op) -> list[int] | None:
    """Resolved, de-duplicated, sorted axes; None when the axis tensor is not constant."""
    x, a = op.inputs[0], op.inputs[1]
    if a.dtype != "int32":
        raise op.error(f"axis must be int32, got {a.dtype}", a)
    if not a.is_const:
        return None
    rank = len(x.shape)
    out = set()
    for v in np.asarray(a.data).reshape(-1):
        v = int(v)
        r = v + rank if v < 0 else v
        if not 0 <= r < rank:
            raise op.error(f"axis {v} is out of range for rank {rank}", a)
        out.add(r)
    return sorted(out)


def reduced_shape(x_shape, axes, keep_dims) -> list[int]:
    if keep_dims:
        return [1 if d in axes else s for d, s in enumerate(x_shape)]
    return [s for d, s in enumerate(x_shape) if d not in axes]


class _Reduce(OpDef):
    options = "ReducerOptions"
    types: tuple = ()

    def parse(self, opts) -> dict:
        return {"keep_dims": bool(opts.KeepDims()) if opts is not None else False}

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        x, y = op.inputs[0], op.outputs[0]
        if len(x.shape) == 0:
            raise op.error("scalar (rank 0) inputs are not supported", x)
        expect_dtype(op, x, *self.types)
        if y.dtype != x.dtype:
            raise op.error(f"output type {y.dtype} differs from input type {x.dtype}", y)
        if x.size == 0:
            raise op.error("empty input tensors are not supported", x)
        if len(x.shape) > 8:
            raise op.error(f"at most 8 dimensions are supported, got {len(x.shape)}", x)
        if x.dtype in ("int8", "int16"):
            expect_quantized(op, x)
            expect_quantized(op, y)
            if x.dtype == "int16" and (x.quant.zp != 0 or y.quant.zp != 0):
                raise op.error("int16 tensors must have zero point 0", x if x.quant.zp else y)
            self.check_quant(op)
        axes = reduce_axes(op)
        if axes is None:
            return
        expect = reduced_shape(x.shape, axes, op.attrs["keep_dims"])
        if list(y.shape) != expect and not (not expect and tuple(y.shape) == (1,)):
            raise op.error(f"output shape {list(y.shape)} should be {expect}", y)

    def check_quant(self, op: Op) -> None:
        pass


@op("MEAN")
class Mean(_Reduce):
    max_version = 3
    types = ("float32", "int8", "int16", "int32")

    def evaluate(self, op, values):
        axes = reduce_axes(op)
        x = values[0]
        if axes is None or x.dtype not in (np.int32, np.int64):
            return None
        s = np.sum(x.astype(np.int64), axis=tuple(axes), keepdims=op.attrs["keep_dims"])
        n = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
        q = np.abs(s) // n * np.sign(s)  # C++ truncating division
        return [q.astype(x.dtype)]


@op("SUM")
class Sum(_Reduce):
    max_version = 2
    types = ("float32", "int8", "int16", "int32")

    def evaluate(self, op, values):
        axes = reduce_axes(op)
        x = values[0]
        if axes is None or x.dtype not in (np.int32, np.int64):
            return None
        return [np.sum(x, axis=tuple(axes), keepdims=op.attrs["keep_dims"], dtype=x.dtype)]


@op("REDUCE_PROD")
class ReduceProd(_Reduce):
    max_version = 2
    types = ("float32", "int8", "int16", "int32")

    def evaluate(self, op, values):
        axes = reduce_axes(op)
        x = values[0]
        if axes is None or x.dtype != np.int32:
            return None
        with np.errstate(over="ignore"):
            return [np.prod(x, axis=tuple(axes), keepdims=op.attrs["keep_dims"], dtype=np.int32)]


class _MinMax(_Reduce):
    max_version = 3
    types = ("float32", "int8", "int16", "int32")
    fn = None

    def check_quant(self, op: Op) -> None:
        x, y = op.inputs[0], op.outputs[0]
        if not same_quant(x, y):
            raise op.error("output quantization must equal the input's", y)

    def evaluate(self, op, values):
        axes = reduce_axes(op)
        if axes is None:
            return None
        return [type(self).fn(values[0], axis=tuple(axes), keepdims=op.attrs["keep_dims"])]


@op("REDUCE_MAX")
class ReduceMax(_MinMax):
    fn = np.max


@op("REDUCE_MIN")
class ReduceMin(_MinMax):
    fn = np.min


class _Logical(_Reduce):
    max_version = 1
    types = ("bool",)
    fn = None

    def evaluate(self, op, values):
        axes = reduce_axes(op)
        if axes is None:
            return None
        x = np.asarray(values[0]).astype(bool)
        return [type(self).fn(x, axis=tuple(axes), keepdims=op.attrs["keep_dims"])]


@op("REDUCE_ALL")
class ReduceAll(_Logical):
    fn = np.all


@op("REDUCE_ANY")
class ReduceAny(_Logical):
    fn = np.any


@op("CUMSUM")
class Cumsum(OpDef):
    """Running sum along one constant axis (LiteRT: float32, int32; inclusive or exclusive, forward or
    reverse). Accumulates in the input type in axis order (int32 wraps)."""
    options = "CumsumOptions"
    max_version = 1
    types = ("float32", "int32")

    def parse(self, opts) -> dict:
        return {"exclusive": bool(opts.Exclusive()) if opts is not None else False,
                "reverse": bool(opts.Reverse()) if opts is not None else False}

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        x, y = op.inputs[0], op.outputs[0]
        expect_dtype(op, x, *self.types)
        if y.dtype != x.dtype:
            raise op.error(f"output type {y.dtype} differs from input type {x.dtype}", y)
        if len(x.shape) < 1:
            raise op.error("input must have at least one dimension", x)
        if tuple(y.shape) != tuple(x.shape):
            raise op.error(f"output shape {list(y.shape)} differs from input shape {list(x.shape)}", y)
        single_axis(op, ("int32",))

    def evaluate(self, op, values):
        x = values[0]
        axis = single_axis(op, ("int32",))
        if axis is None or x.dtype != np.int32:
            return None
        return [cumsum_numpy(x, axis, op.attrs["exclusive"], op.attrs["reverse"])]


def single_axis(op: Op, dtypes=("int32",)) -> int | None:
    """The resolved axis of CUMSUM (or ARG_MAX/ARG_MIN), None when the axis tensor is not constant."""
    x, a = op.inputs[0], op.inputs[1]
    if a.dtype not in dtypes:
        raise op.error(f"axis must be {' or '.join(dtypes)}, got {a.dtype}", a)
    if a.size != 1:
        raise op.error(f"axis must hold exactly one value, has {a.size}", a)
    if not a.is_const:
        return None
    rank = len(x.shape)
    v = int(np.asarray(a.data).reshape(-1)[0])
    r = v + rank if v < 0 else v
    if not 0 <= r < rank:
        raise op.error(f"axis {v} is out of range for rank {rank}", a)
    return r


def cumsum_numpy(x: np.ndarray, axis: int, exclusive: bool, reverse: bool) -> np.ndarray:
    v = np.flip(x, axis) if reverse else x
    with np.errstate(over="ignore"):
        c = np.cumsum(v, axis=axis, dtype=x.dtype)
    if exclusive:
        c = np.concatenate([np.zeros_like(np.take(c, [0], axis=axis)),
                            np.take(c, range(c.shape[axis] - 1), axis=axis)], axis=axis)
    return np.flip(c, axis) if reverse else c
