"""BATCH_MATMUL: out[..., i, j] = sum_k lhs'[..., i, k] * rhs'[..., k, j], lhs' / rhs' the inputs with
their last two dimensions swapped when adj_x / adj_y; batch dimensions broadcast (numpy rules, a 1
against anything). Quantized: offsets applied to both inputs, requantized with one multiplier."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from .registry import OpDef, expect_quantized, op


def matmul_dims(op: Op):
    """(batch shape, rows, depth, cols, lhs batch shape, rhs batch shape) with the batch shapes of the
    inputs left-padded with ones to the output's batch rank. Raises op.error on inconsistent shapes."""
    lhs, rhs = op.inputs[0], op.inputs[1]
    for t in (lhs, rhs):
        if not 2 <= len(t.shape) <= 5:
            raise op.error(f"expects rank 2 to 5, got shape {list(t.shape)}", t)
    adj_x, adj_y = op.attrs["adj_x"], op.attrs["adj_y"]
    rows, depth = (lhs.shape[-1], lhs.shape[-2]) if adj_x else (lhs.shape[-2], lhs.shape[-1])
    depth_r, cols = (rhs.shape[-1], rhs.shape[-2]) if adj_y else (rhs.shape[-2], rhs.shape[-1])
    if depth != depth_r:
        raise op.error(f"inner dimensions differ: lhs {list(lhs.shape)} (adj_x={adj_x}) and "
                       f"rhs {list(rhs.shape)} (adj_y={adj_y})", rhs)
    rank = max(len(lhs.shape), len(rhs.shape)) - 2
    lb = (1,) * (rank - (len(lhs.shape) - 2)) + tuple(lhs.shape[:-2])
    rb = (1,) * (rank - (len(rhs.shape) - 2)) + tuple(rhs.shape[:-2])
    batch = []
    for a, b in zip(lb, rb):
        if a != b and a != 1 and b != 1:
            raise op.error(f"batch dimensions {list(lhs.shape[:-2])} and {list(rhs.shape[:-2])} "
                           "do not broadcast", rhs)
        batch.append(b if a == 1 else a)
    return tuple(batch), rows, depth, cols, lb, rb


@op("BATCH_MATMUL")
class BatchMatMul(OpDef):
    options = "BatchMatMulOptions"
    max_version = 4
    types = ("float32", "int8", "int16")

    def parse(self, opts) -> dict:
        return {
            "adj_x": bool(opts.AdjX()) if opts is not None else False,
            "adj_y": bool(opts.AdjY()) if opts is not None else False,
            "asymmetric_quantize_inputs": bool(opts.AsymmetricQuantizeInputs()) if opts is not None else False,
        }

    def check(self, op: Op, graph: Graph) -> None:
        if len(op.inputs) != 2 or op.inputs[0] is None or op.inputs[1] is None:
            raise op.error(f"expects 2 inputs, has {len(op.inputs)}")
        lhs, rhs, y = op.inputs[0], op.inputs[1], op.outputs[0]
        if lhs.dtype == "float32" and rhs.dtype == "int8":
            raise op.error("hybrid BATCH_MATMUL (float32 x int8 weights) is not supported", rhs)
        if lhs.dtype not in self.types:
            raise op.error(f"type {lhs.dtype} is not supported (supported: {', '.join(self.types)})", lhs)
        if rhs.dtype != lhs.dtype:
            raise op.error(f"rhs type {rhs.dtype} differs from lhs type {lhs.dtype} "
                           "(only same-type BATCH_MATMUL is supported)", rhs)
        if y.dtype != lhs.dtype:
            raise op.error(f"output type {y.dtype} is not supported for {lhs.dtype} inputs "
                           f"(supported: {lhs.dtype})", y)
        batch, rows, _, cols, _, _ = matmul_dims(op)
        if tuple(y.shape) != batch + (rows, cols):
            raise op.error(f"output shape {list(y.shape)} does not match the expected "
                           f"{list(batch + (rows, cols))}", y)
        if lhs.dtype != "float32":
            for t in (lhs, rhs, y):
                expect_quantized(op, t)
                if t.quant.per_channel:
                    raise op.error("per-channel quantization is not supported by BATCH_MATMUL", t)
            if lhs.dtype == "int16":
                for t in (lhs, rhs, y):
                    if t.quant.zp != 0:
                        raise op.error("int16 BATCH_MATMUL needs zero point 0", t)

    def evaluate(self, op, values):
        a, b = values[0], values[1]
        if a.dtype != np.float32:
            return None
        if op.attrs["adj_x"]:
            a = np.swapaxes(a, -1, -2)
        if op.attrs["adj_y"]:
            b = np.swapaxes(b, -1, -2)
        return [np.matmul(a, b).astype(np.float32).reshape(op.outputs[0].shape)]
