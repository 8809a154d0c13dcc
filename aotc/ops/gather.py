"""Index-driven copies: GATHER, GATHER_ND, EMBEDDING_LOOKUP.

The indices may be constant or run-time tensors. LiteRT's reference kernels fail the whole invoke on
an index < 0 or >= the dimension size. A generated model has no error path, so aotc's kernels check
every index and write zeros (the stored value 0, not the zero point) for the slice an out-of-range
index selects: they never read outside the input. Constant indices are checked at compile time and an
out-of-range one is a ModelError.

None of them requantizes: the reference copies the stored values (EMBEDDING_LOOKUP from int8 values
to a float32 output dequantizes, value * scale, scale per row or per tensor, zero point 0).
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .data import _same_type
from .registry import OpDef, expect_inputs, op

GATHER_TYPES = ("float32", "int8", "int16", "int32", "int64", "bool")
INDEX_TYPES = ("int16", "int32", "int64")


def _check_const_indices(op: Op, idx, limits) -> None:
    """limits: the exclusive bound of each index (broadcast like the index array's last axis)."""
    if idx.is_const:
        v = np.asarray(idx.data).astype(np.int64)
        if np.any(v < 0) or np.any(v >= limits):
            raise op.error("constant indices are out of range (LiteRT fails at run time)", idx)


def gather_geometry(op: Op) -> tuple[int, int, int, int, int, int]:
    """(axis, batch_dims, batch, outer, axis_size, coords, inner) of LiteRT's reference Gather."""
    x, idx = op.inputs[0], op.inputs[1]
    axis, bd = op.attrs["axis"], op.attrs["batch_dims"]
    if axis < 0:
        axis += len(x.shape)
    if bd < 0:
        bd += len(idx.shape)
    prod = lambda s: int(np.prod(s, dtype=np.int64))  # noqa: E731
    return (axis, bd, prod(x.shape[:bd]), prod(x.shape[bd:axis]), x.shape[axis], prod(idx.shape[bd:]),
            prod(x.shape[axis + 1:]))


@op("GATHER")
class Gather(OpDef):
    options = "GatherOptions"
    max_version = 7
    types = GATHER_TYPES

    def parse(self, opts) -> dict:
        return {"axis": opts.Axis() if opts is not None else 0,
                "batch_dims": opts.BatchDims() if opts is not None else 0}

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        x, idx, y = op.inputs[0], op.inputs[1], op.outputs[0]
        _same_type(op, x, y)
        if x.dtype not in GATHER_TYPES:
            raise op.error(f"type {x.dtype} is not supported by GATHER (supported: {', '.join(GATHER_TYPES)})", x)
        if idx.dtype not in INDEX_TYPES:
            raise op.error(f"index type {idx.dtype} is not supported ({', '.join(INDEX_TYPES)})", idx)
        rank, irank = len(x.shape), len(idx.shape)
        axis, bd = op.attrs["axis"], op.attrs["batch_dims"]
        if not -rank <= axis < rank:
            raise op.error(f"axis {axis} is out of range for rank {rank}", x)
        axis, bd, *_ = gather_geometry(op)
        if not (0 <= bd <= axis and bd < rank and bd <= irank):
            raise op.error(f"batch_dims {op.attrs['batch_dims']} is invalid for axis {axis}, "
                           f"input rank {rank} and index rank {irank}")
        for i in range(bd):
            if x.shape[i] != idx.shape[i]:
                raise op.error(f"batch dimension {i}: input has {x.shape[i]}, indices {idx.shape[i]}", idx)
        expect = list(x.shape[:axis]) + list(idx.shape[bd:]) + list(x.shape[axis + 1:])
        if list(y.shape) != expect:
            raise op.error(f"output shape {list(y.shape)} should be {expect}", y)
        _check_const_indices(op, idx, x.shape[axis])

    def evaluate(self, op, values):
        x = np.asarray(values[0]).reshape(op.inputs[0].shape)
        idx = np.asarray(values[1]).reshape(op.inputs[1].shape).astype(np.int64)
        axis, bd, batch, outer, axis_size, coords, inner = gather_geometry(op)
        if np.any(idx < 0) or np.any(idx >= axis_size):
            return None
        xv = x.reshape(batch, outer, axis_size, inner)
        iv = idx.reshape(batch, coords)
        out = np.stack([xv[b][:, iv[b], :] for b in range(batch)])
        return [out.reshape(op.outputs[0].shape)]


def gather_nd_geometry(op: Op) -> tuple[int, int, int, list[int]]:
    """(n_slices, indices_nd, slice_size, [elements per step of each indexed dimension])."""
    x, idx = op.inputs[0], op.inputs[1]
    nd = idx.shape[-1]
    n_slices = int(np.prod(idx.shape[:-1], dtype=np.int64))
    slice_size = int(np.prod(x.shape[nd:], dtype=np.int64))
    strides = [int(np.prod(x.shape[j + 1:], dtype=np.int64)) for j in range(nd)]
    return n_slices, nd, slice_size, strides


@op("GATHER_ND")
class GatherNd(OpDef):
    options = "GatherNdOptions"
    max_version = 5
    types = GATHER_TYPES

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        x, idx, y = op.inputs[0], op.inputs[1], op.outputs[0]
        _same_type(op, x, y)
        if x.dtype not in GATHER_TYPES:
            raise op.error(f"type {x.dtype} is not supported by GATHER_ND "
                           f"(supported: {', '.join(GATHER_TYPES)})", x)
        if idx.dtype not in INDEX_TYPES:
            raise op.error(f"index type {idx.dtype} is not supported ({', '.join(INDEX_TYPES)})", idx)
        if not x.shape or not idx.shape:
            raise op.error("params and indices must be at least vectors", x if not x.shape else idx)
        nd = idx.shape[-1]
        if not 0 < nd <= len(x.shape):
            raise op.error(f"index depth {nd} must be in [1, params rank {len(x.shape)}]", idx)
        expect = list(idx.shape[:-1]) + list(x.shape[nd:])
        if list(y.shape) != expect:
            raise op.error(f"output shape {list(y.shape)} should be {expect}", y)
        _check_const_indices(op, idx, np.array(x.shape[:nd]))

    def evaluate(self, op, values):
        x = np.asarray(values[0]).reshape(op.inputs[0].shape)
        idx = np.asarray(values[1]).reshape(op.inputs[1].shape).astype(np.int64)
        nd = idx.shape[-1]
        if np.any(idx < 0) or np.any(idx >= np.array(x.shape[:nd])):
            return None
        flat = idx.reshape(-1, nd)
        out = np.stack([x[tuple(r)] for r in flat]) if len(flat) else np.zeros((0,) + x.shape[nd:], x.dtype)
        return [out.reshape(op.outputs[0].shape)]


@op("EMBEDDING_LOOKUP")
class EmbeddingLookup(OpDef):
    """out[i] = value[lookup[i]]: a row copy, or int8 rows dequantized to float32 (hybrid)."""
    options = None
    max_version = 4
    types = ("float32", "int8")

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        ids, v, y = op.inputs[0], op.inputs[1], op.outputs[0]
        if ids.dtype != "int32" or len(ids.shape) != 1:
            raise op.error(f"lookup must be a 1-D int32 tensor, got {ids.dtype} {list(ids.shape)}", ids)
        if len(v.shape) < 2:
            raise op.error(f"value must have rank >= 2, got {list(v.shape)}", v)
        if v.dtype not in self.types:
            raise op.error(f"value type {v.dtype} is not supported (float32, int8)", v)
        if v.dtype == "int8" and y.dtype == "float32":
            if v.quant is None:
                raise op.error("int8 value has no quantization parameters", v)
            if v.quant.zp != 0 or any(z != 0 for z in v.quant.zero_point):
                raise op.error("int8 value dequantized to float32 needs zero point 0 (as LiteRT)", v)
            if v.quant.per_channel and (v.quant.axis != 0 or len(v.quant.scale) != v.shape[0]):
                raise op.error("per-row scales must be along axis 0, one per row", v)
        else:
            _same_type(op, v, y)
        expect = [ids.shape[0]] + list(v.shape[1:])
        if list(y.shape) != expect:
            raise op.error(f"output shape {list(y.shape)} should be {expect}", y)
        _check_const_indices(op, ids, v.shape[0])

    def evaluate(self, op, values):
        ids = np.asarray(values[0]).reshape(-1).astype(np.int64)
        v = np.asarray(values[1]).reshape(op.inputs[1].shape)
        if np.any(ids < 0) or np.any(ids >= v.shape[0]):
            return None
        rows = v[ids]
        vt, y = op.inputs[1], op.outputs[0]
        if vt.dtype == "int8" and y.dtype == "float32":
            q = vt.quant
            scales = np.array(q.scale if q.per_channel else [q.s] * v.shape[0], np.float32)[ids]
            rows = rows.astype(np.float32) * scales.reshape((-1,) + (1,) * (v.ndim - 1))
        return [rows]
