"""Shape arithmetic that Keras exports around RESHAPE: SHAPE and PACK.

SHAPE has no kernel: it always folds (every shape is static in aotc's IR). PACK folds when its inputs
are constant and otherwise runs as a concatenation (generic_c/data.py); LiteRT requires every input's
scale and zero point to equal the output's.

SHAPE depends only on the static shape of its input, never on its values: `evaluate` therefore accepts
`values[0] is None`, and `folds_from_shapes = True` tells a fold pass that it may evaluate the op
even though its input is not constant.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .registry import OpDef, expect_inputs, expect_quantized, op, same_quant


@op("SHAPE")
class Shape(OpDef):
    options = "ShapeOptions"
    max_version = 1
    types = ("int32", "int64")
    folds_from_shapes = True

    def parse(self, opts) -> dict:
        code = opts.OutType() if opts is not None else 2
        return {"out_type": {2: "int32", 4: "int64"}.get(code, f"type code {code}")}

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1)
        x, y = op.inputs[0], op.outputs[0]
        if y.dtype not in ("int32", "int64"):
            raise op.error(f"output type {y.dtype} is not supported (int32 or int64)", y)
        if tuple(y.shape) != (len(x.shape),):
            raise op.error(f"output shape {list(y.shape)} should be [{len(x.shape)}]", y)

    def evaluate(self, op, values):
        return [np.array(op.inputs[0].shape, dtype=np.int64)]


@op("PACK")
class Pack(OpDef):
    options = "PackOptions"
    max_version = 4
    types = ("float32", "int8", "int16", "int32", "int64")

    def parse(self, opts) -> dict:
        return {"axis": opts.Axis() if opts is not None else 0,
                "values_count": opts.ValuesCount() if opts is not None else 0}

    def check(self, op: Op, graph: Graph) -> None:
        if not op.inputs or any(t is None for t in op.inputs):
            raise op.error("needs at least one input and no omitted inputs")
        x0, y = op.inputs[0], op.outputs[0]
        n = len(op.inputs)
        if op.attrs["values_count"] not in (0, n):
            raise op.error(f"values_count {op.attrs['values_count']} differs from the {n} inputs")
        rank = len(x0.shape) + 1
        axis = op.attrs["axis"]
        if not -rank <= axis < rank:
            raise op.error(f"axis {axis} is out of range for output rank {rank}", y)
        axis = axis + rank if axis < 0 else axis
        for t in op.inputs:
            if tuple(t.shape) != tuple(x0.shape) or t.dtype != y.dtype:
                raise op.error(f"input {list(t.shape)} {t.dtype} does not match input 0 "
                               f"{list(x0.shape)} / output {y.dtype}", t)
            if not same_quant(t, y):
                raise op.error("input quantization differs from the output's (LiteRT rejects it too)", t)
        if y.dtype not in self.types:
            raise op.error(f"type {y.dtype} is not supported by PACK (supported: {', '.join(self.types)})", y)
        expect_quantized(op, y)
        expect = list(x0.shape[:axis]) + [n] + list(x0.shape[axis:])
        if list(y.shape) != expect:
            raise op.error(f"output shape {list(y.shape)} should be {expect}", y)

    def evaluate(self, op, values):
        rank = len(op.inputs[0].shape) + 1
        axis = op.attrs["axis"] + (rank if op.attrs["axis"] < 0 else 0)
        # reshape: a folded scalar may arrive as shape (1,) (np.ascontiguousarray makes 0-d arrays 1-d)
        return [np.stack([np.asarray(v).reshape(t.shape) for v, t in zip(values, op.inputs)], axis=axis)]
