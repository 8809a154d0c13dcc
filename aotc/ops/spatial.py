"""Spatial rearrangement and resizing: MIRROR_PAD, SPACE_TO_DEPTH, DEPTH_TO_SPACE, BATCH_TO_SPACE_ND,
SPACE_TO_BATCH_ND, RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR.

All but RESIZE_BILINEAR copy stored values (no requantization: LiteRT requires equal input and output
quantization, which check() enforces). The index helpers here (`mirror_pad_index`, `nearest_index`,
`bilinear_axis`, `*_amounts`) are shared by check, evaluate and the generic_c lowering, and reproduce
LiteRT's reference arithmetic (float32 and integer) exactly.
"""
from __future__ import annotations

import math

import numpy as np

from ..ir import Graph, Op, Tensor
from .registry import OpDef, expect_inputs, expect_quantized, op, same_quant

MIRROR_MODES = {0: "REFLECT", 1: "SYMMETRIC"}


def _const_ints(op: Op, t: Tensor, what: str) -> list[int] | None:
    if t.dtype not in ("int32", "int64"):
        raise op.error(f"{what} must be int32 or int64, got {t.dtype}", t)
    if not t.is_const:
        return None
    return [int(v) for v in np.asarray(t.data).reshape(-1)]


def _same_type(op: Op, x: Tensor, y: Tensor, types: tuple[str, ...], zp0_int16: bool = True) -> None:
    """Input and output of one supported type with identical quantization (LiteRT's Prepare)."""
    if x.dtype not in types:
        raise op.error(f"type {x.dtype} is not supported (supported: {', '.join(types)})", x)
    if y.dtype != x.dtype:
        raise op.error(f"output type {y.dtype} differs from input type {x.dtype}", y)
    if x.dtype in ("int8", "int16"):
        expect_quantized(op, x)
        expect_quantized(op, y)
        if x.quant.per_channel or y.quant.per_channel:
            raise op.error("per-channel quantization is not supported", x if x.quant.per_channel else y)
        if not same_quant(x, y):
            raise op.error(f"output quantization (scale {y.quant.s}, zero point {y.quant.zp}) must equal "
                           f"the input's (scale {x.quant.s}, zero point {x.quant.zp})", y)
        if zp0_int16 and x.dtype == "int16" and x.quant.zp != 0:
            raise op.error("int16 tensors must have zero point 0", x)


def _expect_out_shape(op: Op, y: Tensor, shape) -> None:
    if tuple(y.shape) != tuple(shape):
        raise op.error(f"output shape {list(y.shape)} should be {list(shape)}", y)


# ---- MIRROR_PAD ------------------------------------------------------------------------------------

def mirror_pad_amounts(op: Op) -> list[tuple[int, int]] | None:
    x, p = op.inputs[0], op.inputs[1]
    if tuple(p.shape) != (len(x.shape), 2):
        raise op.error(f"paddings shape {list(p.shape)} should be [{len(x.shape)}, 2]", p)
    vals = _const_ints(op, p, "paddings")
    if vals is None:
        return None
    pads = [(vals[2 * i], vals[2 * i + 1]) for i in range(len(x.shape))]
    offset = 1 if op.attrs["mode"] == "REFLECT" else 0
    for d, ((a, b), n) in enumerate(zip(pads, x.shape)):
        if a < 0 or b < 0:
            raise op.error(f"negative paddings {pads} are not allowed", p)
        if a > n - offset or b > n - offset:
            raise op.error(f"{op.attrs['mode']} padding ({a}, {b}) of dimension {d} exceeds its size {n}"
                           f"{' minus 1' if offset else ''}", p)
    return pads


def mirror_pad_index(out_size: int, left: int, in_size: int, offset: int) -> np.ndarray:
    """LiteRT's GetInputDimension for every output index of one axis."""
    res = np.empty(out_size, dtype=np.int64)
    for i in range(out_size):
        if i < left:
            orig = left + offset - 1
            res[i] = orig - min(i, orig - offset)
            continue
        j = i - left
        if j >= in_size:
            j -= in_size
            orig = in_size - (1 + offset)
            res[i] = orig - min(j, orig)
        else:
            res[i] = j
    return res


