"""The references aotc compares against: LiteRT's reference kernels (default) and the TFLM interpreter."""
from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np

from .errors import UsageError

REFERENCES = ("litert", "tflm")


def _model_bytes(model) -> bytes:
    return Path(model).read_bytes() if isinstance(model, (str, os.PathLike)) else bytes(model)


class LiteRT:
    """ai_edge_litert Interpreter with OpResolverType.BUILTIN_REF (TFLite's reference kernels)."""
    name = "litert"

    def __init__(self, model, preserve_all_tensors: bool = False):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        try:
            self.it = Interpreter(model_content=_model_bytes(model),
                                  experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                                  experimental_preserve_all_tensors=preserve_all_tensors)
            self.it.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise UsageError(f"LiteRT cannot load this model: {msg} "
                             "(pass a fixed copy as the reference model)") from None
        self.inputs = [d["index"] for d in self.it.get_input_details()]
        self.outputs = [d["index"] for d in self.it.get_output_details()]

    def run(self, inputs: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
        for idx in self.inputs:
            self.it.set_tensor(idx, inputs[idx])
        self.it.invoke()
        return {idx: self.it.get_tensor(idx).copy() for idx in self.outputs}

    def tensor(self, index: int) -> np.ndarray | None:
        try:
            return self.it.get_tensor(index).copy()
        except ValueError:
            return None


class TFLM:
    """The tflite-micro Python interpreter (TFLM's reference kernels)."""
    name = "tflm"

    def __init__(self, model, input_indices: list[int], output_indices: list[int]):
        try:
            from tflite_micro.python.tflite_micro import runtime
        except ImportError:
            raise UsageError("--reference tflm needs the tflite-micro package (pip install tflite-micro)") from None
        with contextlib.redirect_stdout(io.StringIO()):
            self.it = runtime.Interpreter.from_bytes(_model_bytes(model))
        self.inputs, self.outputs = input_indices, output_indices

    def run(self, inputs: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
        for i, idx in enumerate(self.inputs):
            self.it.set_input(inputs[idx], i)
        self.it.invoke()
        return {idx: np.array(self.it.get_output(i)).copy() for i, idx in enumerate(self.outputs)}

    def tensor(self, index: int) -> None:
        return None


def open_reference(kind: str, model, graph, preserve_all_tensors: bool = False):
    if kind == "litert":
        return LiteRT(model, preserve_all_tensors)
    if kind == "tflm":
        return TFLM(model, [t.index for t in graph.inputs], [t.index for t in graph.outputs])
    raise UsageError(f"unknown reference '{kind}' (known: {', '.join(REFERENCES)})")
