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
    # One walk with producer and reader maps built once: a fusion only replaces the producer (same
    # inputs, the activation's output instead of its input) and drops the activation, the sole
    # reader of a tensor nothing reads afterwards, so the maps stay exact with two updates a fusion.
    ops = list(graph.ops)                    # slot -> the op there now (fusions replace producers)
    producer = {t: slot for slot, o in enumerate(ops) for t in o.outputs}
    readers = graph.consumers()
    dropped: set[int] = set()
    for slot, relu in enumerate(graph.ops):
        if relu.kind not in STANDALONE or len(relu.inputs) != 1:
            continue
        x, y = relu.inputs[0], relu.outputs[0]
        prod_slot = producer.get(x)
        prod = ops[prod_slot] if prod_slot is not None else None
        if prod is None or prod.kind not in PRODUCERS or "activation" not in prod.attrs:
            continue
        if len(readers.get(x, ())) != 1 or x in graph.outputs:
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
        ops[prod_slot] = replace(prod, outputs=[y if t is x else t for t in prod.outputs],
                                 attrs={**prod.attrs, "activation": act}, sources=prod.sources + relu.sources)
        del producer[x]
        producer[y] = prod_slot
        dropped.add(slot)
        note(log, NAME, "fused", [prod, relu], f"{relu.kind} -> {prod.kind} activation {act}")
    if not dropped:
        return graph
    return with_ops(graph, [o for slot, o in enumerate(ops) if slot not in dropped])
