"""Unary activations -> aotc_activation_*.

int8: every unary activation is a function of one int8 value, so the compiler evaluates LiteRT's
reference arithmetic for all 256 inputs and emits a table; the kernel is out[i] = lut[in[i] + 128].
  RELU family: TFLite QuantizedReluX, out = clamp(zp_out + MBQM(in - zp_in, m, s), lo, hi) with
      m = float(s_in) / float(s_out) and lo/hi = zp_out + roundf(bound / s_out) clamped to the type.
  LOGISTIC / TANH: LiteRT's LUTPopulate<int8_t> in float with libm expf/tanhf (the host libm, as
      LiteRT itself uses), rounding with roundf.
  HARD_SWISH: reference_ops::HardSwish's 16-bit fixed-point arithmetic, mirrored in Python.
int16 RELU / RELU6: the same QuantizedReluX arithmetic in C (aotc_activation_relu_s16).
float32: the reference kernels in C (libm expf / tanhf).

rounding == "tflm" follows TFLM's kernels where they differ from LiteRT's:
  RELU6 (int8 and int16): Relu6Quantized, a clamp to [zp_in, zp_in + round(6 / s_in)] in the input's
      quantization, without rescaling to the output's.
  LOGISTIC / TANH int8: reference_integer_ops fixed-point kernels (input rescaled to gemmlowp Q4.27
      with a frexp multiplier, gemmlowp::logistic / gemmlowp::tanh, RoundingDivideByPOT to Q0.7 or
      Q0.8); the output quantization is not read (TANH emits 1/128, zp 0 whatever the model says).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import math

import numpy as np

from ...ops.activations import RELU_BOUNDS
from ...quant import QRANGE, f32, multiply_by_quantized_multiplier, quantize_multiplier, tflite_round
from ..base import ConstArray, KernelCall, TensorRef, c_literal
from . import lowering
from .softmax import _rdbpot as _rdbpot32
from .softmax import _sat_shl, _srdhm, _wrap32, exp_on_negative_values

F = np.float32

_libm = None


def _libm_fn(name: str):
    """The host C library's float function (what LiteRT's std::exp(float) / std::tanh(float) call)."""
    global _libm
    if _libm is None:
        _libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    fn = getattr(_libm, name)
    fn.restype = ctypes.c_float
    fn.argtypes = [ctypes.c_float]
    return fn


def _roundf(x: np.float32) -> np.float32:
    """roundf: half away from zero, in float."""
    return F(math.floor(x + 0.5)) if x >= 0 else F(-math.floor(-x + 0.5))


def relu_params(op):
    """(multiplier, shift, act_min, act_max) of TFLite's QuantizedReluX."""
    x, y = op.inputs[0], op.outputs[0]
    qmin, qmax = QRANGE[y.dtype]
    m, s = quantize_multiplier(f32(F(x.quant.s) / F(y.quant.s)))
    lo_f, hi_f = RELU_BOUNDS[op.kind]
    so = F(y.quant.s)
    lo = max(qmin, y.quant.zp + int(_roundf(F(lo_f) / so)))
    hi = qmax if hi_f == math.inf else min(qmax, y.quant.zp + int(_roundf(F(hi_f) / so)))
    return m, s, lo, hi


def relu_lut(op) -> np.ndarray:
    x, y = op.inputs[0], op.outputs[0]
    m, s, lo, hi = relu_params(op)
    v = np.arange(-128, 128, dtype=np.int64)
    out = multiply_by_quantized_multiplier(v - x.quant.zp, m, s) + y.quant.zp
    return np.clip(out, lo, hi).astype(np.int8)


def tflm_relu6_bounds(op) -> tuple[int, int]:
    """TFLM Relu6Prepare: zero = zp_in, six = FloatToQuantizedType(6, s_in, zp_in) (clamped to the type)."""
    x = op.inputs[0]
    qmin, qmax = QRANGE[x.dtype]
    zero = x.quant.zp
    six = int(np.clip(zero + int(_roundf(F(6.0) / F(x.quant.s))), qmin, qmax))
    return zero, six


def tflm_relu6_lut(op) -> np.ndarray:
    """TFLM's Relu6Quantized: no rescaling; clamp to [zp_in, zp_in + round(6 / s_in)] in the input's
    quantization (LiteRT rescales to the output's; the two differ when the scales do)."""
    zero, six = tflm_relu6_bounds(op)
    return np.clip(np.arange(-128, 128), zero, six).astype(np.int8)


def float_lut(op, transform) -> np.ndarray:
    """LiteRT LUTPopulateInt8: dequantize in float, transform, roundf(t * (1 / s_out)) + zp_out."""
    x, y = op.inputs[0], op.outputs[0]
    s_in, zp_in = F(x.quant.s), x.quant.zp
    inv = F(F(1.0) / F(y.quant.s))
    out = []
    for val in range(-128, 128):
        deq = F(s_in * F(val - zp_in))
        t = F(transform(deq))
        r = _roundf(F(t * inv))
        q = int(F(r + F(y.quant.zp)))
        out.append(max(-128, min(127, q)))
    return np.array(out, dtype=np.int8)


