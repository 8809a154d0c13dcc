"""Copies with compile-time geometry: SLICE, SPLIT, SPLIT_V, UNPACK, TILE, BROADCAST_TO, REVERSE_V2,
the fills FILL and BROADCAST_ARGS, and DYNAMIC_UPDATE_SLICE (whose start indices may be run-time).

None of them does arithmetic. LiteRT's reference kernels copy stored values without looking at the
quantization, except where noted: UNPACK rejects an output whose scale or zero point differs from the
input's, FILL one whose quantization differs from the value's. Where the reference copies raw values
between differently quantized tensors (SLICE, SPLIT, SPLIT_V, TILE, BROADCAST_TO, REVERSE_V2) aotc does
the same, so that its outputs stay bit-exact with the reference.

DYNAMIC_UPDATE_SLICE (XLA semantics): the output is the operand with the update written at the start
indices, each clamped to [0, operand_dim - update_dim] (LiteRT's ClampStartIndices); the start
indices may be a run-time tensor. Other parameter tensors (begin/size, axis, splits, multiples, shapes) must be constant: aotc's shapes are
static. The geometry helpers here are shared by check, evaluate and the generic_c lowering.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op, Tensor
from .data import _const_ints, _same_type
from .registry import OpDef, expect_inputs, op, same_quant

COPY_TYPES = ("float32", "int8", "int16", "int32", "int64", "bool")


def _need_const(op: Op, t: Tensor, what: str) -> list[int]:
    vals = _const_ints(op, t, what)
    if vals is None:
        raise op.error(f"a run-time {what} tensor is not supported (it must be constant)", t)
    return vals


def _consts(op: Op, *idx: int) -> bool:
    """True when those inputs are constant: only then can check() validate the geometry (a run-time
    parameter is reported by the lowering, after constant folding had its chance)."""
    return all(op.inputs[i] is not None and op.inputs[i].is_const for i in idx)


def _types(op: Op, types: tuple[str, ...], *tensors: Tensor) -> None:
    for t in tensors:
        if t.dtype not in types:
            raise op.error(f"type {t.dtype} is not supported by {op.kind} (supported: {', '.join(types)})", t)


def _axis(op: Op, axis: int, rank: int, t: Tensor) -> int:
    if not -rank <= axis < rank:
        raise op.error(f"axis {axis} is out of range for rank {rank}", t)
    return axis + rank if axis < 0 else axis


def _expect_out_shape(op: Op, y: Tensor, shape) -> None:
    if tuple(y.shape) != tuple(int(d) for d in shape):
        raise op.error(f"output shape {list(y.shape)} should be {[int(d) for d in shape]}", y)


# ---- SLICE ----------------------------------------------------------------------------------------

def slice_geometry(op: Op) -> tuple[list[int], list[int]]:
    """(begin, size) per input dimension, with size -1 resolved; LiteRT's CalculateOutputShapeVector."""
    x = op.inputs[0]
    begin = _need_const(op, op.inputs[1], "begin")
    size = _need_const(op, op.inputs[2], "size")
    rank = len(x.shape)
    if len(begin) != rank or len(size) != rank:
        raise op.error(f"begin and size need {rank} values, have {len(begin)} and {len(size)}")
    out = []
    for d, (b, s) in enumerate(zip(begin, size)):
        if b < 0 or b > x.shape[d]:
            raise op.error(f"begin {b} of dimension {d} is outside [0, {x.shape[d]}]", op.inputs[1])
        if s == -1:
            s = x.shape[d] - b
        elif s < 0 or b + s > x.shape[d]:
            raise op.error(f"invalid size {s} at begin {b} for dimension {d} of size {x.shape[d]}",
                           op.inputs[2])
        out.append(s)
    return begin, out


@op("SLICE")
class Slice(OpDef):
    options = "SliceOptions"
    max_version = 6
    types = COPY_TYPES

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 3)
        x, y = op.inputs[0], op.outputs[0]
        _same_type(op, x, y)
        _types(op, COPY_TYPES, x)
        if len(x.shape) > 5:
            raise op.error(f"SLICE supports up to 5 dimensions (as LiteRT), got {len(x.shape)}", x)
        if _consts(op, 1, 2):
            _, size = slice_geometry(op)
            _expect_out_shape(op, y, size)

    def evaluate(self, op, values):
        begin, size = slice_geometry(op)
        x = np.asarray(values[0]).reshape(op.inputs[0].shape)
        return [x[tuple(slice(b, b + s) for b, s in zip(begin, size))]]


# ---- SPLIT / SPLIT_V / UNPACK ---------------------------------------------------------------------

