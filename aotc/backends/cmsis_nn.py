"""cmsis_nn: Arm's CMSIS-NN kernels (v7.x API) for the Cortex-M targets.

Each lowering mirrors the call protocol of TFLM's CMSIS-NN glue (tensorflow/lite/micro/kernels/
cmsis_nn/*.cc): the same dims, parameters and quantization, all computed here at compile time. The
call snippets (codegen_templates/cmsis_nn/*.c.j2) define the CMSIS-NN structs as `static const` data
from literals (in flash: no stores at run time, no stack), except a context pointing at arena scratch;
per-channel multipliers/shifts, the int16 softmax tables and the fully-connected kernel sums that the
MVE kernels want (TFLM computes them with arm_vector_sum_s8 at Prepare and keeps them in its arena) are
ConstArrays in flash. The kernel sums carry the bias, which the Helium kernels never read otherwise, so
on MVE the bias array is not passed and not linked (the call declares requires=("mve")).

Scratch sizes are computed for the target's features (options.features overrides the target file's
list: verify builds CMSIS-NN on the host, where it takes its portable C path, and sets features=()),
mirroring arm_*_get_buffer_size_{mve,dsp} and the plain-C get_buffer_size; `scratch_check` is CMSIS-NN's
own *_get_buffer_size call, checked by a -D<NAME>_DEBUG build of the generated init.

Rounding: CMSIS-NN follows TFLM (double rounding everywhere). With options.exact == "litert" the ops
whose TFLM arithmetic can differ from LiteRT's reference kernels (FULLY_CONNECTED, int16 SOFTMAX,
int16 ADD, MUL) are lowered by generic_c instead, which follows options.rounding.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..memory.overlap import raster_trail
from ..ops.registry import window_padding
from ..quant import activation_range, f32, per_channel_multipliers, quantize_multiplier
from .base import Backend, ConstArray, KernelCall, ScratchRef, TensorRef, lowering_registry, same_layout_inputs

INCLUDES = ("arm_nnfunctions.h",)
LOWERINGS, lowering = lowering_registry()

# CMSIS-NN's CONVERT_DW_CONV_WITH_ONE_INPUT_CH_AND_OUTPUT_CH_ABOVE_THRESHOLD is 8 under armclang and 1
# otherwise; 1 gives the larger (safe) MVE scratch size for every compiler.
DW_ONE_IN_CH_THRESHOLD = 1
CH_IN_BLOCK_MVE = 124
# int8 convolutions whose kernel row (k_w * input channels) is at most this many bytes gather their
# windows a row at a time (runtime/aotc/cmsis_conv.h); measured on the emulated M55, wider rows are
# as fast or faster in arm_convolve_s8's own per-pixel gather (resnet8: 48-byte rows 44k instructions
# fewer a layer, 96-byte rows 11k more)
GATHER_ROW_BYTES = 48

# ops routed to generic_c under exact="litert": where TFLM's (and so CMSIS-NN's) arithmetic can differ
# from LiteRT's reference kernels (see the notes on rounding)
LITERT_DIFFERS = {
    "FULLY_CONNECTED": "FULLY_CONNECTED requantizes in double rounding in CMSIS-NN, in float in LiteRT",
    "SOFTMAX": "int16 SOFTMAX tables and multiplier differ between TFLM/CMSIS-NN and LiteRT",
    "ADD": "int16 ADD: CMSIS-NN always takes the general path, LiteRT the power-of-two path when it can",
    "MUL": "MUL multiplier is computed in double by TFLM/CMSIS-NN, in float by LiteRT",
}


def features(options) -> tuple[str, ...]:
    """The CPU features CMSIS-NN is built for: options.features, else the target file's list."""
    f = getattr(options, "features", None)
    if f is None:
        info = getattr(options, "target_info", None)
        f = info.raw.get("features", ()) if info is not None else ()
    return tuple(f)


def _flavour(options) -> str:
    f = features(options)
    return "mve" if "mve" in f else "dsp" if "dsp" in f else "c"


def _litert_routed(op, options) -> str | None:
    if getattr(options, "exact", None) != "litert":
        return None
    x = op.inputs[0]
    if op.kind == "FULLY_CONNECTED" or op.kind == "MUL" or (op.kind in ("SOFTMAX", "ADD") and x.dtype == "int16"):
        return LITERT_DIFFERS[op.kind]
    return None


