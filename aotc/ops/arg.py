"""ARG_MAX / ARG_MIN: the index of the largest / smallest value along one constant axis.

LiteRT (optimized_ops::ArgMinMax, also what its reference resolver registers) and TFLM keep the
first index among equal values (strict comparison). float32 is NaN-aware: a NaN never replaces the
current value and a number always replaces a NaN, so an all-NaN row gives index 0. Inputs are
compared as stored (no quantization involved).
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .reduce import single_axis
from .registry import OpDef, expect_dtype, expect_inputs, op

OUTPUT_TYPES = {2: "int32", 4: "int64"}   # tflite TensorType


class _ArgMinMax(OpDef):
    max_version = 2
    types = ("float32", "int8", "uint8", "int32", "bool")
    is_max = True

    def parse(self, opts) -> dict:
        code = opts.OutputType() if opts is not None else 4
        return {"output_type": OUTPUT_TYPES.get(code, f"UNKNOWN({code})")}

    def check(self, op: Op, graph: Graph) -> None:
        expect_inputs(op, 2)
        x, y = op.inputs[0], op.outputs[0]
        expect_dtype(op, x, *self.types)
        expect_dtype(op, y, "int32", "int64")
        if op.attrs["output_type"] != y.dtype:
            raise op.error(f"output_type {op.attrs['output_type']} does not match the output tensor's "
                           f"type {y.dtype}", y)
        if len(x.shape) < 1:
            raise op.error("input must have at least one dimension", x)
        axis = single_axis(op, ("int32", "int64"))
        if axis is None:
            return
        if x.shape[axis] == 0:
            raise op.error("cannot take ARG_MAX/ARG_MIN over an empty axis", x)
        expect = [s for d, s in enumerate(x.shape) if d != axis]
        if list(y.shape) != expect:
            raise op.error(f"output shape {list(y.shape)} should be {expect}", y)

    def evaluate(self, op, values):
        x = values[0]
        axis = single_axis(op, ("int32", "int64"))
        if axis is None or x.dtype.kind == "f":
            return None
        idx = np.argmax(x, axis=axis) if self.is_max else np.argmin(x, axis=axis)  # first index on ties
        return [idx.astype(op.outputs[0].dtype)]


@op("ARG_MAX")
class ArgMax(_ArgMinMax):
    options = "ArgMaxOptions"
    is_max = True


@op("ARG_MIN")
class ArgMin(_ArgMinMax):
    options = "ArgMinOptions"
    is_max = False
