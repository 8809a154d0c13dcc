"""TRANSPOSE_CONV (NHWC): inputs (output_shape, filter [out_c, k_h, k_w, in_c], input, optional bias).
Shapes, types and quantization as LiteRT's Prepare/Eval check them."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .registry import (OpDef, activation, conv_out_size, conv_padding, expect_dtype, expect_inputs,
                       expect_nonempty, expect_quantized, expect_rank, expect_shape,
                       expect_window_fits, expect_window_params,
                       op, padding)

TYPES = {  # input dtype -> (filter, allowed bias types, output)
    "int8": ("int8", ("int32",), "int8"),
    "int16": ("int8", ("int64", "int32"), "int16"),
    "float32": ("float32", ("float32",), "float32"),
}
ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
TENSOR_TYPE_NAMES = {0: "float32", 2: "int32", 4: "int64"}


def transpose_conv_padding(op: Op) -> tuple[int, int]:
    """LiteRT's ComputePaddingHeightWidth run on the output as a convolution's input (dilation 1):
    the top and left padding (the reference ignores the odd offset)."""
    a = op.attrs
    w, x, y = op.inputs[1], op.inputs[2], op.outputs[0]
    _, k_h, k_w, _ = w.shape
    return (conv_padding(y.shape[1], k_h, a["stride_h"], 1, x.shape[1]),
            conv_padding(y.shape[2], k_w, a["stride_w"], 1, x.shape[2]))


def accumulator_type(op: Op) -> str:
    """The reference's scratch element type: int32 for int8, int64 for int16 unless quantized_bias_type
    is INT32; float32 for float32."""
    x = op.inputs[2]
    if x.dtype == "int16":
        return "int32" if op.attrs["quantized_bias_type"] == "int32" else "int64"
    return "int32" if x.dtype == "int8" else "float32"


@op("TRANSPOSE_CONV")
class TransposeConv(OpDef):
    options = "TransposeConvOptions"
    max_version = 5
    types = ("float32", "int8", "int16x8")

    def parse(self, opts) -> dict:
        def get(name, default):
            return getattr(opts, name)() if opts is not None else default
        code = get("QuantizedBiasType", 0)
        return {
            "activation": activation(opts),
            "padding": padding(opts),
            "stride_h": get("StrideH", 1), "stride_w": get("StrideW", 1),
            # 0 (FLOAT32 in the enum) is the schema's default and means "not specified"
            "quantized_bias_type": None if code == 0 else TENSOR_TYPE_NAMES.get(code, f"UNKNOWN({code})"),
        }

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 3, 4)
        a = op.attrs
        shape_t, w, x, y = op.inputs[0], op.inputs[1], op.inputs[2], op.outputs[0]
        b = op.input(3)
        if len(op.outputs) != 1:
            raise op.error(f"expects 1 output, has {len(op.outputs)}")
        expect_dtype(op, x, *TYPES)
        wt, bts, yt = TYPES[x.dtype]
        if x.dtype == "float32" and w.dtype != "float32":
            raise op.error(f"hybrid (float input, {w.dtype} filter) transpose convolution is not supported", w)
        expect_dtype(op, w, wt)
        expect_dtype(op, y, yt)
        if b is not None:
            expect_dtype(op, b, *bts)
        expect_dtype(op, shape_t, "int32")
        expect_rank(op, shape_t, 1)
        expect_shape(op, shape_t, (4,))
        expect_rank(op, x, 4)
        expect_rank(op, w, 4)
        expect_rank(op, y, 4)
        if shape_t.is_const and tuple(int(v) for v in np.asarray(shape_t.data).ravel()) != tuple(y.shape):
            raise op.error(f"output_shape {[int(v) for v in np.asarray(shape_t.data).ravel()]} does not match "
                           f"the output tensor's shape {list(y.shape)}", shape_t)
        expect_window_params(op, ("stride_h", "stride_w"))
        if a["padding"] not in ("SAME", "VALID"):
            raise op.error(f"padding {a['padding']} is not supported")
        if a["activation"] not in ACTS:
            raise op.error(f"fused activation {a['activation']} is not supported")
        out_c, k_h, k_w, wc = w.shape
        n, in_h, in_w, in_c = x.shape
        for t, what in ((x, "input"), (w, "filter"), (y, "output")):
            expect_nonempty(op, t, what)
        if wc != in_c:
            raise op.error(f"filter depth {wc} differs from the input depth {in_c}", w)
        if y.shape[0] != n or y.shape[3] != out_c:
            raise op.error(f"output shape {list(y.shape)} needs batch {n} and {out_c} channels", y)
        exp_h = conv_out_size(y.shape[1], k_h, a["stride_h"], 1, a["padding"])
        exp_w = conv_out_size(y.shape[2], k_w, a["stride_w"], 1, a["padding"])
        if (exp_h, exp_w) != (in_h, in_w):
            raise op.error(f"a {y.shape[1]}x{y.shape[2]} output with a {k_h}x{k_w} filter, strides "
                           f"{a['stride_h']}x{a['stride_w']} and {a['padding']} padding needs a "
                           f"{exp_h}x{exp_w} input, not {in_h}x{in_w}", x)
        # the output plays the convolution's input: the reference pads it and scatters into it
        pad_h, pad_w = transpose_conv_padding(op)
        expect_window_fits(op, "height", y.shape[1], k_h, a["stride_h"], 1, pad_h, in_h, w)
        expect_window_fits(op, "width", y.shape[2], k_w, a["stride_w"], 1, pad_w, in_w, w)
        if b is not None:
            expect_shape(op, b, (out_c,))
        if x.dtype == "float32":
            return
        for t in (x, w, y):
            expect_quantized(op, t)
        q = w.quant
        if q.per_channel:
            if len(q.scale) != out_c:
                raise op.error(f"{len(q.scale)} filter scales for {out_c} output channels", w)
            if q.axis != 0:
                raise op.error(f"per-channel filter quantization must be along dimension 0, not {q.axis}", w)
        if any(z != 0 for z in q.zero_point):
            raise op.error("filter zero points must be 0 (symmetric quantization)", w)
        if b is not None and b.quant is not None and any(z != 0 for z in b.quant.zero_point):
            raise op.error("bias zero point must be 0", b)
        if any(not s > 0 for s in (x.quant.s, y.quant.s, *q.scale)):
            raise op.error("quantization scales must be positive", w)
        if x.dtype == "int16":
            if x.quant.zp != 0 or y.quant.zp != 0:
                raise op.error("int16 activations must have zero point 0", x if x.quant.zp else y)
            qbt = a["quantized_bias_type"]
            if qbt not in (None, "int32", "int64"):
                raise op.error(f"quantized_bias_type {qbt} is not supported")
            if b is not None and b.dtype == "int32" and qbt != "int32":
                raise op.error("int16 transpose convolution with an int32 bias needs quantized_bias_type "
                               "INT32 (LiteRT's reference reads the bias as int64 otherwise)", b)
            if b is not None and qbt is not None and b.dtype != qbt:
                raise op.error(f"bias type {b.dtype} differs from quantized_bias_type {qbt}", b)

    def evaluate(self, op, values):
        w, x = values[1], values[2]
        if x is None or w is None or x.dtype != np.float32 or op.attrs["activation"] != "NONE":
            return None
        a = op.attrs
        y_shape = op.outputs[0].shape
        pad_h, pad_w = transpose_conv_padding(op)
        n, in_h, in_w, _ = x.shape
        out_c, k_h, k_w, _ = w.shape
        y = np.zeros((n, y_shape[1] + k_h + in_h * a["stride_h"], y_shape[2] + k_w + in_w * a["stride_w"],
                      out_c), np.float64)
        for iy in range(in_h):
            for ix in range(in_w):
                oy, ox = iy * a["stride_h"], ix * a["stride_w"]
                # [n, in_c] x [out_c, k_h, k_w, in_c] -> [n, k_h, k_w, out_c]
                y[:, oy:oy + k_h, ox:ox + k_w, :] += np.einsum("nc,ohwc->nhwo", x[:, iy, ix, :], w)
        y = y[:, pad_h:pad_h + y_shape[1], pad_w:pad_w + y_shape[2], :]
        if len(values) > 3 and values[3] is not None:
            y = y + values[3]
        return [y.astype(np.float32)]
