"""The references aotc compares against: LiteRT's reference kernels (default) and the TFLM interpreter."""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from .errors import UsageError

REFERENCES = ("litert", "tflm")
TFLM_ARENA_BYTES = 16 << 20


def choose_reference(reference: str | None, rounding: str | None, calls_cmsis_nn: bool,
                     exact: str | None = None) -> tuple[str, str]:
    """(reference, rounding) of a build, the one rule `verify` and `bench` follow. A named reference
    wins. Otherwise it is the interpreter whose arithmetic the build follows: TFLM for rounding "tflm"
    and for CMSIS-NN calls (they round as TFLM does; exact="litert" moves the ops where they differ
    to the generic kernels), LiteRT for the generic kernels with rounding "litert". An unnamed
    rounding is the reference's."""
    if reference is None:
        follows_tflm = rounding == "tflm" or (calls_cmsis_nn and exact != "litert")
        reference = "tflm" if follows_tflm else "litert"
    return reference, rounding or reference


@contextlib.contextmanager
def captured_fds(sink: list):
    """Capture what native code writes to file descriptors 1 and 2 (TFLM prints its errors there);
    the text is appended to `sink` on exit."""
    with tempfile.TemporaryFile(mode="w+b") as cap:
        saved = [os.dup(1), os.dup(2)]
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(cap.fileno(), 1)
        os.dup2(cap.fileno(), 2)
        try:
            yield
        finally:
            for fd, old in zip((1, 2), saved):
                os.dup2(old, fd)
                os.close(old)
            cap.seek(0)
            sink.append(cap.read().decode("utf-8", "replace"))


def _model_bytes(model) -> bytes:
    return Path(model).read_bytes() if isinstance(model, (str, os.PathLike)) else bytes(model)


def with_utf8_names(buf: bytes) -> bytes:
    """The model with every tensor name that is not valid UTF-8 overwritten in place by '?' for each
    byte outside ASCII: same length, so no offset moves and the model computes the same. LiteRT's
    Python wrapper decodes names strictly and fails on such names (a bit flip is enough)."""
    try:
        return _rewrite_names(buf)
    except Exception:  # noqa: BLE001 - a malformed --reference-model: LiteRT reports it when loading
        return buf


def _rewrite_names(buf: bytes) -> bytes:
    import tflite
    out = bytearray(buf)
    model = tflite.Model.GetRootAs(buf, 0)
    for s in range(model.SubgraphsLength()):
        sg = model.Subgraphs(s)
        for i in range(sg.TensorsLength()):
            tab = sg.Tensors(i)._tab
            field = tab.Offset(10)   # Tensor.name
            if not field:
                continue
            start = tab.Indirect(tab.Pos + field)
            n = int.from_bytes(buf[start:start + 4], "little")
            raw = buf[start + 4:start + 4 + n]
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                out[start + 4:start + 4 + n] = bytes(b if b < 0x80 else 0x3F for b in raw)
    return bytes(out)


class LiteRT:
    """ai_edge_litert Interpreter with OpResolverType.BUILTIN_REF (TFLite's reference kernels)."""
    name = "litert"

    def __init__(self, model, preserve_all_tensors: bool = False):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        try:
            self.it = Interpreter(model_content=with_utf8_names(_model_bytes(model)),
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
        log: list[str] = []
        try:
            with captured_fds(log):
                # a generous arena: the package's default is sized for its own examples
                self.it = runtime.Interpreter.from_bytes(_model_bytes(model), arena_size=TFLM_ARENA_BYTES)
        except RuntimeError as e:
            first = next((ln for ln in "".join(log).splitlines() if ln.strip()), str(e))
            raise UsageError(f"TFLM cannot run this model: {first.strip()}") from None
        self.inputs, self.outputs = input_indices, output_indices

    def run(self, inputs: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
        for i, idx in enumerate(self.inputs):
            self.it.set_input(inputs[idx], i)
        log: list[str] = []
        try:
            with captured_fds(log):
                self.it.invoke()
        except RuntimeError as e:
            first = next((ln for ln in "".join(log).splitlines() if ln.strip()), str(e))
            raise UsageError(f"TFLM cannot run this model: {first.strip()}") from None
        return {idx: np.array(self.it.get_output(i)).copy() for i, idx in enumerate(self.outputs)}

    def tensor(self, index: int) -> None:
        return None


def open_reference(kind: str, model, graph, preserve_all_tensors: bool = False):
    if kind == "litert":
        return LiteRT(model, preserve_all_tensors)
    if kind == "tflm":
        for op in graph.ops:
            # TFLM's DEQUANTIZE applies the first channel's scale to every channel: comparing with it
            # would call a correct result wrong (measured: max diff 2.56 on a two-channel tensor).
            if op.kind == "DEQUANTIZE" and op.inputs[0].quant is not None and op.inputs[0].quant.per_channel:
                raise UsageError(f"op {op.index} DEQUANTIZE: TFLM ignores per-channel scales here; "
                                 "compare against --reference litert")
        return TFLM(model, [t.index for t in graph.inputs], [t.index for t in graph.outputs])
    raise UsageError(f"unknown reference '{kind}' (known: {', '.join(REFERENCES)})")
