"""ADD / SUB / MUL -> aotc_elementwise_{add,sub,mul}_{s8,s16,s16_pot,f32,s32}.

Quantized ADD/SUB follow TFLite's general path: both inputs are offset, shifted left by 20 (int8) or
15 (int16), rescaled to twice the larger input scale with MultiplyByQuantizedMultiplierSmallerThanOneExp,
added, and rescaled to the output. int16 with power-of-two scales and pot_scale_int16 set uses the
LSTM path (a rounding right shift of one input). MUL rescales the product with
MultiplyByQuantizedMultiplier(s1 * s2 / s_out computed in float, as TFLite does).
rounding == "tflm" (TFLM's kernels): int16 ADD/SUB always take the general path (TFLM ignores
pot_scale_int16); the MUL multiplier is double(s1) * double(s2) / double(s_out); int32 ADD ignores the fused
activation.
Broadcasting: the compiler computes the output dims and per-input element strides (0 along broadcast
dims), merged and padded to 6 dims; same-shape operands take a flat loop (bc = NULL).
"""
from __future__ import annotations

import numpy as np

from ...ops.elementwise import broadcast_shape, int16_pot_shifts
from ...quant import activation_range, f32, multiply_by_quantized_multiplier, quantize_multiplier
from ..base import ConstArray, KernelCall, TensorRef, c_literal
from . import lowering

NDIMS = 6
SUFFIX = {"int8": "s8", "int16": "s16", "float32": "f32", "int32": "s32", "int64": "s64", "uint8": "u8",
          "bool": "b"}


def broadcast_table_n(out_shape, *shapes) -> np.ndarray | None:
    """None when every input has the output's shape (a flat loop), else int32[6 * (1 + k)]: the
    output dims, then each input's element strides (0 along its broadcast dims), adjacent dims that
    stay contiguous for every input merged, padded with leading 1s to 6 dims."""
    out = tuple(out_shape)
    if all(tuple(s) == out for s in shapes):
        return None
    n = len(out)

    def strides(shape):
        shape = (1,) * (n - len(shape)) + tuple(shape)
        st, acc = [0] * n, 1
        for i in range(n - 1, -1, -1):
            st[i] = 0 if shape[i] == 1 else acc
            acc *= shape[i]
        return st

    per = [strides(s) for s in shapes]
    dims = [(d,) + tuple(p[i] for p in per) for i, d in enumerate(out) if d != 1]
    merged: list[tuple[int, ...]] = []
    for d, *st in dims:
        if merged:
            pd, *pst = merged[-1]
            if all(px == x * d for px, x in zip(pst, st)):
                merged[-1] = (pd * d, *st)
                continue
        merged.append((d, *st))
    if len(merged) > NDIMS:
        raise ValueError("broadcast needs more than 6 dimensions")
    merged = [(1,) + (0,) * len(shapes)] * (NDIMS - len(merged)) + merged
    table = [m[0] for m in merged]
    for k in range(len(shapes)):
        table += [m[1 + k] for m in merged]
    return np.array(table, dtype=np.int32)


def broadcast_table(shape_a, shape_b) -> np.ndarray | None:
    """None when no broadcasting is needed, else int32[18]: out dims, strides of a, strides of b."""
    if tuple(shape_a) == tuple(shape_b):
        return None
    return broadcast_table_n(broadcast_shape(shape_a, shape_b), shape_a, shape_b)


def bcast_arg(op, *shapes):
    """(C argument, consts) for the broadcast table of the op's inputs against its output."""
    table = broadcast_table_n(op.outputs[0].shape, *shapes)
    if table is None:
        return "NULL", []
    bc = ConstArray("bcast", "int32_t", table)
    return bc, [bc]


def _smaller_than_one(m: float, op, what: str) -> tuple[int, int]:
    if not 0.0 < m < 1.0:
        raise op.error(f"{what} multiplier {m:g} is outside (0, 1)")
    q, s = quantize_multiplier(m)
    return q, s


