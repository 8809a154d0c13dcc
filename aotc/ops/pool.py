"""AVERAGE_POOL_2D and MAX_POOL_2D (NHWC): the window's in-bounds elements, no requantization."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .registry import (OpDef, activation, conv_out_size, expect_dtype, expect_inputs, expect_quantized,
                       expect_rank, expect_shape, expect_window_fits, expect_window_params, op, padding,
                       window_padding)

ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


class _Pool2D(OpDef):
    options = "Pool2DOptions"
    max_version = 3
    types = ("float32", "int8", "int16")

    def parse(self, opts) -> dict:
        def get(name, default):
            return getattr(opts, name)() if opts is not None else default
        return {
            "activation": activation(opts), "padding": padding(opts),
            "stride_h": get("StrideH", 1), "stride_w": get("StrideW", 1),
            "filter_h": get("FilterHeight", 1), "filter_w": get("FilterWidth", 1),
        }

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1)
        x, y = op.inputs[0], op.outputs[0]
        a = op.attrs
        expect_dtype(op, x, "int8", "int16", "float32")
        expect_dtype(op, y, x.dtype)
        expect_rank(op, x, 4)
        # LiteRT's pools take any positive int32 stride and window; only the padding is int16
        expect_window_params(op, ("stride_h", "stride_w", "filter_h", "filter_w"), hi=None)
        if a["padding"] not in ("SAME", "VALID"):
            raise op.error(f"padding {a['padding']} is not supported")
        if a["activation"] not in ACTS:
            raise op.error(f"fused activation {a['activation']} is not supported")
        n, in_h, in_w, ch = x.shape
        out_h = conv_out_size(in_h, a["filter_h"], a["stride_h"], 1, a["padding"])
        out_w = conv_out_size(in_w, a["filter_w"], a["stride_w"], 1, a["padding"])
        if out_h <= 0 or out_w <= 0:
            raise op.error(f"a {a['filter_h']}x{a['filter_w']} window with VALID padding does not fit the "
                           f"{in_h}x{in_w} input", x)
        expect_rank(op, y, 4)
        expect_shape(op, y, (n, out_h, out_w, ch))
        pad_h, pad_w = window_padding(op, a["filter_h"], a["filter_w"])
        expect_window_fits(op, "height", in_h, a["filter_h"], a["stride_h"], 1, pad_h, out_h)
        expect_window_fits(op, "width", in_w, a["filter_w"], a["stride_w"], 1, pad_w, out_w)
        if x.dtype != "float32":
            expect_quantized(op, x)
            expect_quantized(op, y)
            sx, sy = float(np.float32(x.quant.s)), float(np.float32(y.quant.s))
            if abs(sx - sy) > 1e-6 or x.quant.zp != y.quant.zp:
                raise op.error("input and output quantization must be equal (pooling does not requantize)", y)


@op("AVERAGE_POOL_2D")
class AveragePool2D(_Pool2D):
    pass


@op("MAX_POOL_2D")
class MaxPool2D(_Pool2D):
    pass


@op("L2_POOL_2D")
class L2Pool2D(_Pool2D):
    """sqrt(mean of the squares of the window's in-bounds elements); LiteRT has float32 only."""
    max_version = 1
    types = ("float32",)

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1)
        x = op.inputs[0]
        if x.dtype != "float32":
            raise op.error(f"type {x.dtype} is not supported (LiteRT's L2_POOL_2D is float32 only)", x)
        super().check(op, graph)
