"""The graph IR: Quant, Tensor, Op, Graph. Passes are pure Graph -> Graph functions over these."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ModelError, where

# dtype name -> (numpy dtype, C type, bytes)
DTYPES = {
    "float32": (np.float32, "float", 4),
    "int8": (np.int8, "int8_t", 1),
    "uint8": (np.uint8, "uint8_t", 1),
    "int16": (np.int16, "int16_t", 2),
    "int32": (np.int32, "int32_t", 4),
    "int64": (np.int64, "int64_t", 8),
    "bool": (np.bool_, "bool", 1),
    # packed two per byte in the file; the reader unpacks constant int4 weights to one int8 each
    "int4": (np.int8, "int8_t", 1),
}


def np_dtype(dtype: str):
    return DTYPES[dtype][0]


def c_type(dtype: str) -> str:
    return DTYPES[dtype][1]


def dtype_bytes(dtype: str) -> int:
    return DTYPES[dtype][2]


@dataclass(frozen=True)
class Quant:
    """Affine quantization: real = scale * (q - zero_point); per-channel along `axis` if len > 1."""
    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1

    @property
    def s(self) -> float:
        """The per-tensor scale (the first one for per-channel quantization)."""
        return self.scale[0]

    @property
    def zp(self) -> int:
        return self.zero_point[0]


@dataclass(eq=False)
class Tensor:
    """One tensor. Constant iff `data` is not None. `index` is its position in the .tflite (-1 if made
    by a pass). Tensors compare by identity: ops refer to the objects themselves."""
    name: str
    shape: tuple[int, ...]
    dtype: str
    quant: Quant | None = None
    data: np.ndarray | None = None
    index: int = -1
    variable: bool = False    # persistent state (RNN state): kept across invokes, cleared by init

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        return self.size * dtype_bytes(self.dtype)

    def __repr__(self) -> str:
        return f"Tensor({self.index}, {self.name!r}, {self.shape}, {self.dtype})"


@dataclass(eq=False)
class Op:
    """One operator. `inputs` may hold None for an omitted optional input (index -1 in the file).
    `index` is the op's position in the .tflite subgraph; ops made by passes keep the index of the op
    they came from and list every source op in `sources`."""
    kind: str
    inputs: list[Tensor | None]
    outputs: list[Tensor]
    attrs: dict[str, Any] = field(default_factory=dict)
    index: int = -1
    version: int = 1
    sources: tuple[int, ...] = ()
    intermediates: list[Tensor] = field(default_factory=list)   # quantization-only tensors (LSTM gates)

    def __post_init__(self):
        if not self.sources:
            self.sources = (self.index,)

    def input(self, i: int) -> Tensor | None:
        return self.inputs[i] if i < len(self.inputs) else None

    def error(self, msg: str, tensor: Tensor | None = None) -> ModelError:
        return ModelError(f"{where(self, tensor)}: {msg}")

    def __repr__(self) -> str:
        return f"Op({self.index}, {self.kind})"


@dataclass(eq=False)
class Graph:
    """A model: ops in schedule order, graph inputs and outputs, and every tensor the file declared."""
    ops: list[Op]
    inputs: list[Tensor]
    outputs: list[Tensor]
    tensors: list[Tensor] = field(default_factory=list)
    name: str = "model"

    def producers(self) -> dict[Tensor, Op]:
        return {t: op for op in self.ops for t in op.outputs}

    def consumers(self) -> dict[Tensor, list[Op]]:
        out: dict[Tensor, list[Op]] = {}
        for op in self.ops:
            for t in op.inputs:
                if t is not None:
                    out.setdefault(t, []).append(op)
        return out

    def toposort(self) -> list[Op]:
        """Ops in a dependency order, stable with respect to the current order; ModelError on a cycle."""
        producer = self.producers()
        state: dict[Op, int] = {}
        order: list[Op] = []
        for root in self.ops:
            if root in state:
                continue
            stack = [(root, iter([producer[t] for t in root.inputs if t is not None and t in producer]))]
            state[root] = 1
            while stack:
                node, deps = stack[-1]
                for dep in deps:
                    if state.get(dep) == 1:
                        raise node.error("the graph has a cycle through this op")
                    if dep not in state:
                        state[dep] = 1
                        stack.append((dep, iter([producer[t] for t in dep.inputs
                                                 if t is not None and t in producer])))
                        break
                else:
                    stack.pop()
                    state[node] = 2
                    order.append(node)
        return order

    def verify(self) -> None:
        """Structural invariants every pass must keep: single producer, inputs defined before use,
        no cycle, graph outputs produced or given."""
        produced: set[Tensor] = set()
        available = set(self.inputs)
        for op in self.ops:
            for t in op.inputs:
                if t is None or t.is_const or t.variable:
                    continue
                if t not in available:
                    raise op.error("uses a tensor no earlier op produces", t)
            for t in op.outputs:
                if t in produced or t in self.inputs:
                    raise op.error("writes a tensor that already has a producer", t)
                produced.add(t)
                available.add(t)
        for t in self.outputs:
            if t not in available and not t.is_const:
                raise ModelError(f'{where(tensor=t)}: graph output is never produced')
