"""PAD/PADV2 -> aotc_data_pad; TRANSPOSE, STRIDED_SLICE, SLICE, TILE, BROADCAST_TO, REVERSE_V2 ->
aotc_data_copy; CONCATENATION, PACK -> aotc_data_concat_<type>; SPLIT, SPLIT_V, UNPACK ->
aotc_data_split_<type>; FILL -> aotc_data_fill; BROADCAST_ARGS (a constant graph output) -> a copy of
its folded value; DYNAMIC_UPDATE_SLICE -> aotc_data_dynamic_update_slice (the copy of the update is
described here; run-time start indices are clamped by the kernel, constant ones here).

All of them are described by a strided copy computed here: shape, input and output strides (in
elements), and a start offset; size-1 dimensions are dropped and dimensions contiguous on both sides
merged so that the kernel runs as few, as long memcpy runs as possible."""
from __future__ import annotations

import numpy as np

from ...errors import UnsupportedError, where
from ...ir import dtype_bytes, np_dtype
from ...ops import OPS
from ...ops.data import concat_geometry, pad_amounts, pad_value, strided_slice_geometry, transpose_perm
from ...ops.slicing import dus_starts, reverse_axes, slice_geometry, split_sizes, tile_multiples
from ..base import ConstArray, KernelCall, TensorRef
from . import lowering

CONCAT_SUFFIX = {"int8": "s8", "uint8": "u8", "int16": "s16", "int32": "s32", "int64": "s64",
                 "float32": "f32"}
SPLIT_SUFFIX = dict(CONCAT_SUFFIX, bool="b")


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


# ---- copies described by one geometry -----------------------------------------------------------

def _copy(op, x, y, shape, in_strides, out_strides, offset=0):
    try:
        geom = copy_geometry(shape, in_strides, out_strides)
    except ValueError:
        raise UnsupportedError(f"{where(op, y)}: the copy needs more than 8 dimensions after merging") from None
    g = ConstArray("geom", "int32_t", geom)
    src = TensorRef(x, True) if not isinstance(x, ConstArray) else x
    consts = [g] + ([x] if isinstance(x, ConstArray) else [])
    return KernelCall(op, "generic_c", "aotc_data_copy",
                      [src, TensorRef(y), g, int(offset), dtype_bytes(y.dtype)], consts=consts)


@lowering("SLICE", supports=_const_params(1, 2))
def lower_slice(op, options):
    x, y = op.inputs[0], op.outputs[0]
    begin, size = slice_geometry(op)
    xs = row_major_strides(x.shape)
    return _copy(op, x, y, size, xs, row_major_strides(size), sum(b * s for b, s in zip(begin, xs)))


@lowering("TILE", supports=_const_params(1))
def lower_tile(op, options):
    """Output dimension d is (multiple m_d) x (input size n_d): the input stride of the first is 0."""
    x, y = op.inputs[0], op.outputs[0]
    m = tile_multiples(op)
    xs, ys = row_major_strides(x.shape), row_major_strides(y.shape)
    shape, ins, outs = [], [], []
    for d, (n, k) in enumerate(zip(x.shape, m)):
        shape += [k, n]
        ins += [0, xs[d]]
        outs += [n * ys[d], ys[d]]
    return _copy(op, x, y, shape, ins, outs)


@lowering("BROADCAST_TO", supports=_const_params(1))
def lower_broadcast_to(op, options):
    x, y = op.inputs[0], op.outputs[0]
    xshape = [1] * (len(y.shape) - len(x.shape)) + list(x.shape)
    xs = row_major_strides(xshape)
    ins = [0 if n == 1 else s for n, s in zip(xshape, xs)]
    return _copy(op, x, y, y.shape, ins, row_major_strides(y.shape))


@lowering("REVERSE_V2", supports=_const_params(1))
def lower_reverse(op, options):
    x, y = op.inputs[0], op.outputs[0]
    axes = set(reverse_axes(op))
    xs = row_major_strides(x.shape)
    ins = [-s if d in axes else s for d, s in enumerate(xs)]
    offset = sum((x.shape[d] - 1) * xs[d] for d in axes)
    return _copy(op, x, y, x.shape, ins, row_major_strides(x.shape), offset)


def _split_supported(op):
    ok, why = _const_params(*([0] if op.kind == "SPLIT" else [1, 2] if op.kind == "SPLIT_V" else []))(op)
    if not ok:
        return ok, why
    if op.outputs[0].dtype not in SPLIT_SUFFIX:
        return False, f"{op.kind} of {op.outputs[0].dtype} has no generic_c kernel"
    return True, ""


