"""PAD/PADV2 -> aotc_data_pad, TRANSPOSE/STRIDED_SLICE -> aotc_data_copy,
CONCATENATION -> aotc_data_concat_<type>.

All of them are described by a strided copy computed here: shape, input and output strides (in
elements), and a start offset; size-1 dimensions are dropped and dimensions contiguous on both sides
merged so that the kernel runs as few, as long memcpy runs as possible."""
from __future__ import annotations

import numpy as np

from ...ir import dtype_bytes, np_dtype
from ...ops.data import concat_geometry, pad_amounts, pad_value, strided_slice_geometry, transpose_perm
from ..base import ConstArray, KernelCall, TensorRef
from . import lowering

CONCAT_SUFFIX = {"int8": "s8", "uint8": "u8", "int16": "s16", "int32": "s32", "int64": "s64",
                 "float32": "f32"}


def row_major_strides(shape) -> list[int]:
    strides, acc = [], 1
    for d in reversed(list(shape)):
        strides.append(acc)
        acc *= int(d)
    return list(reversed(strides))


def copy_geometry(shape, in_strides, out_strides) -> np.ndarray:
    """The int32 geom table of runtime/aotc/data.h, simplified (size-1 dims dropped, runs merged)."""
    dims = [(int(n), int(i), int(o)) for n, i, o in zip(shape, in_strides, out_strides) if n != 1]
    if any(n == 0 for n, _, _ in dims):
        dims = [(0, 1, 1)]
    merged: list[tuple[int, int, int]] = []
    for n, i, o in dims:
        if merged:
            pn, pi, po = merged[-1]
            if pi == i * n and po == o * n:
                merged[-1] = (pn * n, i, o)
                continue
        merged.append((n, i, o))
    if len(merged) > 8:
        raise ValueError("copy needs more than 8 dimensions after simplification")
    geom = [len(merged)] + [m[0] for m in merged] + [m[1] for m in merged] + [m[2] for m in merged]
    return np.array(geom, dtype=np.int32)


def _const_params(*idx):
    def supports(op):
        for i in idx:
            t = op.input(i)
            if t is not None and not t.is_const:
                return False, f"{op.kind} input {i} ({t.name}) must be constant after folding"
        return True, ""
    return supports


@lowering("TRANSPOSE", supports=_const_params(1))
def lower_transpose(op, options):
    x, y = op.inputs[0], op.outputs[0]
    perm = transpose_perm(op)
    xs = row_major_strides(x.shape)
    geom = copy_geometry(y.shape, [xs[p] for p in perm], row_major_strides(y.shape))
    g = ConstArray("geom", "int32_t", geom)
    return KernelCall(op, "generic_c", "aotc_data_copy",
                      [TensorRef(x, True), TensorRef(y), g, 0, dtype_bytes(x.dtype)], consts=[g])


@lowering("STRIDED_SLICE", supports=_const_params(1, 2, 3))
def lower_strided_slice(op, options):
    x, y = op.inputs[0], op.outputs[0]
    eff_shape, axes, _ = strided_slice_geometry(op)
    es = row_major_strides(eff_shape)
    counts = [c for _, _, c in axes]
    offset = sum(start * s for (start, _, c), s in zip(axes, es) if c > 0)
    geom = copy_geometry(counts, [stride * s for (_, stride, _), s in zip(axes, es)],
                         row_major_strides(counts))
    g = ConstArray("geom", "int32_t", geom)
    return KernelCall(op, "generic_c", "aotc_data_copy",
                      [TensorRef(x, True), TensorRef(y), g, offset, dtype_bytes(x.dtype)], consts=[g])


@lowering("PAD", "PADV2", supports=_const_params(1, 2))
def lower_pad(op, options):
    x, y = op.inputs[0], op.outputs[0]
    pads = pad_amounts(op)
    ys = row_major_strides(y.shape)
    offset = sum(before * s for (before, _), s in zip(pads, ys))
    geom = copy_geometry(x.shape, row_major_strides(x.shape), ys)
    g = ConstArray("geom", "int32_t", geom)
    ctype = TensorRef(y).ctype
    v = ConstArray("value", ctype, np.array([pad_value(op)], dtype=np_dtype(y.dtype)))
    return KernelCall(op, "generic_c", "aotc_data_pad",
                      [TensorRef(x, True), TensorRef(y), v, y.size, g, offset, dtype_bytes(y.dtype)],
                      consts=[g, v])


def _concat_supported(op):
    if op.outputs[0].dtype not in CONCAT_SUFFIX:
        return False, f"CONCATENATION of {op.outputs[0].dtype} has no generic_c kernel"
    return True, ""


@lowering("CONCATENATION", supports=_concat_supported)
def lower_concatenation(op, options):
    y = op.outputs[0]
    if not y.shape:  # a scalar input per output element
        outer, inners = 1, [1] * len(op.inputs)
    else:
        _, outer, inners = concat_geometry(op)
    out_row = sum(inners)
    args = [TensorRef(y), outer, out_row]
    parts, offset = [], 0
    for t, inner in zip(op.inputs, inners):
        if inner:
            parts += [TensorRef(t, True), inner, offset]
        offset += inner
    args += [len(parts) // 3, *parts]
    return KernelCall(op, "generic_c", f"aotc_data_concat_{CONCAT_SUFFIX[y.dtype]}", args)
