"""Read a .tflite flatbuffer into a validated Graph.

A model file is untrusted input. Every index, size, shape and quantization field is checked before
it is used, and every problem is a ModelError naming the op index, op name and tensor. The
flatbuffers runtime does no verification of its own, so any out-of-range access it makes while
walking a corrupt file is turned into a ModelError saying what was being read.
"""
from __future__ import annotations

import math
import re
import struct
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import tflite

from .errors import ModelError, UnsupportedError, UsageError
from .ir import Graph, Op, Quant, Tensor, dtype_bytes, np_dtype
from .ops import OPS
from .ops.registry import BUILTIN_NAMES
from .quant import QRANGE

TENSOR_TYPES = {0: "float32", 2: "int32", 3: "uint8", 4: "int64", 6: "bool", 7: "int16", 9: "int8", 17: "int4"}
TYPE_NAMES = {v: k for k, v in vars(tflite.TensorType).items() if not k.startswith("_")}
MAX_BYTES = 2**31 - 1
MAX_RANK = 8


def unpack_int4(raw: bytes, shape: tuple) -> np.ndarray:
    """TFLite's packed int4: element 2k in the low nibble of byte k, element 2k+1 in the high one,
    two's complement. Returned one value per int8 (the compiler works on unpacked weights)."""
    b = np.frombuffer(raw, dtype=np.uint8)
    nib = np.empty(b.size * 2, dtype=np.uint8)
    nib[0::2], nib[1::2] = b & 0x0F, b >> 4
    vals = (nib.astype(np.int8) ^ 8) - 8   # sign-extend 4 bits
    n = int(np.prod(shape, dtype=np.int64))
    return vals[:n].astype(np.int8).reshape(shape)


@contextmanager
def reading(what: str):
    """Turn the flatbuffers runtime's out-of-range failures into a ModelError about `what`."""
    try:
        yield
    except ModelError:
        raise
    except (IndexError, struct.error, ValueError, TypeError, OverflowError, UnicodeDecodeError) as e:
        raise ModelError(f"{what}: malformed flatbuffer ({type(e).__name__}: {e})") from None


def safe_name(raw: bytes | None, default: str) -> str:
    """A name read from the file, made harmless for one-line messages and generated C comments:
    control and line-break characters become '?', and comment delimiters are broken up."""
    if not raw:
        return default
    text = raw.decode("utf-8", "replace")
    text = "".join("?" if ord(ch) < 32 or 127 <= ord(ch) < 160 or ch in "\u2028\u2029" else ch for ch in text)
    return text.replace("*/", "*_/").replace("/*", "/_*")


C_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def c_identifier(stem: str) -> str:
    name = re.sub(r"[^0-9a-zA-Z_]", "_", stem).strip("_").lower() or "model"
    return name if not name[0].isdigit() else "m_" + name


