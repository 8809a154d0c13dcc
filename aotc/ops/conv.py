"""CONV_2D and DEPTHWISE_CONV_2D (NHWC): shapes, types and quantization as TFLite's Prepare checks them."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .registry import (OpDef, activation, conv_out_size, conv_padding, expect_dtype, expect_inputs,
                       expect_nonempty, expect_quantized, expect_rank, expect_shape,
                       expect_window_fits, expect_window_params,
                       op, padding, window_padding)

TYPES = {  # input dtype -> (filters, allowed bias types, output)
    "int8": (("int8", "int4"), ("int32",), "int8"),
    "int16": (("int8", "int4"), ("int64", "int32"), "int16"),
    "float32": (("float32",), ("float32",), "float32"),
}
OP_TYPES = ("float32", "int8", "int16x8")
ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
TENSOR_TYPE_NAMES = {0: "float32", 2: "int32", 4: "int64"}


def _common_attrs(opts) -> dict:
    def get(name, default):
        return getattr(opts, name)() if opts is not None else default
    return {
        "activation": activation(opts),
        "padding": padding(opts),
        "stride_h": get("StrideH", 1), "stride_w": get("StrideW", 1),
        "dilation_h": get("DilationHFactor", 1), "dilation_w": get("DilationWFactor", 1),
    }


def _check_geometry(op: Op, k_h: int, k_w: int, out_c: int) -> tuple[int, int, int, int]:
    """Checks strides, dilations, padding and the output shape; returns (out_h, out_w, in_h, in_w)."""
    a = op.attrs
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    expect_window_params(op, ("stride_h", "stride_w", "dilation_h", "dilation_w"))
    if a["padding"] not in ("SAME", "VALID"):
        raise op.error(f"padding {a['padding']} is not supported")
    if a["activation"] not in ACTS:
        raise op.error(f"fused activation {a['activation']} is not supported")
    batches, in_h, in_w, _ = x.shape
    expect_nonempty(op, x, "input")
    expect_nonempty(op, w, "filter")
    out_h = conv_out_size(in_h, k_h, a["stride_h"], a["dilation_h"], a["padding"])
    out_w = conv_out_size(in_w, k_w, a["stride_w"], a["dilation_w"], a["padding"])
    if out_h <= 0 or out_w <= 0:
        raise op.error(f"a {k_h}x{k_w} filter (dilation {a['dilation_h']}x{a['dilation_w']}) with VALID "
                       f"padding does not fit the {in_h}x{in_w} input", x)
    expect_rank(op, y, 4)
    expect_shape(op, y, (batches, out_h, out_w, out_c))
    pad_h, pad_w = window_padding(op, k_h, k_w)
    expect_window_fits(op, "height", in_h, k_h, a["stride_h"], a["dilation_h"], pad_h, out_h, w)
    expect_window_fits(op, "width", in_w, k_w, a["stride_w"], a["dilation_w"], pad_w, out_w, w)
    return out_h, out_w, in_h, in_w


def _check_quant(op: Op, channels: int, axis: int) -> None:
    x, w, y, b = op.inputs[0], op.inputs[1], op.outputs[0], op.input(2)
    for t in (x, w, y):
        expect_quantized(op, t)
    q = w.quant
    if q.per_channel:
        if len(q.scale) != channels:
            raise op.error(f"{len(q.scale)} filter scales for {channels} output channels", w)
        if q.axis != axis:
            raise op.error(f"per-channel filter quantization must be along dimension {axis}, not {q.axis}", w)
    if any(z != 0 for z in q.zero_point):
        raise op.error("filter zero points must be 0 (symmetric per-channel quantization)", w)
    if b is not None and b.quant is not None and any(z != 0 for z in b.quant.zero_point):
        raise op.error("bias zero point must be 0", b)
    if x.dtype == "int16" and (x.quant.zp != 0 or y.quant.zp != 0):
        raise op.error("int16 activations must have zero point 0", x if x.quant.zp else y)
    if any(not s > 0 for s in (x.quant.s, y.quant.s, *q.scale)):
        raise op.error("quantization scales must be positive", w)


def _check_types(op: Op) -> None:
    x, w, y, b = op.inputs[0], op.inputs[1], op.outputs[0], op.input(2)
    expect_dtype(op, x, *TYPES)
    wts, bts, yt = TYPES[x.dtype]
    if x.dtype == "float32" and w.dtype != "float32":
        raise op.error("hybrid (float input, quantized filter) convolution is not supported", w)
    expect_dtype(op, w, *wts)
    if w.dtype == "int4" and not w.is_const:
        raise op.error("int4 filters must be constant", w)
    expect_dtype(op, y, yt)
    if b is not None:
        expect_dtype(op, b, *bts)
    expect_rank(op, x, 4)
    expect_rank(op, w, 4)


@op("CONV_2D")
class Conv2D(OpDef):
    options = "Conv2DOptions"
    max_version = 8
    types = OP_TYPES   # int4 filters (version 7) with int8 or int16 activations

    def parse(self, opts) -> dict:
        attrs = _common_attrs(opts)
        code = opts.QuantizedBiasType() if opts is not None else 0
        # 0 (FLOAT32 in the enum) is the schema's default and means "not specified"
        attrs["quantized_bias_type"] = None if code == 0 else TENSOR_TYPE_NAMES.get(code, f"UNKNOWN({code})")
        return attrs

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2, 3)
        _check_types(op)
        x, w, b = op.inputs[0], op.inputs[1], op.input(2)
        out_c, k_h, k_w, wc = w.shape
        in_c = x.shape[3]
        expect_nonempty(op, w, "filter")
        if in_c % wc:
            raise op.error(f"input depth {in_c} is not a multiple of the filter depth {wc}", w)
        groups = in_c // wc
        if out_c % groups:
            raise op.error(f"{out_c} filters cannot be split into {groups} groups", w)
        _check_geometry(op, k_h, k_w, out_c)
        if b is not None:
            expect_shape(op, b, (out_c,))
        if x.dtype != "float32":
            _check_quant(op, out_c, 0)
        if x.dtype == "int16":
            qbt = op.attrs["quantized_bias_type"]
            if qbt not in (None, "int32", "int64"):
                raise op.error(f"quantized_bias_type {qbt} is not supported")
            if b is not None and b.dtype == "int32" and qbt != "int32":
                raise op.error("int16 convolution with an int32 bias needs quantized_bias_type INT32 "
                               "(LiteRT's reference reads the bias as int64 otherwise)", b)
            if b is not None and qbt is not None and b.dtype != qbt:
                raise op.error(f"bias type {b.dtype} differs from quantized_bias_type {qbt}", b)

    def evaluate(self, op, values):
        x, w = values[0], values[1]
        if x.dtype != np.float32 or op.attrs["activation"] != "NONE":
            return None
        return [_conv_ref(op, x, w, values[2], depthwise=False)]


@op("DEPTHWISE_CONV_2D")
class DepthwiseConv2D(OpDef):
    options = "DepthwiseConv2DOptions"
    max_version = 7
    types = OP_TYPES   # int4 filters (version 7) with int8 activations only

    def parse(self, opts) -> dict:
        attrs = _common_attrs(opts)
        attrs["depth_multiplier"] = opts.DepthMultiplier() if opts is not None else 1
        return attrs

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2, 3)
        _check_types(op)
        x, w, b = op.inputs[0], op.inputs[1], op.input(2)
        one, k_h, k_w, out_c = w.shape
        in_c = x.shape[3]
        expect_nonempty(op, w, "filter")
        if one != 1:
            raise op.error(f"depthwise filter must be [1, h, w, channels], got {list(w.shape)}", w)
        if w.dtype == "int4" and x.dtype != "int8":
            # LiteRT unpacks int4 depthwise filters only in its int8 kernel
            raise op.error(f"int4 depthwise filters are supported with int8 activations only, not {x.dtype}", w)
        if in_c <= 0 or out_c % in_c:
            raise op.error(f"{out_c} output channels are not a multiple of the {in_c} input channels", w)
        if x.dtype == "int16" and op.attrs["depth_multiplier"] != out_c // in_c:
            # LiteRT's 16x8 kernel takes the multiplier from the options, the others from the shapes.
            raise op.error(f"depth_multiplier {op.attrs['depth_multiplier']} does not match the shapes "
                           f"({in_c} -> {out_c} channels)")
        _check_geometry(op, k_h, k_w, out_c)
        if b is not None:
            expect_shape(op, b, (out_c,))
            if x.dtype == "int16":
                expect_dtype(op, b, "int64")
        if x.dtype != "float32":
            _check_quant(op, out_c, 3)

    def evaluate(self, op, values):
        x, w = values[0], values[1]
        if x.dtype != np.float32 or op.attrs["activation"] != "NONE":
            return None
        return [_conv_ref(op, x, w, values[2], depthwise=True)]


def _conv_ref(op: Op, x: np.ndarray, w: np.ndarray, b, depthwise: bool) -> np.ndarray:
    """Float numpy convolution for constant folding (no activation)."""
    a = op.attrs
    y_shape = op.outputs[0].shape
    n, in_h, in_w, in_c = x.shape
    _, out_h, out_w, out_c = y_shape
    k_h, k_w = w.shape[1], w.shape[2]
    pad_h = conv_padding(in_h, k_h, a["stride_h"], a["dilation_h"], out_h)
    pad_w = conv_padding(in_w, k_w, a["stride_w"], a["dilation_w"], out_w)
    y = np.zeros(y_shape, np.float64)
    for fy in range(k_h):
        for fx in range(k_w):
            iy = np.arange(out_h) * a["stride_h"] - pad_h + fy * a["dilation_h"]
            ix = np.arange(out_w) * a["stride_w"] - pad_w + fx * a["dilation_w"]
            vy, vx = (iy >= 0) & (iy < in_h), (ix >= 0) & (ix < in_w)
            patch = np.zeros((n, out_h, out_w, in_c))
            oy, ox = np.nonzero(vy)[0], np.nonzero(vx)[0]
            patch[:, oy[:, None], ox[None, :], :] = x[:, iy[vy][:, None], ix[vx][None, :], :]
            if depthwise:
                mult = out_c // in_c
                y += np.repeat(patch, mult, axis=3) * w[0, fy, fx, :]
            else:
                wc = w.shape[3]
                groups = in_c // wc
                per = out_c // groups
                for g in range(groups):
                    wg = w[g * per:(g + 1) * per, fy, fx, :]
                    y[..., g * per:(g + 1) * per] += patch[..., g * wc:(g + 1) * wc] @ wg.T
    if b is not None:
        y += b
    return y.astype(np.float32)
