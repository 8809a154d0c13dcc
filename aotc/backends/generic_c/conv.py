"""CONV_2D -> aotc_conv2d_{s8,s16,s16_b32,f32}; DEPTHWISE_CONV_2D -> aotc_depthwise_conv2d_{s8,s16,f32}.

Both references (LiteRT BUILTIN_REF and TFLM) requantize convolutions with the per-channel
MultiplyByQuantizedMultiplier (double rounding; the int64 variant for 16x8 with an int64 bias), so
options.rounding does not change these kernels. Padding and multipliers are computed here.
int4 filters (unpacked by the reader to one int8 per value, kept const) run through the int8 kernels."""
from __future__ import annotations

import numpy as np

from ...ops.registry import window_padding
from ...quant import activation_range, per_channel_multipliers
from ..base import ConstArray, KernelCall, TensorRef, c_literal
from . import lowering


def _geometry(op, k_h, k_w):
    x, y = op.inputs[0], op.outputs[0]
    n, in_h, in_w, in_c = x.shape
    _, out_h, out_w, out_c = y.shape
    pad_h, pad_w = window_padding(op, k_h, k_w)
    return n, in_h, in_w, in_c, out_h, out_w, out_c, pad_h, pad_w


def _tail(op, base_args, channels):
    """Appends requantization tables and the activation clamp; returns (function suffix, args, consts)."""
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    b = op.input(2)
    lo, hi = activation_range(op.attrs["activation"], y)
    if x.dtype == "float32":
        return "f32", base_args + [c_literal(lo), c_literal(hi)], []
    mults, shifts = per_channel_multipliers(x.quant.s, w.quant, y.quant.s, channels)
    consts = [ConstArray("mult", "int32_t", np.array(mults, np.int32)),
              ConstArray("shift", "int32_t", np.array(shifts, np.int32))]
    if x.dtype == "int8":
        return "s8", base_args + [-x.quant.zp, y.quant.zp, *consts, lo, hi], consts
    suffix = "s16_b32" if b is not None and b.dtype == "int32" else "s16"
    return suffix, base_args + [*consts, lo, hi], consts


def _io(op):
    b = op.input(2)
    return [TensorRef(op.inputs[0], True), TensorRef(op.inputs[1], True),
            TensorRef(b, True) if b is not None else "NULL", TensorRef(op.outputs[0])]


@lowering("CONV_2D")
def lower_conv2d(op, options):
    a = op.attrs
    w = op.inputs[1]
    _, k_h, k_w, wc = w.shape
    n, in_h, in_w, in_c, out_h, out_w, out_c, pad_h, pad_w = _geometry(op, k_h, k_w)
    args = _io(op) + [n, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, wc,
                      a["stride_h"], a["stride_w"], a["dilation_h"], a["dilation_w"], pad_h, pad_w]
    suffix, args, consts = _tail(op, args, out_c)
    fn = f"aotc_conv2d_{suffix}"
    if suffix == "s8" and k_h * k_w * wc < (1 << 16) and w.data is not None:
        # aotc_conv2d_s8_fast: the input offset folded into a per-channel bias (exact modulo 2^32).
        in_off = -op.inputs[0].quant.zp
        b = op.input(2)
        wsum = np.asarray(w.data, np.int64).reshape(out_c, -1).sum(axis=1)
        bias = np.zeros(out_c, np.int64) if b is None or b.data is None else np.asarray(b.data, np.int64)
        if b is None or b.data is not None:
            eff = ((bias + in_off * wsum + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)
            beff = ConstArray("bias_eff", "int32_t", eff)
            args = args[:22] + [beff] + args[22:]
            consts = [beff, *consts]
            fn = "aotc_conv2d_s8_fast"
    elif suffix == "s16":
        fn = "aotc_conv2d_s16_fast"
    return KernelCall(op, "generic_c", fn, args, consts=consts,
                      macs=n * out_h * out_w * out_c * k_h * k_w * wc)


@lowering("DEPTHWISE_CONV_2D")
def lower_depthwise_conv2d(op, options):
    a = op.attrs
    w = op.inputs[1]
    _, k_h, k_w, _ = w.shape
    n, in_h, in_w, in_c, out_h, out_w, out_c, pad_h, pad_w = _geometry(op, k_h, k_w)
    args = _io(op) + [n, in_h, in_w, in_c, out_h, out_w, out_c // in_c, k_h, k_w,
                      a["stride_h"], a["stride_w"], a["dilation_h"], a["dilation_w"], pad_h, pad_w]
    suffix, args, consts = _tail(op, args, out_c)
    fn = f"aotc_depthwise_conv2d_{suffix}"
    b = op.input(2)
    if suffix == "s8" and (out_c == in_c or in_c == 1) and w.data is not None and (b is None or b.data is not None):
        # aotc_depthwise_conv2d_s8_fast: vectorised over output channels, input offset folded into the bias.
        in_off = -op.inputs[0].quant.zp
        wsum = np.asarray(w.data, np.int64).reshape(-1, out_c).sum(axis=0)
        bias = np.zeros(out_c, np.int64) if b is None else np.asarray(b.data, np.int64)
        eff = ((bias + in_off * wsum + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)
        beff = ConstArray("bias_eff", "int32_t", eff)
        args = args[:21] + [beff] + args[21:]
        consts = [beff, *consts]
        fn = "aotc_depthwise_conv2d_s8_fast"
    return KernelCall(op, "generic_c", fn, args, consts=consts,
                      macs=n * out_h * out_w * out_c * k_h * k_w)
