"""UNIDIRECTIONAL_SEQUENCE_LSTM -> aotc_lstm_f32 (plain float32 LSTM; h and c are variable tensors
the kernel updates in place; scratch holds the four gate vectors of one batch row)."""
from __future__ import annotations

from ..base import KernelCall, ScratchRef, TensorRef, c_literal
from . import lowering

ACT_CODES = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3, "TANH": 4}


@lowering("UNIDIRECTIONAL_SEQUENCE_LSTM")
def lower_lstm(op, options):
    x, y = op.inputs[0], op.outputs[0]
    tm = op.attrs["time_major"]
    steps, batch = (x.shape[0], x.shape[1]) if tm else (x.shape[1], x.shape[0])
    n_in, n_cell = x.shape[2], op.inputs[2].shape[0]
    weights = [TensorRef(op.inputs[i], const=True) for i in (1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15)]
    args = [TensorRef(x, True), *weights, TensorRef(op.inputs[18]), TensorRef(op.inputs[19]), TensorRef(y),
            ScratchRef("float"), batch, steps, n_in, n_cell, int(tm), ACT_CODES[op.attrs["activation"]],
            c_literal(op.attrs["cell_clip"])]
    macs = steps * batch * 4 * n_cell * (n_in + n_cell)
    return KernelCall(op, "generic_c", "aotc_lstm_f32", args, scratch_bytes=4 * 4 * n_cell, macs=macs)
