"""SVDF: a rank-`rank` singular-value-decomposition filter with a memory of `memory` steps.
Per step: the state (a variable tensor, [batch, filters * memory]) shifts left by one, the feature
projection of the input (weights_feature [filters, input]) fills the newest slot of each filter, then
out[b, u] = act(bias[u] + sum_{r < rank} sum_m weights_time[u*rank+r, m] * state[b, u*rank+r, m]).

Full-integer SVDF (int8 input/output, int16 state and weights_time, int32 bias) is requantized twice:
feature -> state with (s_in * s_wf / s_state), time -> output with (s_state * s_wt / s_out); the
integer path applies no activation (LiteRT requires RELU and ignores it; TFLM ignores it too)."""
from __future__ import annotations

from ..ir import Graph, Op
from .registry import OpDef, activation, expect_dtype, expect_quantized, expect_shape, op


@op("SVDF")
class Svdf(OpDef):
    options = "SVDFOptions"
    max_version = 4
    types = ("float32", "int8")

    def parse(self, opts) -> dict:
        return {
            "rank": opts.Rank() if opts is not None else 0,
            "activation": activation(opts),
            "asymmetric_quantize_inputs": bool(opts.AsymmetricQuantizeInputs()) if opts is not None else False,
        }

    def check(self, op: Op, graph: Graph) -> None:
        if len(op.inputs) != 5:
            raise op.error(f"expects 5 inputs, has {len(op.inputs)}")
        for i in (0, 1, 2, 4):
            if op.inputs[i] is None:
                raise op.error(f"required input {i} is missing")
        x, wf, wt, b, state = op.inputs
        y = op.outputs[0]
        if x.dtype == "float32" and wf.dtype == "int8":
            raise op.error("hybrid SVDF (float32 input, int8 weights) is not supported", wf)
        if x.dtype not in self.types:
            raise op.error(f"type {x.dtype} is not supported (supported: float32, int8)", x)
        rank = op.attrs["rank"]
        if len(x.shape) != 2:
            raise op.error(f"input must be 2-D [batch, input_size], got {list(x.shape)}", x)
        if len(wf.shape) != 2 or len(wt.shape) != 2:
            raise op.error("weights_feature and weights_time must be 2-D", wf if len(wf.shape) != 2 else wt)
        batch, n_in = x.shape
        filters, memory = wf.shape[0], wt.shape[1]
        if rank <= 0 or filters % rank:
            raise op.error(f"rank {rank} does not divide the {filters} filters")
        units = filters // rank
        expect_shape(op, wf, (filters, n_in))
        expect_shape(op, wt, (filters, memory))
        expect_shape(op, state, (batch, memory * filters))
        expect_shape(op, y, (batch, units))
        if b is not None:
            expect_shape(op, b, (units,))
        if not state.variable:
            raise op.error("the activation state (input 4) must be a variable tensor", state)
        if not wf.is_const or not wt.is_const or (b is not None and not b.is_const):
            raise op.error("SVDF weights and bias must be constant", wf)
        if x.dtype == "float32":
            for t in (wf, wt, state, y) + ((b,) if b is not None else ()):
                expect_dtype(op, t, "float32")
            if op.attrs["activation"] not in ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH"):
                raise op.error(f"fused activation {op.attrs['activation']} is not supported")
            return
        expect_dtype(op, wf, "int8")
        expect_dtype(op, y, "int8")
        if wt.dtype != "int16" or state.dtype != "int16":
            raise op.error(f"int8 SVDF needs int16 weights_time and state (got {wt.dtype} and "
                           f"{state.dtype}); the int8-state variant runs only in TFLM and is not supported",
                           wt if wt.dtype != "int16" else state)
        if b is None:
            raise op.error("int8 SVDF needs a bias (TFLM reads its scale)")
        expect_dtype(op, b, "int32")
        for t in (x, wf, wt, state, y):
            expect_quantized(op, t)
            if t.quant.per_channel:
                raise op.error("per-channel quantization is not supported by SVDF", t)
        if state.quant.zp != 0:
            raise op.error(f"int16 state zero point must be 0, got {state.quant.zp} "
                           "(LiteRT ignores it, TFLM adds it)", state)
        if op.attrs["activation"] not in ("NONE", "RELU"):
            raise op.error(f"fused activation {op.attrs['activation']} is not supported for int8 SVDF")
