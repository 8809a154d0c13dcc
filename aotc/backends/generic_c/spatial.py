"""Spatial ops -> runtime/aotc/spatial.h (and aotc_data_copy for the pure transposes).

  MIRROR_PAD              -> aotc_spatial_mirror_pad: per-axis gather tables (input offsets in units of
                             the unpadded trailing block, which is copied whole)
  SPACE_TO_DEPTH,
  DEPTH_TO_SPACE          -> aotc_data_copy with a strided-copy geometry (a 6-D transpose)
  SPACE_TO_BATCH_ND,
  BATCH_TO_SPACE_ND       -> aotc_spatial_{space_to_batch,batch_to_space}: LiteRT's loops over pixels
                             with memcpy/memset of one pixel's depth
  RESIZE_NEAREST_NEIGHBOR -> aotc_spatial_resize_nearest: per-row and per-column source indices
  RESIZE_BILINEAR         -> aotc_spatial_resize_bilinear_{f32,s8,s16}: per-row and per-column source
                             indices and weights (float32 as LiteRT computes them, or the integer
                             kernel's 1/1024 weights)
"""
from __future__ import annotations

import numpy as np

from ...ir import dtype_bytes
from ...ops.spatial import (_as4d, _block4, bilinear_axis_float, bilinear_axis_int, block_params,
                            mirror_pad_amounts, mirror_pad_index, nearest_index, space_to_batch_pad_value)
from ..base import ConstArray, KernelCall, TensorRef
from . import lowering


def _row_major(shape) -> list[int]:
    strides, acc = [], 1
    for d in reversed(list(shape)):
        strides.append(acc)
        acc *= int(d)
    return list(reversed(strides))


def _copy_geom(shape, in_strides, out_strides) -> np.ndarray:
    """The geom table of runtime/aotc/data.h: ndim, shape, in strides, out strides (elements);
    size-1 dimensions dropped and runs contiguous on both sides merged."""
    dims = [(int(n), int(i), int(o)) for n, i, o in zip(shape, in_strides, out_strides) if n != 1]
    if any(n == 0 for n, _, _ in dims):
        dims = [(0, 1, 1)]
    merged: list[tuple[int, int, int]] = []
    for n, i, o in dims:
        if merged and merged[-1][1] == i * n and merged[-1][2] == o * n:
            merged[-1] = (merged[-1][0] * n, i, o)
        else:
            merged.append((n, i, o))
    return np.array([len(merged)] + [m[0] for m in merged] + [m[1] for m in merged]
                    + [m[2] for m in merged], dtype=np.int32)


def _const_params(*idx):
    def supports(op):
        for i in idx:
            t = op.input(i)
            if t is not None and not t.is_const:
                return False, f"{op.kind} input {i} ({t.name}) must be constant after folding"
        return True, ""
    return supports


@lowering("MIRROR_PAD", supports=_const_params(1))
def lower_mirror_pad(op, options):
    x, y = op.inputs[0], op.outputs[0]
    pads = mirror_pad_amounts(op)
    offset = 1 if op.attrs["mode"] == "REFLECT" else 0
    shape = list(x.shape)
    # trailing dimensions without padding form one contiguous block copied whole
    k = len(shape)
    while k > 0 and pads[k - 1] == (0, 0):
        k -= 1
    inner = int(np.prod(shape[k:], dtype=np.int64)) if k < len(shape) else 1
    in_strides = _row_major(shape[:k])
    tables, out_shape = [], []
    for d in range(k):
        n_out = shape[d] + pads[d][0] + pads[d][1]
        tables.append(mirror_pad_index(n_out, pads[d][0], shape[d], offset) * in_strides[d])
        out_shape.append(n_out)
    shp = ConstArray("shape", "int32_t", np.array(out_shape or [1], np.int32))
    idx = ConstArray("index", "int32_t", np.concatenate(tables).astype(np.int32) if tables
                     else np.zeros(1, np.int32))
    args = [TensorRef(x, True), TensorRef(y), k, shp, idx, inner * dtype_bytes(x.dtype)]
    return KernelCall(op, "generic_c", "aotc_spatial_mirror_pad", args, consts=[shp, idx])


def _transpose_call(op, out_shape, in_strides):
    x, y = op.inputs[0], op.outputs[0]
    g = ConstArray("geom", "int32_t", _copy_geom(out_shape, in_strides, _row_major(out_shape)))
    return KernelCall(op, "generic_c", "aotc_data_copy",
                      [TensorRef(x, True), TensorRef(y), g, 0, dtype_bytes(x.dtype)], consts=[g])


