"""UNIDIRECTIONAL_SEQUENCE_LSTM -> aotc_lstm_f32 (plain float32 LSTM) and aotc_lstm_s8 (LiteRT's
8x8_16 integer LSTM). h and c are variable tensors the kernels update in place.

int8: everything LiteRT's Prepare derives (PopulateQuantizedLstmParams8x8_16 and
PopulatePrecomputedZPTimesWeightsWithBias in unidirectional_sequence_lstm.cc) is computed here: the
effective scales in float32 (the hidden scale in double, as LiteRT does) -> QuantizeMultiplier pairs,
the zero point times weight row sums folded into the biases, the quantized clips, the layer-norm
variance guards. The C kernel runs only the per-step integer arithmetic."""
from __future__ import annotations

import numpy as np

from ...quant import quantize_multiplier
from ..base import ConstArray, KernelCall, ScratchRef, TensorRef, c_literal
from . import lowering

ACT_CODES = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3, "TANH": 4}

F = np.float32


def _ref(t, dtype=None):
    return TensorRef(t, const=True) if t is not None else "NULL"


def _wrap32(v) -> np.ndarray:
    return ((np.asarray(v, np.int64) + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)


def _zp_times_weights(zp: int, w, bias) -> np.ndarray:
    """PrecomputeZeroPointTimesWeightWithBias: bias (or 0) + zp * row sums of w, in int32."""
    rows = w.shape[0]
    out = np.zeros(rows, np.int64) if bias is None else np.asarray(bias.data, np.int64).reshape(rows)
    if zp != 0:
        out = out + zp * np.asarray(w.data, np.int64).reshape(rows, -1).sum(axis=1)
    return _wrap32(out)


def int8_params(op) -> dict:
    """LiteRT's IntegerLstmParameter for this op (a dict of Python ints / int32 arrays)."""
    ins = op.inputs
    x, h, c, y = ins[0], ins[18], ins[19], op.outputs[0]
    cifg, ln, proj = ins[1] is None, ins[21] is not None, ins[16] is not None
    n_cell = ins[2].shape[0]
    if ln:
        inter = [F(op.intermediates[k].quant.s) for k in range(4)]
    else:
        inter = [F(2.0 ** -12)] * 4
    hidden = op.intermediates[4].quant
    hidden_s, hidden_zp = F(hidden.s), int(hidden.zp)
    s_in, s_h = F(x.quant.s), F(h.quant.s)
    cell_scale = int(round(np.log2(float(F(c.quant.s)))))

    def wscale(i):
        return F(ins[i].quant.s) if ins[i] is not None else F(1.0)

    pairs = []
    for k in range(4):        # input to gate, in float32 as LiteRT: w_scale * input_scale / gate_scale
        pairs.append(quantize_multiplier(float(wscale(1 + k) * s_in / inter[k])) if not (cifg and k == 0)
                     else (0, 0))
    for k in range(4):
        pairs.append(quantize_multiplier(float(wscale(5 + k) * s_h / inter[k])) if not (cifg and k == 0)
                     else (0, 0))
    for i, k in ((9, 0), (10, 1), (11, 3)):   # peephole: double(2^cell_scale) * w / gate, then float
        if ins[i] is not None:
            pairs.append(quantize_multiplier(float(F(2.0 ** cell_scale * float(wscale(i)) / float(inter[k])))))
        else:
            pairs.append((0, 0))
    ln_scales = [wscale(i) if ins[i] is not None else F(1.0) for i in (20, 21, 22, 23)]
    for s in ln_scales:
        pairs.append(quantize_multiplier(float(s)) if ln else (0, 0))
    eff_hidden = F(2.0 ** -15 / float(hidden_s) * 2.0 ** -15)
    pairs.append(quantize_multiplier(float(eff_hidden)))
    pairs.append(quantize_multiplier(float(wscale(16) * hidden_s / s_h)) if proj else (0, 0))
    guards = [max(1, int(F(10000) * s)) for s in ln_scales]
    scales = np.array([v for p in pairs for v in p] + guards, np.int64)

    cell_clip, proj_clip = F(op.attrs["cell_clip"]), F(op.attrs["proj_clip"])
    q_cell_clip = int(min(max(cell_clip / F(c.quant.s), F(-32768.0)), F(32767.0))) if cell_clip > 0 else 0
    q_proj_clip = int(min(max(proj_clip / F(y.quant.s), F(-128.0)), F(127.0))) if proj_clip > 0 else 0

    biases = []
    for k in range(4):
        if cifg and k == 0:
            biases.append(np.zeros(n_cell, np.int32))
        else:
            biases.append(_zp_times_weights(-x.quant.zp, ins[1 + k], None if ln else ins[12 + k]))
    for k in range(4):
        if cifg and k == 0:
            biases.append(np.zeros(n_cell, np.int32))
        else:
            biases.append(_zp_times_weights(-h.quant.zp, ins[5 + k], None))
    proj_bias = _zp_times_weights(hidden_zp, ins[16], ins[17]) if proj else None
    return dict(scales=_wrap32(scales), bias=np.concatenate(biases).astype(np.int32), proj_bias=proj_bias,
                cell_scale=cell_scale, q_cell_clip=q_cell_clip, q_proj_clip=q_proj_clip,
                hidden_zp=hidden_zp, out_zp=int(h.quant.zp))


def _lower_int8(op, batch, steps, n_in, n_cell, tm):
    ins = op.inputs
    p = int8_params(op)
    n_out = ins[18].shape[1]
    ln = ins[21] is not None
    consts = [ConstArray("bias", "int32_t", p["bias"]), ConstArray("scales", "int32_t", p["scales"])]
    proj_b = "NULL"
    if p["proj_bias"] is not None:
        proj_b = ConstArray("proj_bias", "int32_t", p["proj_bias"])
        consts.append(proj_b)
    args = [TensorRef(ins[0], True), *[_ref(ins[i]) for i in range(1, 12)],
            *[_ref(ins[i]) if ln else "NULL" for i in (20, 21, 22, 23)],
            *[_ref(ins[i]) if ln else "NULL" for i in (12, 13, 14, 15)],
            _ref(ins[16]), proj_b, consts[0], consts[1],
            TensorRef(ins[18]), TensorRef(ins[19]), TensorRef(op.outputs[0]), ScratchRef("int16_t"),
            batch, steps, n_in, n_cell, n_out, int(tm), p["cell_scale"], p["q_cell_clip"], p["q_proj_clip"],
            p["hidden_zp"], p["out_zp"]]
    gates = 3 if ins[1] is None else 4
    macs = steps * batch * (gates * n_cell * (n_in + n_out) + (n_out * n_cell if ins[16] is not None else 0))
    scratch = 2 * 5 * n_cell + n_cell
    return KernelCall(op, "generic_c", "aotc_lstm_s8", args, consts=consts, scratch_bytes=scratch, macs=macs)


@lowering("UNIDIRECTIONAL_SEQUENCE_LSTM")
def lower_lstm(op, options):
    x, y = op.inputs[0], op.outputs[0]
    tm = op.attrs["time_major"]
    steps, batch = (x.shape[0], x.shape[1]) if tm else (x.shape[1], x.shape[0])
    n_in, n_cell = x.shape[2], op.inputs[2].shape[0]
    if x.dtype == "int8":
        return _lower_int8(op, batch, steps, n_in, n_cell, tm)
    weights = [TensorRef(op.inputs[i], const=True) for i in (1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15)]
    args = [TensorRef(x, True), *weights, TensorRef(op.inputs[18]), TensorRef(op.inputs[19]), TensorRef(y),
            ScratchRef("float"), batch, steps, n_in, n_cell, int(tm), ACT_CODES[op.attrs["activation"]],
            c_literal(op.attrs["cell_clip"])]
    macs = steps * batch * 4 * n_cell * (n_in + n_cell)
    return KernelCall(op, "generic_c", "aotc_lstm_f32", args, scratch_bytes=4 * 4 * n_cell, macs=macs)