def split_sizes(op: Op) -> tuple[int, list[int]]:
    """(axis, size of every output along it) of SPLIT / SPLIT_V / UNPACK."""
    if op.kind == "SPLIT":
        x, axis_t = op.inputs[1], op.inputs[0]
    elif op.kind == "SPLIT_V":
        x, axis_t = op.inputs[0], op.inputs[2]
    else:
        x = op.inputs[0]
        return _axis(op, op.attrs["axis"], len(x.shape), x), [1] * len(op.outputs)
    vals = _need_const(op, axis_t, "axis")
    if len(vals) != 1:
        raise op.error(f"axis must hold one value, has {len(vals)}", axis_t)
    axis = _axis(op, vals[0], len(x.shape), axis_t)
    dim = x.shape[axis]
    n = len(op.outputs)
    if op.kind == "SPLIT":
        if n == 0 or dim % n:
            raise op.error(f"dimension {axis} of size {dim} does not split into {n} equal parts", x)
        return axis, [dim // n] * n
    sizes = _need_const(op, op.inputs[1], "size_splits")
    if len(sizes) != n:
        raise op.error(f"{len(sizes)} split sizes for {n} outputs", op.inputs[1])
    unknown = [i for i, s in enumerate(sizes) if s == -1]
    if len(unknown) > 1 or any(s < -1 for s in sizes):
        raise op.error(f"invalid split sizes {sizes}", op.inputs[1])
    if unknown:
        sizes[unknown[0]] = dim - (sum(sizes) + 1)
    if sum(sizes) != dim or any(s < 0 for s in sizes):
        raise op.error(f"split sizes {sizes} do not sum to dimension {axis} of size {dim}", op.inputs[1])
    return axis, sizes


class _SplitBase(OpDef):
    data_input = 0
    param_inputs: tuple[int, ...] = ()

    def check(self, op: Op, graph: Graph) -> None:
        x = op.inputs[self.data_input]
        if not op.outputs:
            raise op.error("has no outputs")
        for y in op.outputs:
            _same_type(op, x, y)
        _types(op, self.types, x)
        if not _consts(op, *self.param_inputs):
            return
        axis, sizes = split_sizes(op)
        for y, s in zip(op.outputs, sizes):
            shape = list(x.shape)
            if self.kind == "UNPACK":
                del shape[axis]
            else:
                shape[axis] = s
            _expect_out_shape(op, y, shape)

    def evaluate(self, op, values):
        x = np.asarray(values[self.data_input]).reshape(op.inputs[self.data_input].shape)
        axis, sizes = split_sizes(op)
        parts = np.split(x, np.cumsum(sizes)[:-1], axis=axis)
        return [p.reshape(y.shape) for p, y in zip(parts, op.outputs)]


@op("SPLIT")
class Split(_SplitBase):
    options = "SplitOptions"
    max_version = 4
    types = ("float32", "int8", "int16", "int32", "int64")
    data_input = 1
    param_inputs = (0,)

    def parse(self, opts) -> dict:
        return {"num_splits": opts.NumSplits() if opts is not None else 0}

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        if op.attrs["num_splits"] != len(op.outputs):
            raise op.error(f"num_splits {op.attrs['num_splits']} differs from the {len(op.outputs)} outputs")
        super().check(op, graph)


@op("SPLIT_V")
class SplitV(_SplitBase):
    options = "SplitVOptions"
    max_version = 2
    types = ("float32", "int8", "int16", "int32", "int64")
    param_inputs = (1, 2)

    def parse(self, opts) -> dict:
        return {"num_splits": opts.NumSplits() if opts is not None else 0}

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 3)
        if op.attrs["num_splits"] != len(op.outputs):
            raise op.error(f"num_splits {op.attrs['num_splits']} differs from the {len(op.outputs)} outputs")
        super().check(op, graph)


@op("UNPACK")
class Unpack(_SplitBase):
    options = "UnpackOptions"
    max_version = 4
    types = ("float32", "int8", "int16", "int32", "bool")

    def parse(self, opts) -> dict:
        return {"num": opts.Num() if opts is not None else 0, "axis": opts.Axis() if opts is not None else 0}

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1)
        x = op.inputs[0]
        if not x.shape:
            raise op.error("cannot unpack a scalar", x)
        axis = _axis(op, op.attrs["axis"], len(x.shape), x)
        if op.attrs["num"] != len(op.outputs) or x.shape[axis] != len(op.outputs):
            raise op.error(f"num {op.attrs['num']}, {len(op.outputs)} outputs and dimension {axis} "
                           f"of size {x.shape[axis]} must agree", x)
        super().check(op, graph)
        for y in op.outputs:
            if not same_quant(x, y):
                raise op.error("output quantization differs from the input's (LiteRT rejects it too)", y)


