"""Constant folding: an op whose inputs are all constant is evaluated at compile time with its
OpDef.evaluate (numpy, matching LiteRT) and replaced by the constant it produces. Shape arithmetic
that Keras exports (SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE) disappears this way."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..ir import Graph, Op, Tensor, np_dtype
from ..ops import OPS


def fold_constants(graph: Graph) -> Graph:
    """An op whose inputs are all constant (or that needs only input shapes, like SHAPE) and that is
    not a graph output is evaluated with its OpDef.evaluate, when it has one, and replaced by the
    constant it produces."""
    folded: dict[Tensor, Tensor] = {}
    outputs = set(graph.outputs)
    ops: list[Op] = []
    for op in graph.ops:
        inputs = [folded.get(t, t) if t is not None else None for t in op.inputs]
        new_op = replace(op, inputs=inputs)
        opdef = OPS[op.kind]
        all_const = all(t is None or t.is_const for t in inputs) and any(t is not None for t in inputs)
        foldable = (all_const or opdef.folds_from_shapes) and not any(t in outputs for t in op.outputs)
        values = opdef.evaluate(new_op, [t.data if t is not None else None for t in inputs]) if foldable else None
        if values is None:
            ops.append(new_op)
            continue
        for t, v in zip(op.outputs, values):
            data = np.array(v, dtype=np_dtype(t.dtype), order="C").reshape(t.shape)
            data.setflags(write=False)
            folded[t] = replace(t, data=data)
    return Graph(ops, graph.inputs, graph.outputs, graph.tensors, graph.name)


def remove_dead(graph: Graph) -> Graph:
    """Drop ops none of whose outputs reach a graph output."""
    needed = set(graph.outputs)
    keep: list[Op] = []
    for op in reversed(graph.ops):
        if any(t in needed for t in op.outputs):
            keep.append(op)
            needed.update(t for t in op.inputs if t is not None)
    return Graph(list(reversed(keep)), graph.inputs, graph.outputs, graph.tensors, graph.name)
