"""TRANSPOSE_CONV -> aotc_transpose_conv_{s8,s16,s16_b32,f32}.

LiteRT's reference scatters every input element into an int32 (int8), int64 (int16) or int32
(int16 with quantized_bias_type INT32) scratch buffer the size of the output, then adds the bias and
requantizes per channel with MultiplyByQuantizedMultiplier (double rounding; TFLM does the same, so
options.rounding does not change this kernel). Our kernels gather instead: each output element sums
the same products in the same order (input row, column, channel ascending) in a register of the
reference's accumulator type, so integer results are identical (the sums are the same modulo 2^32 /
2^64) and float results are identical too (same additions in the same order, starting from 0), without
the output-sized scratch buffer."""
from __future__ import annotations

import numpy as np

from ...ops.transpose_conv import accumulator_type, transpose_conv_padding
from ...quant import activation_range, per_channel_multipliers
from ..base import ConstArray, KernelCall, TensorRef, c_literal
from . import lowering


def _taps(in_size: int, out_size: int, k: int, stride: int, pad: int) -> int:
    """Number of (input, filter) index pairs along one dimension that land inside the output."""
    return sum(1 for i in range(in_size) for f in range(k) if 0 <= i * stride - pad + f < out_size)


@lowering("TRANSPOSE_CONV")
def lower_transpose_conv(op, options):
    a = op.attrs
    w, x, y = op.inputs[1], op.inputs[2], op.outputs[0]
    b = op.input(3)
    n, in_h, in_w, in_c = x.shape
    _, out_h, out_w, out_c = y.shape
    _, k_h, k_w, _ = w.shape
    pad_h, pad_w = transpose_conv_padding(op)
    args = [TensorRef(x, True), TensorRef(w, True), TensorRef(b, True) if b is not None else "NULL",
            TensorRef(y), n, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w,
            a["stride_h"], a["stride_w"], pad_h, pad_w]
    macs = n * _taps(in_h, out_h, k_h, a["stride_h"], pad_h) * _taps(in_w, out_w, k_w, a["stride_w"], pad_w) \
        * in_c * out_c
    lo, hi = activation_range(a["activation"], y)
    if x.dtype == "float32":
        return KernelCall(op, "generic_c", "aotc_transpose_conv_f32", args + [c_literal(lo), c_literal(hi)],
                          macs=macs)
    mults, shifts = per_channel_multipliers(x.quant.s, w.quant, y.quant.s, out_c)
    consts = [ConstArray("mult", "int32_t", np.array(mults, np.int32)),
              ConstArray("shift", "int32_t", np.array(shifts, np.int32))]
    if x.dtype == "int8":
        fn, args = "aotc_transpose_conv_s8", args + [-x.quant.zp, y.quant.zp, *consts, lo, hi]
    else:
        suffix = "s16_b32" if accumulator_type(op) == "int32" else "s16"
        fn, args = f"aotc_transpose_conv_{suffix}", args + [*consts, lo, hi]
    return KernelCall(op, "generic_c", fn, args, consts=consts, macs=macs)
