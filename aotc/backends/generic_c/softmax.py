"""SOFTMAX -> aotc_softmax_{s8,s8_s16,s16,f32}; LOG_SOFTMAX -> aotc_softmax_log_{s8,f32}.

int8 input (TFLite reference integer softmax): the input-beta multiplier and left shift come from
PreprocessSoftmaxScaling(beta, s_in, 5 integer bits), diff_min from CalculateInputRadius. For each
possible difference d = max - x in [0, 255] the compiler evaluates
exp_on_negative_values(MultiplyByQuantizedMultiplierGreaterThanOne(-d)) in gemmlowp Q5.26 -> Q0.31
arithmetic (0 where -d < diff_min, which the kernel then treats exactly as the reference's skip).
int16 input: TFLite's two 513-entry tables (LUTPopulate<int16_t> in double) and the input multiplier
QuantizeMultiplier(float(s_in * beta) / (10 / 65535)).
int8 LOG_SOFTMAX (reference_integer_ops::LogSoftmax, the same in LiteRT and TFLM): the exp table above
with beta 1, plus PreprocessLogSoftmaxScalingExp's reverse multiplier (QuantizeMultiplier of
2^(31 - left_shift) / input_multiplier); the log of the Q12.19 sum is gemmlowp's
log_x_for_x_greater_than_or_equal_to_1 evaluated in the kernel.
rounding == "tflm" (TFLM's SoftmaxPrepare for int16): the tables come from LUTPopulate<int16_t> in
float32 (libm expf, roundf) and the multiplier from double(s_in) * double(beta) / (10 / 65535).
"""
from __future__ import annotations

import math

import numpy as np

from ...quant import f32, quantize_multiplier, tflite_round
from ..base import ConstArray, KernelCall, TensorRef, c_literal
from . import lowering

INT32_MAX, INT32_MIN = 2**31 - 1, -2**31


def _wrap32(v: int) -> int:
    return ((v + 2**31) & 0xFFFFFFFF) - 2**31


def _srdhm(a: int, b: int) -> int:
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    num = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
    q = abs(num) // (1 << 31)
    return q if num >= 0 else -q


def _rdbpot(x: int, e: int) -> int:
    mask = (1 << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if rem > thr else 0)


def _sat_shl(x: int, e: int) -> int:
    thr = (1 << (31 - e)) - 1
    if x > thr:
        return INT32_MAX
    if x < -thr:
        return INT32_MIN
    return _wrap32(x << e)


def _exp_on_interval(a: int) -> int:
    """gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl, Q0.31."""
    const_term, c_1_3 = 1895147668, 715827883
    x = _wrap32(a + (1 << 28))
    x2 = _srdhm(x, x)
    x3 = _srdhm(x2, x)
    x4 = _srdhm(x2, x2)
    x4_over_4 = _rdbpot(x4, 2)
    t = _rdbpot(_wrap32(_srdhm(_wrap32(x4_over_4 + x3), c_1_3) + x2), 1)
    return _wrap32(const_term + _srdhm(const_term, _wrap32(x + t)))


def exp_on_negative_values(a: int, integer_bits: int = 5) -> int:
    """gemmlowp exp_on_negative_values for FixedPoint<int32, integer_bits>, result Q0.31."""
    frac = 31 - integer_bits
    quarter = 1 << (frac - 2)
    a_mod = _wrap32((a & (quarter - 1)) - quarter)
    result = _exp_on_interval(_sat_shl(a_mod, integer_bits))
    remainder = _wrap32(a_mod - a)
    for exponent, mult in ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
                           (2, 39332535), (3, 720401), (4, 242)):
        if integer_bits > exponent and remainder & (1 << (frac + exponent)):
            result = _srdhm(result, mult)
    if integer_bits > 5 and a < -(1 << (36 - integer_bits)):
        result = 0
    return INT32_MAX if a == 0 else result


def softmax_s8_table(beta: float, input_scale: float) -> np.ndarray:
    # PreprocessSoftmaxScaling (double rounding build) + QuantizeMultiplierGreaterThanOne
    real = min(float(beta) * float(input_scale) * (1 << 26), (1 << 31) - 1.0)
    mult, left_shift = quantize_multiplier(real)
    # CalculateInputRadius(5, left_shift, 31)
    diff_min = -int(math.floor(1.0 * 31 * (1 << 26) / (1 << left_shift)))
    table = []
    for d in range(256):
        diff = -d
        if diff >= diff_min:
            table.append(exp_on_negative_values(_srdhm(_wrap32(diff * (1 << left_shift)), mult)))
        else:
            table.append(0)
    return np.array(table, dtype=np.int32)


def lut_populate_int16(fn, input_scale, input_zp, output_scale, output_zp) -> np.ndarray:
    """TFLite LUTPopulateInt16<double>."""
    input_min = input_scale * (-32768 - input_zp)
    input_max = input_scale * (32767 - input_zp)
    output_min = output_scale * (-32768 - output_zp)
    output_max = output_scale * (32767 - output_zp)
    nb_steps = 512
    step = (input_max - input_min) / nb_steps
    half_step = step / 2
    inv = 65536.0 / (output_max - output_min)
    lut = []
    for i in range(nb_steps):
        val = fn(input_min + i * step)
        val_mid = fn(input_min + i * step + half_step)
        val_next = fn(input_min + (i + 1) * step)
        sample = tflite_round(val * inv)
        interp = tflite_round((val_next * inv + tflite_round(val * inv)) / 2)
        mid = tflite_round(val_mid * inv)
        bias = tflite_round((interp - mid) / 2)
        lut.append(min(max(sample - bias, -32768.0), 32767.0))
    lut.append(min(max(tflite_round(fn(input_max) * inv), -32768.0), 32767.0))
    return np.array([int(v) for v in lut], dtype=np.int16)