@lowering("SPACE_TO_DEPTH")
def lower_space_to_depth(op, options):
    bs = op.attrs["block_size"]
    b, h, w, c = op.inputs[0].shape
    # output viewed as [b, h/bs, w/bs, bs_h, bs_w, c]
    return _transpose_call(op, [b, h // bs, w // bs, bs, bs, c],
                           [h * w * c, bs * w * c, bs * c, w * c, c, 1])


@lowering("DEPTH_TO_SPACE")
def lower_depth_to_space(op, options):
    bs = op.attrs["block_size"]
    b, h, w, c = op.inputs[0].shape
    oc = c // (bs * bs)
    # output viewed as [b, h, bs_h, w, bs_w, oc]
    return _transpose_call(op, [b, h, bs, w, bs, oc],
                           [h * w * c, w * c, bs * oc, c, oc, 1])


@lowering("SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND", supports=_const_params(1, 2))
def lower_batch_ops(op, options):
    x, y = op.inputs[0], op.outputs[0]
    bh, bw, top, left = _block4(*block_params(op))
    in_b, in_h, in_w, depth = _as4d(x.shape)
    out_b, out_h, out_w, _ = _as4d(y.shape)
    args = [TensorRef(x, True), TensorRef(y), in_b, in_h, in_w, out_b, out_h, out_w, bh, bw, top, left,
            depth * dtype_bytes(x.dtype)]
    if op.kind == "SPACE_TO_BATCH_ND":
        # LiteRT memsets the padding with the output zero point (int16 has zero point 0)
        args.append(int(space_to_batch_pad_value(op)) & 0xFF)
        return KernelCall(op, "generic_c", "aotc_spatial_space_to_batch", args)
    return KernelCall(op, "generic_c", "aotc_spatial_batch_to_space", args)


@lowering("RESIZE_NEAREST_NEIGHBOR")
def lower_resize_nearest(op, options):
    x, y = op.inputs[0], op.outputs[0]
    b, in_h, in_w, c = x.shape
    _, out_h, out_w, _ = y.shape
    a = op.attrs
    ys = ConstArray("rows", "int32_t", nearest_index(out_h, in_h, a["align_corners"], a["half_pixel_centers"])
                    .astype(np.int32))
    xs = ConstArray("cols", "int32_t", nearest_index(out_w, in_w, a["align_corners"], a["half_pixel_centers"])
                    .astype(np.int32))
    args = [TensorRef(x, True), TensorRef(y), b, in_h, in_w, out_h, out_w, ys, xs, c * dtype_bytes(x.dtype)]
    return KernelCall(op, "generic_c", "aotc_spatial_resize_nearest", args, consts=[ys, xs])


@lowering("RESIZE_BILINEAR")
def lower_resize_bilinear(op, options):
    x, y = op.inputs[0], op.outputs[0]
    b, in_h, in_w, c = x.shape
    _, out_h, out_w, _ = y.shape
    ac, hp = op.attrs["align_corners"], op.attrs["half_pixel_centers"]
    consts = []
    for name, n_out, n_in in (("rows", out_h, in_h), ("cols", out_w, in_w)):
        if x.dtype == "float32":
            i0, i1, d, om = bilinear_axis_float(n_out, n_in, ac, hp)
            w = np.stack([om, d], axis=1).reshape(-1).astype(np.float32)
            wt = ConstArray(f"{name}_w", "float", w)
        else:
            i0, i1, w0, w1 = bilinear_axis_int(n_out, n_in, ac, hp)
            wt = ConstArray(f"{name}_w", "int16_t", np.stack([w0, w1], axis=1).reshape(-1).astype(np.int16))
        idx = ConstArray(f"{name}_i", "int32_t", np.stack([i0, i1], axis=1).reshape(-1).astype(np.int32))
        consts += [idx, wt]
    suffix = {"float32": "f32", "int8": "s8", "int16": "s16"}[x.dtype]
    args = [TensorRef(x, True), TensorRef(y), b, in_h, in_w, c, out_h, out_w, *consts]
    return KernelCall(op, "generic_c", f"aotc_spatial_resize_bilinear_{suffix}", args, consts=consts,
                      macs=4 * y.size)