# ---- TILE / BROADCAST_TO / REVERSE_V2 ------------------------------------------------------------

def tile_multiples(op: Op) -> list[int]:
    x = op.inputs[0]
    m = _need_const(op, op.inputs[1], "multiples")
    if len(m) != len(x.shape):
        raise op.error(f"{len(m)} multiples for rank {len(x.shape)}", op.inputs[1])
    if any(v < 0 for v in m):
        raise op.error(f"negative multiples {m}", op.inputs[1])
    return m


@op("TILE")
class Tile(OpDef):
    options = "TileOptions"
    max_version = 3
    types = COPY_TYPES

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        x, y = op.inputs[0], op.outputs[0]
        _same_type(op, x, y)
        _types(op, COPY_TYPES, x)
        if not _consts(op, 1):
            return
        m = tile_multiples(op)
        _expect_out_shape(op, y, [d * k for d, k in zip(x.shape, m)])

    def evaluate(self, op, values):
        return [np.tile(np.asarray(values[0]).reshape(op.inputs[0].shape), tile_multiples(op))]


def broadcast_shape(op: Op, a: list[int], b: list[int], t: Tensor) -> list[int]:
    n = max(len(a), len(b))
    a, b = [1] * (n - len(a)) + list(a), [1] * (n - len(b)) + list(b)
    out = []
    for p, q in zip(a, b):
        if p != q and p != 1 and q != 1:
            raise op.error(f"shapes {a} and {b} are not broadcast-compatible", t)
        out.append(q if p == 1 else p)
    return out


@op("BROADCAST_TO")
class BroadcastTo(OpDef):
    options = "BroadcastToOptions"
    max_version = 3
    types = COPY_TYPES

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        x, y = op.inputs[0], op.outputs[0]
        _same_type(op, x, y)
        _types(op, COPY_TYPES, x)
        if not _consts(op, 1):
            return
        shape = _need_const(op, op.inputs[1], "shape")
        if len(shape) > 8 or len(shape) < len(x.shape):
            raise op.error(f"target rank {len(shape)} must be >= input rank {len(x.shape)} and <= 8", op.inputs[1])
        xs = [1] * (len(shape) - len(x.shape)) + list(x.shape)
        for d, (p, q) in enumerate(zip(xs, shape)):
            if p != q and p != 1:
                raise op.error(f"input dimension {d} of size {p} does not broadcast to {q}", x)
        _expect_out_shape(op, y, shape)

    def evaluate(self, op, values):
        return [np.broadcast_to(np.asarray(values[0]).reshape(op.inputs[0].shape), op.outputs[0].shape).copy()]


@op("BROADCAST_ARGS")
class BroadcastArgs(OpDef):
    """The broadcast shape of two constant shapes; folded (a graph output gets a constant copy)."""
    options = None
    max_version = 1
    types = ("int32", "int64")

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
        for t in (a, b, y):
            if t.dtype not in self.types:
                raise op.error(f"type {t.dtype} is not supported (int32 or int64)", t)
        if a.dtype != b.dtype or a.dtype != y.dtype:
            raise op.error("both shapes and the output must have the same type", y)
        for t in (a, b):
            if len(t.shape) != 1:
                raise op.error(f"a shape must be 1-D, got {list(t.shape)}", t)
        if not _consts(op, 0, 1):
            return
        av = _need_const(op, a, "shape")
        bv = _need_const(op, b, "shape")
        _expect_out_shape(op, y, [len(broadcast_shape(op, av, bv, y))])

    def evaluate(self, op, values):
        a = [int(v) for v in np.asarray(values[0]).reshape(-1)]
        b = [int(v) for v in np.asarray(values[1]).reshape(-1)]
        return [np.array(broadcast_shape(op, a, b, op.outputs[0]), dtype=np.int64)]


def reverse_axes(op: Op) -> list[int]:
    x = op.inputs[0]
    vals = _need_const(op, op.inputs[1], "axis")
    rank = len(x.shape)
    axes = []
    for v in vals:
        # LiteRT's ReverseV2 wraps negative axes once and requires 0 <= axis < rank
        a = v + rank if v < 0 else v
        if not 0 <= a < rank:
            raise op.error(f"axis {v} is out of range for rank {rank}", op.inputs[1])
        axes.append(a)
    return axes


