"""Layout clean-up: TRANSPOSE pairs that cancel, RESHAPE chains, MEAN over H,W as an average pool."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..ir import Graph, Op
from ..ops.data import transpose_perm
from ..ops.reduce import reduce_axes
from ..quant import QRANGE, f32, multiply_by_quantized_multiplier, quantize_multiplier
from .util import bypass, drop_unread, note, quant_equal, with_ops


def _producer(graph, t):
    return next((o for o in graph.ops if any(x is t for x in o.outputs)), None)


def cancel_transposes(graph: Graph, log: list | None = None) -> Graph:
    """TRANSPOSE(TRANSPOSE(x, p1), p2) with p1[p2[i]] == i is x: readers of the second output read x
    (TRANSPOSE copies values, so quantization is unchanged). The first TRANSPOSE goes too when
    nothing else reads it."""
    for op in list(graph.ops):
        if op.kind != "TRANSPOSE" or op not in graph.ops:
            continue
        first = _producer(graph, op.inputs[0])
        if first is None or first.kind != "TRANSPOSE":
            continue
        p1, p2 = transpose_perm(first), transpose_perm(op)
        if p1 is None or p2 is None:
            continue
        x = first.inputs[0]
        if any(p1[p2[i]] != i for i in range(len(p2))):
            note(log, "cancel_transposes", "kept", [first, op], f"permutations {p1} then {p2} do not cancel")
            continue
        g = bypass(graph, op, x)
        if g is None:
            note(log, "cancel_transposes", "kept", [first, op], "the pair connects a graph input to an output")
            continue
        note(log, "cancel_transposes", "removed", [first, op], f"permutations {p1} then {p2} cancel")
        graph = drop_unread(g, [first])
    return graph


def merge_reshapes(graph: Graph, log: list | None = None) -> Graph:
    """RESHAPE(RESHAPE(x)) -> RESHAPE(x) (the last shape wins); a RESHAPE whose output shape equals its
    input shape (e.g. a chain that returns to where it began) is removed. RESHAPE moves no data and
    keeps dtype and quantization, so both are exact."""
    for op in list(graph.ops):
        if op.kind != "RESHAPE" or op not in graph.ops:
            continue
        first = _producer(graph, op.inputs[0])
        if first is not None and first.kind == "RESHAPE" and quant_equal(first.inputs[0], op.outputs[0]):
            x = first.inputs[0]
            new = replace(op, inputs=[x] + list(op.inputs[1:]), sources=first.sources + op.sources)
            graph = drop_unread(with_ops(graph, [new if o is op else o for o in graph.ops]), [first])
            note(log, "merge_reshapes", "fused", [first, op], f"{list(x.shape)} -> {list(op.outputs[0].shape)} "
                 "in one RESHAPE")
            op = new
        x, y = op.inputs[0], op.outputs[0]
        if tuple(x.shape) == tuple(y.shape) and quant_equal(x, y):
            g = bypass(graph, op, x)
            if g is not None:
                note(log, "merge_reshapes", "removed", [op], f"RESHAPE to the same shape {list(x.shape)}")
                graph = g
    return graph


# ---- MEAN over H,W -> AVERAGE_POOL_2D ---------------------------------------------------------------

EXHAUSTIVE_LIMIT = 1 << 24   # sums checked one by one when proving int MEAN == AVERAGE_POOL


def _mean_multiplier(s_in: float, s_out: float, n: int) -> tuple[int, int]:
    """LiteRT QuantizedMeanOrSum's multiplier with 1/n folded in (see backends/generic_c/reduce.py)."""
    mult, shift = quantize_multiplier(f32(s_in) / f32(s_out))
    s = min(n.bit_length() - 1, 32, 31 + shift)
    return int((mult << s) // n), shift - s


def int_mean_equals_avgpool(dtype: str, scale: float, zp: int, n: int) -> bool:
    """Every possible sum of n values: LiteRT's quantized MEAN (input and output quantization equal)
    gives what its quantized AVERAGE_POOL_2D gives (round half away from zero of sum / n)."""
    lo, hi = QRANGE[dtype]
    if n * (hi - lo) + 1 > EXHAUSTIVE_LIMIT:
        return False
    sums = np.arange(n * lo, n * hi + 1, dtype=np.int64)
    m, s = _mean_multiplier(scale, scale, n)
    mean = np.clip(multiply_by_quantized_multiplier(sums - zp * n, m, s) + zp, lo, hi)
    half = n // 2
    pool = np.where(sums > 0, (sums + half) // n, -((-(sums - half)) // n))  # C truncating division
    pool = np.clip(pool, lo, hi)
    return bool(np.array_equal(mean, pool))


def mean_to_avgpool(graph: Graph, log: list | None = None) -> Graph:
    """MEAN over axes (1, 2) of a 4-D NHWC tensor with keep_dims -> AVERAGE_POOL_2D with an H x W
    window (VALID, stride 1, no activation). float32: both kernels sum the window in the same (row,
    column) order and divide by H*W. int8/int16: only with identical input and output quantization
    and when the MEAN's fixed-point multiplier and the pool's rounded division agree on every
    possible sum (checked exhaustively at compile time)."""
    pools = {}   # MEAN -> its AVERAGE_POOL_2D, put in place once at the end
    for op in graph.ops:
        if op.kind != "MEAN":
            continue
        x, y = op.inputs[0], op.outputs[0]
        axes = reduce_axes(op) if op.inputs[1] is not None else None
        if axes != [1, 2] or len(x.shape) != 4 or not op.attrs.get("keep_dims"):
            note(log, "mean_to_avgpool", "kept", [op], f"axes {axes}, keep_dims {op.attrs.get('keep_dims')}: "
                 "only MEAN over H,W of NHWC with keep_dims is a pool")
            continue
        if x.dtype not in ("float32", "int8", "int16"):
            continue
        n_elems = x.shape[1] * x.shape[2]
        if x.dtype != "float32":
            if not quant_equal(x, y):
                note(log, "mean_to_avgpool", "kept", [op], "input and output quantization differ (MEAN "
                     "requantizes, AVERAGE_POOL_2D does not)")
                continue
            if not int_mean_equals_avgpool(x.dtype, x.quant.s, x.quant.zp, n_elems):
                note(log, "mean_to_avgpool", "kept", [op], f"MEAN's fixed-point 1/{n_elems} rounds differently "
                     "from AVERAGE_POOL_2D's division for some sums")
                continue
        pool = Op("AVERAGE_POOL_2D", [x], [y], {
            "activation": "NONE", "padding": "VALID", "stride_h": 1, "stride_w": 1,
            "filter_h": x.shape[1], "filter_w": x.shape[2]}, op.index, 2 if x.dtype != "float32" else 1,
            op.sources)
        note(log, "mean_to_avgpool", "rewritten", [op], f"MEAN over {x.shape[1]}x{x.shape[2]} -> AVERAGE_POOL_2D")
        pools[op] = pool
    return with_ops(graph, [pools.get(o, o) for o in graph.ops]) if pools else graph