def lut_populate_int16_f32(fn, input_scale, input_zp, output_scale, output_zp) -> np.ndarray:
    """TFLite LUTPopulateInt16<float> (what TFLM uses): every step in float32."""
    F = np.float32
    input_scale, output_scale = F(input_scale), F(output_scale)
    input_min = F(input_scale * F(-32768 - input_zp))
    input_max = F(input_scale * F(32767 - input_zp))
    output_min = F(output_scale * F(-32768 - output_zp))
    output_max = F(output_scale * F(32767 - output_zp))
    nb_steps = 512
    step = F(F(input_max - input_min) / F(nb_steps))
    half_step = F(step / F(2))
    inv = F(F(65536.0) / F(output_max - output_min))

    def rnd(v):
        return F(tflite_round(float(v)))

    def at(i):
        return F(input_min + F(F(i) * step))
    lut = []
    for i in range(nb_steps):
        val = F(fn(at(i)))
        val_mid = F(fn(F(at(i) + half_step)))
        val_next = F(fn(F(input_min + F(F(i + 1) * step))))
        sample = rnd(F(val * inv))
        interp = rnd(F(F(F(val_next * inv) + rnd(F(val * inv))) / F(2)))
        mid = rnd(F(val_mid * inv))
        bias = rnd(F(F(interp - mid) / F(2)))
        lut.append(min(max(float(F(sample - bias)), -32768.0), 32767.0))
    lut.append(min(max(float(rnd(F(F(fn(input_max)) * inv))), -32768.0), 32767.0))
    return np.array([int(v) for v in lut], dtype=np.int16)


@lowering("SOFTMAX")
def lower_softmax(op, options):
    x, y = op.inputs[0], op.outputs[0]
    depth = x.shape[-1]
    outer = x.size // depth if depth else 0
    beta = op.attrs["beta"]
    head = [TensorRef(x, True), TensorRef(y), outer, depth]
    if x.dtype == "float32":
        return KernelCall(op, "generic_c", "aotc_softmax_f32", head + [c_literal(beta)])
    if x.dtype == "int8":
        table = ConstArray("exp", "int32_t", softmax_s8_table(beta, f32(x.quant.s)))
        fn = "aotc_softmax_s8" if y.dtype == "int8" else "aotc_softmax_s8_s16"
        return KernelCall(op, "generic_c", fn, head + [table], consts=[table])
    rng = 65535
    if options.rounding == "tflm":
        from .activations import _libm_fn
        expf = _libm_fn("expf")
        fr = np.float32(rng)
        exp_lut = ConstArray("exp_lut", "int16_t", lut_populate_int16_f32(
            lambda v: np.float32(expf(float(v))), np.float32(10.0) / fr, 32767, np.float32(2.0) / fr, 0))
        recip_lut = ConstArray("recip_lut", "int16_t", lut_populate_int16_f32(
            lambda v: np.float32(1.0) / np.float32(np.float32(1.0) + v), np.float32(1.0) / fr, -32768,
            np.float32(2.0) / fr, 0))
        mult, shift = quantize_multiplier(f32(x.quant.s) * f32(beta) / (10.0 / 65535.0))
        return KernelCall(op, "generic_c", "aotc_softmax_s16", head + [mult, shift, exp_lut, recip_lut],
                          consts=[exp_lut, recip_lut])
    exp_lut = ConstArray("exp_lut", "int16_t", lut_populate_int16(math.exp, 10.0 / rng, 32767, 2.0 / rng, 0))
    recip_lut = ConstArray("recip_lut", "int16_t",
                           lut_populate_int16(lambda v: 1.0 / (1.0 + v), 1.0 / rng, -32768, 2.0 / rng, 0))
    scaled = f32(np.float32(np.float32(x.quant.s) * np.float32(beta))) / (10.0 / 65535.0)
    mult, shift = quantize_multiplier(scaled)
    return KernelCall(op, "generic_c", "aotc_softmax_s16", head + [mult, shift, exp_lut, recip_lut],
                      consts=[exp_lut, recip_lut])


@lowering("LOG_SOFTMAX")
def lower_log_softmax(op, options):
    x, y = op.inputs[0], op.outputs[0]
    depth = x.shape[-1]
    outer = x.size // depth if depth else 0
    head = [TensorRef(x, True), TensorRef(y), outer, depth]
    if x.dtype == "float32":
        return KernelCall(op, "generic_c", "aotc_softmax_log_f32", head)
    s_in = f32(x.quant.s)
    real = min(1.0 * s_in * (1 << 26), (1 << 31) - 1.0)
    mult, left_shift = quantize_multiplier(real)
    diff_min = -int(math.floor(1.0 * 31 * (1 << 26) / (1 << left_shift)))
    rev_mult, rev_shift = quantize_multiplier((1 << (31 - left_shift)) / float(mult))
    table = ConstArray("exp", "int32_t", softmax_s8_table(1.0, s_in))
    return KernelCall(op, "generic_c", "aotc_softmax_log_s8",
                      head + [table, mult, left_shift, diff_min, rev_mult, rev_shift], consts=[table])
