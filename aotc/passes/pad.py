"""Fold a spatial PAD into the following CONV_2D / DEPTHWISE_CONV_2D as explicit padding.

Applies when: the PAD (or PADV2) pads only H and W of an NHWC tensor by non-negative constant
amounts; its fill value is the input zero point (0.0 for float32) and input and output quantization
are identical; its output is read only by the convolution (its data input) and is not a graph
output. A quantized convolution subtracts the input zero point from every input value, so a padded
cell holding the zero point adds nothing: exactly what the kernel's skipping of out-of-bounds
cells computes. The convolution then reads the PAD's input and gets attrs padding = "EXPLICIT" and
explicit_padding = (top, left, bottom, right): the PAD's amounts plus the convolution's own SAME
padding if it had any. Its output shape is unchanged.

Pooling is kept: TFLite's pools exclude out-of-bounds cells (from the average's divisor and from the
max), while a PAD's cells are real values, so explicit padding is not the same computation.
The backends take explicit_padding's top/left as the pad offsets (aotc.ops.registry.window_padding);
the output shape implies bottom/right."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..ir import Graph
from ..ops.data import pad_amounts, pad_value
from ..ops.registry import conv_out_size
from .util import drop_unread, note, quant_equal, with_ops

NAME = "fold_pad"
CONVS = ("CONV_2D", "DEPTHWISE_CONV_2D")
POOLS = ("AVERAGE_POOL_2D", "MAX_POOL_2D")


def _own_padding(op, in_h: int, in_w: int) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) the op applies itself (TFLite's SAME split; 0 for VALID)."""
    a = op.attrs
    if a["padding"] == "VALID":
        return 0, 0, 0, 0
    w = op.inputs[1]
    k_h, k_w = w.shape[1], w.shape[2]
    res = []
    for size, k, st, dil in ((in_h, k_h, a["stride_h"], a["dilation_h"]), (in_w, k_w, a["stride_w"], a["dilation_w"])):
        out = conv_out_size(size, k, st, dil, "SAME")
        eff = (k - 1) * dil + 1
        total = max((out - 1) * st + eff - size, 0)
        res.append((total // 2, total - total // 2))
    (t, b), (le, r) = res
    return t, le, b, r


def fold_pad(graph: Graph, log: list | None = None) -> Graph:
    for pad in list(graph.ops):
        if pad.kind not in ("PAD", "PADV2") or pad not in graph.ops:
            continue
        x, p = pad.inputs[0], pad.outputs[0]
        rd = [o for o in graph.ops if any(t is p for t in o.inputs)]
        if len(rd) != 1 or p in graph.outputs:
            continue
        conv = rd[0]
        if conv.kind in POOLS:
            note(log, NAME, "kept", [pad, conv], "pooling excludes padding from its window; a PAD's cells count")
            continue
        if conv.kind not in CONVS or conv.inputs[0] is not p or any(t is p for t in conv.inputs[1:]):
            continue
        pads = pad_amounts(pad)
        if pads is None or len(pads) != 4:
            continue
        if pads[0] != (0, 0) or pads[3] != (0, 0):
            note(log, NAME, "kept", [pad, conv], f"pads {pads} touch batch or channels")
            continue
        if conv.attrs.get("padding") not in ("SAME", "VALID"):
            continue
        if not quant_equal(x, p):
            note(log, NAME, "kept", [pad, conv], "PAD input and output quantization differ")
            continue
        fill = pad_value(pad)
        zp = x.quant.zp if x.dtype != "float32" else 0
        if x.dtype == "float32" and float(np.float32(fill)) != 0.0 or x.dtype != "float32" and int(fill) != zp:
            note(log, NAME, "kept", [pad, conv], f"pad value {fill} is not the input zero point {zp}")
            continue
        t0, l0, b0, r0 = _own_padding(conv, p.shape[1], p.shape[2])
        explicit = (pads[1][0] + t0, pads[2][0] + l0, pads[1][1] + b0, pads[2][1] + r0)
        new = replace(conv, inputs=[x] + list(conv.inputs[1:]), sources=pad.sources + conv.sources,
                      attrs={**conv.attrs, "padding": "EXPLICIT", "explicit_padding": explicit})
        note(log, NAME, "fused", [pad, conv], f"PAD {pads[1]}x{pads[2]} -> {conv.kind} explicit padding "
             f"(top, left, bottom, right) = {explicit}")
        graph = drop_unread(with_ops(graph, [new if o is conv else o for o in graph.ops]), [pad])
    return graph
