"""RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1, LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU, ELU, GELU (unary)
and PRELU (with an alpha tensor). int8 (via a 256-entry table computed at compile time), int16 (RELU,
RELU6, LOGISTIC, TANH, LEAKY_RELU, GELU, PRELU), float32."""
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

    @property
    def types(self):
        return self.dtypes

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1)
        x, y = op.inputs[0], op.outputs[0]
        if x.dtype == "int16" and "int16" not in self.dtypes:
            raise op.error(f"int16 {op.kind} is not supported (LiteRT has no int16 kernel for it)", x)
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

    @property
    def types(self):
        return tuple(t for t in self.dtypes if t != "int16" or self.kind in INT16_OK)

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


def _logf(v: float) -> float:
    import ctypes
    import ctypes.util
    fn = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6").logf
    fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return float(np.float32(fn(float(np.float32(v)))))


def checked_log2(x: float) -> tuple[int, bool]:
    """TFLite CheckedLog2 in float: (round(log2 x), whether x is within 1e-3 of a power of two)."""
    f = np.float32
    x_log2 = f(f(_logf(x)) * f(f(1.0) / f(_logf(2.0))))
    r = f(math.floor(float(x_log2) + 0.5)) if x_log2 >= 0 else f(-math.floor(-float(x_log2) + 0.5))
    return int(r), abs(float(f(x_log2 - r))) < float(f(1e-3))


def int16_sigmoid_params(op: Op) -> tuple[int, int]:
    """(input_multiplier, input_left_shift) of LiteRT's int16 LOGISTIC / TANH, with the kernel's
    power-of-two case (multiplier 0 -> 3 << shift, shift 0) already applied."""
    x = op.inputs[0]
    l2, pot = checked_log2(x.quant.s)
    shift = 12 + l2
    pot = pot and (shift in (0, 1) if op.kind == "TANH" else shift == 0)
    if pot:
        return 3 << shift, 0
    m = float(np.float32(x.quant.s)) * 4096.0 * 3.0
    shift = 0
    while m <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        m *= 2.0
    return int(m), shift


class _Sigmoid(_Unary):
    dtypes = ("float32", "int8", "int16")

    def check_quantized(self, op: Op) -> None:
        x, y = op.inputs[0], op.outputs[0]
        if x.dtype != "int16":
            return self.check_int8(op)
        if op.kind == "LOGISTIC" and float(np.float32(y.quant.s)) != 1.0 / 32768:
            raise op.error(f"int16 LOGISTIC needs output scale 1/32768, got {y.quant.s:g}", y)
        l2, pot = checked_log2(y.quant.s)
        if not pot or l2 != -15:
            raise op.error(f"int16 {op.kind} needs output scale 2^-15, got {y.quant.s:g}", y)
        m, _ = int16_sigmoid_params(op)
        if m > 32767:
            raise op.error(f"input scale {x.quant.s:g} is too large for int16 {op.kind} "
                           f"(input multiplier {m} > 32767)", x)

    def check_int8(self, op: Op) -> None:
        pass


@op("LOGISTIC")
class Logistic(_Sigmoid):
    def check_int8(self, op: Op) -> None:
        y = op.outputs[0]
        if float(np.float32(y.quant.s)) != 1.0 / 256:
            raise op.error(f"int8 LOGISTIC needs output scale 1/256, got {y.quant.s:g}", y)

    def float_fn(self, x):
        return None   # libm-dependent; not folded

    def evaluate(self, op, values):
        return None


@op("TANH")
class Tanh(_Sigmoid):
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


@op("LEAKY_RELU")
class LeakyRelu(_Unary):
    options = "LeakyReluOptions"
    max_version = 2
    dtypes = ("float32", "int8", "int16")

    def parse(self, opts) -> dict:
        return {"alpha": float(np.float32(opts.Alpha())) if opts is not None else 0.0}

    def evaluate(self, op, values):
        x = values[0]
        if x is None or x.dtype != np.float32:
            return None
        a = np.float32(op.attrs["alpha"])
        return [np.where(x > 0, x, x * a).astype(np.float32)]


