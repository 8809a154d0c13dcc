"""MEAN / SUM / REDUCE_MAX / REDUCE_MIN -> aotc_reduce_<kind>_<type> (runtime/aotc/reduce.h).

Quantized MEAN follows LiteRT's reference QuantizedMeanOrSum exactly:
  (multiplier, shift) = QuantizeMultiplier(double(s_in) / double(s_out))
  s = min(floor(log2(n)), 32, 31 + shift)
  multiplier = (int64(multiplier) << s) / n   (truncating), shift -= s
  out = clamp(MultiplyByQuantizedMultiplier(int32(sum - zp_in * n), multiplier, shift) + zp_out)
(LiteRT 2.x reference uses this for every axis set, including the 4-D H,W keep_dims case.)
"""
from __future__ import annotations

import numpy as np

from ...ops.reduce import reduce_axes
from ...quant import f32, quantize_multiplier
from ..base import ConstArray, KernelCall, TensorRef
from . import lowering
from .data import row_major_strides

SUFFIX = {"int8": "s8", "int16": "s16", "int32": "s32", "float32": "f32"}
FAMILY = {"MEAN": "mean", "SUM": "sum", "REDUCE_MAX": "max", "REDUCE_MIN": "min"}


def _merge(dims):
    merged = []
    for n, s in dims:
        if n == 1:
            continue
        if merged and merged[-1][1] == s * n:
            merged[-1] = (merged[-1][0] * n, s)
        else:
            merged.append((n, s))
    return merged


def reduce_geometry(shape, axes) -> np.ndarray:
    strides = row_major_strides(shape)
    outer = _merge([(shape[d], strides[d]) for d in range(len(shape)) if d not in axes])
    inner = _merge([(shape[d], strides[d]) for d in range(len(shape)) if d in axes])
    if len(outer) > 8 or len(inner) > 8:
        raise ValueError("more than 8 dimensions")
    geom = [len(outer), len(inner)] + [n for n, _ in outer] + [s for _, s in outer] \
        + [n for n, _ in inner] + [s for _, s in inner]
    return np.array(geom, dtype=np.int32)


def mean_multiplier(s_in: float, s_out: float, n: int) -> tuple[int, int]:
    mult, shift = quantize_multiplier(f32(s_in) / f32(s_out))
    s = min(n.bit_length() - 1, 32, 31 + shift)
    return int((mult << s) // n), shift - s


def _supports(op):
    if not op.inputs[1].is_const:
        return False, f"{op.kind} axis must be constant after folding"
    x = op.inputs[0]
    if x.dtype not in SUFFIX:
        return False, f"no generic_c {op.kind} kernel for {x.dtype}"
    if op.kind == "SUM" and x.dtype not in ("float32", "int32"):
        return False, f"no generic_c SUM kernel for {x.dtype}"
    return True, ""


@lowering("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", supports=_supports)
def lower_reduce(op, options):
    x, y = op.inputs[0], op.outputs[0]
    axes = reduce_axes(op)
    geom = ConstArray("geom", "int32_t", reduce_geometry(x.shape, axes))
    fn = f"aotc_reduce_{FAMILY[op.kind]}_{SUFFIX[x.dtype]}"
    args = [TensorRef(x, True), TensorRef(y), geom]
    n = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    if op.kind == "MEAN":
        if x.dtype in ("int8", "int16"):
            mult, shift = mean_multiplier(x.quant.s, y.quant.s, n)
            args += [x.quant.zp * n, mult, shift, y.quant.zp]
        elif x.dtype == "float32":
            args.append(float(n))
        else:
            args.append(n)
    return KernelCall(op, "generic_c", fn, args, consts=[geom], macs=x.size)
