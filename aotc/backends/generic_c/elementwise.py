"""ADD / SUB / MUL -> aotc_elementwise_{add,sub,mul}_{s8,s16,s16_pot,f32,s32}.

Quantized ADD/SUB follow TFLite's general path: both inputs are offset, shifted left by 20 (int8) or
15 (int16), rescaled to twice the larger input scale with MultiplyByQuantizedMultiplierSmallerThanOneExp,
added, and rescaled to the output. int16 with power-of-two scales and pot_scale_int16 set uses the
LSTM path (a rounding right shift of one input). MUL rescales the product with
MultiplyByQuantizedMultiplier(s1 * s2 / s_out computed in float, as TFLite does).
rounding == "tflm" (TFLM's kernels): int16 ADD/SUB always take the general path (TFLM ignores
pot_scale_int16); the MUL multiplier is double(s1) * double(s2) / double(s_out); int32 ADD ignores the fused
activation.
Broadcasting: the compiler computes the output dims and per-input element strides (0 along broadcast
dims), merged and padded to 6 dims; same-shape operands take a flat loop (bc = NULL).
"""
from __future__ import annotations

import numpy as np

from ...ops.elementwise import broadcast_shape, int16_pot_shifts
from ...quant import activation_range, f32, quantize_multiplier
from ..base import ConstArray, KernelCall, TensorRef, c_literal
from . import lowering

NDIMS = 6
SUFFIX = {"int8": "s8", "int16": "s16", "float32": "f32", "int32": "s32"}


def broadcast_table(shape_a, shape_b) -> np.ndarray | None:
    """None when no broadcasting is needed, else int32[18]: out dims, strides of a, strides of b."""
    if tuple(shape_a) == tuple(shape_b):
        return None
    out = broadcast_shape(shape_a, shape_b)
    n = len(out)

    def strides(shape):
        shape = (1,) * (n - len(shape)) + tuple(shape)
        st, acc = [0] * n, 1
        for i in range(n - 1, -1, -1):
            st[i] = 0 if shape[i] == 1 else acc
            acc *= shape[i]
        return st

    sa, sb = strides(shape_a), strides(shape_b)
    dims = [(d, x, y) for d, x, y in zip(out, sa, sb) if d != 1]
    # merge adjacent dims whose strides stay contiguous for both inputs
    merged: list[list[int]] = []
    for d, x, y in dims:
        if merged:
            pd, px, py = merged[-1]
            if px == x * d and py == y * d:
                merged[-1] = [pd * d, x, y]
                continue
        merged.append([d, x, y])
    if len(merged) > NDIMS:
        raise ValueError("broadcast needs more than 6 dimensions")
    merged = [[1, 0, 0]] * (NDIMS - len(merged)) + merged
    table = [m[0] for m in merged] + [m[1] for m in merged] + [m[2] for m in merged]
    return np.array(table, dtype=np.int32)


def _smaller_than_one(m: float, op, what: str) -> tuple[int, int]:
    if not 0.0 < m < 1.0:
        raise op.error(f"{what} multiplier {m:g} is outside (0, 1)")
    q, s = quantize_multiplier(m)
    return q, s


@lowering("ADD", "SUB", "MUL", inplace=True)
def lower_elementwise(op, options):
    a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
    kind = op.kind.lower()
    table = broadcast_table(a.shape, b.shape)
    consts = []
    bc = "NULL"
    if table is not None:
        bc = ConstArray("bcast", "int32_t", table)
        consts.append(bc)
    head = [TensorRef(a, True), TensorRef(b, True), TensorRef(y), y.size, bc]
    dt = a.dtype
    tflm = options.rounding == "tflm"
    if dt == "int32" and tflm and kind == "add":   # TFLM's int32 ADD clamps to the int32 range only
        lo, hi = -2**31, 2**31 - 1
    elif dt == "int32":   # CalculateActivationRange<int32_t>
        lo, hi = {"NONE": (-2**31, 2**31 - 1), "RELU": (0, 2**31 - 1), "RELU6": (0, 6),
                  "RELU_N1_TO_1": (-1, 1)}[op.attrs["activation"]]
    else:
        lo, hi = activation_range(op.attrs["activation"], y)
    if dt in ("float32", "int32"):
        fn = f"aotc_elementwise_{kind}_{SUFFIX[dt]}"
        return KernelCall(op, "generic_c", fn, head + [c_literal(lo), c_literal(hi)], consts=consts)

    if kind == "mul":
        # TFLite: float s1 * float s2 / float s_out evaluated in float, then widened to double
        real = f32(np.float32(np.float32(a.quant.s) * np.float32(b.quant.s)) / np.float32(y.quant.s))
        if tflm:   # TFLM: double(s1) * double(s2) / double(s_out)
            real = f32(a.quant.s) * f32(b.quant.s) / f32(y.quant.s)
        m, s = quantize_multiplier(real)
        args = head + [-a.quant.zp, -b.quant.zp, m, s, y.quant.zp, lo, hi]
        return KernelCall(op, "generic_c", f"aotc_elementwise_mul_{SUFFIX[dt]}", args, consts=consts)

    pot = None if tflm else int16_pot_shifts(op)
    if pot is not None:
        args = head + [-pot[0], -pot[1], lo, hi]
        return KernelCall(op, "generic_c", f"aotc_elementwise_{kind}_s16_pot", args, consts=consts,
                          note="int16 power-of-two scales")

    left_shift = 15 if dt == "int16" else 20
    s1, s2, so = f32(a.quant.s), f32(b.quant.s), f32(y.quant.s)
    twice_max = float(np.float32(2 * max(np.float32(s1), np.float32(s2))))
    m1, sh1 = _smaller_than_one(s1 / twice_max, op, "input 1")
    m2, sh2 = _smaller_than_one(s2 / twice_max, op, "input 2")
    mo, sho = _smaller_than_one(twice_max / float(np.float32((1 << left_shift) * np.float32(so))), op, "output")
    args = head + [-a.quant.zp, m1, sh1, -b.quant.zp, m2, sh2, left_shift, mo, sho, y.quant.zp, lo, hi]
    return KernelCall(op, "generic_c", f"aotc_elementwise_{kind}_{SUFFIX[dt]}", args, consts=consts)
