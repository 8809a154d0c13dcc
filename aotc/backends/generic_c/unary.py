"""Unary elementwise ops -> aotc_unary_* (runtime/aotc/unary.h) and aotc_activation_lut_s8.

int8: the result depends on the input value only, so the compiler evaluates LiteRT's reference
arithmetic for all 256 inputs (float32 arithmetic and the host libm where LiteRT uses them,
LUTPopulateInt8) and the kernel is a table lookup.
int16 EXP / LOG / RSQRT (and GELU in activations.py): LiteRT's LUTPopulate<int16_t> (513 entries,
computed here in float32 like LiteRT does) and its interpolating LUTLookup in C.
float32: the same libm float functions the reference calls (expf, logf, sqrtf, sinf, ...).
Also the shared table helpers of activations.py.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import math

import numpy as np

from ...quant import QRANGE, f32, quantize_multiplier
from ..base import ConstArray, KernelCall, TensorRef, c_literal
from . import lowering
from .softmax import _rdbpot, _sat_shl, _srdhm, _wrap32

F = np.float32
INT32_MIN = -2**31

_libm = None


def libm_fn(name: str):
    """The host C library's float function (what LiteRT's std::exp(float) etc. call)."""
    global _libm
    if _libm is None:
        _libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    fn = getattr(_libm, name)
    fn.restype = ctypes.c_float
    fn.argtypes = [ctypes.c_float]
    return lambda v: F(fn(float(v)))


def roundf(x) -> np.float32:
    """roundf / TfLiteRound(float): half away from zero (exact: float32 + 0.5 is exact in double)."""
    x = F(x)
    if not math.isfinite(x):
        return x
    v = float(x)
    return F(math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5))


def f2i32(x) -> int:
    """static_cast<int32_t>(float) as the LiteRT 2.3 wheel computes it in its table code: truncation,
    saturated when out of range (measured: +inf gives the maximum); NaN taken as INT32_MIN."""
    x = float(x)
    if math.isnan(x):
        return INT32_MIN
    if x >= 2.0**31:
        return 2**31 - 1
    if x < -2.0**31:
        return INT32_MIN
    return int(x)


def float_lut(op, transform) -> np.ndarray:
    """LiteRT LUTPopulateInt8: dequantize in float, transform, TfLiteRound(t * (1 / s_out)) + zp_out."""
    x, y = op.inputs[0], op.outputs[0]
    s_in, zp_in = F(x.quant.s), x.quant.zp
    inv = F(F(1.0) / F(y.quant.s))
    qmin, qmax = QRANGE[y.dtype]
    out = []
    for val in range(qmin, qmax + 1):
        deq = F(s_in * F(val - zp_in))
        t = F(transform(deq))
        r = roundf(F(t * inv))
        q = f2i32(F(r + F(y.quant.zp)))
        out.append(max(qmin, min(qmax, q)))
    return np.array(out, dtype=np.int8)


def _std_max(a, b):
    return b if a < b else a


def _std_min(a, b):
    return b if b < a else a


def lut_s16(op, transform) -> np.ndarray:
    """LiteRT LUTPopulateInt16<float>: 512 samples over the input range with a midpoint bias
    correction, plus the last value; evaluated in float32 in LiteRT's operation order."""
    x, y = op.inputs[0], op.outputs[0]
    s_in, zp_in, s_out, zp_out = F(x.quant.s), x.quant.zp, F(y.quant.s), y.quant.zp
    input_min = F(s_in * F(-32768 - zp_in))
    input_max = F(s_in * F(32767 - zp_in))
    output_min = F(s_out * F(-32768 - zp_out))
    output_max = F(s_out * F(32767 - zp_out))
    step = F(F(input_max - input_min) / F(512))
    half_step = F(step / F(2))
    inv = F(F(65536.0) / F(output_max - output_min))
    lo, hi = F(-32768.0), F(32767.0)

    def to_s16(v) -> int:
        v = _std_min(_std_max(F(v), lo), hi)
        return ((f2i32(v) + 0x8000) & 0xFFFF) - 0x8000

    lut = []
    with np.errstate(all="ignore"):
        for i in range(512):
            base = F(input_min + F(F(i) * step))
            val = F(transform(base))
            val_mid = F(transform(F(base + half_step)))
            val_next = F(transform(F(input_min + F(F(i + 1) * step))))
            sample = roundf(F(val * inv))
            interp = roundf(F(F(F(val_next * inv) + roundf(F(val * inv))) / F(2)))
            mid = roundf(F(val_mid * inv))
            bias = roundf(F(F(interp - mid) / F(2)))
            lut.append(to_s16(F(sample - bias)))
        lut.append(to_s16(roundf(F(F(transform(input_max)) * inv))))
    return np.array(lut, dtype=np.int16)