@lowering("ADD", "SUB", "MUL", inplace=True)
def lower_elementwise(op, options):
    a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
    kind = op.kind.lower()
    table = broadcast_table(a.shape, b.shape)
    consts = []
    bc = "NULL"
    if table is not None:
        bc = ConstArray("bcast", "int32_t", table)
        consts.append(bc)
    head = [TensorRef(a, True), TensorRef(b, True), TensorRef(y), y.size, bc]
    dt = a.dtype
    tflm = options.rounding == "tflm"
    if dt == "int32" and tflm and kind == "add":   # TFLM's int32 ADD clamps to the int32 range only
        lo, hi = -2**31, 2**31 - 1
    elif dt == "int32":   # CalculateActivationRange<int32_t>
        lo, hi = {"NONE": (-2**31, 2**31 - 1), "RELU": (0, 2**31 - 1), "RELU6": (0, 6),
                  "RELU_N1_TO_1": (-1, 1)}[op.attrs["activation"]]
    else:
        lo, hi = activation_range(op.attrs["activation"], y)
    if dt in ("float32", "int32"):
        fn = f"aotc_elementwise_{kind}_{SUFFIX[dt]}"
        return KernelCall(op, "generic_c", fn, head + [c_literal(lo), c_literal(hi)], consts=consts)

    if kind == "mul":
        # TFLite: float s1 * float s2 / float s_out evaluated in float, then widened to double
        real = f32(np.float32(np.float32(a.quant.s) * np.float32(b.quant.s)) / np.float32(y.quant.s))
        if tflm:   # TFLM: double(s1) * double(s2) / double(s_out)
            real = f32(a.quant.s) * f32(b.quant.s) / f32(y.quant.s)
        m, s = quantize_multiplier(real)
        args = head + [-a.quant.zp, -b.quant.zp, m, s, y.quant.zp, lo, hi]
        return KernelCall(op, "generic_c", f"aotc_elementwise_mul_{SUFFIX[dt]}", args, consts=consts)

    pot = None if tflm else int16_pot_shifts(op)
    if pot is not None:
        args = head + [-pot[0], -pot[1], lo, hi]
        return KernelCall(op, "generic_c", f"aotc_elementwise_{kind}_s16_pot", args, consts=consts,
                          note="int16 power-of-two scales")

    left_shift = 15 if dt == "int16" else 20
    s1, s2, so = f32(a.quant.s), f32(b.quant.s), f32(y.quant.s)
    twice_max = float(np.float32(2 * max(np.float32(s1), np.float32(s2))))
    m1, sh1 = _smaller_than_one(s1 / twice_max, op, "input 1")
    m2, sh2 = _smaller_than_one(s2 / twice_max, op, "input 2")
    mo, sho = _smaller_than_one(twice_max / float(np.float32((1 << left_shift) * np.float32(so))), op, "output")
    if dt == "int8" and table is None:
        # each input's rescale depends on its 8-bit value only: two 256-entry tables computed here
        # leave one requantization per element (and let Helium run four lanes with two gathers)
        t1 = _rescale_table(-a.quant.zp, left_shift, m1, sh1)
        t2 = _rescale_table(-b.quant.zp, left_shift, m2, sh2) * (1 if kind == "add" else -1)
        lut1, lut2 = ConstArray("in1_rescaled", "int32_t", t1), ConstArray("in2_rescaled", "int32_t", t2)
        args = [TensorRef(a, True), TensorRef(b, True), TensorRef(y), y.size, lut1, lut2, mo, sho, y.quant.zp, lo, hi]
        return KernelCall(op, "generic_c", "aotc_elementwise_addsub_s8_lut", args, consts=[lut1, lut2],
                          note="input rescales tabulated at compile time")
    args = head + [-a.quant.zp, m1, sh1, -b.quant.zp, m2, sh2, left_shift, mo, sho, y.quant.zp, lo, hi]
    return KernelCall(op, "generic_c", f"aotc_elementwise_{kind}_{SUFFIX[dt]}", args, consts=consts)


def _rescale_table(offset: int, left_shift: int, mult: int, shift: int) -> np.ndarray:
    """TFLite's per-input step of int8 ADD for every stored byte u (as uint8: the index the kernel
    uses): MultiplyByQuantizedMultiplierSmallerThanOneExp((int8(u) + offset) << left_shift)."""
    q = np.arange(256, dtype=np.uint8).view(np.int8).astype(np.int64)
    return multiply_by_quantized_multiplier((q + offset) << left_shift, mult, shift).astype(np.int32)


# ---- MAXIMUM, MINIMUM, FLOOR_DIV, FLOOR_MOD, POW, LOGICAL_AND/OR: on the stored values ----------

PLAIN_FN = {"MAXIMUM": "max", "MINIMUM": "min", "FLOOR_DIV": "floordiv", "FLOOR_MOD": "floormod",
            "POW": "pow", "LOGICAL_AND": "logical_and", "LOGICAL_OR": "logical_or"}


@lowering(*PLAIN_FN, inplace=True)
def lower_plain(op, options):
    a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
    bc, consts = bcast_arg(op, a.shape, b.shape)
    name = PLAIN_FN[op.kind]
    fn = f"aotc_elementwise_{name}" if name.startswith("logical") else f"aotc_elementwise_{name}_{SUFFIX[a.dtype]}"
    return KernelCall(op, "generic_c", fn, [TensorRef(a, True), TensorRef(b, True), TensorRef(y), y.size, bc],
                      consts=consts)


# ---- SQUARED_DIFFERENCE -----------------------------------------------------------------------

