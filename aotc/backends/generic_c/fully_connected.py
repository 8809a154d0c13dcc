"""FULLY_CONNECTED -> aotc_fully_connected_{s8,s16,f32}.

Requantization follows the chosen reference (options.rounding):
  litert: round-half-away of double(acc) * (double(s_in) * double(s_w[c]) / double(s_out))
  tflm:   gemmlowp double rounding, MultiplyByQuantizedMultiplier(acc, m[c], shift[c])
int4 weights (unpacked by the reader to one int8 per value, kept const) run through the int8 kernels.
"""
from __future__ import annotations

import numpy as np

from ...quant import activation_range, f32, per_channel_multipliers
from ..base import ConstArray, KernelCall, TensorRef, c_literal
from . import lowering


def _bias_ref(op):
    b = op.input(2)
    return TensorRef(b, const=True) if b is not None else "NULL"


@lowering("FULLY_CONNECTED")
def lower_fully_connected(op, options):
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    units, depth = w.shape
    batches = x.size // depth
    lo, hi = activation_range(op.attrs["activation"], y)
    macs = batches * units * depth
    if x.dtype == "float32":
        args = [TensorRef(x, True), TensorRef(w, True), _bias_ref(op), TensorRef(y),
                batches, depth, units, c_literal(lo), c_literal(hi)]
        return KernelCall(op, "generic_c", "aotc_fully_connected_f32", args, macs=macs)

    suffix = "s8" if x.dtype == "int8" else "s16"
    b = op.input(2)
    if b is not None and b.dtype == "int32" and x.dtype == "int16":
        suffix = "s16_b32"
    consts = []
    if options.rounding == "litert":
        scales = [f32(x.quant.s) * f32(w.quant.scale[c] if w.quant.per_channel else w.quant.s) / f32(y.quant.s)
                  for c in range(units)]
        consts.append(ConstArray("scale", "double", np.array(scales, dtype=np.float64)))
        fn = f"aotc_fully_connected_{suffix}_fp"
    else:
        mults, shifts = per_channel_multipliers(x.quant.s, w.quant, y.quant.s, units)
        consts += [ConstArray("mult", "int32_t", np.array(mults, np.int32)),
                   ConstArray("shift", "int32_t", np.array(shifts, np.int32))]
        fn = f"aotc_fully_connected_{suffix}"
    bias_arg, in_off = _bias_ref(op), -x.quant.zp
    if (x.dtype == "int8" and in_off != 0 and w.quant.zp == 0 and depth < (1 << 16) and w.data is not None
            and (b is None or b.data is not None)):
        # in_off * sum(w[u]) folded into the bias (exact modulo 2^32): the kernel runs a plain dot product.
        wsum = np.asarray(w.data, np.int64).reshape(units, depth).sum(axis=1)
        bias = np.zeros(units, np.int64) if b is None else np.asarray(b.data, np.int64).reshape(units)
        eff = ((bias + in_off * wsum + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)
        bias_arg = ConstArray("bias_eff", "int32_t", eff)
        consts.insert(0, bias_arg)
        in_off = 0
    args = [TensorRef(x, True), TensorRef(w, True), bias_arg, TensorRef(y), batches, depth, units,
            in_off, -w.quant.zp, y.quant.zp, *[c for c in consts if c is not bias_arg], lo, hi]
    return KernelCall(op, "generic_c", fn, args, consts=consts, macs=macs)