def lut_s8_call(op, table: np.ndarray, note: str = "256-entry table computed at compile time") -> KernelCall:
    x, y = op.inputs[0], op.outputs[0]
    lut = ConstArray("lut", "int8_t", table.astype(np.int8))
    return KernelCall(op, "generic_c", "aotc_activation_lut_s8", [TensorRef(x, True), TensorRef(y), x.size, lut],
                      consts=[lut], note=note)


def lut_s16_call(op, table: np.ndarray) -> KernelCall:
    x, y = op.inputs[0], op.outputs[0]
    lut = ConstArray("lut", "int16_t", table.astype(np.int16))
    return KernelCall(op, "generic_c", "aotc_unary_lut_s16", [TensorRef(x, True), TensorRef(y), x.size, lut],
                      consts=[lut], note="LiteRT's 513-entry interpolated int16 table, computed at compile time")


def mbqm(x: int, m: int, shift: int) -> int:
    """TFLite MultiplyByQuantizedMultiplier on int32 (the left shift wraps like the C code)."""
    left = shift if shift > 0 else 0
    right = 0 if shift > 0 else -shift
    return _rdbpot(_srdhm(_wrap32(x * (1 << left)), m), right)


# ---- int8 tables ------------------------------------------------------------------------------

def abs_params(op):
    x, y = op.inputs[0], op.outputs[0]
    rescale = F(x.quant.s) != F(y.quant.s)
    m, s = quantize_multiplier(f32(F(x.quant.s) / F(y.quant.s))) if rescale else (0, 0)
    return rescale, m, s


def abs_lut(op) -> np.ndarray:
    x, y = op.inputs[0], op.outputs[0]
    rescale, m, s = abs_params(op)
    out = []
    for val in range(-128, 128):
        v = abs(val - x.quant.zp)
        r = (mbqm(v, m, s) if rescale else v) + y.quant.zp
        out.append(max(-128, min(127, r)))
    return np.array(out)


def sqrt_lut(op) -> np.ndarray:
    """SqrtEvalQuantized<int8_t>: (int)(sqrtf(dequantized) / s_out) + zp_out (truncating)."""
    x, y = op.inputs[0], op.outputs[0]
    s_in, s_out = F(x.quant.s), F(y.quant.s)
    out = []
    for val in range(-128, 128):
        d = F(s_in * F(val - x.quant.zp))
        if d < 0:
            out.append(-128)      # LiteRT stops with "Sqrt is only defined for non-negative values"
            continue
        q = f2i32(F(F(np.sqrt(d)) / s_out))
        q = _wrap32(q + y.quant.zp)
        out.append(max(-128, min(127, q)))
    return np.array(out)


def inv_sqrt_multiplier_exp(v: int) -> tuple[int, int]:
    """TFLite GetInvSqrtQuantizedMultiplierExp(v, kReverseShift)."""
    if v <= 1:
        return 2**31 - 1, 0
    shift = 11
    while v >= (1 << 29):
        v //= 4
        shift += 1
    clz = 32 - v.bit_length()
    pairs = (clz - 1) // 2 - 1
    shift -= pairs
    v <<= 2 * pairs
    fx = v >> 1                                   # F3
    half = _rdbpot(fx, 1)
    half_three = (1 << 28) + (1 << 27)
    x = 1 << 28                                   # F3 one
    for _ in range(5):
        x3 = _sat_shl(_srdhm(_srdhm(x, x), x), 6)                     # F9 -> F3
        x = _sat_shl(_wrap32(_srdhm(half_three, x) - _srdhm(half, x3)), 3)   # F6 -> F3
    x = _srdhm(x, 1518500250)
    if shift < 0:
        x = _wrap32(x << -shift)
        shift = 0
    return x, -shift


def rsqrt_lut(op) -> np.ndarray:
    """RsqrtEvalQuantizedInt8 with SetRsqrtOutputMultiplier(1 / (sqrtf(s_in) * s_out))."""
    x, y = op.inputs[0], op.outputs[0]
    m, s = quantize_multiplier(1.0 / float(F(F(np.sqrt(F(x.quant.s))) * F(y.quant.s))))
    out = []
    for val in range(-128, 128):
        v = val - x.quant.zp
        if v < 0:
            out.append(127)       # LiteRT stops with "Rsqrt is only defined for positive values"
            continue
        if v == 0:
            out.append(127)
            continue
        im, ishift = inv_sqrt_multiplier_exp(v)
        data = mbqm(1, im, ishift + 20)
        r = mbqm(data, m, s - 20) + y.quant.zp
        out.append(max(-128, min(127, r)))
    return np.array(out)


