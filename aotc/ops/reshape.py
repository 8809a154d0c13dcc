"""RESHAPE and SQUEEZE: no data movement; the output aliases the input buffer."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .registry import OpDef, expect_inputs, op


def _check_same_elements(op: Op) -> None:
    x, y = op.inputs[0], op.outputs[0]
    if x.size != y.size:
        raise op.error(f"reshapes {list(x.shape)} ({x.size} elements) to {list(y.shape)} "
                       f"({y.size} elements)", y)
    if x.dtype != y.dtype:
        raise op.error(f"input type {x.dtype} differs from output type {y.dtype}", y)


@op("RESHAPE")
class Reshape(OpDef):
    options = "ReshapeOptions"
    max_version = 2

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1, 2)
        _check_same_elements(op)

    def evaluate(self, op, values):
        return [values[0].reshape(op.outputs[0].shape)]


@op("SQUEEZE")
class Squeeze(OpDef):
    options = "SqueezeOptions"
    max_version = 2

    def parse(self, opts) -> dict:
        dims = [int(d) for d in opts.SqueezeDimsAsNumpy()] if opts is not None and opts.SqueezeDimsLength() else []
        return {"squeeze_dims": dims}

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 1)
        _check_same_elements(op)

    def evaluate(self, op, values):
        return [np.reshape(values[0], op.outputs[0].shape)]
