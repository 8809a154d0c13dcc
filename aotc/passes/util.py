"""Helpers the graph passes share: exact quantization equality, rewiring, a decision log."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..ir import Graph, Op, Tensor


def quant_equal(a: Tensor, b: Tensor) -> bool:
    """Same dtype and the same per-tensor quantization as the kernels read it (float32 scale, zero
    point); float tensors without quantization are equal when their dtypes are."""
    if a.dtype != b.dtype:
        return False
    if a.quant is None or b.quant is None:
        return a.quant is None and b.quant is None and a.dtype == "float32"
    if a.quant.per_channel or b.quant.per_channel:
        return False
    return (float(np.float32(a.quant.s)) == float(np.float32(b.quant.s))
            and a.quant.zp == b.quant.zp)


def note(log: list | None, pass_name: str, action: str, ops, detail: str) -> None:
    """Record one decision: action is "fused", "removed", "rewritten" or "kept"."""
    if log is not None:
        srcs = []
        for op in ops:
            srcs.extend(op.sources)
        log.append({"pass": pass_name, "action": action, "kinds": [op.kind for op in ops],
                    "source_ops": srcs, "detail": detail})


def with_ops(graph: Graph, ops: list[Op], outputs: list[Tensor] | None = None) -> Graph:
    return Graph(ops, graph.inputs, graph.outputs if outputs is None else outputs, graph.tensors, graph.name)


def substitute_input(ops: list[Op], old: Tensor, new: Tensor) -> list[Op]:
    """Every op reading `old` reads `new` instead (new Op objects where something changed)."""
    out = []
    for op in ops:
        if any(t is old for t in op.inputs):
            op = replace(op, inputs=[new if t is old else t for t in op.inputs])
        out.append(op)
    return out


def bypass(graph: Graph, op: Op, src: Tensor) -> Graph | None:
    """Remove `op`, whose output holds exactly the values (and shape, type, quantization) of `src`.
    Readers of the output read `src`; when the output is a graph output, the producer of `src`
    writes it directly instead (only if `src` has no other reader and is neither a graph input nor
    output). None when neither is possible; ops left without readers are then dropped by the caller."""
    y = op.outputs[0]
    ops = [o for o in graph.ops if o is not op]
    if y not in graph.outputs:
        return with_ops(graph, substitute_input(ops, y, src))
    if src.is_const or src in graph.inputs or src in graph.outputs:
        return None
    readers = [o for o in ops if any(t is src for t in o.inputs)]
    if readers:
        return None
    if tuple(src.shape) != tuple(y.shape) or not quant_equal(src, y):
        return None
    new_ops = []
    for o in ops:
        if any(t is src for t in o.outputs):
            o = replace(o, outputs=[y if t is src else t for t in o.outputs], sources=o.sources + op.sources)
        new_ops.append(o)
    return with_ops(graph, substitute_input(new_ops, src, y))


def drop_unread(graph: Graph, candidates) -> Graph:
    """Drop the candidate ops none of whose outputs is read or is a graph output (repeatedly)."""
    cand = set(candidates)
    changed = True
    ops = list(graph.ops)
    while changed:
        changed = False
        read = {t for o in ops for t in o.inputs if t is not None}
        keep = []
        for o in ops:
            if o in cand and not any(t in read or t in graph.outputs for t in o.outputs):
                changed = True
                continue
            keep.append(o)
        ops = keep
    return with_ops(graph, ops)


def readers(graph: Graph, t: Tensor) -> list[Op]:
    return [o for o in graph.ops if any(i is t for i in o.inputs)]


def producer(graph: Graph, t: Tensor) -> Op | None:
    for o in graph.ops:
        if any(x is t for x in o.outputs):
            return o
    return None