def log_transform(op):
    y = op.outputs[0]
    qmin = QRANGE[y.dtype][0]
    output_min = F(F(qmin - y.quant.zp) * F(y.quant.s))
    logf = libm_fn("logf")
    return lambda v: output_min if v <= F(0) else logf(v)


def rsqrt_s16_transform(op):
    y = op.outputs[0]
    big = F(F(32767) * F(y.quant.s))
    return lambda v: big if v <= F(0) else F(F(1.0) / F(np.sqrt(F(v))))


INT8_LUTS = {"ABS": abs_lut, "SQRT": sqrt_lut, "RSQRT": rsqrt_lut,
             "EXP": lambda op: float_lut(op, libm_fn("expf")),
             "LOG": lambda op: float_lut(op, log_transform(op))}
INT16_LUTS = {"EXP": lambda op: lut_s16(op, libm_fn("expf")),
              "LOG": lambda op: lut_s16(op, log_transform(op)),
              "RSQRT": lambda op: lut_s16(op, rsqrt_s16_transform(op))}
FLOAT_KINDS = {"ABS": "abs", "NEG": "neg", "SQUARE": "square", "SQRT": "sqrt", "RSQRT": "rsqrt", "EXP": "exp",
               "LOG": "log", "SIN": "sin", "COS": "cos", "FLOOR": "floor", "CEIL": "ceil", "ROUND": "round"}
INT_SUFFIX = {"int8": "s8", "int16": "s16", "int32": "s32", "int64": "s64", "uint8": "u8", "bool": "b",
              "float32": "f32"}


@lowering("ABS", "NEG", "SQUARE", "SQRT", "RSQRT", "EXP", "LOG", "SIN", "COS", "FLOOR", "CEIL", "ROUND",
          inplace=True)
def lower_unary(op, options):
    x, y = op.inputs[0], op.outputs[0]
    n = x.size
    io = [TensorRef(x, True), TensorRef(y), n]
    if x.dtype == "float32":
        return KernelCall(op, "generic_c", f"aotc_unary_{FLOAT_KINDS[op.kind]}_f32", io)
    if op.kind == "NEG":
        return KernelCall(op, "generic_c", f"aotc_unary_neg_{INT_SUFFIX[x.dtype]}", io,
                          note="two's complement negation, quantization not read (as LiteRT)")
    if x.dtype == "int8":
        return lut_s8_call(op, INT8_LUTS[op.kind](op))
    if op.kind == "ABS" and x.dtype == "int32":
        return KernelCall(op, "generic_c", "aotc_unary_abs_s32", io)
    if op.kind == "ABS" and x.quant is None:
        return KernelCall(op, "generic_c", "aotc_unary_abs_raw_s16", io)
    if op.kind == "ABS":
        rescale, m, s = abs_params(op)
        return KernelCall(op, "generic_c", "aotc_unary_abs_s16",
                          io + [x.quant.zp, y.quant.zp, int(rescale), m, s])
    if op.kind == "SQRT":
        return KernelCall(op, "generic_c", "aotc_unary_sqrt_s16",
                          io + [c_literal(x.quant.s), x.quant.zp, c_literal(y.quant.s), y.quant.zp])
    return lut_s16_call(op, INT16_LUTS[op.kind](op))


@lowering("LOGICAL_NOT", inplace=True)
def lower_logical_not(op, options):
    x, y = op.inputs[0], op.outputs[0]
    return KernelCall(op, "generic_c", "aotc_unary_logical_not_b", [TensorRef(x, True), TensorRef(y), x.size])


@lowering("ZEROS_LIKE", inplace=True)
def lower_zeros_like(op, options):
    y = op.outputs[0]
    return KernelCall(op, "generic_c", "aotc_unary_zeros", [TensorRef(y), y.nbytes])


@lowering("CAST", inplace=True)
def lower_cast(op, options):
    x, y = op.inputs[0], op.outputs[0]
    args = [TensorRef(x, True), TensorRef(y), x.size]
    fn = f"aotc_unary_cast_{INT_SUFFIX[x.dtype]}_{INT_SUFFIX[y.dtype]}"
    note = ""
    if x.dtype == "float32" and y.dtype not in ("float32", "bool"):
        # LiteRT's SafeCast: NaN -> the type's maximum; TFLM's cast gives 0
        lo, hi = QRANGE.get(y.dtype, (-2**63, 2**63 - 1))
        nan = 0 if options.rounding == "tflm" else hi
        args.append(c_literal(nan))
        note = "saturating float -> integer conversion"
    return KernelCall(op, "generic_c", fn, args, note=note)
