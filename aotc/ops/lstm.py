"""UNIDIRECTIONAL_SEQUENCE_LSTM: a whole LSTM layer over the time axis.

Inputs (TFLite's 24-input layout): 0 input [batch, time, in] ([time, batch, in] when time_major);
1-4 input_to_{input,forget,cell,output} weights [cell, in]; 5-8 recurrent_to_* weights [cell, out];
9-11 peephole cell_to_{input,forget,output} [cell]; 12-15 gate biases [cell]; 16/17 projection
weights [out, cell] / bias [out]; 18 output state [batch, out] and 19 cell state [batch, cell], both
variable tensors; 20-23 layer-norm coefficients. Output [batch, time, out] (or time-major).

Per step: g_x = act_x(W_x x + R_x h + b_x) for x in (input, forget, cell, output), with sigmoid for
the input/forget/output gates and the fused activation (normally TANH) for the cell gate;
c = f * c + i * g_cell (clipped to +-cell_clip when > 0); h = o * act(c).
aotc implements the plain LSTM (no CIFG, peephole, projection, layer norm) in float32."""
from __future__ import annotations

from ..ir import Graph, Op
from .registry import OpDef, activation, expect_dtype, expect_shape, op

OPTIONAL = {9: "peephole cell_to_input", 10: "peephole cell_to_forget",
            11: "peephole cell_to_output", 16: "projection weights", 17: "projection bias",
            20: "input layer norm", 21: "forget layer norm", 22: "cell layer norm", 23: "output layer norm"}


@op("UNIDIRECTIONAL_SEQUENCE_LSTM")
class UnidirectionalSequenceLstm(OpDef):
    options = "UnidirectionalSequenceLSTMOptions"
    max_version = 4
    types = ("float32",)

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
        if op.inputs[1] is None or op.inputs[5] is None:
            raise op.error("CIFG (coupled input and forget gate) LSTM is not supported")
        for i, what in OPTIONAL.items():
            if op.inputs[i] is not None:
                raise op.error(f"{what} (input {i}) is not supported; aotc runs the plain LSTM only",
                               op.inputs[i])
        if op.inputs[12] is None:
            raise op.error("the input gate bias (input 12) is missing")
        if x.dtype in ("int8", "int16"):
            raise op.error(f"{x.dtype} UNIDIRECTIONAL_SEQUENCE_LSTM is not supported yet (its LiteRT "
                           "arithmetic depends on the op's intermediate tensors, which aotc does not read)", x)
        if x.dtype != "float32":
            raise op.error(f"type {x.dtype} is not supported (supported: float32)", x)
        if op.inputs[2].dtype != "float32":
            raise op.error("hybrid LSTM (float32 activations, quantized weights) is not supported", op.inputs[2])
        if op.attrs["diagonal_recurrent_tensors"]:
            raise op.error("diagonal recurrent tensors are not supported")
        if len(x.shape) != 3:
            raise op.error(f"input must be 3-D, got {list(x.shape)}", x)
        tm = op.attrs["time_major"]
        steps, batch = (x.shape[0], x.shape[1]) if tm else (x.shape[1], x.shape[0])
        n_in = x.shape[2]
        n_cell = op.inputs[2].shape[0] if len(op.inputs[2].shape) == 2 else -1
        n_out = n_cell
        for i in range(1, 5):
            expect_shape(op, op.inputs[i], (n_cell, n_in))
        for i in range(5, 9):
            expect_shape(op, op.inputs[i], (n_cell, n_out))
        for i in range(12, 16):
            expect_shape(op, op.inputs[i], (n_cell,))
        h, c = op.inputs[18], op.inputs[19]
        expect_shape(op, h, (batch, n_out))
        expect_shape(op, c, (batch, n_cell))
        expect_shape(op, y, (steps, batch, n_out) if tm else (batch, steps, n_out))
        for t in (h, c):
            if not t.variable:
                raise op.error("the output and cell state inputs (18, 19) must be variable tensors", t)
        for i in list(range(1, 9)) + list(range(12, 16)):
            t = op.inputs[i]
            if not t.is_const:
                raise op.error("LSTM weights and biases must be constant", t)
        for t in [op.inputs[i] for i in (1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 18, 19)] + [y]:
            expect_dtype(op, t, "float32")
        if op.attrs["activation"] == "NONE":
            # LiteRT's ApplyActivationToVector returns without writing its output for NONE, so its
            # reference computes h from a stale scratch buffer: there is nothing to be exact with.
            raise op.error("activation NONE is not supported (LiteRT's reference leaves h undefined)")
        if op.attrs["activation"] not in ("RELU", "RELU_N1_TO_1", "RELU6", "TANH"):
            raise op.error(f"activation {op.attrs['activation']} is not supported")
