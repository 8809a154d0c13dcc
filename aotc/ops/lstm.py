"""UNIDIRECTIONAL_SEQUENCE_LSTM: a whole LSTM layer over the time axis.

Inputs (TFLite's 24-input layout): 0 input [batch, time, in] ([time, batch, in] when time_major);
1-4 input_to_{input,forget,cell,output} weights [cell, in]; 5-8 recurrent_to_* weights [cell, out];
9-11 peephole cell_to_{input,forget,output} [cell]; 12-15 gate biases [cell]; 16/17 projection
weights [out, cell] / bias [out]; 18 output state [batch, out] and 19 cell state [batch, cell], both
variable tensors; 20-23 layer-norm coefficients. Output [batch, time, out] (or time-major).

Per step: g_x = act_x(W_x x + R_x h + b_x) for x in (input, forget, cell, output), with sigmoid for
the input/forget/output gates and the fused activation (normally TANH) for the cell gate;
c = f * c + i * g_cell (clipped to +-cell_clip when > 0); h = o * act(c).

float32: the plain LSTM (no CIFG, peephole, projection, layer norm).

int8: LiteRT's "8x8_16" integer LSTM (lstm_eval.cc EvalInteger8x8_16), bit-exact with LiteRT's
reference: int8 input, weights and output state, int16 cell state whose scale is a power of two
(2^-15..2^-9), int32 biases, int16 peephole / layer-norm coefficients, int8 projection; the op's five
intermediate tensors give the gate scales (layer norm only; 2^-12 otherwise) and the hidden state's
scale and zero point. CIFG, peephole, layer norm, projection, cell and projection clipping are all
supported. The kernel applies sigmoid/tanh whatever the fused activation says (as LiteRT's does).
Weights must be per-tensor and symmetric. int16 activations (16x8) are refused: LiteRT's sequence LSTM
kernel has no 16x8 path. Hybrid (float32 activations, int8 weights) is refused.

--reference tflm is NOT bit-exact for int8 LSTM: TFLM runs a different integer algorithm (separate
input and recurrent fully-connected layers with double-precision multipliers and a saturating add,
LUT-based int16 Logistic/Tanh, MulElementwise requantization of the cell and hidden updates against
the output state's own scale), which differs from LiteRT's by an LSB here and there; TFLM also
rejects layer-norm LSTM. aotc follows LiteRT for int8 LSTM under either rounding mode."""
from __future__ import annotations

import math

import numpy as np

from ..ir import Graph, Op
from .registry import OpDef, activation, expect_dtype, expect_shape, op

OPTIONAL = {9: "peephole cell_to_input", 10: "peephole cell_to_forget",
            11: "peephole cell_to_output", 16: "projection weights", 17: "projection bias",
            20: "input layer norm", 21: "forget layer norm", 22: "cell layer norm", 23: "output layer norm"}