@op("ELU")
class Elu(_Unary):
    """Not in LiteRT's reference op resolver (its builtin kernel and TFLM's are reproduced)."""
    max_version = 1

    def evaluate(self, op, values):
        return None


@op("GELU")
class Gelu(_Unary):
    options = "GeluOptions"
    max_version = 2
    dtypes = ("float32", "int8", "int16")

    def parse(self, opts) -> dict:
        return {"approximate": bool(opts.Approximate()) if opts is not None else False}

    def check(self, op: Op, graph: Graph) -> None:
        x = op.inputs[0] if op.inputs else None
        if x is not None and x.dtype == "int16":
            # LiteRT's GELU does not require zero points of 0 for int16
            expect_inputs(op, 1)
            y = op.outputs[0]
            expect_dtype(op, y, "int16")
            if tuple(x.shape) != tuple(y.shape):
                raise op.error(f"output shape {list(y.shape)} differs from input shape {list(x.shape)}", y)
            for t in (x, y):
                expect_quantized(op, t)
                if t.quant.per_channel:
                    raise op.error("per-channel quantization is not supported here", t)
            return
        super().check(op, graph)

    def evaluate(self, op, values):
        return None


@op("PRELU")
class Prelu(OpDef):
    """out = x >= 0 ? x : x * alpha, alpha broadcast to x (int16 PRELU takes an int8 alpha)."""
    max_version = 1
    types = ("float32", "int8", "int16")
    ALPHA = {"float32": "float32", "int8": "int8", "int16": "int8"}

    def check(self, op: Op, graph: Graph) -> None:
        from .elementwise import broadcast_shape
        expect_inputs(op, 2)
        x, a, y = op.inputs[0], op.inputs[1], op.outputs[0]
        if x.dtype not in self.ALPHA:
            raise op.error(f"type {x.dtype} is not supported by PRELU (supported: {', '.join(self.types)})", x)
        expect_dtype(op, a, self.ALPHA[x.dtype])
        expect_dtype(op, y, x.dtype)
        if broadcast_shape(x.shape, a.shape) != tuple(x.shape) or tuple(y.shape) != tuple(x.shape):
            raise op.error(f"alpha shape {list(a.shape)} must broadcast to the input shape {list(x.shape)}, "
                           "which the output must have", a)
        if x.dtype != "float32":
            for t in (x, a, y):
                expect_quantized(op, t)
                if t.quant.per_channel:
                    raise op.error("per-channel quantization is not supported here", t)
        if prelu_alpha_period(op) is None:
            raise op.error(f"a non-constant alpha of shape {list(a.shape)} must repeat along the input's "
                           "trailing dimensions", a)

    def evaluate(self, op, values):
        x, a = values[0], values[1]
        if x is None or a is None or x.dtype != np.float32:
            return None
        return [np.where(x >= 0, x, x * a).astype(np.float32)]


def prelu_alpha_period(op: Op):
    """(period, values or None): alpha read as alpha[i % period]. A constant alpha is expanded at
    compile time to the shortest repeating block; a runtime alpha must already be that block."""
    x, a = op.inputs[0], op.inputs[1]
    if a.is_const:
        full = np.broadcast_to(a.data.reshape(a.shape), x.shape).reshape(-1)
        period = 1
        for d in (1,) + tuple(reversed(x.shape)):
            period *= d
            if np.array_equal(full, np.tile(full[:period], x.size // period)):
                return period, full[:period]
        return x.size, full
    dims = list(a.shape)
    while dims and dims[0] == 1:
        dims.pop(0)
    if tuple(dims) == tuple(x.shape[len(x.shape) - len(dims):]) if dims else True:
        return max(a.size, 1), None
    return None
