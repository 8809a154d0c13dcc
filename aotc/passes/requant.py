"""Requantization clean-up, each rewrite proven exact over every value the input type can hold.

- identity QUANTIZE (integer in, same dtype, same float32 scale and zero point): LiteRT's Requantize
  multiplies by QuantizeMultiplier(1.0), the identity, so the op copies; it is removed.
- DEQUANTIZE -> QUANTIZE back to the DEQUANTIZE input's dtype and quantization: removed when the
  float round trip returns every integer of the type unchanged (checked exhaustively with numpy
  mirrors of LiteRT's Dequantize, float(double(s) * (q - zp)), and AffineQuantize,
  round(f / float(s)) + zp). The DEQUANTIZE stays if something else reads its float output.
- QUANTIZE(int -> int) -> QUANTIZE(int -> int): merged into one requantization when the two-step
  result equals the one-step result for every input value (exhaustive check of LiteRT's
  Requantize: MultiplyByQuantizedMultiplier(q - zp_in, QuantizeMultiplier(s_in / s_out)) + zp_out,
  clamped); otherwise kept. float -> int -> int chains are kept (a float input cannot be enumerated).
QUANTIZE folding into a producer is not done (it needs kernel support for another output scale)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..ir import Graph
from ..ops.quantize import dequantize_numpy
from ..quant import QRANGE, f32, multiply_by_quantized_multiplier, quantize_multiplier
from .util import bypass, drop_unread, note, quant_equal, with_ops

NAME = "requantize"
INTS = ("int8", "uint8", "int16")


def _values(dtype: str) -> np.ndarray:
    lo, hi = QRANGE[dtype]
    return np.arange(lo, hi + 1, dtype=np.int64)


def requantize_numpy(q: np.ndarray, src, dst) -> np.ndarray:
    """LiteRT Requantize (int -> int), as the generic kernels compute it."""
    m, s = quantize_multiplier(f32(src.quant.s) / f32(dst.quant.s))
    out = multiply_by_quantized_multiplier(np.asarray(q, np.int64) - src.quant.zp, m, s) + dst.quant.zp
    lo, hi = QRANGE[dst.dtype]
    return np.clip(out, lo, hi)


def affine_quantize_numpy(f: np.ndarray, dst) -> np.ndarray:
    """LiteRT AffineQuantize: round-half-away(f / float(scale)) + zp, clamped."""
    with np.errstate(all="ignore"):
        v = np.asarray(f, np.float32) / np.float32(dst.quant.s)
    r = np.where(v >= 0, np.floor(v.astype(np.float64) + 0.5), -np.floor(-v.astype(np.float64) + 0.5))
    if not np.all(np.isfinite(r)):
        return None
    lo, hi = QRANGE[dst.dtype]
    return np.clip(r.astype(np.int64) + dst.quant.zp, lo, hi)


def round_trip_exact(t) -> bool:
    """DEQUANTIZE then QUANTIZE with t's own quantization returns every value of t's dtype."""
    q = _values(t.dtype)
    with np.errstate(all="ignore"):
        f = dequantize_numpy(q, t.quant, q.shape)
    back = affine_quantize_numpy(f, t)
    return back is not None and np.array_equal(back, q)


def merge_exact(a, b, c) -> bool:
    """Requantize a -> b -> c equals a -> c for every value of a's dtype."""
    q = _values(a.dtype)
    try:
        return np.array_equal(requantize_numpy(requantize_numpy(q, a, b), b, c), requantize_numpy(q, a, c))
    except OverflowError:   # scales no kernel can use: leave the ops for the lowering to reject
        return False


def _per_tensor(t) -> bool:
    return t.quant is not None and not t.quant.per_channel


def requantize(graph: Graph, log: list | None = None) -> Graph:
    for op in list(graph.ops):
        if op.kind != "QUANTIZE" or op not in graph.ops:
            continue
        x, y = op.inputs[0], op.outputs[0]
        if not _per_tensor(y):
            continue
        # 1. identity requantization
        if x.dtype in INTS and quant_equal(x, y):
            g = bypass(graph, op, x)
            if g is None:
                note(log, NAME, "kept", [op], "identity QUANTIZE between a graph input and output")
                continue
            note(log, NAME, "removed", [op], f"identity QUANTIZE ({y.dtype}, scale {y.quant.s:g}, zp {y.quant.zp})")
            graph = g
            continue
        prod = next((o for o in graph.ops if any(t is x for t in o.outputs)), None)
        if prod is None:
            continue
        # 2. DEQUANTIZE -> QUANTIZE round trip
        if prod.kind == "DEQUANTIZE" and x.dtype == "float32":
            q = prod.inputs[0]
            if not (_per_tensor(q) and q.dtype in INTS and quant_equal(q, y)):
                note(log, NAME, "kept", [prod, op], "QUANTIZE does not return to the DEQUANTIZE input's "
                     "quantization")
                continue
            if not round_trip_exact(q):
                note(log, NAME, "kept", [prod, op], "the float round trip does not return every value")
                continue
            g = bypass(graph, op, q)
            if g is None:
                note(log, NAME, "kept", [prod, op], "round trip between a graph input and output")
                continue
            note(log, NAME, "removed", [prod, op], f"DEQUANTIZE -> QUANTIZE round trip ({q.dtype})")
            graph = drop_unread(g, [prod])
            continue
        # 3. consecutive integer requantizations
        if prod.kind == "QUANTIZE" and x.dtype in INTS and prod.inputs[0].dtype in INTS:
            a = prod.inputs[0]
            if not (_per_tensor(a) and _per_tensor(x)):
                continue
            if a.dtype == "int16" and y.dtype == "int16" and (a.quant.zp or y.quant.zp):
                note(log, NAME, "kept", [prod, op], "int16 -> int16 needs zero points 0")
                continue
            if y.dtype not in {"int8": INTS, "uint8": INTS, "int16": ("int8", "int16")}[a.dtype]:
                note(log, NAME, "kept", [prod, op], f"no single {a.dtype} -> {y.dtype} QUANTIZE")
                continue
            if not merge_exact(a, x, y):
                note(log, NAME, "kept", [prod, op], "the two requantizations round differently from one")
                continue
            merged = replace(op, inputs=[a], sources=prod.sources + op.sources)
            note(log, NAME, "fused", [prod, op], f"{a.dtype} -> {x.dtype} -> {y.dtype} requantizations merged")
            g = with_ops(graph, [merged if o is op else o for o in graph.ops])
            graph = drop_unread(g, [prod])
    return graph