@op("MIRROR_PAD")
class MirrorPad(OpDef):
    options = "MirrorPadOptions"
    max_version = 3
    types = ("float32", "int8", "int16")

    def parse(self, opts) -> dict:
        code = opts.Mode() if opts is not None else 0
        return {"mode": MIRROR_MODES.get(code, f"UNKNOWN({code})")}

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        x, y = op.inputs[0], op.outputs[0]
        if op.attrs["mode"] not in ("REFLECT", "SYMMETRIC"):
            raise op.error(f"mirror padding mode {op.attrs['mode']} is not supported")
        _same_type(op, x, y, self.types)
        if len(x.shape) > 8:
            raise op.error(f"MIRROR_PAD supports up to 8 dimensions, got {len(x.shape)}", x)
        pads = mirror_pad_amounts(op)
        if pads is not None:
            _expect_out_shape(op, y, [n + a + b for n, (a, b) in zip(x.shape, pads)])

    def evaluate(self, op, values):
        pads = mirror_pad_amounts(op)
        if pads is None:
            return None
        x = np.asarray(values[0]).reshape(op.inputs[0].shape)
        mode = "reflect" if op.attrs["mode"] == "REFLECT" else "symmetric"
        return [np.pad(x, pads, mode=mode)]


# ---- SPACE_TO_DEPTH / DEPTH_TO_SPACE -----------------------------------------------------------------

class _BlockOp(OpDef):
    types = ("float32", "int8")

    def parse(self, opts) -> dict:
        return {"block_size": opts.BlockSize() if opts is not None else 0}

    def out_shape(self, op: Op, x: Tensor) -> tuple[int, ...]:
        raise NotImplementedError

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1)
        x, y = op.inputs[0], op.outputs[0]
        _same_type(op, x, y, self.types)
        if len(x.shape) != 4:
            raise op.error(f"expects a 4-D NHWC input, got shape {list(x.shape)}", x)
        if op.attrs["block_size"] <= 0:
            raise op.error(f"block size {op.attrs['block_size']} must be positive")
        _expect_out_shape(op, y, self.out_shape(op, x))