def _generic_is_faster(op, options) -> str | None:
    """Ops where aotc's own kernels retire fewer instructions than CMSIS-NN's on a Helium (MVE)
    target, measured on the emulated Cortex-M55 (`aotc bench --per-op`, both backends): int8 SOFTMAX
    (compile-time tables: 3-5x fewer), int8 DEPTHWISE_CONV_2D with a depth multiplier above 1,
    which CMSIS-NN runs on its generic path (micro_speech 746k against 996k), and int8 ADD of equal
    shapes (tabulated input rescales). Decided by the target's
    features, not the build's, so that the host verification runs the code the target runs."""
    info = getattr(options, "target_info", None)
    if info is None or "mve" not in info.raw.get("features", ()) or op.inputs[0].dtype != "int8":
        return None
    if op.kind == "SOFTMAX":
        return "int8 SOFTMAX: aotc's table kernel is faster than CMSIS-NN's on Helium"
    if op.kind == "DEPTHWISE_CONV_2D" and op.attrs.get("depth_multiplier", 1) > 1:
        return "depth multiplier > 1: CMSIS-NN takes its generic path, aotc's Helium kernel is faster"
    if op.kind == "ADD" and op.inputs[0].shape == op.inputs[1].shape:
        return "int8 ADD: aotc tabulates the input rescales at compile time, faster per element"
    return None


class CmsisNN(Backend):
    name = "cmsis_nn"
    lowerings = LOWERINGS

    def lower(self, op, options) -> KernelCall:
        from . import BACKENDS
        why = _litert_routed(op, options)
        if why is not None:
            call = BACKENDS["generic_c"].lower(op, options)
            call.note = f"exact=litert: generic_c instead of cmsis_nn ({why})"
            return call
        why = _generic_is_faster(op, options)
        if why is not None:
            call = BACKENDS["generic_c"].lower(op, options)
            call.note = f"generic_c instead of cmsis_nn ({why})"
            return call
        return self.lowerings[op.kind](op, options)


# ---- helpers --------------------------------------------------------------------------------------

def _call(op, template, fn, args, options, consts=(), scratch=0, check=None, macs=0) -> KernelCall:
    return KernelCall(op, "cmsis_nn", fn, list(args), template=template, scratch_bytes=int(scratch),
                      consts=list(consts), macs=macs, includes=INCLUDES, scratch_check=check)


def _dims(d) -> str:
    return "{" + ", ".join(str(int(v)) for v in d) + "}"


def _ctx(scratch: int):
    return (ScratchRef("void"), scratch) if scratch > 0 else ("NULL", 0)


def _is_const_or_none(t) -> bool:
    return t is None or t.is_const


def _int4_refusal(op) -> str:
    """int4 (packed) filters: CMSIS-NN has s4 kernels, but they are not mapped here; generic_c runs them."""
    return f"{op.kind}: int4 filters are not mapped to CMSIS-NN's s4 kernels (left to generic_c)"


def _quant_ok(op, *tensors) -> tuple[bool, str]:
    for t in tensors:
        if t is not None and t.dtype in ("int8", "int16") and t.quant is None:
            return False, f"{op.kind}: tensor {t.name!r} is not quantized"
    return True, ""


# ---- CONV_2D / DEPTHWISE_CONV_2D ----------------------------------------------------------------

def _conv_supports(op):
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    b = op.input(2)
    if x.dtype not in ("int8", "int16"):
        return False, f"CONV_2D {x.dtype}: CMSIS-NN has integer convolutions only"
    if w.dtype == "int4":
        return False, _int4_refusal(op)
    if w.dtype != "int8" or not w.is_const or not _is_const_or_none(b):
        return False, "CONV_2D: CMSIS-NN needs constant int8 weights and bias"
    if w.quant is None or any(z != 0 for z in w.quant.zero_point):
        return False, "CONV_2D: CMSIS-NN needs symmetric weights (zero point 0)"
    if x.shape[3] != w.shape[3]:
        return False, "CONV_2D: grouped convolution is left to generic_c"
    if x.dtype == "int16" and (x.quant.zp != 0 or y.quant.zp != 0):
        return False, "CONV_2D int16: CMSIS-NN needs zero points 0"
    if x.dtype == "int8" and b is not None and b.dtype != "int32":
        return False, f"CONV_2D int8 with a {b.dtype} bias: CMSIS-NN takes int32"
    return _quant_ok(op, x, y)


