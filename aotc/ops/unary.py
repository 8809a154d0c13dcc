"""Unary elementwise ops: ABS, NEG, SQUARE, SQRT, RSQRT, EXP, LOG, SIN, COS, FLOOR, CEIL, ROUND, CAST,
ZEROS_LIKE, LOGICAL_NOT. Types are the ones LiteRT's reference kernels accept (CEIL and ROUND are not in
LiteRT's reference op resolver; their float kernels follow LiteRT's builtin ones and TFLM's)."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .registry import OpDef, expect_dtype, expect_inputs, expect_quantized, op


class _Unary(OpDef):
    """Same type and shape in and out. `quantized`: the integer types LiteRT treats as quantized
    (scale and zero point read); `raw_int16`: int16 may also come without quantization."""
    max_version = 1
    types: tuple[str, ...] = ("float32",)
    quantized: tuple[str, ...] = ()
    raw_int16 = False

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1)
        x, y = op.inputs[0], op.outputs[0]
        if len(op.outputs) != 1:
            raise op.error(f"expects 1 output, has {len(op.outputs)}")
        if x.dtype not in self.types:
            raise op.error(f"type {x.dtype} is not supported by {op.kind} (supported: {', '.join(self.types)})", x)
        expect_dtype(op, y, x.dtype)
        if tuple(x.shape) != tuple(y.shape):
            raise op.error(f"output shape {list(y.shape)} differs from input shape {list(x.shape)}", y)
        if x.dtype in self.quantized and not (self.raw_int16 and x.dtype == "int16" and x.quant is None):
            for t in (x, y):
                expect_quantized(op, t)
                if t.quant.per_channel:
                    raise op.error("per-channel quantization is not supported here", t)
            if x.dtype == "int16" and (x.quant.zp != 0 or y.quant.zp != 0):
                raise op.error("int16 tensors must have zero point 0", x if x.quant.zp else y)
        self.check_more(op)

    def check_more(self, op: Op) -> None:
        pass

    def numpy_fn(self, x: np.ndarray):
        return None

    def evaluate(self, op, values):
        x = values[0]
        if x is None or op.inputs[0].dtype in self.quantized:
            return None
        with np.errstate(all="ignore"):
            y = self.numpy_fn(x)
        return None if y is None else [np.asarray(y).astype(x.dtype)]


@op("ABS")
class Abs(_Unary):
    options = "AbsOptions"
    max_version = 5
    types = ("float32", "int8", "int16", "int32")
    quantized = ("int8", "int16")
    raw_int16 = True

    def numpy_fn(self, x):
        return np.abs(x) if x.dtype == np.float32 else None


@op("NEG")
class Neg(_Unary):
    options = "NegOptions"
    max_version = 2
    types = ("float32", "int8", "int16", "int32", "int64")   # raw negation: quantization is not read

    def numpy_fn(self, x):
        return -x


@op("SQUARE")
class Square(_Unary):
    options = "SquareOptions"

    def numpy_fn(self, x):
        return x * x


@op("SQRT")
class Sqrt(_Unary):
    max_version = 2
    types = ("float32", "int8", "int16")
    quantized = ("int8", "int16")

    def numpy_fn(self, x):
        return np.sqrt(x)   # correctly rounded, as sqrtf


@op("RSQRT")
class Rsqrt(_Unary):
    max_version = 3
    types = ("float32", "int8", "int16")
    quantized = ("int8", "int16")


@op("EXP")
class Exp(_Unary):
    options = "ExpOptions"
    max_version = 2
    types = ("float32", "int8", "int16")
    quantized = ("int8", "int16")


@op("LOG")
class Log(_Unary):
    max_version = 2
    types = ("float32", "int8", "int16")
    quantized = ("int8", "int16")


@op("SIN")
class Sin(_Unary):
    pass


@op("COS")
class Cos(_Unary):
    pass


@op("FLOOR")
class Floor(_Unary):
    max_version = 2

    def numpy_fn(self, x):
        return np.floor(x)


@op("CEIL")
class Ceil(_Unary):
    def numpy_fn(self, x):
        return np.ceil(x)


@op("ROUND")
class Round(_Unary):
    def numpy_fn(self, x):
        return np.round(x)   # half to even, as TFLite's RoundToNearest


@op("ZEROS_LIKE")
class ZerosLike(_Unary):
    options = "ZerosLikeOptions"
    types = ("float32", "int32", "int64")

    def numpy_fn(self, x):
        return np.zeros_like(x)


@op("LOGICAL_NOT")
class LogicalNot(_Unary):
    options = "LogicalNotOptions"
    types = ("bool",)

    def numpy_fn(self, x):
        return np.logical_not(x)


CAST_TYPES = ("float32", "int8", "int16", "int32", "int64", "uint8", "bool")


@op("CAST")
class Cast(OpDef):
    """Plain value conversion (quantization is not read). float -> integer saturates (LiteRT: NaN ->
    the type's maximum; TFLM: NaN -> 0); integer -> narrower integer wraps; x -> bool is x != 0."""
    options = "CastOptions"
    max_version = 7
    types = CAST_TYPES

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1)
        x, y = op.inputs[0], op.outputs[0]
        for t in (x, y):
            if t.dtype not in CAST_TYPES:
                raise op.error(f"CAST of type {t.dtype} is not supported (supported: {', '.join(CAST_TYPES)})", t)
        if x.size != y.size:
            raise op.error(f"output shape {list(y.shape)} differs from input shape {list(x.shape)}", y)

    def evaluate(self, op, values):
        x = values[0]
        if x is None or op.inputs[0].dtype == "float32" and op.outputs[0].dtype not in ("float32", "bool"):
            return None   # saturating float -> int conversion: left to the kernel
        from ..ir import np_dtype
        to = op.outputs[0].dtype
        y = (x != 0) if to == "bool" else x.astype(np_dtype(to))
        return [np.asarray(y).reshape(op.outputs[0].shape)]