@op("REVERSE_V2")
class ReverseV2(OpDef):
    options = "ReverseV2Options"
    max_version = 3
    types = COPY_TYPES

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        x, y = op.inputs[0], op.outputs[0]
        _same_type(op, x, y)
        _types(op, COPY_TYPES, x)
        if op.inputs[1].dtype != "int32":
            raise op.error(f"axis type {op.inputs[1].dtype} is not supported (int32)", op.inputs[1])
        if len(op.inputs[1].shape) != 1:
            raise op.error("axis must be 1-D", op.inputs[1])
        if len(x.shape) > 8:
            raise op.error(f"REVERSE_V2 supports up to 8 dimensions, got {len(x.shape)}", x)
        if not _consts(op, 1):
            return
        axes = sorted(reverse_axes(op))
        if len(axes) > len(x.shape):
            raise op.error(f"{len(axes)} axes for rank {len(x.shape)}", op.inputs[1])
        if any(b != a + 1 for a, b in zip(axes, axes[1:])):
            raise op.error(f"axes {axes} are not contiguous (LiteRT's REVERSE_V2 rejects them too)", op.inputs[1])
        _expect_out_shape(op, y, x.shape)

    def evaluate(self, op, values):
        x = np.asarray(values[0]).reshape(op.inputs[0].shape)
        for a in set(reverse_axes(op)):
            x = np.flip(x, axis=a)
        return [x.copy()]


# ---- FILL -----------------------------------------------------------------------------------------

@op("FILL")
class Fill(OpDef):
    """Every output element = the scalar value (a constant or a run-time tensor)."""
    options = "FillOptions"
    max_version = 4
    types = COPY_TYPES

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        dims_t, v, y = op.inputs[0], op.inputs[1], op.outputs[0]
        if len(dims_t.shape) != 1:
            raise op.error(f"dims must be 1-D, got {list(dims_t.shape)}", dims_t)
        if v.shape != ():
            raise op.error(f"value must be a scalar (rank 0, as LiteRT requires), has shape {list(v.shape)}", v)
        _same_type(op, v, y)
        _types(op, COPY_TYPES, v)
        if v.dtype in ("int8", "int16") and not same_quant(v, y):
            raise op.error("output quantization differs from the value's (LiteRT rejects it too)", y)
        if v.dtype == "int16" and v.quant.zp != 0:
            raise op.error("int16 value must have zero point 0", v)
        if _consts(op, 0):
            _expect_out_shape(op, y, _need_const(op, dims_t, "dims"))

    def evaluate(self, op, values):
        v = np.asarray(values[1]).reshape(-1)[0]
        return [np.full(op.outputs[0].shape, v)]


# ---- DYNAMIC_UPDATE_SLICE -------------------------------------------------------------------------

def dus_starts(op: Op, indices=None) -> list[int] | None:
    """The clamped start index per operand dimension (LiteRT's ClampStartIndices), from `indices`
    or the constant start-indices tensor; None when they are only known at run time."""
    x, u, s = op.inputs[0], op.inputs[1], op.inputs[2]
    if indices is None:
        if not s.is_const:
            return None
        indices = s.data
    vals = [int(v) for v in np.asarray(indices).reshape(-1)]
    return [min(max(0, v), xd - ud) for v, xd, ud in zip(vals, x.shape, u.shape)]


@op("DYNAMIC_UPDATE_SLICE")
class DynamicUpdateSlice(OpDef):
    """output = operand with update written at the (clamped) start indices; stored values are copied
    as they are (no requantization, as the reference)."""
    options = "DynamicUpdateSliceOptions"
    max_version = 4
    types = COPY_TYPES

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 3)
        x, u, s, y = op.inputs[0], op.inputs[1], op.inputs[2], op.outputs[0]
        _same_type(op, x, y)
        _types(op, COPY_TYPES, x)
        if u.dtype != x.dtype:
            raise op.error(f"update type {u.dtype} differs from operand type {x.dtype}", u)
        if s.dtype not in ("int32", "int64"):
            raise op.error(f"start indices must be int32 or int64, got {s.dtype}", s)
        if len(x.shape) > 8:
            raise op.error(f"at most 8 dimensions are supported (as LiteRT), got {len(x.shape)}", x)
        if tuple(s.shape) != (len(x.shape),):
            raise op.error(f"start indices shape {list(s.shape)} should be [{len(x.shape)}]", s)
        if len(u.shape) != len(x.shape):
            raise op.error(f"update rank {len(u.shape)} differs from operand rank {len(x.shape)}", u)
        for d, (ud, xd) in enumerate(zip(u.shape, x.shape)):
            if ud > xd:
                raise op.error(f"update dimension {d} of size {ud} exceeds the operand's {xd}", u)
        _expect_out_shape(op, y, x.shape)

    def evaluate(self, op, values):
        x = np.array(values[0]).reshape(op.inputs[0].shape)
        u = np.asarray(values[1]).reshape(op.inputs[1].shape)
        starts = dus_starts(op, values[2])
        x[tuple(slice(b, b + n) for b, n in zip(starts, u.shape))] = u
        return [x]