def logistic_lut(op) -> np.ndarray:
    expf = _libm_fn("expf")
    return float_lut(op, lambda v: F(F(1.0) / F(F(1.0) + F(expf(float(-v))))))


def tanh_lut(op) -> np.ndarray:
    tanhf = _libm_fn("tanhf")
    return float_lut(op, lambda v: F(tanhf(float(v))))


# ---- 16-bit gemmlowp helpers for HARD_SWISH (scalar Python ints) ------------------------------

def _s16(v: int) -> int:
    """static_cast<int16_t>: wrap to int16."""
    return ((v + 0x8000) & 0xFFFF) - 0x8000


def _srdhm16(a: int, b: int) -> int:
    if a == b == -32768:
        return 32767
    ab = a * b
    nudge = (1 << 14) if ab >= 0 else 1 - (1 << 14)
    num = ab + nudge
    q = abs(num) // (1 << 15)
    return _s16(q if num >= 0 else -q)


def _sdhm16(a: int, b: int) -> int:
    """SaturatingDoublingHighMul: truncating division of a * b by 2^15."""
    if a == b == -32768:
        return 32767
    ab = a * b
    q = abs(ab) // (1 << 15)
    return _s16(q if ab >= 0 else -q)


def _rdbpot(x: int, e: int) -> int:
    mask = (1 << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if rem > thr else 0)


def _sat_lshift16(v: int, amount: int) -> int:
    return max(-32768, min(32767, v * (1 << amount)))


def _downscale16(m32: int) -> int:
    if m32 >= 2**31 - 1 - (1 << 15):
        return 32767
    return (m32 + (1 << 15)) >> 16


def hard_swish_lut(op) -> np.ndarray:
    x, y = op.inputs[0], op.outputs[0]
    s_in = F(x.quant.s)
    hires = F(F(1.0 / 128.0) * s_in)
    out_m32, out_exp = quantize_multiplier(f32(F(hires / F(y.quant.s))))
    relu_m32, relu_exp = quantize_multiplier(f32(F(hires / F(F(3.0) / F(32768.0)))))
    out_m, relu_m = _downscale16(out_m32), _downscale16(relu_m32)
    table = []
    for val in range(-128, 128):
        iv = _s16(val - x.quant.zp)
        hi_in = _s16(iv * 128)
        pre_out = _srdhm16(hi_in, out_m)
        r = hi_in
        if relu_exp > 0:
            r = _sat_lshift16(r, relu_exp - 1)
        r = _srdhm16(r, relu_m)
        if relu_exp > 0:
            r = _sat_lshift16(r, 1)
        if relu_exp < 0:
            r = _rdbpot(r, -relu_exp)
        r = _s16((r + (1 << 15)) >> 1)
        pre = _sdhm16(r, pre_out)
        o = _s16(_rdbpot(pre, -out_exp))
        o = _s16(o + y.quant.zp)
        table.append(max(-128, min(127, o)))
    return np.array(table, dtype=np.int8)


# ---- TFLM: gemmlowp fixed-point logistic / tanh on int32 (scalar Python ints) -------------------

_F0_ONE = 2**31 - 1          # FixedPoint<int32, 0>::One()
_F2_ONE = 1 << 29            # FixedPoint<int32, 2>::One()


def _rounding_half_sum(a: int, b: int) -> int:
    total = a + b
    v = total + (1 if total >= 0 else -1)
    q = abs(v) // 2
    return q if v >= 0 else -q      # C division truncates


def _newton_reciprocal_f2(half_denominator: int) -> int:
    """gemmlowp's Newton-Raphson iteration for 1 / half_denominator, an F2 raw value."""
    x = _wrap32(1515870810 + _srdhm(half_denominator, -1010580540))   # 48/17 - 32/17 * d
    for _ in range(3):
        hdx = _srdhm(half_denominator, x)                                 # F0 * F2 -> F2
        one_minus = _wrap32(_F2_ONE - hdx)
        x = _wrap32(x + _sat_shl(_srdhm(x, one_minus), 2))                # F2 * F2 -> F4, Rescale<2>
    return x


def _one_over_one_plus_x(a: int) -> int:
    """gemmlowp one_over_one_plus_x_for_x_in_0_1: F0 -> F0."""
    x = _newton_reciprocal_f2(_rounding_half_sum(a, _F0_ONE))
    return _sat_shl(x, 1)                                                 # ExactMulByPot<-1>, Rescale<0>


def _one_minus_x_over_one_plus_x(a: int) -> int:
    """gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1: F0 -> F0."""
    x = _newton_reciprocal_f2(_rounding_half_sum(a, _F0_ONE))
    return _sat_shl(_wrap32(x - _F2_ONE), 2)                              # Rescale<0>(x - 1)


