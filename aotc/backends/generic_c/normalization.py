"""L2_NORMALIZATION -> aotc_normalization_l2_{s8,f32} (runtime/aotc/normalization.h).

int8 (reference_integer_ops::L2Normalization, the same in LiteRT and TFLM): per row the int32 sum of
(x - zp)^2, GetInvSqrtQuantizedMultiplierExp in gemmlowp fixed point (run time: it depends on the
data), out = clamp(MultiplyByQuantizedMultiplier(x - zp, inv, shift + 7)). Nothing depends on the
input scale, so there is nothing to precompute but the zero point.
"""
from __future__ import annotations

from ..base import KernelCall, TensorRef
from . import lowering


@lowering("L2_NORMALIZATION")
def lower_l2_normalization(op, options):
    x, y = op.inputs[0], op.outputs[0]
    depth = x.shape[-1]
    outer = x.size // depth if depth else 0
    args = [TensorRef(x, True), TensorRef(y), outer, depth]
    if x.dtype == "float32":
        return KernelCall(op, "generic_c", "aotc_normalization_l2_f32", args, macs=x.size)
    return KernelCall(op, "generic_c", "aotc_normalization_l2_s8", args + [x.quant.zp], macs=x.size)
