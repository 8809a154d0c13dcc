"""Graph passes: pure Graph -> Graph functions run in PIPELINE order; the graph is verified after each."""
from __future__ import annotations

from ..ir import Graph
from .fold import fold_constants, remove_dead

PIPELINE = [fold_constants, remove_dead]


def run(graph: Graph, target=None) -> Graph:
    for p in PIPELINE:
        graph = p(graph)
        graph.verify()
    return graph