def gemmlowp_logistic(a: int, integer_bits: int) -> int:
    if a == 0:
        return 1 << 30
    pos = _one_over_one_plus_x(exp_on_negative_values(_wrap32(-abs(a)), integer_bits))
    return pos if a > 0 else _wrap32(_F0_ONE - pos)


def gemmlowp_tanh(a: int, integer_bits: int) -> int:
    if a == 0:
        return 0
    n = a if a < 0 else _wrap32(-a)
    # ExactMulByPot<1>: the same raw value read with one more integer bit
    t = _one_minus_x_over_one_plus_x(exp_on_negative_values(n, integer_bits + 1))
    return _wrap32(-t) if a < 0 else t


def _tflm_int8_input_params(op):
    """TFLM Calculate*OpData for int8: frexp(double(s_in) * 2^27) and CalculateInputRadius(4, shift)."""
    q, shift = math.frexp(float(F(op.inputs[0].quant.s)) * float(1 << 27))
    mult = int(tflite_round(q * (1 << 31)))
    radius = int(math.floor(1.0 * 15 * (1 << 27) / (1 << shift))) if shift >= 0 else \
        int(math.floor(1.0 * 15 * (1 << 27) * (1 << -shift)))
    return mult, shift, radius


def _tflm_fixed_point_lut(op, fn, out_bits: int, out_zp: int) -> np.ndarray:
    zp = op.inputs[0].quant.zp
    mult, shift, radius = _tflm_int8_input_params(op)
    out = []
    for val in range(-128, 128):
        v = val - zp
        if v <= -radius:
            out.append(-128)
        elif v >= radius:
            out.append(127)
        else:
            q4 = int(multiply_by_quantized_multiplier(np.int64(v), mult, shift))
            r = int(_rdbpot32(fn(q4, 4), 31 - out_bits)) + out_zp
            out.append(max(-128, min(127, r)))
    return np.array(out, dtype=np.int8)


def tflm_logistic_lut(op) -> np.ndarray:
    """reference_integer_ops::Logistic (int8): Q0.8 output, zero point -128."""
    return _tflm_fixed_point_lut(op, gemmlowp_logistic, 8, -128)


def tflm_tanh_lut(op) -> np.ndarray:
    """reference_integer_ops::Tanh (int8): Q0.7 output, zero point 0."""
    return _tflm_fixed_point_lut(op, gemmlowp_tanh, 7, 0)


INT8_TABLES = {"RELU": relu_lut, "RELU6": relu_lut, "RELU_N1_TO_1": relu_lut, "RELU_0_TO_1": relu_lut,
               "LOGISTIC": logistic_lut, "TANH": tanh_lut, "HARD_SWISH": hard_swish_lut}
TFLM_INT8_TABLES = {"RELU6": tflm_relu6_lut, "LOGISTIC": tflm_logistic_lut, "TANH": tflm_tanh_lut}
FLOAT_KERNELS = {"LOGISTIC": "logistic", "TANH": "tanh", "HARD_SWISH": "hard_swish"}


@lowering("RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LOGISTIC", "TANH", "HARD_SWISH", inplace=True)
def lower_activation(op, options):
    x, y = op.inputs[0], op.outputs[0]
    n = x.size
    if x.dtype == "int8":
        table = INT8_TABLES[op.kind]
        if options.rounding == "tflm":
            table = TFLM_INT8_TABLES.get(op.kind, table)
        lut = ConstArray("lut", "int8_t", table(op))
        return KernelCall(op, "generic_c", "aotc_activation_lut_s8",
                          [TensorRef(x, True), TensorRef(y), n, lut], consts=[lut],
                          note="256-entry table computed at compile time")
    if x.dtype == "int16" and op.kind == "RELU6" and options.rounding == "tflm":
        zero, six = tflm_relu6_bounds(op)
        return KernelCall(op, "generic_c", "aotc_activation_clamp_s16",
                          [TensorRef(x, True), TensorRef(y), n, zero, six],
                          note="TFLM Relu6Quantized: clamp in the input's quantization")
    if x.dtype == "int16":
        m, s, lo, hi = relu_params(op)
        return KernelCall(op, "generic_c", "aotc_activation_relu_s16",
                          [TensorRef(x, True), TensorRef(y), n, x.quant.zp, y.quant.zp, m, s, lo, hi])
    if op.kind in FLOAT_KERNELS:
        return KernelCall(op, "generic_c", f"aotc_activation_{FLOAT_KERNELS[op.kind]}_f32",
                          [TensorRef(x, True), TensorRef(y), n])
    lo, hi = RELU_BOUNDS[op.kind]
    return KernelCall(op, "generic_c", "aotc_activation_relu_f32",
                      [TensorRef(x, True), TensorRef(y), n, c_literal(lo), c_literal(hi)])
