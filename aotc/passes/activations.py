"""Fuse a standalone RELU / RELU6 / RELU_N1_TO_1 into the clamp of the op that produces its input.

Exact when: the producer carries a fused-activation attr (CONV_2D, DEPTHWISE_CONV_2D,
FULLY_CONNECTED, ADD, SUB, MUL, AVERAGE_POOL_2D, MAX_POOL_2D), the activation's input is read only
by the activation (and is not a graph output), and its input and output have identical
quantization (same dtype, float32 scale and zero point). Then LiteRT's QuantizedReluX rescales by
exactly 1.0 (QuantizeMultiplier(1.0) = 2^30, shift 1: the identity) and clamps to
zp + round(bound / scale), the same integers CalculateActivationRangeQuantized gives the
producer's fused clamp. float32 always qualifies. The producer's existing fused activation and the
standalone one combine as the intersection of the two clamps; the fusion is made only when that
intersection is itself one of the fused activations (e.g. RELU then RELU6 -> RELU6)."""
from __future__ import annotations

from dataclasses import replace

from ..ir import Graph
from ..quant import activation_range
from .util import note, quant_equal, with_ops

PRODUCERS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL",
             "AVERAGE_POOL_2D", "MAX_POOL_2D")
STANDALONE = ("RELU", "RELU6", "RELU_N1_TO_1")
FUSED = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
NAME = "fuse_activations"


def _combined(act_a: str, act_b: str, t) -> str | None:
    la, ha = activation_range(act_a, t)
    lb, hb = activation_range(act_b, t)
    want = (max(la, lb), min(ha, hb))
    for act in FUSED:  # NONE first: the cheapest clamp that is the same integers
        if tuple(activation_range(act, t)) == want:
            return act
    return None


def fuse_activations(graph: Graph, log: list | None = None) -> Graph:
    for relu in list(graph.ops):
        if relu.kind not in STANDALONE or len(relu.inputs) != 1:
            continue
        x, y = relu.inputs[0], relu.outputs[0]
        prod = next((o for o in graph.ops if any(t is x for t in o.outputs)), None)
        if prod is None or prod.kind not in PRODUCERS or "activation" not in prod.attrs:
            continue
        readers = [o for o in graph.ops if any(t is x for t in o.inputs)]
        if len(readers) != 1 or x in graph.outputs:
            note(log, NAME, "kept", [prod, relu], f"{prod.kind}'s output has other readers")
            continue
        if x.dtype not in ("float32", "int8", "int16") or not quant_equal(x, y) or tuple(x.shape) != tuple(y.shape):
            note(log, NAME, "kept", [prod, relu], "the activation's input and output quantization differ "
                 "(it requantizes, a clamp would not)")
            continue
        act = _combined(prod.attrs["activation"], relu.kind, y)
        if act is None:
            note(log, NAME, "kept", [prod, relu], f"{prod.attrs['activation']} then {relu.kind} is no single "
                 "fused activation")
            continue
        fused = replace(prod, outputs=[y if t is x else t for t in prod.outputs],
                        attrs={**prod.attrs, "activation": act}, sources=prod.sources + relu.sources)
        ops = [fused if o is prod else o for o in graph.ops if o is not relu]
        note(log, NAME, "fused", [prod, relu], f"{relu.kind} -> {prod.kind} activation {act}")
        graph = with_ops(graph, ops)
    return graph
