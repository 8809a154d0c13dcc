"""Graph passes: pure Graph -> Graph functions run in PIPELINE order; the graph is verified after each.

Each pass is registered with a name, whether the default pipeline runs it, and a one-line summary
(its docstring says exactly when it applies). A pass either proves a rewrite exact for the types
involved or leaves the ops alone; run() records what each one fused, removed, rewrote or kept (and
why) on the returned graph as `graph.pass_log`.
"""
from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass
from typing import Callable

from ..errors import UsageError
from ..ir import Graph
from .activations import fuse_activations
from .fold import fold_constants, remove_dead
from .layout import cancel_transposes, mean_to_avgpool, merge_reshapes
from .pad import fold_pad
from .requant import requantize


@dataclass(frozen=True)
class Pass:
    name: str
    fn: Callable
    default: bool
    summary: str

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.fn) or inspect.getdoc(sys.modules[self.fn.__module__]) or ""

    def __call__(self, graph: Graph, log: list | None = None) -> Graph:
        if "log" in inspect.signature(self.fn).parameters:
            return self.fn(graph, log=log)
        return self.fn(graph)


PASSES: list[Pass] = [
    Pass("fold_constants", fold_constants, True, "evaluate ops whose inputs are all constant at compile time"),
    Pass("fuse_activations", fuse_activations, True,
         "standalone RELU/RELU6/RELU_N1_TO_1 -> the producer's fused clamp (equal in/out quantization)"),
    Pass("requantize", requantize, True,
         "drop identity QUANTIZE and exact DEQUANTIZE->QUANTIZE round trips; merge exact requantizations"),
    Pass("cancel_transposes", cancel_transposes, True, "remove TRANSPOSE pairs whose permutations cancel"),
    Pass("merge_reshapes", merge_reshapes, True, "RESHAPE of RESHAPE -> one RESHAPE; drop same-shape RESHAPE"),
    Pass("mean_to_avgpool", mean_to_avgpool, True,
         "MEAN over H,W (keep_dims) -> AVERAGE_POOL_2D where provably bit-exact"),
    Pass("fold_pad", fold_pad, True,
         "spatial PAD with the zero-point value -> CONV/DEPTHWISE explicit padding"),
    Pass("remove_dead", remove_dead, True, "drop ops whose outputs reach no graph output"),
]
BY_NAME = {p.name: p for p in PASSES}
PIPELINE = [p.fn for p in PASSES if p.default]   # the default pipeline, in order


def resolve(disabled=(), enabled=()) -> list[Pass]:
    """The passes to run: the defaults plus `enabled`, minus `disabled`; UsageError on an unknown name."""
    for name in list(disabled) + list(enabled):
        if name not in BY_NAME:
            raise UsageError(f"unknown pass '{name}' (known: {', '.join(BY_NAME)})")
    return [p for p in PASSES if (p.default or p.name in enabled) and p.name not in disabled]


def run(graph: Graph, target=None, disabled=(), enabled=()) -> Graph:
    chosen = resolve(disabled or (), enabled or ())
    log: list = []
    summary = []
    for p in PASSES:
        if p not in chosen:
            summary.append({"name": p.name, "default": p.default, "enabled": False, "ops_before": len(graph.ops),
                            "ops_after": len(graph.ops)})
            continue
        before = len(graph.ops)
        graph = p(graph, log)
        graph.verify()
        summary.append({"name": p.name, "default": p.default, "enabled": True, "ops_before": before,
                        "ops_after": len(graph.ops)})
    graph.pass_log = {"passes": summary, "actions": log}
    return graph


def describe() -> str:
    """One line a pass: name, default on/off, summary (for `aotc compile --passes`)."""
    width = max(len(p.name) for p in PASSES)
    return "\n".join(f"{p.name:<{width}}  {'on ' if p.default else 'off'}  {p.summary}" for p in PASSES)