@lowering("SQUARED_DIFFERENCE", inplace=True)
def lower_squared_difference(op, options):
    a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
    bc, consts = bcast_arg(op, a.shape, b.shape)
    head = [TensorRef(a, True), TensorRef(b, True), TensorRef(y), y.size, bc]
    dt = a.dtype
    if dt in ("float32", "int32"):
        return KernelCall(op, "generic_c", f"aotc_elementwise_sqdiff_{SUFFIX[dt]}", head, consts=consts)
    tflm = options.rounding == "tflm"
    if dt == "int16" and not tflm:
        raise op.error("int16 SQUARED_DIFFERENCE: LiteRT's reference kernel has no int16 path "
                       "(TFLM has one: compile with rounding \"tflm\")", a)
    left_shift = 7 if dt == "int8" else 0
    s1, s2, so = f32(a.quant.s), f32(b.quant.s), f32(y.quant.s)
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = _smaller_than_one(s1 / twice_max, op, "input 1")
    m2, sh2 = _smaller_than_one(s2 / twice_max, op, "input 2")
    real_out = twice_max * twice_max / float(np.float32(np.float32(1 << (2 * left_shift)) * np.float32(so)))
    if tflm:   # TFLM: QuantizeMultiplier, MultiplyByQuantizedMultiplier (any size)
        mo, sho = quantize_multiplier(real_out)
    else:      # LiteRT: QuantizeMultiplierSmallerThanOneExp (CHECK-fails at 1 and above)
        mo, sho = _smaller_than_one(real_out, op, "output")
    args = head + [-a.quant.zp, m1, sh1, -b.quant.zp, m2, sh2, left_shift, mo, sho, y.quant.zp]
    return KernelCall(op, "generic_c", f"aotc_elementwise_sqdiff_{SUFFIX[dt]}", args, consts=consts)


# ---- DIV --------------------------------------------------------------------------------------

INT32_ACT = {"NONE": (-2**31, 2**31 - 1), "RELU": (0, 2**31 - 1), "RELU6": (0, 6), "RELU_N1_TO_1": (-1, 1)}


@lowering("DIV", inplace=True)
def lower_div(op, options):
    a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
    bc, consts = bcast_arg(op, a.shape, b.shape)
    head = [TensorRef(a, True), TensorRef(b, True), TensorRef(y), y.size, bc]
    dt = a.dtype
    act = op.attrs["activation"]
    if dt == "float32":
        lo, hi = activation_range(act, y)
        return KernelCall(op, "generic_c", "aotc_elementwise_div_f32", head + [c_literal(lo), c_literal(hi)],
                          consts=consts)
    if dt == "int32":
        lo, hi = INT32_ACT[act]
        return KernelCall(op, "generic_c", "aotc_elementwise_div_s32", head + [c_literal(lo), c_literal(hi)],
                          consts=consts)
    if dt == "int16" and options.rounding == "tflm":
        raise op.error("int16 DIV: TFLM has no int16 DIV kernel (LiteRT has: compile with rounding "
                       "\"litert\")", a)
    lo, hi = activation_range(act, y)
    # float s1 / (float s2 * float s_out) in float, then widened (LiteRT and TFLM alike)
    real = f32(np.float32(a.quant.s) / (np.float32(b.quant.s) * np.float32(y.quant.s)))
    m, s = quantize_multiplier(real)
    # the kernel's total shift (s - reciprocal shift - headroom of the dividend) must stay <= 0
    max_shift = 23 if dt == "int8" else 15
    if s > max_shift:
        raise op.error(f"DIV rescale {real:g} is too large (shift {s} > {max_shift}): output scale too "
                       "small for the input scales", y)
    args = head + [-a.quant.zp, -b.quant.zp, m, s, y.quant.zp, lo, hi]
    return KernelCall(op, "generic_c", f"aotc_elementwise_div_{SUFFIX[dt]}", args, consts=consts)


# ---- ADD_N ------------------------------------------------------------------------------------

ADDN_MAX = 8


def _addn_supports(op):
    if len(op.inputs) > ADDN_MAX:
        return False, f"ADD_N with {len(op.inputs)} inputs (the kernel takes at most {ADDN_MAX})"
    return True, ""


@lowering("ADD_N", supports=_addn_supports, inplace=True)
def lower_add_n(op, options):
    y = op.outputs[0]
    if len(op.inputs) > ADDN_MAX:
        raise op.error(f"ADD_N with {len(op.inputs)} inputs is not supported (max {ADDN_MAX})")
    ins = [TensorRef(t, True) for t in op.inputs] + ["NULL"] * (ADDN_MAX - len(op.inputs))
    return KernelCall(op, "generic_c", f"aotc_elementwise_addn_{SUFFIX[y.dtype]}",
                      ins + [TensorRef(y), y.size, len(op.inputs)])


# ---- SELECT, SELECT_V2 ------------------------------------------------------------------------

@lowering("SELECT", "SELECT_V2", inplace=True)
def lower_select(op, options):
    from ...ops.elementwise import select_condition_shape
    c, x, yin, y = op.inputs[0], op.inputs[1], op.inputs[2], op.outputs[0]
    bc, consts = bcast_arg(op, select_condition_shape(op), x.shape, yin.shape)
    return KernelCall(op, "generic_c", f"aotc_elementwise_select_{SUFFIX[x.dtype]}",
                      [TensorRef(c, True), TensorRef(x, True), TensorRef(yin, True), TensorRef(y), y.size, bc],
                      consts=consts)
