"""ARG_MAX / ARG_MIN -> aotc_arg_{max,min}_<in>_<out> (runtime/aotc/arg.h) over [outer][axis][inner]."""
from __future__ import annotations

import numpy as np

from ...ops.reduce import single_axis
from ..base import KernelCall, TensorRef
from . import lowering

SUFFIX = {"float32": "f32", "int8": "s8", "uint8": "u8", "int32": "s32", "bool": "b",
          "int64": "s64"}


@lowering("ARG_MAX", "ARG_MIN")
def lower_arg(op, options):
    x, y = op.inputs[0], op.outputs[0]
    axis = single_axis(op, ("int32", "int64"))
    if axis is None:
        raise op.error(f"{op.kind} axis must be constant")
    outer = int(np.prod(x.shape[:axis], dtype=np.int64))
    inner = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
    kind = "max" if op.kind == "ARG_MAX" else "min"
    fn = f"aotc_arg_{kind}_{SUFFIX[x.dtype]}_{SUFFIX[y.dtype]}"
    return KernelCall(op, "generic_c", fn, [TensorRef(x, True), TensorRef(y), outer, int(x.shape[axis]), inner],
                      macs=x.size)
