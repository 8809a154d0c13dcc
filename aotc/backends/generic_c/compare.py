"""EQUAL / NOT_EQUAL / GREATER / GREATER_EQUAL / LESS / LESS_EQUAL -> aotc_compare_<op>_<type>.

Unquantized types compare the values. int8 (and int16 with quantization parameters for EQUAL and
NOT_EQUAL; LiteRT 2.3 compares int16 as stored in the others) compare
MultiplyByQuantizedMultiplierSmallerThanOneExp((x - zp) << 8, QuantizeMultiplier(scale)) of each
input, TFLite's ComparisonWithScaling. TFLM computes those parameters for int8 only (its int16 path
compares with zero multipliers), so int16 is refused with rounding "tflm".
"""
from __future__ import annotations

from ...ops.compare import compare_scaled
from ...quant import f32, quantize_multiplier
from ..base import KernelCall, TensorRef
from . import lowering
from .elementwise import SUFFIX, bcast_arg

NAMES = {"EQUAL": "eq", "NOT_EQUAL": "ne", "GREATER": "gt", "GREATER_EQUAL": "ge", "LESS": "lt",
         "LESS_EQUAL": "le"}
LEFT_SHIFT = 8


@lowering(*NAMES, inplace=True)
def lower_compare(op, options):
    a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
    bc, consts = bcast_arg(op, a.shape, b.shape)
    head = [TensorRef(a, True), TensorRef(b, True), TensorRef(y), y.size, bc]
    name = NAMES[op.kind]
    if a.dtype == "int16" and options.rounding == "tflm":
        raise op.error("int16 comparison: TFLM compares int16 with rescaling parameters it never "
                       "computes (compile with rounding \"litert\")", a)
    if not compare_scaled(op):
        return KernelCall(op, "generic_c", f"aotc_compare_{name}_{SUFFIX[a.dtype]}", head, consts=consts)
    args = list(head) + [LEFT_SHIFT]
    for t in (a, b):
        m, s = quantize_multiplier(f32(t.quant.s))
        args += [-t.quant.zp, m, s]
    sfx = "s8" if a.dtype == "int8" else "s16q"
    return KernelCall(op, "generic_c", f"aotc_compare_{name}_{sfx}", args, consts=consts)
