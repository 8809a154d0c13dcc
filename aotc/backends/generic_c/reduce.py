"""MEAN / SUM / REDUCE_PROD / REDUCE_MAX / REDUCE_MIN / REDUCE_ALL / REDUCE_ANY ->
aotc_reduce_<kind>_<type>, CUMSUM -> aotc_reduce_cumsum_<type> (runtime/aotc/reduce.h).

Quantized MEAN follows LiteRT's reference QuantizedMeanOrSum exactly:
  (multiplier, shift) = QuantizeMultiplier(double(s_in) / double(s_out))
  s = min(floor(log2(n)), 32, 31 + shift)
  multiplier = (int64(multiplier) << s) / n   (truncating), shift -= s
  out = clamp(MultiplyByQuantizedMultiplier(int32(sum - zp_in * n), multiplier, shift) + zp_out)
(LiteRT 2.x reference uses this for every axis set, including the 4-D H,W keep_dims case; TFLM too.
TFLM's float 4-D H,W keep_dims MEAN sums in the same order and divides by the same n.)
Quantized SUM: the same without the 1/n fold (multiplier = QuantizeMultiplier(s_in / s_out)). That is
TFLM's SUM; LiteRT 2.3's reference SUM passes the int8/int16 tensors as uint8_t (reduce.cc,
QuantizedMeanOrSum<T, kReference>): for int8 it sums the bytes and stores a [0, 255]-clamped byte, which
rounding "litert" reproduces (aotc_reduce_sum_s8_as_u8); for int16 its output is not reproducible
(it reads half the input bytes and writes half the output), so int16 SUM needs rounding "tflm".
Quantized REDUCE_PROD (LiteRT QuantizedReduceProd): (m, shift) = QuantizeMultiplier(double(s_in) /
pow(double(s_out), 1.0 / n)) with n = input size / output size; p = x0 - zp, then
p = MultiplyByQuantizedMultiplier(int64(p) * (x - zp), m, shift) (the int64 overload) for every other
element, out = clamp(MultiplyByQuantizedMultiplier(int64(p), m, shift) + zp_out).
LiteRT's SUM/PROD/MAX/MIN over every dimension (ReduceAllDims) start from the first element instead
of the init value: this changes float results only (-0.0 sums, -inf / NaN for MAX and MIN), and only
under rounding "litert" (TFLM always uses ReduceGeneric) -- the f32 kernels take a `from_first` flag.
"""
from __future__ import annotations

import math

import numpy as np

from ...ops.reduce import reduce_axes, single_axis
from ...quant import f32, quantize_multiplier
from ..base import ConstArray, KernelCall, TensorRef
from . import lowering
from .data import row_major_strides

SUFFIX = {"int8": "s8", "int16": "s16", "int32": "s32", "float32": "f32", "bool": "b"}
FAMILY = {"MEAN": "mean", "SUM": "sum", "REDUCE_PROD": "prod", "REDUCE_MAX": "max", "REDUCE_MIN": "min",
          "REDUCE_ALL": "all", "REDUCE_ANY": "any"}


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


def prod_multiplier(s_in: float, s_out: float, n: int) -> tuple[int, int]:
    """LiteRT GetQuantProdScaling + QuantizeMultiplier."""
    return quantize_multiplier(f32(s_in) / math.pow(f32(s_out), 1.0 / n))


def _supports(op):
    if not op.inputs[1].is_const:
        return False, f"{op.kind} axis must be constant after folding"
    x = op.inputs[0]
    if x.dtype not in SUFFIX:
        return False, f"no generic_c {op.kind} kernel for {x.dtype}"
    return True, ""


@lowering("MEAN", "SUM", "REDUCE_PROD", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_ALL", "REDUCE_ANY",
          supports=_supports)
def lower_reduce(op, options):
    x, y = op.inputs[0], op.outputs[0]
    axes = reduce_axes(op)
    geom = ConstArray("geom", "int32_t", reduce_geometry(x.shape, axes))
    fn = f"aotc_reduce_{FAMILY[op.kind]}_{SUFFIX[x.dtype]}"
    args = [TensorRef(x, True), TensorRef(y), geom]
    n = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    quantized = x.dtype in ("int8", "int16")
    if op.kind == "SUM" and quantized and options.rounding == "litert":
        if x.dtype == "int16":
            raise op.error("LiteRT's reference int16 SUM reads the int16 input as bytes (a LiteRT bug), so "
                           "its output cannot be reproduced; compile with rounding 'tflm' for TFLM's "
                           "(correct) int16 SUM")
        fn = "aotc_reduce_sum_s8_as_u8"
    if op.kind in ("MEAN", "SUM") and quantized:
        if op.kind == "MEAN":
            mult, shift = mean_multiplier(x.quant.s, y.quant.s, n)
        else:
            mult, shift = quantize_multiplier(f32(x.quant.s) / f32(y.quant.s))
        args += [x.quant.zp * n, mult, shift, y.quant.zp]
    elif op.kind == "MEAN":
        args.append(float(n) if x.dtype == "float32" else n)
    elif op.kind == "REDUCE_PROD" and quantized:
        mult, shift = prod_multiplier(x.quant.s, y.quant.s, max(x.size // max(y.size, 1), 1))
        args += [x.quant.zp, mult, shift, y.quant.zp]
    elif x.dtype == "float32" and op.kind != "REDUCE_PROD":
        # LiteRT's ReduceAllDims starts from the first element; TFLM's ReduceGeneric from the init value
        all_dims = len(axes) == len(x.shape)
        args.append(1 if all_dims and options.rounding == "litert" else 0)
    return KernelCall(op, "generic_c", fn, args, consts=[geom], macs=x.size)


@lowering("CUMSUM", inplace=True)
def lower_cumsum(op, options):
    x, y = op.inputs[0], op.outputs[0]
    axis = single_axis(op, ("int32",))
    if axis is None:
        raise op.error("CUMSUM axis must be constant")
    outer = int(np.prod(x.shape[:axis], dtype=np.int64))
    depth = int(x.shape[axis])
    inner = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
    fn = f"aotc_reduce_cumsum_{SUFFIX[x.dtype]}"
    return KernelCall(op, "generic_c", fn, [TensorRef(x, True), TensorRef(y), outer, depth, inner,
                                            int(op.attrs["exclusive"]), int(op.attrs["reverse"])],
                      macs=x.size)