def _conv_s8_path(conv, in_dims, f_dims) -> str:
    """The kernel arm_convolve_wrapper_s8 picks: "1x1_fast", "1x1", "1xn" or "im2col" (arm_convolve_s8)."""
    _, h, _, c = in_dims
    _, fh, fw, fc = f_dims
    if (conv["pad_w"] == 0 and conv["pad_h"] == 0 and fw == 1 and fh == 1 and conv["dil_w"] == 1
            and conv["dil_h"] == 1 and c == fc):
        return "1x1_fast" if conv["stride_w"] == 1 and conv["stride_h"] == 1 else "1x1"
    if h == 1 and conv["dil_w"] == 1 and fh == 1 and (conv["stride_w"] * c) % 4 == 0 and c == fc:
        return "1xn"
    return "im2col"


def _conv_buffer_size_s8(flavour, conv, in_dims, f_dims, out_dims) -> int:
    """arm_convolve_wrapper_s8_get_buffer_size{,_mve,_dsp} (conv: dict of params)."""
    n, h, w, c = in_dims
    _, fh, fw, fc = f_dims
    path = _conv_s8_path(conv, in_dims, f_dims)
    is_1x1, fast, is_1xn = path.startswith("1x1"), path == "1x1_fast", path == "1xn"

    def s8_plain():
        rhs_cols = fw * fh * c
        aligned = rhs_cols + (4 - rhs_cols % 4) % 4
        return 2 * aligned * 2

    def s8_mve():
        return 4 * ((c * fw * fh + 15) // 16) * 16

    if is_1x1:
        if not fast:
            return 0
        # arm_convolve_1x1_s8_fast_get_buffer_size: 2*c*2 under armclang with DSP (not MVE), else 0;
        # the larger value is planned so any compiler fits
        return 2 * c * 2 if flavour == "dsp" else 0
    if is_1xn:
        if flavour != "mve":
            return s8_plain()
        in_x, pad_x, k_x, out_x, st = w, conv["pad_w"], fw, out_dims[2], conv["stride_w"]
        total_pad = (out_x - 1) * st + k_x - in_x
        asym = total_pad % 2
        right = max(1, (pad_x + asym + st - 1) // st) if pad_x + asym != 0 else 0
        left = max(1, (pad_x + st - 1) // st) if pad_x != 0 else 0
        no_pad = max(out_x - (right + left), 0)
        if right + no_pad + left != out_x:
            return s8_mve()
        pad_left = pad_x * c
        pad_right = right * c if asym else pad_left
        num_left = k_x * c
        num_right = num_left - c
        return max(num_left + pad_left, num_right + pad_right)
    return s8_mve() if flavour == "mve" else s8_plain()


def _conv_buffer_size_s16(flavour, in_dims, f_dims) -> int:
    c, fh, fw = in_dims[3], f_dims[1], f_dims[2]
    if flavour == "mve":
        return 4 * ((c * fw * fh + 7) // 8) * 8 * 2
    return 2 * c * fw * fh * 2


@lowering("CONV_2D", supports=_conv_supports)
def lower_conv2d(op, options):
    a = op.attrs
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    b = op.input(2)
    out_c, k_h, k_w, wc = w.shape
    pad_h, pad_w = window_padding(op, k_h, k_w)
    lo, hi = activation_range(a["activation"], y)
    mults, shifts = per_channel_multipliers(x.quant.s, w.quant, y.quant.s, out_c)
    mult = ConstArray("mult", "int32_t", np.array(mults, np.int32))
    shift = ConstArray("shift", "int32_t", np.array(shifts, np.int32))
    in_dims = tuple(x.shape)
    f_dims = (1, k_h, k_w, wc)                 # as TFLM fills them
    out_dims = tuple(y.shape)
    conv = dict(stride_h=a["stride_h"], stride_w=a["stride_w"], pad_h=pad_h, pad_w=pad_w,
                dil_h=a["dilation_h"], dil_w=a["dilation_w"])
    flav = _flavour(options)
    s16 = x.dtype == "int16"
    scratch = (_conv_buffer_size_s16(flav, in_dims, f_dims) if s16
               else _conv_buffer_size_s8(flav, conv, in_dims, f_dims, out_dims))
    buf, size = _ctx(scratch)
    in_off, out_off = (0, 0) if s16 else (-x.quant.zp, y.quant.zp)
    params = (f"{{{in_off}, {out_off}, {{{conv['stride_w']}, {conv['stride_h']}}}, {{{pad_w}, {pad_h}}}, "
              f"{{{conv['dil_w']}, {conv['dil_h']}}}, {{{lo}, {hi}}}}}")
    bias = TensorRef(b, True) if b is not None else "NULL"
    sfx = "s16" if s16 else "s8"
    args = [buf, size, params, mult, shift, _dims(in_dims), TensorRef(x, True), _dims(f_dims), TensorRef(w, True),
            _dims((1, 1, 1, out_c)), bias, _dims(out_dims), TensorRef(y),
            "1" if (b is None or b.dtype == "int32") else "0"]
    check = (f"arm_convolve_wrapper_{sfx}_get_buffer_size(&(const cmsis_nn_conv_params){params}, "
             f"&(const cmsis_nn_dims){_dims(in_dims)}, &(const cmsis_nn_dims){_dims(f_dims)}, "
             f"&(const cmsis_nn_dims){_dims(out_dims)})")
    macs = out_dims[0] * out_dims[1] * out_dims[2] * out_c * k_h * k_w * wc
    if (not s16 and flav == "mve" and in_dims[0] == 1 and k_w * in_dims[3] <= GATHER_ROW_BYTES and k_h <= 16
            and _conv_s8_path(conv, in_dims, f_dims) == "im2col"):
        # arm_convolve_s8's GEMM calls, with the gather specialised (runtime/aotc/cmsis_conv.h)
        geom = ConstArray("geom", "int32_t", np.array(
            [*in_dims[1:], *out_dims[1:], k_h, k_w, conv["stride_h"], conv["stride_w"], pad_h, pad_w,
             conv["dil_h"], conv["dil_w"]], np.int32))
        q = ConstArray("q", "int32_t", np.array([in_off, out_off, lo, hi], np.int32))
        call = _call(op, "plain.c.j2", "aotc_cmsis_conv_s8",
                     [TensorRef(x, True), TensorRef(w, True), bias, TensorRef(y), mult, shift, ScratchRef("int8_t"),
                      geom, q], options, [mult, shift, geom, q], scratch, check, macs=macs)
        call.includes = INCLUDES + ("aotc/cmsis_conv.h",)
    else:
        call = _call(op, f"conv_{sfx}.c.j2", f"arm_convolve_wrapper_{sfx}", args, options, [mult, shift], scratch,
                     check, macs=macs)
    if (not s16 and flav == "mve" and (k_h, k_w) == (1, 1) and (pad_h, pad_w) == (0, 0)
            and conv["stride_h"] == conv["stride_w"] == 1 and conv["dil_h"] == conv["dil_w"] == 1):
        # arm_convolve_1x1_s8_fast on Helium: arm_nn_mat_mult_nt_t_s8 takes 4 pixels (lhs rows) at a
        # time through every output channel; the DSP and C paths loop channels outermost and may not
        call.trails = {0: raster_trail((1, in_dims[0] * in_dims[1] * in_dims[2], 1, wc),
                                       (1, out_dims[0] * out_dims[1] * out_dims[2], 1, out_c), 1, 1, batch=4)}
    elif (not s16 and (k_h, k_w) != (1, 1) and in_dims[0] == 1 and in_dims[1] != 1 and wc == in_dims[3]
          and conv["dil_h"] == conv["dil_w"] == 1):
        # arm_convolve_s8 (what the wrapper picks here: not 1x1, not 1xN, one group) copies the
        # windows of 4 (Helium) or 2 output pixels into its im2col buffer, then writes those pixels,
        # in raster order on every path
        call.trails = {0: raster_trail(in_dims, out_dims, 1, 1, (conv["stride_h"], conv["stride_w"]), (pad_h, pad_w))}
    return call


def _dw_supports(op):
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    b = op.input(2)
    if x.dtype not in ("int8", "int16"):
        return False, f"DEPTHWISE_CONV_2D {x.dtype}: CMSIS-NN has integer depthwise convolutions only"
    if w.dtype == "int4":
        return False, _int4_refusal(op)
    if w.dtype != "int8" or not w.is_const or not _is_const_or_none(b):
        return False, "DEPTHWISE_CONV_2D: CMSIS-NN needs constant int8 weights and bias"
    if w.quant is None or any(z != 0 for z in w.quant.zero_point):
        return False, "DEPTHWISE_CONV_2D: CMSIS-NN needs symmetric weights (zero point 0)"
    if x.dtype == "int8" and b is not None and b.dtype != "int32":
        return False, f"DEPTHWISE_CONV_2D int8 with a {b.dtype} bias: CMSIS-NN takes int32"
    if x.dtype == "int16":
        if b is not None and b.dtype != "int64":
            return False, f"DEPTHWISE_CONV_2D int16 with a {b.dtype} bias: CMSIS-NN takes int64"
        if x.quant.zp != 0 or y.quant.zp != 0:
            return False, "DEPTHWISE_CONV_2D int16: CMSIS-NN needs zero points 0"
    if x.shape[0] != 1:
        return False, "DEPTHWISE_CONV_2D: CMSIS-NN's depthwise kernels take batch 1"
    return _quant_ok(op, x, y)


def _dw_buffer_size(flavour, s16, dw, in_dims, f_dims, out_dims) -> int:
    n, _, _, c = in_dims
    _, fh, fw, fc = f_dims
    out_c = out_dims[3]
    dil1 = dw["dil_w"] == 1 and dw["dil_h"] == 1
    if s16:
        if not (dw["ch_mult"] == 1 and dil1 and fw * fh < 512):
            return 0
        if flavour == "mve":
            return 4 * c * fw * fh * 2 + 8
        return c * fw * fh * 2 if flavour == "dsp" else 0
    size = 0
    if flavour == "mve":
        if c == out_c and n == 1 and dil1:
            size = 4 * CH_IN_BLOCK_MVE * fw * fh
        if c == 1 and out_c > DW_ONE_IN_CH_THRESHOLD:
            conv = dict(stride_h=dw["stride_h"], stride_w=dw["stride_w"], pad_h=dw["pad_h"], pad_w=dw["pad_w"],
                        dil_h=dw["dil_h"], dil_w=dw["dil_w"])
            to_conv = _conv_buffer_size_s8("mve", conv, in_dims, (fc, fh, fw, 1), out_dims) + fc * fh * fw
            size = max(size, to_conv)
        return size
    if c == out_c and n == 1 and dil1:
        if fw == 3 and fh == 3 and dw["pad_h"] <= 1 and dw["pad_w"] <= 1:
            return 0
        return c * fw * fh * 2 if flavour == "dsp" else 0
    return 0


@lowering("DEPTHWISE_CONV_2D", supports=_dw_supports)
def lower_depthwise_conv2d(op, options):
    a = op.attrs
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    b = op.input(2)
    _, k_h, k_w, out_c = w.shape
    in_c = x.shape[3]
    pad_h, pad_w = window_padding(op, k_h, k_w)
    lo, hi = activation_range(a["activation"], y)
    mults, shifts = per_channel_multipliers(x.quant.s, w.quant, y.quant.s, out_c)
    mult = ConstArray("mult", "int32_t", np.array(mults, np.int32))
    shift = ConstArray("shift", "int32_t", np.array(shifts, np.int32))
    in_dims, f_dims, out_dims = tuple(x.shape), (1, k_h, k_w, out_c), tuple(y.shape)
    ch_mult = out_c // in_c
    dw = dict(stride_h=a["stride_h"], stride_w=a["stride_w"], pad_h=pad_h, pad_w=pad_w,
              dil_h=a["dilation_h"], dil_w=a["dilation_w"], ch_mult=ch_mult)
    s16 = x.dtype == "int16"
    scratch = _dw_buffer_size(_flavour(options), s16, dw, in_dims, f_dims, out_dims)
    buf, size = _ctx(scratch)
    in_off, out_off = (0, 0) if s16 else (-x.quant.zp, y.quant.zp)
    params = (f"{{{in_off}, {out_off}, {ch_mult}, {{{dw['stride_w']}, {dw['stride_h']}}}, {{{pad_w}, {pad_h}}}, "
              f"{{{dw['dil_w']}, {dw['dil_h']}}}, {{{lo}, {hi}}}}}")
    sfx = "s16" if s16 else "s8"
    args = [buf, size, params, mult, shift, _dims(in_dims), TensorRef(x, True), _dims(f_dims), TensorRef(w, True),
            _dims((1, 1, 1, out_c)), TensorRef(b, True) if b is not None else "NULL", _dims(out_dims), TensorRef(y)]
    check = (f"arm_depthwise_conv_wrapper_{sfx}_get_buffer_size(&(const cmsis_nn_dw_conv_params){params}, "
             f"&(const cmsis_nn_dims){_dims(in_dims)}, &(const cmsis_nn_dims){_dims(f_dims)}, "
             f"&(const cmsis_nn_dims){_dims(out_dims)})")
    call = _call(op, "depthwise.c.j2", f"arm_depthwise_conv_wrapper_{sfx}", args, options, [mult, shift], scratch,
                 check, macs=out_dims[1] * out_dims[2] * out_c * k_h * k_w)
    if not s16 and ch_mult == 1 and in_dims[0] == 1 and dw["dil_h"] == dw["dil_w"] == 1 and in_c <= CH_IN_BLOCK_MVE:
        # arm_depthwise_conv_s8_opt (Helium, DSP), _3x3_s8 and arm_depthwise_conv_s8 all write output
        # pixels in raster order, each after reading its window (Helium: 4 pixels at a time, one
        # channel block when there are at most CH_IN_BLOCK_MVE channels), so the output may trail the input
        call.trails = {0: raster_trail(in_dims, out_dims, 1, 1, (dw["stride_h"], dw["stride_w"]), (pad_h, pad_w))}
    return call


# ---- FULLY_CONNECTED ------------------------------------------------------------------------------

def _fc_supports(op):
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    b = op.input(2)
    if x.dtype not in ("int8", "int16"):
        return False, f"FULLY_CONNECTED {x.dtype}: CMSIS-NN has integer fully-connected kernels only"
    if w.dtype == "int4":
        return False, _int4_refusal(op)
    if w.dtype != "int8" or not w.is_const or not _is_const_or_none(b):
        return False, "FULLY_CONNECTED: CMSIS-NN needs constant int8 weights and bias"
    if len(w.shape) != 2:
        return False, "FULLY_CONNECTED: weights must be 2-D"
    if x.dtype == "int8" and b is not None and b.dtype != "int32":
        return False, f"FULLY_CONNECTED int8 with a {b.dtype} bias: CMSIS-NN takes int32"
    if x.dtype == "int16":
        if b is not None and b.dtype != "int64":
            return False, f"FULLY_CONNECTED int16 with a {b.dtype} bias: CMSIS-NN takes int64"
        if w.quant.per_channel:
            return False, "FULLY_CONNECTED int16 per-channel: CMSIS-NN has a per-tensor int16 kernel only"
        if x.quant.zp != 0 or y.quant.zp != 0 or w.quant.zp != 0:
            return False, "FULLY_CONNECTED int16: CMSIS-NN needs zero points 0"
    if w.quant.per_channel and any(z != 0 for z in w.quant.zero_point):
        return False, "FULLY_CONNECTED per-channel: CMSIS-NN needs symmetric weights"
    return _quant_ok(op, x, y)


@lowering("FULLY_CONNECTED", supports=_fc_supports)
def lower_fully_connected(op, options):
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    b = op.input(2)
    units, depth = w.shape
    batches = x.size // depth
    lo, hi = activation_range(op.attrs["activation"], y)
    s16 = x.dtype == "int16"
    per_channel = w.quant.per_channel
    if per_channel:
        mults, shifts = per_channel_multipliers(x.quant.s, w.quant, y.quant.s, units)
    else:
        m, s = quantize_multiplier(f32(x.quant.s) * f32(w.quant.s) / f32(y.quant.s))
        mults, shifts = [m], [s]
    in_off, f_off, out_off = -x.quant.zp, -w.quant.zp, y.quant.zp
    if per_channel:
        f_off = 0
    params = f"{{{in_off}, {f_off}, {out_off}, {{{lo}, {hi}}}}}"
    in_dims, f_dims = (batches, 1, 1, depth), (depth, 1, 1, units)
    bias_dims, out_dims = (1, 1, 1, units), (batches, 1, 1, units)
    consts = []
    flav = _flavour(options)
    bias = TensorRef(b, True) if b is not None else "NULL"
    if s16:
        args = ["NULL", 0, params, mults[0], shifts[0], _dims(in_dims), TensorRef(x, True), _dims(f_dims),
                TensorRef(w, True), _dims(bias_dims), bias, _dims(out_dims), TensorRef(y)]
        check = f"arm_fully_connected_s16_get_buffer_size(&(const cmsis_nn_dims){_dims(f_dims)})"
        return _call(op, "fc_s16.c.j2", "arm_fully_connected_s16", args, options, consts, 0, check,
                     macs=batches * units * depth)
    if per_channel:
        mult = ConstArray("mult", "int32_t", np.array(mults, np.int32))
        shift = ConstArray("shift", "int32_t", np.array(shifts, np.int32))
        consts += [mult, shift]
        fn = "arm_fully_connected_per_channel_s8"
    else:   # one multiplier: literals in the call, no tables
        mult, shift = mults[0], shifts[0]
        fn = "arm_fully_connected_s8"
    notes = []
    if flav == "mve":
        # arm_vector_sum_s8 at compile time: bias + (row sum + depth * filter_offset) * input_offset.
        # The Helium kernels read the bias only through these sums, so the bias array is not linked.
        wd = w.data.astype(np.int64).reshape(units, depth)
        sums = b.data.astype(np.int64).copy() if b is not None else np.zeros(units, np.int64)
        if in_off:
            sums += (wd.sum(axis=1) + depth * f_off) * in_off
        sums = ((sums + 2**31) % 2**32 - 2**31).astype(np.int32)
        ksum = ConstArray("kernel_sums", "int32_t", sums)
        consts.append(ksum)
        args = [ksum, units * 4]
        bias = "NULL"
        notes.append("kernel sums (bias included) precomputed in flash")
    else:
        args = ["NULL", 0]
    args += [params, mult, shift, _dims(in_dims), TensorRef(x, True), _dims(f_dims),
             TensorRef(w, True), _dims(bias_dims), bias, _dims(out_dims), TensorRef(y)]
    check = f"arm_fully_connected_s8_get_buffer_size(&(const cmsis_nn_dims){_dims(f_dims)})"
    if flav == "mve":
        check = None   # the kernel sums in flash are the buffer; nothing is planned in the arena
    call = _call(op, "fc_s8.c.j2", fn, args, options, consts, 0, check, macs=batches * units * depth)
    if flav == "mve":
        call.requires = ("mve",)
    call.note = "; ".join(notes)
    return call


# ---- pooling -------------------------------------------------------------------------------------

def _pool_supports(op):
    x = op.inputs[0]
    if x.dtype not in ("int8", "int16"):
        return False, f"{op.kind} {x.dtype}: CMSIS-NN has integer pooling only"
    return _quant_ok(op, x, op.outputs[0])


@lowering("AVERAGE_POOL_2D", "MAX_POOL_2D", supports=_pool_supports)
def lower_pool(op, options):
    a = op.attrs
    x, y = op.inputs[0], op.outputs[0]
    n, in_h, in_w, ch = x.shape
    _, out_h, out_w, _ = y.shape
    f_h, f_w = a["filter_h"], a["filter_w"]
    pad_h, pad_w = window_padding(op, f_h, f_w)
    lo, hi = activation_range(a["activation"], y)
    sfx = "s16" if x.dtype == "int16" else "s8"
    avg = op.kind == "AVERAGE_POOL_2D"
    scratch = ch * 4 if (avg and _flavour(options) == "dsp") else 0
    buf, size = _ctx(scratch)
    params = f"{{{{{a['stride_w']}, {a['stride_h']}}}, {{{pad_w}, {pad_h}}}, {{{lo}, {hi}}}}}"
    args = [buf, size, params, _dims((n, in_h, in_w, ch)), TensorRef(x, True), _dims((1, f_h, f_w, 1)),
            _dims((n, out_h, out_w, ch)), TensorRef(y)]
    fn = f"arm_avgpool_{sfx}" if avg else f"arm_max_pool_{sfx}"
    check = f"arm_avgpool_{sfx}_get_buffer_size({out_w}, {ch})" if avg else None
    return _call(op, "pool.c.j2", fn, args, options, (), scratch, check,
                 macs=n * out_h * out_w * ch * f_h * f_w if avg else 0)


# ---- SOFTMAX --------------------------------------------------------------------------------------

def _softmax_supports(op):
    x, y = op.inputs[0], op.outputs[0]
    if x.dtype == "int8" and y.dtype in ("int8", "int16"):
        return _quant_ok(op, x, y)
    if x.dtype == "int16" and y.dtype == "int16":
        if x.quant.zp != 0 or y.quant.zp != 0:
            return False, "SOFTMAX int16: CMSIS-NN needs zero points 0"
        return _quant_ok(op, x, y)
    return False, f"SOFTMAX {x.dtype} -> {y.dtype}: not a CMSIS-NN kernel"


@lowering("SOFTMAX", supports=_softmax_supports)
def lower_softmax(op, options):
    x, y = op.inputs[0], op.outputs[0]
    depth = x.shape[-1]
    rows = x.size // depth if depth else 0
    beta = op.attrs["beta"]
    if x.dtype == "int8":
        # TFLM CalculateSoftmaxParams: PreprocessSoftmaxScaling(beta, s_in, 5) and CalculateInputRadius(5, shift, 31)
        real = min(float(beta) * f32(x.quant.s) * (1 << 26), (1 << 31) - 1.0)
        mult, left_shift = quantize_multiplier(real)
        diff_min = -int(math.floor(1.0 * 31 * (1 << 26) / (1 << left_shift)))
        fn = "arm_softmax_s8" if y.dtype == "int8" else "arm_softmax_s8_s16"
        args = [TensorRef(x, True), rows, depth, mult, left_shift, diff_min, TensorRef(y)]
        return _call(op, "plain.c.j2", fn, args, options)
    # int16: TFLM's SoftmaxPrepare tables (LUTPopulate<int16_t> in float) and multiplier
    from .generic_c.activations import _libm_fn
    from .generic_c.softmax import lut_populate_int16_f32
    expf = _libm_fn("expf")
    fr = np.float32(65535)
    exp_lut = ConstArray("exp_lut", "int16_t", lut_populate_int16_f32(
        lambda v: np.float32(expf(float(v))), np.float32(10.0) / fr, 32767, np.float32(2.0) / fr, 0))
    recip_lut = ConstArray("recip_lut", "int16_t", lut_populate_int16_f32(
        lambda v: np.float32(1.0) / np.float32(np.float32(1.0) + v), np.float32(1.0) / fr, -32768,
        np.float32(2.0) / fr, 0))
    mult, shift = quantize_multiplier(f32(x.quant.s) * f32(beta) / (10.0 / 65535.0))
    args = [TensorRef(x, True), rows, depth, mult, shift, exp_lut, recip_lut, TensorRef(y)]
    return _call(op, "softmax_s16.c.j2", "arm_softmax_s16", args, options, [exp_lut, recip_lut])


# ---- ADD / MUL ------------------------------------------------------------------------------------

def _elementwise_supports(op):
    a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
    if a.dtype not in ("int8", "int16"):
        return False, f"{op.kind} {a.dtype}: CMSIS-NN has int8/int16 elementwise kernels only"
    if tuple(a.shape) != tuple(b.shape) or a.size != y.size:
        return False, f"{op.kind} with broadcasting: CMSIS-NN's elementwise kernels take equal shapes"
    if op.kind == "ADD" and a.dtype == "int16" and (a.quant.zp or b.quant.zp or y.quant.zp):
        return False, "ADD int16: CMSIS-NN needs zero points 0"
    return _quant_ok(op, a, b, y)


@lowering("ADD", "MUL", supports=_elementwise_supports)
def lower_elementwise(op, options):
    """arm_elementwise_add/mul_s8/s16. Every path (Helium: 4 lanes, DSP: 4 or 2 elements, C: one) loads
    a block of both inputs before it stores the same block of the output and never reads it again,
    so the output may overwrite an input of its layout (KernelCall.inplace)."""
    a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
    lo, hi = activation_range(op.attrs["activation"], y)
    sfx = "s16" if a.dtype == "int16" else "s8"
    if op.kind == "MUL":
        m, s = quantize_multiplier(f32(a.quant.s) * f32(b.quant.s) / f32(y.quant.s))   # TFLM: in double
        args = [TensorRef(a, True), TensorRef(b, True), -a.quant.zp, -b.quant.zp, TensorRef(y), y.quant.zp,
                m, s, lo, hi, y.size]
        call = _call(op, "plain.c.j2", f"arm_elementwise_mul_{sfx}", args, options)
        call.inplace = same_layout_inputs(op)
        return call
    left_shift = 15 if a.dtype == "int16" else 20
    s1, s2, so = f32(a.quant.s), f32(b.quant.s), f32(y.quant.s)
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * so))
    args = [TensorRef(a, True), TensorRef(b, True), -a.quant.zp, m1, sh1, -b.quant.zp, m2, sh2, left_shift,
            TensorRef(y), y.quant.zp, mo, sho, lo, hi, y.size]
    call = _call(op, "plain.c.j2", f"arm_elementwise_add_{sfx}", args, options)
    call.inplace = same_layout_inputs(op)
    return call


# ---- the library's sources, for host and cross builds --------------------------------------------

def sources(path=None) -> tuple[list[Path], list[Path]]:
    """(C files, include dirs) of a CMSIS-NN checkout: its integer sources (every Source/**/*.c but the
    _f16/_f32 float kernels, which need ARM_NN_ENABLE_F16/F32) and Include/."""
    path = path or os.environ.get("CMSIS_NN_PATH")
    if not path:
        raise UsageError("CMSIS-NN is needed: pass --cmsis-nn PATH or set CMSIS_NN_PATH")
    root = Path(path)
    if not (root / "Include" / "arm_nnfunctions.h").is_file() or not (root / "Source").is_dir():
        raise UsageError(f"{path}: not a CMSIS-NN checkout (Include/arm_nnfunctions.h or Source/ not found)")
    files = sorted(p for p in (root / "Source").rglob("*.c")
                   if p.is_file() and not p.stem.endswith(("_f16", "_f32")))
    if not files:
        raise UsageError(f"{path}: no C sources under Source/")
    return files, [root / "Include"]
