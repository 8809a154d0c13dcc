"""BATCH_MATMUL -> aotc_batch_matmul_{f32,s8,s16}.

Both references (LiteRT 2.3 BUILTIN_REF and TFLM) requantize with MultiplyByQuantizedMultiplier:
int8 accumulates in int32 (gemmlowp double rounding), int16 in int64 (the 64-bit overload).
LiteRT transposes the RHS into a temporary (once, cached, for a constant RHS); that changes only the
memory layout, so here adj_x / adj_y are strides, and a constant RHS is stored pre-transposed
([..., cols, depth]) so the inner loop walks both operands contiguously.
"""
from __future__ import annotations

import numpy as np

from ...ops.batch_matmul import matmul_dims
from ...quant import f32, quantize_multiplier
from ..base import ConstArray, KernelCall, TensorRef
from . import lowering


def _batch_strides(bshape, mat: int) -> list[int]:
    """Element strides per batch dimension of an input with batch shape `bshape` (padded to 3), 0 where
    the dimension is 1 (broadcast)."""
    bshape = (1,) * (3 - len(bshape)) + tuple(bshape)
    strides, step = [], mat
    for d in reversed(bshape):
        strides.append(0 if d == 1 else step)
        step *= d
    return strides[::-1]


@lowering("BATCH_MATMUL")
def lower_batch_matmul(op, options):
    lhs, rhs, y = op.inputs[0], op.inputs[1], op.outputs[0]
    batch, rows, depth, cols, lb, rb = matmul_dims(op)
    adj_x, adj_y = op.attrs["adj_x"], op.attrs["adj_y"]
    if len(batch) > 3:
        raise op.error(f"more than 3 batch dimensions ({list(batch)}) are not supported")
    dims = [1] * (3 - len(batch)) + list(batch)
    l_is, l_ks = (1, rows) if adj_x else (depth, 1)
    consts = []
    if rhs.is_const:
        # [..., depth, cols] -> [..., cols, depth] once, at compile time (LiteRT's cached transpose)
        data = np.asarray(rhs.data).reshape(tuple(rb) + tuple(rhs.shape[-2:]))
        if not adj_y:
            data = np.swapaxes(data, -1, -2)
        rhs_arg = ConstArray("rhs_t", TensorRef(rhs).ctype, np.ascontiguousarray(data).reshape(-1))
        consts.append(rhs_arg)
        r_ks, r_js = 1, depth
    else:
        rhs_arg = TensorRef(rhs, const=True)
        r_ks, r_js = (1, depth) if adj_y else (cols, 1)
    args = [TensorRef(lhs, const=True), rhs_arg, TensorRef(y), *dims,
            *_batch_strides(lb, rows * depth), *_batch_strides(rb, depth * cols),
            rows, depth, cols, l_is, l_ks, r_ks, r_js]
    macs = int(np.prod(batch, dtype=np.int64)) * rows * cols * depth
    if lhs.dtype == "float32":
        fn = "aotc_batch_matmul_f32"
    else:
        # GetQuantizedConvolutionMultipler (no bias): the scale product is taken in float32
        eff = f32(np.float32(lhs.quant.s) * np.float32(rhs.quant.s)) / f32(y.quant.s)
        mult, shift = quantize_multiplier(eff)
        if lhs.dtype == "int8":
            fn = "aotc_batch_matmul_s8"
            args += [-lhs.quant.zp, -rhs.quant.zp, y.quant.zp, mult, shift]
        else:
            fn = "aotc_batch_matmul_s16"
            args += [mult, shift]
    return KernelCall(op, "generic_c", fn, args, consts=consts, macs=macs)