def space_to_depth_np(x: np.ndarray, bs: int) -> np.ndarray:
    b, h, w, c = x.shape
    return x.reshape(b, h // bs, bs, w // bs, bs, c).transpose(0, 1, 3, 2, 4, 5).reshape(
        b, h // bs, w // bs, bs * bs * c)


def depth_to_space_np(x: np.ndarray, bs: int) -> np.ndarray:
    b, h, w, c = x.shape
    oc = c // (bs * bs)
    return x.reshape(b, h, w, bs, bs, oc).transpose(0, 1, 3, 2, 4, 5).reshape(b, h * bs, w * bs, oc)


@op("SPACE_TO_DEPTH")
class SpaceToDepth(_BlockOp):
    options = "SpaceToDepthOptions"
    max_version = 2

    def out_shape(self, op, x):
        bs = op.attrs["block_size"]
        b, h, w, c = x.shape
        if h % bs or w % bs:
            raise op.error(f"height {h} and width {w} must be multiples of the block size {bs}", x)
        return (b, h // bs, w // bs, c * bs * bs)

    def evaluate(self, op, values):
        return [space_to_depth_np(np.asarray(values[0]).reshape(op.inputs[0].shape), op.attrs["block_size"])]


@op("DEPTH_TO_SPACE")
class DepthToSpace(_BlockOp):
    options = "DepthToSpaceOptions"
    max_version = 2

    def out_shape(self, op, x):
        bs = op.attrs["block_size"]
        b, h, w, c = x.shape
        if c % (bs * bs):
            raise op.error(f"depth {c} must be a multiple of block size squared ({bs * bs})", x)
        return (b, h * bs, w * bs, c // (bs * bs))

    def evaluate(self, op, values):
        return [depth_to_space_np(np.asarray(values[0]).reshape(op.inputs[0].shape), op.attrs["block_size"])]


# ---- SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND --------------------------------------------------------------

def block_params(op: Op) -> tuple[list[int], list[tuple[int, int]]] | None:
    """(block shape, [(before, after)] paddings or crops) over the spatial dims, or None if not constant.
    A 3-D input [N, H, C] has one spatial dim."""
    x, bt, pt = op.inputs[0], op.inputs[1], op.inputs[2]
    nsp = len(x.shape) - 2
    what = "paddings" if op.kind == "SPACE_TO_BATCH_ND" else "crops"
    if tuple(bt.shape) != (nsp,):
        raise op.error(f"block_shape shape {list(bt.shape)} should be [{nsp}]", bt)
    if tuple(pt.shape) != (nsp, 2):
        raise op.error(f"{what} shape {list(pt.shape)} should be [{nsp}, 2]", pt)
    if bt.dtype != "int32":
        raise op.error(f"block_shape must be int32, got {bt.dtype}", bt)
    if pt.dtype != "int32":
        raise op.error(f"{what} must be int32, got {pt.dtype}", pt)
    block, pads = _const_ints(op, bt, "block_shape"), _const_ints(op, pt, what)
    if block is None or pads is None:
        return None
    if any(b <= 0 for b in block):
        raise op.error(f"block shape {block} must be positive", bt)
    pairs = [(pads[2 * i], pads[2 * i + 1]) for i in range(nsp)]
    if any(a < 0 or b < 0 for a, b in pairs):
        raise op.error(f"negative {what} {pairs} are not allowed", pt)
    return block, pairs


def _as4d(shape) -> tuple[int, int, int, int]:
    """NHC -> NH1C, as LiteRT's ExtendShapeSpaceToBatch."""
    return tuple(shape) if len(shape) == 4 else (shape[0], shape[1], 1, shape[2])


def _block4(block, pairs) -> tuple[int, int, int, int]:
    """(block_h, block_w, top, left) of a 3-D or 4-D op."""
    return (block[0], block[1] if len(block) > 1 else 1, pairs[0][0], pairs[1][0] if len(pairs) > 1 else 0)


class _BatchOp(OpDef):
    max_version = 4
    types = ("float32", "int8", "int16")

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 3)
        x, y = op.inputs[0], op.outputs[0]
        _same_type(op, x, y, self.types)
        if len(x.shape) not in (3, 4):
            raise op.error(f"expects a 3-D or 4-D input, got shape {list(x.shape)}", x)
        params = block_params(op)
        if params is not None:
            _expect_out_shape(op, y, self.out_shape(op, x, *params))

    def evaluate(self, op, values):
        params = block_params(op)
        if params is None:
            return None
        x = np.asarray(values[0]).reshape(_as4d(op.inputs[0].shape))
        y = np.empty(_as4d(op.outputs[0].shape), dtype=x.dtype)
        self.run_np(op, x, y, *_block4(*params))
        return [y.reshape(op.outputs[0].shape)]


@op("SPACE_TO_BATCH_ND")
class SpaceToBatchND(_BatchOp):
    options = "SpaceToBatchNDOptions"

    def out_shape(self, op, x, block, pads):
        shape = list(x.shape)
        batch = shape[0]
        for d, (b, (a, c)) in enumerate(zip(block, pads)):
            total = shape[d + 1] + a + c
            if total % b:
                raise op.error(f"padded size {total} of spatial dimension {d} is not a multiple of "
                               f"block size {b}", x)
            shape[d + 1] = total // b
            batch *= b
        shape[0] = batch
        return shape

    @staticmethod
    def run_np(op, x, y, bh, bw, top, left):
        y[...] = space_to_batch_pad_value(op)
        in_b, in_h, in_w, _ = x.shape
        out_b, out_h, out_w, _ = y.shape
        for ob in range(out_b):
            b, sw, sh = ob % in_b, (ob // in_b) % bw, (ob // in_b) // bw
            for oh in range(out_h):
                ih = oh * bh + sh - top
                if not 0 <= ih < in_h:
                    continue
                for ow in range(out_w):
                    iw = ow * bw + sw - left
                    if 0 <= iw < in_w:
                        y[ob, oh, ow] = x[b, ih, iw]


def space_to_batch_pad_value(op: Op) -> int:
    """LiteRT pads with the output zero point (memset of its low byte; int16 has zero point 0)."""
    y = op.outputs[0]
    return y.quant.zp if y.dtype in ("int8", "int16") else 0


@op("BATCH_TO_SPACE_ND")
class BatchToSpaceND(_BatchOp):
    options = "BatchToSpaceNDOptions"

    def out_shape(self, op, x, block, crops):
        shape = list(x.shape)
        batch = shape[0]
        for d, (b, (a, c)) in enumerate(zip(block, crops)):
            if batch % b:
                raise op.error(f"batch {shape[0]} is not divisible by the block shape {block}", x)
            batch //= b
            shape[d + 1] = shape[d + 1] * b - a - c
            if shape[d + 1] < 0:
                raise op.error(f"crops {crops} exceed spatial dimension {d}", op.inputs[2])
        shape[0] = batch
        return shape

    @staticmethod
    def run_np(op, x, y, bh, bw, top, left):
        in_b, in_h, in_w, _ = x.shape
        out_b, out_h, out_w, _ = y.shape
        for ib in range(in_b):
            ob, so = ib % out_b, ib // out_b
            for ih in range(in_h):
                oh = ih * bh + so // bw - top
                if not 0 <= oh < out_h:
                    continue
                for iw in range(in_w):
                    ow = iw * bw + so % bw - left
                    if 0 <= ow < out_w:
                        y[ob, oh, ow] = x[ib, ih, iw]


# ---- RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR ---------------------------------------------------------

def _f32(v) -> np.float32:
    return np.float32(v)


def nearest_index(out_size: int, in_size: int, align_corners: bool, half_pixel: bool) -> np.ndarray:
    """LiteRT's GetNearestNeighbor (float32 arithmetic) for every output index of one axis."""
    if align_corners and out_size > 1:
        scale = _f32(in_size - 1) / _f32(out_size - 1)
    else:
        scale = _f32(in_size) / _f32(out_size)
    offset = _f32(0.5 if half_pixel else 0.0)
    res = np.empty(out_size, dtype=np.int64)
    for i in range(out_size):
        v = (_f32(i) + offset) * scale          # float32 product
        if align_corners:
            r = int(math.floor(float(v) + 0.5)) if v >= 0 else -int(math.floor(-float(v) + 0.5))
        else:
            r = int(math.floor(float(v)))
        r = min(r, in_size - 1)
        if half_pixel:
            r = max(0, r)
        res[i] = r
    return res


def bilinear_axis_float(out_size: int, in_size: int, align_corners: bool, half_pixel: bool):
    """Per output index (i0, i1, d, 1 - d) of LiteRT's float ResizeBilinear, in float32."""
    scale = _f32(in_size) / _f32(out_size)
    if align_corners and out_size > 1:
        scale = _f32(in_size - 1) / _f32(out_size - 1)
    i0s, i1s, ds, oms = [], [], [], []
    for i in range(out_size):
        if half_pixel:
            v = (_f32(i) + _f32(0.5)) * scale - _f32(0.5)
        else:
            v = _f32(i) * scale
        v = _f32(v)
        lo = max(int(math.floor(float(v))), 0)
        hi = min(int(math.ceil(float(v))), in_size - 1)
        d = _f32(v - _f32(lo))
        i0s.append(lo)
        i1s.append(hi)
        ds.append(d)
        oms.append(_f32(_f32(1) - d))
    return i0s, i1s, np.array(ds, np.float32), np.array(oms, np.float32)


def bilinear_axis_int(out_size: int, in_size: int, align_corners: bool, half_pixel: bool):
    """Per output index (i0, i1, w0, w1) of LiteRT's ResizeBilinearInteger (weights in 1/1024ths).
    When i0 == i1 the two weights are merged into (1024, 0): same sum, exactly."""
    def cdiv(a, b):  # C integer division (truncation)
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b > 0) else -q
    scale = cdiv((1 << 10) * in_size + out_size // 2, out_size)
    if align_corners and out_size > 1:
        scale = cdiv((1 << 10) * (in_size - 1) + (out_size - 1) // 2, out_size - 1)
    i0s, i1s, w0s, w1s = [], [], [], []
    for i in range(out_size):
        v = i * scale + cdiv(scale, 2) - (1 << 9) if half_pixel else i * scale
        lo = max(cdiv(v, 1 << 10), 0)
        hi = min(cdiv(v + (1 << 10) - 1, 1 << 10), in_size - 1)
        w1 = v - (1 << 10) * lo
        w0 = (1 << 10) - w1
        if lo == hi:
            w0, w1 = 1 << 10, 0
        i0s.append(lo)
        i1s.append(hi)
        w0s.append(w0)
        w1s.append(w1)
    return i0s, i1s, w0s, w1s


class _ResizeOp(OpDef):
    max_version = 4

    def parse(self, opts) -> dict:
        return {"align_corners": bool(opts.AlignCorners()) if opts is not None else False,
                "half_pixel_centers": bool(opts.HalfPixelCenters()) if opts is not None else False}

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        x, size, y = op.inputs[0], op.inputs[1], op.outputs[0]
        _same_type(op, x, y, self.types, zp0_int16=False)
        if len(x.shape) != 4:
            raise op.error(f"expects a 4-D NHWC input, got shape {list(x.shape)}", x)
        if size.dtype != "int32" or tuple(size.shape) != (2,):
            raise op.error(f"size must be an int32 tensor of shape [2], got {size.dtype} "
                           f"{list(size.shape)}", size)
        if len(y.shape) != 4 or y.shape[0] != x.shape[0] or y.shape[3] != x.shape[3]:
            raise op.error(f"output shape {list(y.shape)} does not keep batch and depth of "
                           f"{list(x.shape)}", y)
        if y.shape[1] <= 0 or y.shape[2] <= 0:
            raise op.error(f"output size {list(y.shape[1:3])} must be positive", y)
        if size.is_const:
            hw = [int(v) for v in np.asarray(size.data).reshape(-1)]
            if hw != list(y.shape[1:3]):
                raise op.error(f"size {hw} does not match the output shape {list(y.shape)}", size)
        if op.attrs["align_corners"] and op.attrs["half_pixel_centers"]:
            if self.kind == "RESIZE_BILINEAR":
                raise op.error("align_corners and half_pixel_centers cannot both be set "
                               "(LiteRT rejects it)")


@op("RESIZE_NEAREST_NEIGHBOR")
class ResizeNearestNeighbor(_ResizeOp):
    options = "ResizeNearestNeighborOptions"
    types = ("float32", "int8", "int16")

    def evaluate(self, op, values):
        x = np.asarray(values[0]).reshape(op.inputs[0].shape)
        _, oh, ow, _ = op.outputs[0].shape
        a = op.attrs
        ys = nearest_index(oh, x.shape[1], a["align_corners"], a["half_pixel_centers"])
        xs = nearest_index(ow, x.shape[2], a["align_corners"], a["half_pixel_centers"])
        return [x[:, ys][:, :, xs]]


@op("RESIZE_BILINEAR")
class ResizeBilinear(_ResizeOp):
    options = "ResizeBilinearOptions"
    types = ("float32", "int8", "int16")

    def check(self, op: Op, graph: Graph) -> None:
        super().check(op, graph)
        x, y = op.inputs[0], op.outputs[0]
        a = op.attrs
        axis_fn = bilinear_axis_float if x.dtype == "float32" else bilinear_axis_int
        for axis, n_in, n_out in (("height", x.shape[1], y.shape[1]), ("width", x.shape[2], y.shape[2])):
            i0, i1, _, _ = axis_fn(n_out, n_in, a["align_corners"], a["half_pixel_centers"])
            if max(i0) >= n_in or max(i1) >= n_in:
                raise op.error(f"resizing {axis} {n_in} -> {n_out} makes LiteRT's {x.dtype} kernel "
                               "read outside the input; not supported", y)
