"""Data movement: PAD, PADV2, CONCATENATION, STRIDED_SLICE, TRANSPOSE.

None of them does arithmetic: LiteRT's reference kernels copy the stored values (PAD writes the output
zero point, or PADV2's constant, into the border). The geometry helpers here (`pad_amounts`,
`concat_geometry`, `strided_slice_geometry`, `transpose_perm`) are shared by `check`, `evaluate` and the
generic_c lowering so that all three agree on every index.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op, Tensor
from .registry import OpDef, activation, expect_inputs, expect_quantized, op, same_quant

DATA_TYPES = ("float32", "int8", "int16", "int32", "uint8", "int64", "bool")


def _const_ints(op: Op, t: Tensor, what: str) -> list[int] | None:
    """The values of an int32/int64 parameter tensor, or None when it is not (yet) constant."""
    if t.dtype not in ("int32", "int64"):
        raise op.error(f"{what} must be int32 or int64, got {t.dtype}", t)
    if not t.is_const:
        return None
    return [int(v) for v in np.asarray(t.data).reshape(-1)]


def _same_type(op: Op, x: Tensor, y: Tensor, types: tuple[str, ...] = DATA_TYPES) -> None:
    if x.dtype != y.dtype:
        raise op.error(f"input type {x.dtype} differs from output type {y.dtype}", y)
    if x.dtype not in types:
        raise op.error(f"type {x.dtype} is not supported by {op.kind} (supported: {', '.join(types)})", x)
    expect_quantized(op, x)


# ---- PAD / PADV2 ---------------------------------------------------------------------------------

def pad_amounts(op: Op) -> list[tuple[int, int]] | None:
    """[(before, after)] per input dimension, or None when the paddings are not constant."""
    x, p = op.inputs[0], op.inputs[1]
    vals = _const_ints(op, p, "paddings")
    if tuple(p.shape) != (len(x.shape), 2):
        raise op.error(f"paddings shape {list(p.shape)} should be [{len(x.shape)}, 2]", p)
    if vals is None:
        return None
    pads = [(vals[2 * i], vals[2 * i + 1]) for i in range(len(x.shape))]
    if any(a < 0 or b < 0 for a, b in pads):
        raise op.error(f"negative paddings {pads} are not supported", p)
    return pads


def pad_value(op: Op):
    """The fill value as the output's stored type: PADV2's constant, else the output zero point (0.0
    for float)."""
    y = op.outputs[0]
    c = op.input(2)
    if c is not None:
        return np.asarray(c.data).reshape(-1)[0]
    if y.dtype in ("int8", "int16", "uint8"):
        return y.quant.zp if y.quant is not None else 0
    return 0


class _PadBase(OpDef):
    max_version = 4
    types = ("float32", "int8", "int16", "int32", "int64", "uint8")

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2, 3 if self.kind == "PADV2" else 2)
        x, y = op.inputs[0], op.outputs[0]
        _same_type(op, x, y, self.types)
        if len(x.shape) > 6:
            raise op.error(f"PAD supports up to 6 dimensions, got {len(x.shape)}", x)
        c = op.input(2)
        if c is not None:
            if c.dtype != x.dtype:
                raise op.error(f"constant value type {c.dtype} differs from input type {x.dtype}", c)
            if c.size != 1:
                raise op.error(f"constant value must hold one element, has shape {list(c.shape)}", c)
            if not c.is_const:
                raise op.error("a non-constant pad value is not supported", c)
            if x.dtype in ("int8", "int16", "uint8") and not same_quant(c, y):
                raise op.error("pad value quantization must equal the output's", c)
        if x.dtype == "int16" and y.quant is not None and y.quant.zp != 0:
            raise op.error("int16 output must have zero point 0", y)
        pads = pad_amounts(op)
        if pads is not None:
            expect = tuple(d + a + b for d, (a, b) in zip(x.shape, pads))
            if tuple(y.shape) != expect:
                raise op.error(f"output shape {list(y.shape)} should be {list(expect)} "
                               f"for paddings {pads}", y)

    def evaluate(self, op, values):
        pads = pad_amounts(op)
        if pads is None:
            return None
        x = np.asarray(values[0]).reshape(op.inputs[0].shape)
        return [np.pad(x, pads, mode="constant", constant_values=pad_value(op))]


@op("PAD")
class Pad(_PadBase):
    options = "PadOptions"


@op("PADV2")
class PadV2(_PadBase):
    options = "PadV2Options"


# ---- CONCATENATION ---------------------------------------------------------------------------------

def concat_geometry(op: Op) -> tuple[int, int, list[int]]:
    """(axis, outer, [inner elements of each input]) for a row-major concatenation."""
    y = op.outputs[0]
    axis = op.attrs["axis"]
    if axis < 0:
        axis += len(y.shape)
    outer = int(np.prod(y.shape[:axis], dtype=np.int64)) if axis else 1
    inners = [int(np.prod(t.shape[axis:], dtype=np.int64)) for t in op.inputs]
    return axis, outer, inners


@op("CONCATENATION")
class Concatenation(OpDef):
    options = "ConcatenationOptions"
    max_version = 4
    types = ("float32", "int8", "int16", "int32", "int64", "uint8")

    def parse(self, opts) -> dict:
        return {"axis": opts.Axis() if opts is not None else 0, "activation": activation(opts)}

    def check(self, op: Op, graph: Graph) -> None:
        if not op.inputs or any(t is None for t in op.inputs):
            raise op.error("needs at least one input and no omitted inputs")
        y = op.outputs[0]
        rank = len(y.shape)
        axis = op.attrs["axis"]
        if not -rank <= axis < max(rank, 1):
            raise op.error(f"axis {axis} is out of range for rank {rank}", y)
        if op.attrs["activation"] != "NONE":
            raise op.error(f"fused activation {op.attrs['activation']} is not supported "
                           "(LiteRT's CONCATENATION rejects it too)")
        axis = axis + rank if axis < 0 else axis
        total = 0
        for t in op.inputs:
            _same_type(op, t, y, self.types)
            if len(t.shape) != rank:
                raise op.error(f"input rank {len(t.shape)} differs from output rank {rank}", t)
            for d in range(rank):
                if d != axis and t.shape[d] != y.shape[d]:
                    raise op.error(f"dimension {d} is {t.shape[d]}, output has {y.shape[d]}", t)
            total += t.shape[axis] if rank else 1
            if y.dtype in ("int8", "uint8") and not same_quant(t, y):
                raise op.error("inputs with a scale or zero point different from the output's need "
                               "requantization, which is not supported (LiteRT rejects it for int8)", t)
            if y.dtype == "int16" and t.quant is not None and t.quant.zp != 0:
                raise op.error("int16 inputs must have zero point 0", t)
        if rank and total != y.shape[axis]:
            raise op.error(f"inputs sum to {total} along axis {axis}, output has {y.shape[axis]}", y)

    def evaluate(self, op, values):
        y = op.outputs[0]
        if not y.shape:
            return [np.stack([np.asarray(v).reshape(()) for v in values])]
        axis, _, _ = concat_geometry(op)
        parts = [np.asarray(v).reshape(t.shape) for v, t in zip(values, op.inputs)]
        return [np.concatenate(parts, axis=axis)]


# ---- STRIDED_SLICE ------------------------------------------------------------------------------------

def _clamp(v: int, lo: int, hi: int) -> int:
    return hi if v > hi else lo if v < lo else v


def strided_slice_geometry(op: Op):
    """LiteRT's BuildStridedSliceParams + StridedSliceStartForAxis/EndForAxis, in Python.

    Returns (effective input shape, [(start, stride, count)] per effective axis, output shape with the
    shrunk axes removed), or None when begin/end/strides are not constant."""
    x = op.inputs[0]
    a = op.attrs
    begin = _const_ints(op, op.inputs[1], "begin")
    end = _const_ints(op, op.inputs[2], "end")
    strides = _const_ints(op, op.inputs[3], "strides")
    if begin is None or end is None or strides is None:
        return None
    n = len(begin)
    if len(end) != n or len(strides) != n:
        raise op.error(f"begin, end and strides have different lengths ({n}, {len(end)}, {len(strides)})")
    in_dims = len(x.shape)
    bit = lambda mask, i: bool(mask & (1 << i))  # noqa: E731
    num_add = sum(1 for i in range(n) if not bit(a["ellipsis_mask"], i) and bit(a["new_axis_mask"], i))
    eff = in_dims + num_add
    starts, stops, strd = [0] * eff, [0] * eff, [1] * eff
    bmask = emask = smask = 0
    eff_ellipsis = eff_new = 0
    ell_start, expanded = eff, 0
    i = 0
    while i < eff:
        if bit(a["ellipsis_mask"], i):
            ell_start = i
            ell_end = max(i + 1, min(i + 1 + num_add + in_dims - n, eff))
            expanded = ell_end - ell_start - 1
            while i < ell_end:
                eff_ellipsis |= 1 << i
                i += 1
            continue
        if i - expanded >= 0 and bit(a["new_axis_mask"], i - expanded):
            eff_new |= 1 << i
        i += 1
    eff_shape = [0] * eff
    added_ell = added_axes = 0
    for i in range(eff):
        if bit(eff_ellipsis, i):
            added_ell = max(0, i - ell_start)
            bmask |= 1 << i
            emask |= 1 << i
            eff_shape[i] = x.shape[i - added_axes]
        elif bit(eff_new, i):
            starts[i], stops[i] = 0, 1
            eff_shape[i] = 1
            added_axes += 1
        elif i >= n + expanded:
            bmask |= 1 << i
            emask |= 1 << i
            eff_shape[i] = x.shape[i - added_axes]
        else:
            k = i - added_ell
            starts[i], stops[i], strd[i] = begin[k], end[k], strides[k]
            if bit(a["begin_mask"], k):
                bmask |= 1 << i
            if bit(a["end_mask"], k):
                emask |= 1 << i
            if bit(a["shrink_axis_mask"], k):
                smask |= 1 << i
            eff_shape[i] = x.shape[i - added_axes]
    axes, out_shape = [], []
    for i in range(eff):
        size, stride = eff_shape[i], strd[i]
        if stride == 0:
            raise op.error(f"stride of axis {i} is 0")
        start = starts[i] + (size if starts[i] < 0 else 0)
        start = _clamp(start, 0, size) if stride > 0 else _clamp(start, -1, size - 1)
        if bit(bmask, i):
            start = 0 if stride > 0 else size - 1
        if bit(smask, i):
            stop = start if start >= size else start + 1
        else:
            stop = stops[i] + (start if a["offset"] else 0)
            stop += size if stop < 0 else 0
            stop = _clamp(stop, 0, size) if stride > 0 else _clamp(stop, -1, size - 1)
            if bit(emask, i):
                stop = size if stride > 0 else -1
        count = len(range(start, stop, stride))
        axes.append((start, stride, count))
        if not bit(smask, i):
            out_shape.append(count)
    return eff_shape, axes, out_shape


@op("STRIDED_SLICE")
class StridedSlice(OpDef):
    options = "StridedSliceOptions"
    max_version = 8
    types = ("float32", "int8", "int16", "int32", "int64", "bool", "uint8")

    def parse(self, opts) -> dict:
        g = (lambda f: int(getattr(opts, f)())) if opts is not None else (lambda f: 0)
        return {"begin_mask": g("BeginMask"), "end_mask": g("EndMask"), "ellipsis_mask": g("EllipsisMask"),
                "new_axis_mask": g("NewAxisMask"), "shrink_axis_mask": g("ShrinkAxisMask"),
                "offset": bool(g("Offset"))}

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 4)
        x, y = op.inputs[0], op.outputs[0]
        _same_type(op, x, y)
        if x.dtype in ("int8", "int16", "uint8") and not same_quant(x, y):
            raise op.error("output quantization differs from the input's (STRIDED_SLICE copies values)", y)
        geo = strided_slice_geometry(op)
        if geo is None:
            return
        eff_shape, _, out_shape = geo
        if len(eff_shape) > 8:
            raise op.error(f"{len(eff_shape)} effective dimensions; at most 8 are supported", x)
        if tuple(out_shape) != tuple(y.shape):
            raise op.error(f"output shape {list(y.shape)} should be {out_shape}", y)

    def evaluate(self, op, values):
        geo = strided_slice_geometry(op)
        if geo is None:
            return None
        eff_shape, axes, _ = geo
        v = np.asarray(values[0]).reshape(eff_shape)
        for i, (start, stride, count) in enumerate(axes):
            v = np.take(v, [start + k * stride for k in range(count)], axis=i)
        return [v.reshape(op.outputs[0].shape)]


# ---- TRANSPOSE -------------------------------------------------------------------------------------

def transpose_perm(op: Op) -> list[int] | None:
    x, p = op.inputs[0], op.inputs[1]
    vals = _const_ints(op, p, "permutation")
    if vals is None:
        return None
    rank = len(x.shape)
    vals = [v + rank if v < 0 else v for v in vals]
    if sorted(vals) != list(range(rank)):
        raise op.error(f"permutation {vals} is not a permutation of {rank} dimensions", p)
    return vals


@op("TRANSPOSE")
class Transpose(OpDef):
    options = "TransposeOptions"
    max_version = 6
    types = ("float32", "int8", "int16", "int32", "int64", "bool", "uint8")

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        x, y = op.inputs[0], op.outputs[0]
        _same_type(op, x, y)
        if x.dtype in ("int8", "int16", "uint8") and not same_quant(x, y):
            raise op.error("output quantization differs from the input's (TRANSPOSE copies values)", y)
        if len(x.shape) > 6:
            raise op.error(f"TRANSPOSE supports up to 6 dimensions, got {len(x.shape)}", x)
        perm = transpose_perm(op)
        if perm is not None:
            expect = [x.shape[p] for p in perm]
            if list(y.shape) != expect:
                raise op.error(f"output shape {list(y.shape)} should be {expect} for permutation {perm}", y)

    def evaluate(self, op, values):
        perm = transpose_perm(op)
        if perm is None:
            return None
        return [np.transpose(np.asarray(values[0]).reshape(op.inputs[0].shape), perm)]