def read(source: str | Path | bytes, name: str | None = None) -> Graph:
    """Parse and validate a .tflite file (path or bytes) into a Graph of its first subgraph."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            buf = path.read_bytes()
        except OSError as e:
            raise ModelError(f"{path}: cannot read ({e.strerror})") from None
        name = name or c_identifier(path.stem)
    else:
        buf = bytes(source)
        name = name or "model"
    if not C_NAME.fullmatch(name):
        raise UsageError(f"name '{name}' is not a C identifier (letters, digits and '_', not starting "
                         "with a digit)")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # float32 checks overflow like C
        return _Reader(buf, name).graph()


class _Reader:
    def __init__(self, buf: bytes, name: str):
        self.buf = buf
        self.name = name
        if len(buf) < 8:
            raise ModelError(f"file is {len(buf)} bytes, too short for a .tflite flatbuffer")
        root = struct.unpack_from("<I", buf, 0)[0]
        if root + 4 > len(buf) or root < 8:
            raise ModelError(f"root table offset {root} is outside the {len(buf)}-byte file")
        if buf[4:8] != b"TFL3":
            raise ModelError(f"file identifier is {buf[4:8]!r}, expected b'TFL3' (not a .tflite model)")
        with reading("model header"):
            self.model = tflite.Model.GetRootAs(buf, 0)
            self.version = self.model.Version()
            if self.version != 3:
                raise ModelError(f"schema version {self.version} is not supported (expected 3)")
            if self.model.SubgraphsLength() < 1:
                raise ModelError("model has no subgraph")

    # -- tensors ---------------------------------------------------------------------------------

    def _buffer_bytes(self, i: int) -> bytes | None:
        with reading(f"buffer {i}"):
            if not 0 <= i < self.model.BuffersLength():
                return None
            b = self.model.Buffers(i)
            off, size = (b.Offset(), b.Size()) if hasattr(b, "Offset") else (0, 0)
            if off > 1:
                if off + size > len(self.buf):
                    raise ModelError(f"buffer {i}: data at offset {off} + {size} bytes is past the end "
                                     f"of the {len(self.buf)}-byte file")
                return self.buf[off:off + size] if size else None
            if b.DataLength() == 0:
                return None
            return b.DataAsNumpy().tobytes()

    def _quant(self, t, idx: int, name: str, dtype: str, shape: tuple) -> Quant | None:
        q = t.Quantization()
        if q is None or q.ScaleLength() == 0:
            return None
        loc = f'tensor {idx} "{name}"'
        scale = tuple(float(s) for s in q.ScaleAsNumpy())
        zps = tuple(int(z) for z in q.ZeroPointAsNumpy()) if q.ZeroPointLength() else (0,) * len(scale)
        if len(zps) != len(scale):
            raise ModelError(f"{loc}: {len(scale)} scales but {len(zps)} zero points")
        for s in scale:
            if not (math.isfinite(s) and s > 0):
                raise ModelError(f"{loc}: quantization scale {s} must be finite and > 0")
        lo, hi = QRANGE.get(dtype, (-2**63, 2**63 - 1))
        if dtype == "int32":
            lo, hi = -2**31, 2**31 - 1
        for z in zps:
            if not lo <= z <= hi:
                raise ModelError(f"{loc}: zero point {z} is outside the {dtype} range [{lo}, {hi}]")
        axis = int(q.QuantizedDimension())
        if len(scale) > 1:
            if len(shape) == 1 and axis != 0 and len(scale) == shape[0]:
                axis = 0  # 1-D per-channel bias with the filter's axis copied in (person_detect); TFLM accepts it
            if not 0 <= axis < len(shape):
                raise ModelError(f"{loc}: quantized_dimension {axis} is out of range for shape {list(shape)}")
            if shape[axis] != len(scale):
                raise ModelError(f"{loc}: {len(scale)} per-channel scales for dimension {axis} of size "
                                 f"{shape[axis]}")
        return Quant(scale, zps, axis)

    def _tensor(self, sg, idx: int) -> Tensor:
        with reading(f"tensor {idx}"):
            t = sg.Tensors(idx)
            name = safe_name(t.Name(), f"t{idx}")
            loc = f'tensor {idx} "{name}"'
            ttype = t.Type()
            if ttype not in TENSOR_TYPES:
                raise UnsupportedError(f"{loc}: tensor type {TYPE_NAMES.get(ttype, ttype)} is not supported")
            dtype = TENSOR_TYPES[ttype]
            if t.Sparsity() is not None:
                raise UnsupportedError(f"{loc}: sparse tensors are not supported")
            shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
            if len(shape) > MAX_RANK:
                raise ModelError(f"{loc}: rank {len(shape)} exceeds {MAX_RANK}")
            for d in shape:
                if d < 0:
                    raise ModelError(f"{loc}: dimension {d} in shape {list(shape)} is negative "
                                     "(dynamic shapes are not supported)")
            nbytes = dtype_bytes(dtype)
            for d in shape:
                nbytes *= d
                if nbytes > MAX_BYTES:
                    raise ModelError(f"{loc}: shape {list(shape)} needs more than 2^31 bytes")
            quant = self._quant(t, idx, name, dtype, shape)
            buf_idx = t.Buffer()
            if not 0 <= buf_idx < max(self.model.BuffersLength(), 1):
                raise ModelError(f"{loc}: buffer index {buf_idx} is out of range "
                                 f"(model has {self.model.BuffersLength()} buffers)")
            raw = self._buffer_bytes(buf_idx)
            data = None
            if dtype == "int4":
                if raw is None:
                    raise UnsupportedError(f"{loc}: int4 is supported for constant (weight) tensors only")
                nbytes = (nbytes + 1) // 2   # two values per byte in the file
            if raw is None and nbytes == 0 and buf_idx > 0:
                raw = b""   # an empty constant (e.g. no axes to reduce): its buffer holds no bytes
            if raw is not None:
                if len(raw) != nbytes:
                    raise ModelError(f"{loc}: constant buffer {buf_idx} holds {len(raw)} bytes, shape "
                                     f"{list(shape)} of {dtype} needs {nbytes}")
                data = (unpack_int4(raw, shape) if dtype == "int4" else
                        np.frombuffer(raw, dtype=np_dtype(dtype)).reshape(shape).copy())
                data.setflags(write=False)
            variable = bool(t.IsVariable())
            if variable and data is not None:
                raise UnsupportedError(f"{loc}: a variable tensor with an initial value is not supported")
            return Tensor(name, shape, dtype, quant, data, idx, variable)

    # -- graph -----------------------------------------------------------------------------------

    def graph(self) -> Graph:
        with reading("subgraph 0"):
            sg = self.model.Subgraphs(0)
            n_tensors = sg.TensorsLength()
            tensors = [self._tensor(sg, i) for i in range(n_tensors)]

            def tensor_ref(i: int, what: str, optional: bool = False) -> Tensor | None:
                if optional and i == -1:
                    return None
                if not 0 <= i < n_tensors:
                    raise ModelError(f"{what}: tensor index {i} is out of range (subgraph has {n_tensors})")
                return tensors[i]

            inputs = [tensor_ref(int(i), "graph input") for i in sg.InputsAsNumpy()] if sg.InputsLength() else []
            outputs = [tensor_ref(int(i), "graph output") for i in sg.OutputsAsNumpy()] if sg.OutputsLength() else []
            if not outputs:
                raise ModelError("subgraph 0 declares no outputs")
            n_codes = self.model.OperatorCodesLength()
            ops = []
            for i in range(sg.OperatorsLength()):
                ops.append(self._op(sg.Operators(i), i, n_codes, tensor_ref))
        graph = Graph(ops, inputs, outputs, tensors, self.name)
        self._check_structure(graph)
        for o in graph.ops:
            OPS[o.kind].check(o, graph)
        return graph

    def _op(self, fb, i: int, n_codes: int, tensor_ref) -> Op:
        with reading(f"op {i}"):
            code_idx = fb.OpcodeIndex()
            if not 0 <= code_idx < n_codes:
                raise ModelError(f"op {i}: opcode index {code_idx} is out of range (model has {n_codes})")
            oc = self.model.OperatorCodes(code_idx)
            code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
            version = int(oc.Version())
            if code == 32:  # CUSTOM
                custom = safe_name(oc.CustomCode(), "?")
                raise UnsupportedError(f"op {i} CUSTOM '{custom}': custom operators are not supported")
            kind = BUILTIN_NAMES.get(code, f"BUILTIN_{code}")
            ins = [tensor_ref(int(t), f"op {i} {kind} input {j}", optional=True)
                   for j, t in enumerate(fb.InputsAsNumpy())] if fb.InputsLength() else []
            outs = [tensor_ref(int(t), f"op {i} {kind} output {j}")
                    for j, t in enumerate(fb.OutputsAsNumpy())] if fb.OutputsLength() else []
            opdef = OPS.get(kind)
            if opdef is None:
                first = f', output tensor {outs[0].index} "{outs[0].name}"' if outs else ""
                raise UnsupportedError(f"op {i} {kind}{first}: operator not supported by aotc")
            if version > opdef.max_version or version < 1:
                raise UnsupportedError(f"op {i} {kind}: version {version} is not known to aotc "
                                       f"(known: 1 to {opdef.max_version})")
            opts = None
            if opdef.options is not None:
                table = fb.BuiltinOptions()
                if table is not None:
                    opts = getattr(tflite, opdef.options)()
                    opts.Init(table.Bytes, table.Pos)
            attrs = opdef.parse(opts)
            # intermediates: tensors that carry only quantization parameters (quantized LSTM gates)
            inter = [tensor_ref(int(t), f"op {i} {kind} intermediate {j}")
                     for j, t in enumerate(fb.IntermediatesAsNumpy())] if fb.IntermediatesLength() else []
            return Op(kind, ins, outs, attrs, i, version, intermediates=inter)

    def _check_structure(self, g: Graph) -> None:
        for kind, ts in (("input", g.inputs), ("output", g.outputs)):
            for t in ts:
                if t.is_const:
                    raise ModelError(f'tensor {t.index} "{t.name}": graph {kind} has constant data '
                                     "(constant graph inputs and outputs are not supported)")
        for op in g.ops:
            for t in op.inputs + op.outputs:
                if t is not None and not t.is_const and t.size == 0:
                    raise op.error(f"tensor of shape {list(t.shape)} has no elements (zero-size tensors are "
                                   "not supported)", t)
        producer: dict[Tensor, Op] = {}
        for op in g.ops:
            if not op.outputs:
                raise op.error("has no outputs")
            for t in op.outputs:
                if t in producer:
                    raise op.error(f"writes a tensor op {producer[t].index} {producer[t].kind} also writes", t)
                if t.is_const:
                    raise op.error("writes a tensor that has constant data", t)
                if t in g.inputs:
                    raise op.error("writes a graph input", t)
                producer[t] = op
        for op in g.ops:
            for t in op.inputs:
                if (t is not None and not t.is_const and not t.variable and t not in producer
                        and t not in g.inputs):
                    raise op.error("reads a tensor that is neither constant, a graph input, nor produced "
                                   "by any op", t)
        for t in g.outputs:
            if t not in producer and t not in g.inputs and not t.is_const:
                raise ModelError(f'tensor {t.index} "{t.name}": graph output is never produced')
        g.ops = g.toposort()
