"""EQUAL, NOT_EQUAL, GREATER, GREATER_EQUAL, LESS, LESS_EQUAL: elementwise comparisons with NumPy-style
broadcasting and a bool output. float32, int32, int64 (and bool for (NOT_)EQUAL) compare the values;
int8 (and, for EQUAL / NOT_EQUAL only, int16 with quantization parameters) compare both inputs
rescaled by their own scales, as TFLite's ComparisonWithScaling does (left shift 8, each scale as a
multiplier below 1). LiteRT 2.3's GREATER / GREATER_EQUAL / LESS / LESS_EQUAL compare int16 values
as stored, quantized or not (measured)."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .elementwise import check_broadcast
from .registry import OpDef, expect_dtype, expect_inputs, op


def compare_scaled(op: Op) -> bool:
    """Whether the reference compares this op's inputs with rescaling."""
    t = op.inputs[0]
    return t.dtype == "int8" or (t.dtype == "int16" and t.quant is not None
                                 and op.kind in ("EQUAL", "NOT_EQUAL"))


class _Compare(OpDef):
    max_version = 4
    types = ("float32", "int8", "int16", "int32", "int64")
    numpy_fn = None

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
        if a.dtype not in self.types:
            expect_dtype(op, a, *self.types)
        expect_dtype(op, b, a.dtype)
        expect_dtype(op, y, "bool")
        check_broadcast(op, [a, b], y)
        if a.dtype == "int8":
            for t in (a, b):
                if t.quant is None:
                    raise op.error("int8 tensor has no quantization parameters", t)
        if a.dtype == "int16" and (a.quant is None) != (b.quant is None):
            raise op.error("int16 inputs must both have quantization parameters or both have none",
                           a if a.quant is None else b)
        if op.kind == "NOT_EQUAL" and a.dtype == "int16" and a.quant is None:
            raise op.error("NOT_EQUAL of int16 without quantization parameters is not supported "
                           "(LiteRT 2.3's reference kernel leaves the output unwritten)", a)
        if compare_scaled(op):
            for t in (a, b):
                if t.quant.per_channel:
                    raise op.error("per-channel quantization is not supported here", t)
                if not float(np.float32(t.quant.s)) < 1.0:
                    raise op.error(f"scale {t.quant.s:g} is not below 1: the reference's rescaling "
                                   "needs scales below 1", t)

    def evaluate(self, op, values):
        a, b = values[0], values[1]
        if a is None or b is None or compare_scaled(op):
            return None
        return [type(self).numpy_fn(a, b).reshape(op.outputs[0].shape)]


@op("EQUAL")
class Equal(_Compare):
    options = "EqualOptions"
    types = _Compare.types + ("bool",)
    numpy_fn = staticmethod(np.equal)


@op("NOT_EQUAL")
class NotEqual(_Compare):
    options = "NotEqualOptions"
    types = _Compare.types + ("bool",)
    numpy_fn = staticmethod(np.not_equal)


@op("GREATER")
class Greater(_Compare):
    options = "GreaterOptions"
    numpy_fn = staticmethod(np.greater)


@op("GREATER_EQUAL")
class GreaterEqual(_Compare):
    options = "GreaterEqualOptions"
    numpy_fn = staticmethod(np.greater_equal)


@op("LESS")
class Less(_Compare):
    options = "LessOptions"
    numpy_fn = staticmethod(np.less)


@op("LESS_EQUAL")
class LessEqual(_Compare):
    options = "LessEqualOptions"
    numpy_fn = staticmethod(np.less_equal)
