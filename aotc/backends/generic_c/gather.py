"""GATHER, GATHER_ND, EMBEDDING_LOOKUP -> aotc_gather_* (runtime/aotc/gather.h).

Indices may be run-time tensors: the kernels check each one and write zeros for an out-of-range index
(LiteRT fails the invoke instead), so they never read outside the input."""
from __future__ import annotations

import numpy as np

from ...ir import dtype_bytes
from ...ops.gather import gather_geometry, gather_nd_geometry
from ..base import ConstArray, KernelCall, TensorRef
from . import lowering

INDEX_SUFFIX = {"int16": "i16", "int32": "i32", "int64": "i64"}


@lowering("GATHER")
def lower_gather(op, options):
    x, idx, y = op.inputs[0], op.inputs[1], op.outputs[0]
    _, _, batch, outer, axis_size, coords, inner = gather_geometry(op)
    return KernelCall(op, "generic_c", f"aotc_gather_{INDEX_SUFFIX[idx.dtype]}",
                      [TensorRef(x, True), TensorRef(idx, True), TensorRef(y), batch, outer, axis_size,
                       coords, inner * dtype_bytes(x.dtype)])


@lowering("GATHER_ND")
def lower_gather_nd(op, options):
    x, idx, y = op.inputs[0], op.inputs[1], op.outputs[0]
    n_slices, nd, slice_size, strides = gather_nd_geometry(op)
    g = ConstArray("geom", "int32_t", np.array(list(x.shape[:nd]) + strides, np.int32))
    return KernelCall(op, "generic_c", f"aotc_gather_nd_{INDEX_SUFFIX[idx.dtype]}",
                      [TensorRef(x, True), TensorRef(idx, True), TensorRef(y), n_slices, nd, g, slice_size,
                       dtype_bytes(x.dtype)], consts=[g])


@lowering("EMBEDDING_LOOKUP")
def lower_embedding_lookup(op, options):
    ids, v, y = op.inputs[0], op.inputs[1], op.outputs[0]
    rows = v.shape[0]
    cols = v.size // rows
    if v.dtype == y.dtype:   # LiteRT's EvalSimple: a row copy
        return KernelCall(op, "generic_c", "aotc_gather_i32",
                          [TensorRef(v, True), TensorRef(ids, True), TensorRef(y), 1, 1, rows, ids.shape[0],
                           cols * dtype_bytes(v.dtype)])
    q = v.quant
    scales = ConstArray("scale", "float", np.array(q.scale if q.per_channel else [q.s], np.float32))
    return KernelCall(op, "generic_c", "aotc_gather_embedding_s8_f32",
                      [TensorRef(v, True), TensorRef(ids, True), TensorRef(y), ids.shape[0], rows, cols, scales,
                       int(q.per_channel)], consts=[scales])
