"""L2_NORMALIZATION over the last dimension: float32 x / max(sqrt(sum x^2), 1e-6); int8 (output scale
1/128, zero point 0) with TFLite's fixed-point inverse square root (GetInvSqrtQuantizedMultiplierExp)."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .registry import OpDef, activation, expect_dtype, expect_inputs, expect_quantized, op


@op("L2_NORMALIZATION")
class L2Normalization(OpDef):
    options = "L2NormOptions"
    max_version = 2
    types = ("float32", "int8")

    def parse(self, opts) -> dict:
        return {"activation": activation(opts)}

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1)
        x, y = op.inputs[0], op.outputs[0]
        expect_dtype(op, x, *self.types)
        if y.dtype != x.dtype:
            raise op.error(f"output type {y.dtype} differs from input type {x.dtype}", y)
        if tuple(x.shape) != tuple(y.shape):
            raise op.error(f"output shape {list(y.shape)} differs from input shape {list(x.shape)}", y)
        if len(x.shape) < 1:
            raise op.error("input must have at least one dimension", x)
        if op.attrs["activation"] != "NONE":
            raise op.error(f"fused activation {op.attrs['activation']} is not supported (the reference "
                           "kernels reject it too)")
        if x.dtype == "float32":
            return
        for t in (x, y):
            expect_quantized(op, t)
            if t.quant.per_channel:
                raise op.error("per-channel quantization is not supported here", t)
        if np.float32(y.quant.s) != np.float32(1.0 / 128) or y.quant.zp != 0:
            raise op.error(f"int8 output must have scale 1/128 and zero point 0 "
                           f"(got {y.quant.s:g}, {y.quant.zp})", y)