@lowering("SPLIT", "SPLIT_V", "UNPACK", supports=_split_supported)
def lower_split(op, options):
    x = op.inputs[1] if op.kind == "SPLIT" else op.inputs[0]
    axis, sizes = split_sizes(op)
    outer = int(np.prod(x.shape[:axis], dtype=np.int64))
    inner = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
    parts, offset = [], 0
    for y, s in zip(op.outputs, sizes):
        if s:
            parts += [TensorRef(y), s * inner, offset]
        offset += s * inner
    return KernelCall(op, "generic_c", f"aotc_data_split_{SPLIT_SUFFIX[x.dtype]}",
                      [TensorRef(x, True), outer, x.shape[axis] * inner, len(parts) // 3, *parts])


def _pack_supported(op):
    if op.outputs[0].dtype not in CONCAT_SUFFIX:
        return False, f"PACK of {op.outputs[0].dtype} has no generic_c kernel"
    return True, ""


@lowering("PACK", supports=_pack_supported)
def lower_pack(op, options):
    """A concatenation of the inputs along the new axis: each contributes prod(shape[axis:])."""
    y = op.outputs[0]
    rank = len(y.shape)
    axis = op.attrs["axis"] + (rank if op.attrs["axis"] < 0 else 0)
    outer = int(np.prod(y.shape[:axis], dtype=np.int64))
    inner = int(np.prod(y.shape[axis + 1:], dtype=np.int64))
    parts = []
    for i, t in enumerate(op.inputs):
        parts += [TensorRef(t, True), inner, i * inner]
    return KernelCall(op, "generic_c", f"aotc_data_concat_{CONCAT_SUFFIX[y.dtype]}",
                      [TensorRef(y), outer, len(op.inputs) * inner, len(op.inputs), *parts])


@lowering("FILL", supports=_const_params(0))
def lower_fill(op, options):
    v, y = op.inputs[1], op.outputs[0]
    return KernelCall(op, "generic_c", "aotc_data_fill",
                      [TensorRef(y), TensorRef(v, True), y.size, dtype_bytes(y.dtype)])


def _all_const(op):
    if not all(t is not None and t.is_const for t in op.inputs):
        return False, f"{op.kind} needs constant inputs (aotc's shapes are static)"
    return True, ""


@lowering("BROADCAST_ARGS", supports=_all_const)
def lower_constant_output(op, options):
    """Not folded because it is a graph output: copy its folded value into the output."""
    y = op.outputs[0]
    value = OPS[op.kind].evaluate(op, [t.data for t in op.inputs])[0]
    c = ConstArray("value", TensorRef(y).ctype, np.asarray(value, dtype=np_dtype(y.dtype)).reshape(-1))
    return _copy(op, c, y, [y.size], [1], [1])


@lowering("DYNAMIC_UPDATE_SLICE")
def lower_dynamic_update_slice(op, options):
    """Copy the operand into the output, then the update block at the clamped start indices. An update
    as large as the operand replaces it whole (start indices clamp to 0), as in the reference."""
    x, u, s, y = op.inputs[0], op.inputs[1], op.inputs[2], op.outputs[0]
    if u.size == x.size:
        return _copy(op, u, y, [y.size], [1], [1])
    xs = row_major_strides(x.shape)
    try:
        geom = copy_geometry(u.shape, row_major_strides(u.shape), xs)
    except ValueError:
        raise UnsupportedError(f"{where(op, y)}: the copy needs more than 8 dimensions after merging") from None
    g = ConstArray("geom", "int32_t", geom)
    consts = [g]
    starts = dus_starts(op)
    if starts is not None:
        offset = sum(b * st for b, st in zip(starts, xs))
        idx_args = ["NULL", 0, "NULL"]
    else:
        offset = 0
        limits = [xd - ud for xd, ud in zip(x.shape, u.shape)]
        dims = ConstArray("dims", "int32_t", np.array([len(x.shape)] + limits + xs, dtype=np.int32))
        consts.append(dims)
        idx_args = [TensorRef(s, True), dtype_bytes(s.dtype), dims]
    return KernelCall(op, "generic_c", "aotc_data_dynamic_update_slice",
                      [TensorRef(x, True), TensorRef(u, True), TensorRef(y), g, int(offset), *idx_args,
                       y.size, dtype_bytes(y.dtype)], consts=consts)
