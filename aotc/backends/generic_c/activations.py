"""Unary activations -> aotc_activation_*.

int8: every unary activation is a function of one int8 value, so the compiler evaluates LiteRT's
reference arithmetic for all 256 inputs and emits a table; the kernel is out[i] = lut[in[i] + 128].
  RELU family: TFLite QuantizedReluX, out = clamp(zp_out + MBQM(in - zp_in, m, s), lo, hi) with
      m = float(s_in) / float(s_out) and lo/hi = zp_out + roundf(bound / s_out) clamped to the type.
  LOGISTIC / TANH: LiteRT's LUTPopulate<int8_t> in float with libm expf/tanhf (the host libm, as
      LiteRT itself uses), rounding with roundf.
  HARD_SWISH: reference_ops::HardSwish's 16-bit fixed-point arithmetic, mirrored in Python.
  LEAKY_RELU: QuantizeLeakyRelu (identity / alpha multipliers from float32 scale ratios).
  ELU: LUTPopulate with expm1f (LiteRT's builtin kernel; ELU is not in its reference resolver).
  GELU: LUTPopulate with GeluTransform (erfcf) or GeluTransformApproximate (tanhf).
int16 LOGISTIC / TANH: reference_integer_ops::Logistic / Tanh, the 256-entry sigmoid(i/24) table with
  linear interpolation (aotc_activation_logistic_s16 / _tanh_s16); LiteRT and TFLM agree.
int16 GELU: LUTPopulate<int16_t> (513 entries) with LUTLookup. int16 LEAKY_RELU and PRELU in C.
int16 RELU / RELU6: the same QuantizedReluX arithmetic in C (aotc_activation_relu_s16).
float32: the reference kernels in C (libm expf / tanhf).

rounding == "tflm" follows TFLM's kernels where they differ from LiteRT's:
  RELU6 (int8 and int16): Relu6Quantized, a clamp to [zp_in, zp_in + round(6 / s_in)] in the input's
      quantization, without rescaling to the output's.
  ELU int8: TFLM's table uses expf(x) - 1 instead of expm1f.
  PRELU int8 / int16: multipliers computed in double (LiteRT: float32 ratios).
  CAST float -> integer: NaN gives 0 (LiteRT: the type's maximum) -- in unary.py.
  LOGISTIC / TANH int8: reference_integer_ops fixed-point kernels (input rescaled to gemmlowp Q4.27
      with a frexp multiplier, gemmlowp::logistic / gemmlowp::tanh, RoundingDivideByPOT to Q0.7 or
      Q0.8); the output quantization is not read (TANH emits 1/128, zp 0 whatever the model says).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import math

import numpy as np

from ...ops.activations import RELU_BOUNDS, int16_sigmoid_params, prelu_alpha_period
from ...quant import QRANGE, f32, multiply_by_quantized_multiplier, quantize_multiplier, tflite_round
from ..base import ConstArray, KernelCall, TensorRef, c_literal
from . import lowering
from .softmax import _rdbpot as _rdbpot32
from .softmax import _sat_shl, _srdhm, _wrap32, exp_on_negative_values
from .unary import float_lut, libm_fn, roundf, lut_s8_call, lut_s16, lut_s16_call, mbqm

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


_roundf = roundf   # roundf: half away from zero, in float


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
    if x.dtype == "int16" and op.kind in ("LOGISTIC", "TANH"):
        mult, shift = int16_sigmoid_params(op)
        table = ConstArray("sigmoid", "uint16_t", sigmoid_table_uint16())
        return KernelCall(op, "generic_c", f"aotc_activation_{op.kind.lower()}_s16",
                          [TensorRef(x, True), TensorRef(y), n, mult, shift, table], consts=[table],
                          note="TFLite's int16 sigmoid table with linear interpolation")
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


# ---- int16 LOGISTIC / TANH, LEAKY_RELU, ELU, GELU, PRELU --------------------------------------

_SIGMOID_FIX = {4, 8, 12, 14, 15, 16, 17, 19, 20, 21, 22, 25, 27, 28, 29, 30, 31, 33, 34, 35, 37, 39, 40, 41,
                43, 44, 45, 46, 49, 50, 54, 62, 63, 64, 66, 82, 86, 93, 100, 103, 112, 116, 135, 255}


def sigmoid_table_uint16() -> np.ndarray:
    """TFLite's sigmoid_table_uint16: sigmoid(i / 24) in 0.16 format. The hard-coded table is the
    rounded value except at the listed entries, which are one more."""
    return np.array([int(math.floor(65536.0 / (1.0 + math.exp(-i / 24.0)) + 0.5)) + (i in _SIGMOID_FIX)
                     for i in range(256)], dtype=np.uint16)


def leaky_relu_params(op, rounding: str):
    x, y = op.inputs[0], op.outputs[0]
    s_in, s_out, alpha = F(x.quant.s), F(y.quant.s), F(op.attrs["alpha"])
    m_a, s_a = quantize_multiplier(f32(F(F(s_in * alpha) / s_out)))
    m_i, s_i = quantize_multiplier(f32(F(s_in / s_out)))
    return m_i, s_i, abs(m_a), s_a, m_a < 0


def leaky_relu_lut(op, rounding: str) -> np.ndarray:
    x, y = op.inputs[0], op.outputs[0]
    m_i, s_i, m_a, s_a, neg = leaky_relu_params(op, rounding)
    out = []
    for val in range(-128, 128):
        v = val - x.quant.zp
        if v >= 0:
            r = mbqm(v, m_i, s_i)
        else:
            r = mbqm(v, m_a, s_a)
            r = -r if neg else r
        out.append(max(-128, min(127, r + y.quant.zp)))
    return np.array(out)


def elu_transform(rounding: str):
    if rounding == "tflm":
        expf = libm_fn("expf")
        return lambda v: F(expf(v) - F(1.0)) if v < F(0) else v
    expm1f = libm_fn("expm1f")
    return lambda v: expm1f(v) if v < F(0) else v


_SQRT1_2 = F(-0.7071067811865476)          # static_cast<float>(-M_SQRT1_2)
_SQRT_2_PI = F(1.1283791670955126 * 0.7071067811865476)   # float(M_2_SQRTPI * M_SQRT1_2)


def gelu_transform(approximate: bool):
    if approximate:
        tanhf = libm_fn("tanhf")
        return lambda v: F(F(F(0.5) * v) * F(F(1.0) + tanhf(F(_SQRT_2_PI * F(v + F(F(F(F(0.044715) * v) * v) * v))))))
    erfcf = libm_fn("erfcf")
    return lambda v: F(F(F(0.5) * v) * erfcf(F(v * _SQRT1_2)))


@lowering("LEAKY_RELU", "ELU", "GELU", inplace=True)
def lower_more_activations(op, options):
    x, y = op.inputs[0], op.outputs[0]
    n = x.size
    io = [TensorRef(x, True), TensorRef(y), n]
    if op.kind == "LEAKY_RELU":
        if x.dtype == "int8":
            return lut_s8_call(op, leaky_relu_lut(op, options.rounding))
        if x.dtype == "int16":
            m_i, s_i, m_a, s_a, neg = leaky_relu_params(op, options.rounding)
            return KernelCall(op, "generic_c", "aotc_unary_leaky_relu_s16",
                              io + [x.quant.zp, y.quant.zp, m_i, s_i, m_a, s_a, int(neg)])
        return KernelCall(op, "generic_c", "aotc_unary_leaky_relu_f32", io + [c_literal(op.attrs["alpha"])])
    if op.kind == "ELU":
        if x.dtype == "int8":
            return lut_s8_call(op, float_lut(op, elu_transform(options.rounding)))
        fn = "aotc_unary_elu_tflm_f32" if options.rounding == "tflm" else "aotc_unary_elu_f32"
        return KernelCall(op, "generic_c", fn, io)
    approximate = op.attrs["approximate"]
    if x.dtype == "int8":
        return lut_s8_call(op, float_lut(op, gelu_transform(approximate)))
    if x.dtype == "int16":
        return lut_s16_call(op, lut_s16(op, gelu_transform(approximate)))
    return KernelCall(op, "generic_c", "aotc_unary_gelu_f32", io + [int(approximate)])


@lowering("PRELU", inplace=True)
def lower_prelu(op, options):
    x, a, y = op.inputs[0], op.inputs[1], op.outputs[0]
    period, values = prelu_alpha_period(op)
    alpha = TensorRef(a, True)
    consts = []
    if values is not None:
        alpha = ConstArray("alpha", "float" if a.dtype == "float32" else "int8_t",
                           values.astype(np.float32 if a.dtype == "float32" else np.int8))
        consts = [alpha]
    if x.dtype == "float32":
        return KernelCall(op, "generic_c", "aotc_unary_prelu_f32",
                          [TensorRef(x, True), alpha, TensorRef(y), x.size, period], consts=consts)
    if options.rounding == "tflm":   # TFLM computes the ratios in double
        m1 = float(F(x.quant.s)) / float(F(y.quant.s))
        m2 = float(F(x.quant.s)) * float(F(a.quant.s)) / float(F(y.quant.s))
    else:                            # LiteRT: float32 arithmetic
        m1 = f32(F(x.quant.s) / F(y.quant.s))
        m2 = f32(F(F(x.quant.s) * F(a.quant.s)) / F(y.quant.s))
    (q1, s1), (q2, s2) = quantize_multiplier(m1), quantize_multiplier(m2)
    return KernelCall(op, "generic_c", f"aotc_unary_prelu_{'s8' if x.dtype == 'int8' else 's16'}",
                      [TensorRef(x, True), alpha, TensorRef(y), x.size, period, x.quant.zp, a.quant.zp,
                       y.quant.zp, q1, s1, q2, s2], consts=consts)
