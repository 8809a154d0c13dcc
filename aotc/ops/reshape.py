"""RESHAPE, SQUEEZE and EXPAND_DIMS: no data movement; the output aliases the input buffer.

LiteRT's RESHAPE and SQUEEZE copy the stored values whatever the quantization says; EXPAND_DIMS
requires the output's scale and zero point to equal the input's (and zero point 0 for int16)."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .registry import OpDef, expect_inputs, op, same_quant

VIEW_TYPES = ("float32", "int8", "int16", "int32", "int64", "bool", "uint8")


def _check_same_elements(op: Op) -> None:
    x, y = op.inputs[0], op.outputs[0]
    if x.size != y.size:
        raise op.error(f"reshapes {list(x.shape)} ({x.size} elements) to {list(y.shape)} "
                       f"({y.size} elements)", y)
    if x.dtype != y.dtype:
        raise op.error(f"input type {x.dtype} differs from output type {y.dtype}", y)
    if x.dtype not in VIEW_TYPES:
        raise op.error(f"type {x.dtype} is not supported by {op.kind} "
                       f"(supported: {', '.join(VIEW_TYPES)})", x)


@op("RESHAPE")
class Reshape(OpDef):
    options = "ReshapeOptions"
    max_version = 2
    types = VIEW_TYPES

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1, 2)
        _check_same_elements(op)

    def evaluate(self, op, values):
        return [values[0].reshape(op.outputs[0].shape)]


@op("SQUEEZE")
class Squeeze(OpDef):
    options = "SqueezeOptions"
    max_version = 2
    types = VIEW_TYPES

    def parse(self, opts) -> dict:
        dims = [int(d) for d in opts.SqueezeDimsAsNumpy()] if opts is not None and opts.SqueezeDimsLength() else []
        return {"squeeze_dims": dims}

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1)
        _check_same_elements(op)

    def evaluate(self, op, values):
        return [np.reshape(values[0], op.outputs[0].shape)]


def expand_dims_axis(op: Op) -> int | None:
    """The inserted axis (in output coordinates), None when the axis tensor is not constant."""
    x, a = op.inputs[0], op.inputs[1]
    if a.dtype not in ("int32", "int64"):
        raise op.error(f"axis must be int32 or int64, got {a.dtype}", a)
    if a.size != 1:
        raise op.error(f"axis must hold one value, has {a.size}", a)
    if not a.is_const:
        return None
    axis = int(np.asarray(a.data).reshape(-1)[0])
    rank = len(x.shape)
    if axis < 0:
        axis += rank + 1
    if not 0 <= axis <= rank:
        raise op.error(f"axis {int(np.asarray(a.data).reshape(-1)[0])} is out of range for input rank {rank}", a)
    return axis


@op("EXPAND_DIMS")
class ExpandDims(OpDef):
    options = "ExpandDimsOptions"
    max_version = 1
    types = VIEW_TYPES

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        _check_same_elements(op)
        x, y = op.inputs[0], op.outputs[0]
        if x.dtype in ("int8", "int16") and not same_quant(x, y):
            raise op.error("output quantization differs from the input's (LiteRT rejects it too)", y)
        if x.dtype == "int16" and x.quant is not None and x.quant.zp != 0:
            raise op.error("int16 input must have zero point 0", x)
        axis = expand_dims_axis(op)
        if axis is not None:
            expect = list(x.shape[:axis]) + [1] + list(x.shape[axis:])
            if list(y.shape) != expect:
                raise op.error(f"output shape {list(y.shape)} should be {expect}", y)

    def evaluate(self, op, values):
        return [np.reshape(values[0], op.outputs[0].shape)]
