"""QUANTIZE / DEQUANTIZE -> aotc_quantize_*.

float -> int: TFLite AffineQuantize, roundf(x / float(scale)) + zp, clamped to the output type.
int -> int: TFLite Requantize, MultiplyByQuantizedMultiplier(q - zp_in, m, s) + zp_out with
    m, s = QuantizeMultiplier(double(s_in) / double(s_out)), clamped.
int -> float: float(double(scale) * (q - zp)).
"""
from __future__ import annotations

from ...ir import dtype_bytes
from ...quant import QRANGE, f32, quantize_multiplier
from ..base import KernelCall, TensorRef, c_literal
from . import lowering

SUFFIX = {"int8": "s8", "uint8": "u8", "int16": "s16", "float32": "f32"}


@lowering("QUANTIZE")
def lower_quantize(op, options):
    x, y = op.inputs[0], op.outputs[0]
    lo, hi = QRANGE[y.dtype]
    n = x.size
    # the forward loops may write over their input when an output element is not wider than an
    # input element (float -> int8/int16, int8 <-> uint8, int16 -> int16)
    shrinks = (() if dtype_bytes(y.dtype) > dtype_bytes(x.dtype) else (0,))
    if x.dtype == "float32":
        fn = f"aotc_quantize_f32_{SUFFIX[y.dtype]}"
        return KernelCall(op, "generic_c", fn, [TensorRef(x, True), TensorRef(y), n,
                                                 c_literal(f32(y.quant.s)), y.quant.zp, lo, hi], inplace=shrinks)
    m, s = quantize_multiplier(f32(x.quant.s) / f32(y.quant.s))
    fn = f"aotc_quantize_{SUFFIX[x.dtype]}_{SUFFIX[y.dtype]}"
    return KernelCall(op, "generic_c", fn, [TensorRef(x, True), TensorRef(y), n, x.quant.zp, y.quant.zp,
                                             m, s, lo, hi], inplace=shrinks)


@lowering("DEQUANTIZE")
def lower_dequantize(op, options):
    x, y = op.inputs[0], op.outputs[0]
    if x.quant.per_channel:
        raise op.error("per-channel DEQUANTIZE is supported only for constants (folded at compile time)", x)
    fn = f"aotc_quantize_dequantize_{SUFFIX[x.dtype]}"
    # the kernel runs backwards, so the float output may start where its narrower input is
    return KernelCall(op, "generic_c", fn, [TensorRef(x, True), TensorRef(y), x.size,
                                             repr(f32(x.quant.s)), x.quant.zp], inplace=(0,))
