"""SVDF -> aotc_svdf_{f32,s8}. The activation state is a variable tensor the kernel updates in place.

int8: LiteRT's and TFLM's Prepare compute both effective scales in float32 arithmetic
(s_in * s_wf / s_state and s_state * s_wt / s_out, then widened to double) and requantize with
MultiplyByQuantizedMultiplier (double rounding) in both references; so does this lowering.
"""
from __future__ import annotations

import numpy as np

from ...quant import activation_range, quantize_multiplier
from ..base import KernelCall, TensorRef, c_literal
from . import lowering


def float_scale(a, b, c) -> float:
    """double(float(a * b / c)), evaluated in float32 as the C++ expression on float fields is."""
    return float(np.float32(np.float32(a) * np.float32(b)) / np.float32(c))


@lowering("SVDF")
def lower_svdf(op, options):
    x, wf, wt, b, state = op.inputs
    y = op.outputs[0]
    batches, n_in = x.shape
    filters, memory = wf.shape[0], wt.shape[1]
    rank = op.attrs["rank"]
    macs = batches * filters * (n_in + memory)
    bias = TensorRef(b, const=True) if b is not None else "NULL"
    common = [TensorRef(x, True), TensorRef(wf, True), TensorRef(wt, True), bias, TensorRef(state), TensorRef(y),
              batches, n_in, filters, memory, rank]
    if x.dtype == "float32":
        act = op.attrs["activation"]
        lo, hi = activation_range("NONE" if act == "TANH" else act, y)
        args = common + [1 if act == "TANH" else 0, c_literal(lo), c_literal(hi)]
        return KernelCall(op, "generic_c", "aotc_svdf_f32", args, macs=macs)
    m1, s1 = quantize_multiplier(float_scale(x.quant.s, wf.quant.s, state.quant.s))
    m2, s2 = quantize_multiplier(float_scale(state.quant.s, wt.quant.s, y.quant.s))
    args = common + [x.quant.zp, m1, s1, m2, s2, y.quant.zp]
    return KernelCall(op, "generic_c", "aotc_svdf_s8", args, macs=macs)