@op("UNIDIRECTIONAL_SEQUENCE_LSTM")
class UnidirectionalSequenceLstm(OpDef):
    options = "UnidirectionalSequenceLSTMOptions"
    max_version = 4
    types = ("float32", "int8")

    def parse(self, opts) -> dict:
        return {
            "activation": activation(opts),
            "cell_clip": float(opts.CellClip()) if opts is not None else 0.0,
            "proj_clip": float(opts.ProjClip()) if opts is not None else 0.0,
            "time_major": bool(opts.TimeMajor()) if opts is not None else False,
            "asymmetric_quantize_inputs": bool(opts.AsymmetricQuantizeInputs()) if opts is not None else False,
            "diagonal_recurrent_tensors": bool(opts.DiagonalRecurrentTensors()) if opts is not None else False,
        }

    def check(self, op: Op, graph: Graph) -> None:
        if len(op.inputs) != 24:
            raise op.error(f"expects 24 inputs, has {len(op.inputs)}")
        x, y = op.inputs[0], op.outputs[0]
        for i in (0, 2, 3, 4, 6, 7, 8, 13, 14, 15, 18, 19):
            if op.inputs[i] is None:
                raise op.error(f"required input {i} is missing")
        if x.dtype == "int8":
            return self._check_int8(op)
        if op.inputs[1] is None or op.inputs[5] is None:
            raise op.error("CIFG (coupled input and forget gate) LSTM is not supported")
        if x.dtype in ("int16",):
            raise op.error("int16 UNIDIRECTIONAL_SEQUENCE_LSTM is not supported (LiteRT's reference has no "
                           "16x8 sequence LSTM kernel to be exact with; int8 is)", x)
        for i, what in OPTIONAL.items():
            if op.inputs[i] is not None:
                raise op.error(f"{what} (input {i}) is not supported in float32; aotc runs the plain "
                               "float32 LSTM only", op.inputs[i])
        if op.inputs[12] is None:
            raise op.error("the input gate bias (input 12) is missing")
        if x.dtype != "float32":
            raise op.error(f"type {x.dtype} is not supported (supported: float32, int8)", x)
        if op.inputs[2].dtype != "float32":
            raise op.error("hybrid LSTM (float32 activations, quantized weights) is not supported", op.inputs[2])
        self._check_common(op)
        for t in [op.inputs[i] for i in (1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 18, 19)] + [y]:
            expect_dtype(op, t, "float32")
        if op.attrs["activation"] == "NONE":
            # LiteRT's ApplyActivationToVector returns without writing its output for NONE, so its
            # reference computes h from a stale scratch buffer: there is nothing to be exact with.
            raise op.error("activation NONE is not supported (LiteRT's reference leaves h undefined)")
        if op.attrs["activation"] not in ("RELU", "RELU_N1_TO_1", "RELU6", "TANH"):
            raise op.error(f"activation {op.attrs['activation']} is not supported")

    def _check_common(self, op: Op) -> None:
        """Shapes, state tensors and constness shared by the float32 and int8 variants."""
        x, y = op.inputs[0], op.outputs[0]
        if op.attrs["diagonal_recurrent_tensors"]:
            raise op.error("diagonal recurrent tensors are not supported")
        if len(x.shape) != 3:
            raise op.error(f"input must be 3-D, got {list(x.shape)}", x)
        tm = op.attrs["time_major"]
        steps, batch = (x.shape[0], x.shape[1]) if tm else (x.shape[1], x.shape[0])
        n_in = x.shape[2]
        n_cell = op.inputs[2].shape[0] if len(op.inputs[2].shape) == 2 else -1
        proj = op.inputs[16]
        n_out = proj.shape[0] if proj is not None and len(proj.shape) == 2 else n_cell
        cifg = op.inputs[1] is None
        for i in range(2 if cifg else 1, 5):
            expect_shape(op, op.inputs[i], (n_cell, n_in))
        for i in range(6 if cifg else 5, 9):
            expect_shape(op, op.inputs[i], (n_cell, n_out))
        for i in range(12, 16):
            if op.inputs[i] is not None:
                expect_shape(op, op.inputs[i], (n_cell,))
        for i in (9, 10, 11, 20, 21, 22, 23):
            if op.inputs[i] is not None:
                expect_shape(op, op.inputs[i], (n_cell,))
        if proj is not None:
            expect_shape(op, proj, (n_out, n_cell))
        if op.inputs[17] is not None:
            expect_shape(op, op.inputs[17], (n_out,))
        h, c = op.inputs[18], op.inputs[19]
        expect_shape(op, h, (batch, n_out))
        expect_shape(op, c, (batch, n_cell))
        expect_shape(op, y, (steps, batch, n_out) if tm else (batch, steps, n_out))
        for t in (h, c):
            if not t.variable:
                raise op.error("the output and cell state inputs (18, 19) must be variable tensors", t)
        for i in list(range(1, 18)) + list(range(20, 24)):
            t = op.inputs[i]
            if t is not None and not t.is_const:
                raise op.error("LSTM weights, biases and coefficients must be constant", t)
        if op.attrs["cell_clip"] < 0 or op.attrs["proj_clip"] < 0:
            raise op.error("cell_clip and proj_clip must be >= 0")

    def _check_int8(self, op: Op) -> None:
        """LiteRT's 8x8_16 integer LSTM: int8 activations and weights, int16 cell state (power-of-two
        scale), int32 biases, int16 peephole and layer-norm coefficients, five intermediates."""
        x, y = op.inputs[0], op.outputs[0]
        cifg = op.inputs[1] is None
        if cifg != (op.inputs[5] is None):
            raise op.error("CIFG LSTM needs both input_to_input and recurrent_to_input weights absent")
        if cifg != (op.inputs[12] is None):
            raise op.error("the input gate bias (input 12) must be present iff the LSTM is not CIFG")
        p_i, p_f, p_o = (op.inputs[i] is not None for i in (9, 10, 11))
        if not (((p_i or cifg) and p_f and p_o) or not (p_i or p_f or p_o)):
            raise op.error("peephole weights (inputs 9-11) must be all present (cell_to_input only without "
                           "CIFG) or all absent")
        ln = [op.inputs[i] is not None for i in (21, 22, 23)]
        if any(ln) and not all(ln):
            raise op.error("layer norm coefficients (inputs 21-23) must be all present or none")
        if all(ln) and (op.inputs[20] is None) != cifg:
            raise op.error("the input layer norm coefficients (input 20) must be present iff not CIFG")
        if not all(ln) and op.inputs[20] is not None:
            raise op.error("input layer norm coefficients without the other layer norm coefficients")
        if op.inputs[16] is None and op.inputs[17] is not None:
            raise op.error("projection bias without projection weights", op.inputs[17])
        self._check_common(op)
        if (p_f and op.inputs[16] is not None and op.inputs[16].shape[0] != op.inputs[2].shape[0]):
            # LiteRT walks the peephole vector over n_output elements, not n_cell
            raise op.error("peephole with a projection to a different size is not supported (LiteRT's "
                           "integer kernel indexes the peephole weights by the output size)")
        expect_dtype(op, y, "int8")
        for i in range(1, 9):
            t = op.inputs[i]
            if t is not None:
                expect_dtype(op, t, "int8")
        for i in (12, 13, 14, 15, 17):
            if op.inputs[i] is not None:
                expect_dtype(op, op.inputs[i], "int32")
        for i in (9, 10, 11, 20, 21, 22, 23):
            if op.inputs[i] is not None:
                expect_dtype(op, op.inputs[i], "int16")
        if op.inputs[16] is not None:
            expect_dtype(op, op.inputs[16], "int8")
        h, c = op.inputs[18], op.inputs[19]
        expect_dtype(op, h, "int8")
        expect_dtype(op, c, "int16")
        scaled = [x, y, h, c] + [op.inputs[i] for i in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16, 20, 21, 22, 23)]
        for t in scaled:
            if t is None:
                continue
            if t.quant is None:
                raise op.error(f"{t.dtype} tensor has no quantization parameters", t)
            if t.quant.per_channel:
                raise op.error("per-channel quantized LSTM tensors are not supported (LiteRT's integer "
                               "LSTM reads one scale per tensor)", t)
        for i in (1, 2, 3, 4, 5, 6, 7, 8, 16):
            t = op.inputs[i]
            if t is not None and t.quant.zp != 0:
                raise op.error("LSTM weights must be symmetric (zero point 0)", t)
        log2 = math.log2(float(np.float32(c.quant.s))) if c.quant.s > 0 else float("nan")
        if not (abs(log2 - round(log2)) < 1e-3 and -15 <= round(log2) <= -9):
            raise op.error(f"the cell state scale must be a power of two 2^-15..2^-9 (LiteRT's integer LSTM "
                           f"needs it), got {c.quant.s}", c)
        if len(op.intermediates) != 5:
            raise op.error(f"int8 LSTM needs 5 intermediate tensors (gate and hidden quantization), "
                           f"has {len(op.intermediates)}")
        for k in ((0, 1, 2, 3, 4) if all(ln) else (4,)):
            t = op.intermediates[k]
            if t.quant is None:
                raise op.error(f"intermediate {k} has no quantization parameters", t)
        if op.attrs["asymmetric_quantize_inputs"]:
            raise op.error("asymmetric_quantize_inputs applies to hybrid LSTM only")
