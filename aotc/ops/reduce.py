"""Reductions: MEAN, SUM, REDUCE_MAX, REDUCE_MIN over constant axes.

LiteRT's reference MEAN for int8/int16 is QuantizedMeanOrSum: an int32 sum, minus zp_in * n, times
(s_in / s_out) folded with 1/n into one fixed-point multiplier (see backends/generic_c/reduce.py);
float32 sums in input order and divides by n. REDUCE_MAX/MIN compare stored values (the input and
output quantization must match).
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
    types = ("float32", "int32")

    def evaluate(self, op, values):
        axes = reduce_axes(op)
        x = values[0]
        if axes is None or x.dtype not in (np.int32, np.int64):
            return None
        return [np.sum(x, axis=tuple(axes), keepdims=op.attrs["keep_dims"], dtype=x.dtype)]


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
