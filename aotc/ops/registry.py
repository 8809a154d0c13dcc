"""The op registry: @op("CONV_2D") registers an OpDef that parses the op's options from the
flatbuffer, checks its shapes and types, and (optionally) evaluates it in numpy for constant folding.
Kernel arithmetic lives in the backends; shared quantization helpers live in aotc/quant.py."""
from __future__ import annotations

import numpy as np
import tflite

from ..ir import Graph, Op, Tensor

# builtin code -> name, from the schema package
BUILTIN_NAMES: dict[int, str] = {
    v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")
}
ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}
PADDINGS = {0: "SAME", 1: "VALID"}


class OpDef:
    """What aotc knows of one builtin operator, independent of any backend."""
    kind: str = ""
    options: str | None = None   # the schema's options table, e.g. "Conv2DOptions"
    max_version: int = 1         # newest op version whose semantics aotc implements
    folds_from_shapes = False    # evaluate() needs only input shapes (SHAPE), not constant data
    types: tuple[str, ...] = ()  # activation types check() accepts, for `aotc ops` (e.g. "int16x8")

    def parse(self, opts) -> dict:
        """Builtin options table (or None when absent) -> attrs dict."""
        return {}

    def check(self, op: Op, graph: Graph) -> None:
        """Raise op.error(...) when shapes, types or quantization are inconsistent or unsupported."""

    def evaluate(self, op: Op, values: list[np.ndarray | None]) -> list[np.ndarray] | None:
        """Numpy evaluation for constant folding; None when the op cannot be folded."""
        return None


OPS: dict[str, OpDef] = {}


def op(kind: str):
    def register(cls):
        inst = cls()
        inst.kind = kind
        OPS[kind] = inst
        return cls
    return register


# ---- helpers shared by op definitions ----------------------------------------------------------

def activation(opts) -> str:
    code = opts.FusedActivationFunction() if opts is not None else 0
    return ACTIVATIONS.get(code, f"UNKNOWN({code})")


def padding(opts) -> str:
    return PADDINGS.get(opts.Padding() if opts is not None else 0, "UNKNOWN")


def expect_inputs(op: Op, lo: int, hi: int | None = None) -> None:
    hi = lo if hi is None else hi
    n = len(op.inputs)
    if not lo <= n <= hi:
        raise op.error(f"expects {lo if lo == hi else f'{lo} to {hi}'} inputs, has {n}")
    for i in range(lo):
        if op.inputs[i] is None:
            raise op.error(f"required input {i} is missing")


def expect_rank(op: Op, t: Tensor, *ranks: int) -> None:
    if len(t.shape) not in ranks:
        raise op.error(f"expects rank {' or '.join(map(str, ranks))}, got shape {list(t.shape)}", t)


def expect_shape(op: Op, t: Tensor, shape) -> None:
    if tuple(t.shape) != tuple(shape):
        raise op.error(f"shape {list(t.shape)} does not match the expected {list(shape)}", t)


def expect_dtype(op: Op, t: Tensor, *dtypes: str) -> None:
    if t.dtype not in dtypes:
        raise op.error(f"type {t.dtype} is not supported (supported: {', '.join(dtypes)})", t)


def expect_nonempty(op: Op, t: Tensor, what: str) -> None:
    """Zero-size tensors are refused, naming the tensor at fault (a constant filter escapes the
    reader's check of activations)."""
    if 0 in t.shape:
        raise op.error(f"{what} of shape {list(t.shape)} has no elements", t)


def expect_quantized(op: Op, t: Tensor) -> None:
    if t.dtype in ("int8", "int16", "uint8") and t.quant is None:
        raise op.error(f"{t.dtype} tensor has no quantization parameters", t)


def same_quant(a: Tensor, b: Tensor) -> bool:
    if a.quant is None or b.quant is None:
        return a.quant is None and b.quant is None
    return (float(np.float32(a.quant.s)) == float(np.float32(b.quant.s))
            and a.quant.zp == b.quant.zp)


def conv_out_size(size: int, k: int, stride: int, dilation: int, pad: str) -> int:
    """TFLite's ComputeOutSize."""
    eff = (k - 1) * dilation + 1
    if pad == "SAME":
        return (size + stride - 1) // stride
    return (size + stride - eff) // stride


def conv_padding(size: int, k: int, stride: int, dilation: int, out: int) -> int:
    """TFLite's ComputePaddingWithOffset: the leading (top/left) padding for SAME."""
    eff = (k - 1) * dilation + 1
    total = max((out - 1) * stride + eff - size, 0)
    return total // 2


# LiteRT keeps paddings in int16 (PaddingValues) and its convolutions' Prepare refuses strides and
# dilations beyond int16 too; aotc refuses what LiteRT refuses.
WINDOW_PARAM_MAX = 2**15 - 1
INT32_MAX = 2**31 - 1


def expect_window_params(op: Op, keys, hi: int | None = WINDOW_PARAM_MAX) -> None:
    """Each of op.attrs[key] (strides, dilations, window sizes) is in 1..hi (hi None: any positive int32)."""
    for key in keys:
        v = op.attrs[key]
        if v <= 0 or hi is not None and v > hi:
            bound = f"in 1..{hi} (LiteRT's limit)" if hi is not None else "positive"
            raise op.error(f"{key} must be {bound}, got {v}")


def expect_window_fits(op: Op, axis: str, size: int, k: int, stride: int, dilation: int, pad: int, out: int,
                       tensor: Tensor | None = None) -> None:
    """The leading padding fits LiteRT's int16, and every coordinate a kernel forms along this axis
    (origin + taps * dilation; size - origin + dilation in aotc_conv_tap_range) fits in int32, so the
    generated index arithmetic cannot overflow."""
    if pad > WINDOW_PARAM_MAX:
        raise op.error(f"padding along {axis} is {pad} (window {k}, dilation {dilation}, input {size}), "
                       f"more than LiteRT's limit {WINDOW_PARAM_MAX}", tensor)
    extent = max(max(out - 1, 0) * stride + k * dilation, size + pad + dilation)
    if extent > INT32_MAX:
        raise op.error(f"window arithmetic along {axis} reaches {extent}, beyond int32 (input {size}, "
                       f"window {k}, stride {stride}, dilation {dilation})", tensor)


def window_padding(op: Op, k_h: int, k_w: int) -> tuple[int, int]:
    """Top and left padding of a windowed NHWC op (conv, depthwise, pool): the amounts a folded PAD
    gave it (padding EXPLICIT), else TFLite's ComputePaddingWithOffset from the shapes (which gives 0
    for VALID). The output shape implies the bottom and right padding."""
    a = op.attrs
    if a.get("padding") == "EXPLICIT":
        top, left, _, _ = a["explicit_padding"]
        return top, left
    (_, in_h, in_w, _), (_, out_h, out_w, _) = op.inputs[0].shape, op.outputs[0].shape
    return (conv_padding(in_h, k_h, a["stride_h"], a.get("dilation_h", 1), out_h),
            conv_padding(in_w, k_w, a["stride_w"], a.get("dilation_w", 1), out_w))
