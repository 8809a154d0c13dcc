"""Quantization arithmetic done once, at compile time, exactly as TFLite's reference code does it."""
from __future__ import annotations

import math

import numpy as np

from .ir import Quant, Tensor

QRANGE = {"int4": (-8, 7), "int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "int32": (-2**31, 2**31 - 1)}


def f32(x) -> float:
    """A Python float holding exactly the float32 value the model stores (C++ float -> double)."""
    return float(np.float32(x))


def tflite_round(x: float) -> float:
    """std::round: half away from zero."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def quantize_multiplier(m: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier: m = q * 2^shift with q a Q31 int32 in [2^30, 2^31)."""
    if m == 0.0:
        return 0, 0
    q, shift = math.frexp(m)
    q_fixed = int(tflite_round(q * (1 << 31)))
    assert q_fixed <= (1 << 31)
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    if shift > 31:   # no kernel can shift an int32 left by more than 31: the scales are nonsense
        raise OverflowError(f"multiplier {m:g} needs a left shift of {shift}")
    return q_fixed, shift


def per_channel_multipliers(input_scale: float, filter_quant: Quant, output_scale: float,
                            channels: int) -> tuple[list[int], list[int]]:
    """PopulateConvolutionQuantizationParams: effective = double(in) * double(filter[c]) / double(out)."""
    mults, shifts = [], []
    for c in range(channels):
        fs = filter_quant.scale[c] if filter_quant.per_channel else filter_quant.scale[0]
        eff = f32(input_scale) * f32(fs) / f32(output_scale)
        m, s = quantize_multiplier(eff)
        mults.append(m)
        shifts.append(s)
    return mults, shifts


def activation_range(act: str, t: Tensor) -> tuple[int, int] | tuple[float, float]:
    """CalculateActivationRange(Quantized): the clamp a fused activation turns into."""
    if t.dtype == "float32":
        lo, hi = {"NONE": (-math.inf, math.inf), "RELU": (0.0, math.inf), "RELU6": (0.0, 6.0),
                  "RELU_N1_TO_1": (-1.0, 1.0)}[act]
        return lo, hi
    qmin, qmax = QRANGE[t.dtype]
    scale, zp = np.float32(t.quant.s), t.quant.zp

    def q(f: float) -> int:
        return zp + int(tflite_round(float(np.float32(f) / scale)))
    if act == "NONE":
        return qmin, qmax
    if act == "RELU":
        return max(qmin, q(0.0)), qmax
    if act == "RELU6":
        return max(qmin, q(0.0)), min(qmax, q(6.0))
    if act == "RELU_N1_TO_1":
        return max(qmin, q(-1.0)), min(qmax, q(1.0))
    raise ValueError(act)


# ---- numpy mirrors of the fixed-point primitives (used for compile-time tables and folding) ------

def saturating_rounding_doubling_high_mul(a: np.ndarray, b: int) -> np.ndarray:
    a = np.asarray(a, dtype=np.int64)
    overflow = (a == -2**31) & (b == -2**31)
    ab = a * np.int64(b)
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    num = ab + nudge
    res = np.where(num >= 0, num // (1 << 31), -((-num) // (1 << 31)))  # C division truncates
    return np.where(overflow, 2**31 - 1, res).astype(np.int64)


def rounding_divide_by_pot(x: np.ndarray, exponent: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64)
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0).astype(np.int64)
    return (x >> exponent) + (remainder > threshold).astype(np.int64)


def multiply_by_quantized_multiplier(x, m: int, shift: int) -> np.ndarray:
    left = shift if shift > 0 else 0
    right = 0 if shift > 0 else -shift
    return rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(np.asarray(x, np.int64) * (1 << left), m), right)
