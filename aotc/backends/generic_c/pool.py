"""AVERAGE_POOL_2D / MAX_POOL_2D -> aotc_pool_{avg,max}_{s8,s16,f32}; L2_POOL_2D -> aotc_pool_l2_f32.
No requantization: TFLite's quantized pooling works on the raw values (input and output share scale
and zero point)."""
from __future__ import annotations

from ...ops.registry import window_padding
from ...quant import activation_range
from ..base import KernelCall, TensorRef, c_literal
from . import lowering

SUFFIX = {"int8": "s8", "int16": "s16", "float32": "f32"}


KINDS = {"AVERAGE_POOL_2D": "avg", "MAX_POOL_2D": "max", "L2_POOL_2D": "l2"}


@lowering("AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D")
def lower_pool(op, options):
    a = op.attrs
    x, y = op.inputs[0], op.outputs[0]
    n, in_h, in_w, ch = x.shape
    _, out_h, out_w, _ = y.shape
    f_h, f_w = a["filter_h"], a["filter_w"]
    pad_h, pad_w = window_padding(op, f_h, f_w)
    lo, hi = activation_range(a["activation"], y)
    if x.dtype == "float32":
        lo, hi = c_literal(lo), c_literal(hi)
    kind = KINDS[op.kind]
    args = [TensorRef(x, True), TensorRef(y), n, in_h, in_w, ch, out_h, out_w, f_h, f_w,
            a["stride_h"], a["stride_w"], pad_h, pad_w, lo, hi]
    return KernelCall(op, "generic_c", f"aotc_pool_{kind}_{SUFFIX[x.dtype]}", args,
                      macs=n * out_h * out_w * ch * f_h * f_w if kind != "max" else 0)
