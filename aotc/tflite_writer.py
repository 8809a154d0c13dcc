"""A small .tflite writer: tests build one-op models with it and `aotc demo-model` writes the bundled
example. It emits schema-v3 flatbuffers through the `tflite` package's generated builder functions.

    mb = ModelBuilder()
    x = mb.tensor("x", (1, 8), "int8", scale=0.5, zero_point=-3)
    w = mb.tensor("w", (4, 8), "int8", data=weights, scale=[...], axis=0)
    y = mb.tensor("y", (1, 4), "int8", scale=0.25, zero_point=1)
    mb.op("FULLY_CONNECTED", [x, w, -1], [y], {"FusedActivationFunction": 0})
    buf = mb.build(inputs=[x], outputs=[y])
"""
from __future__ import annotations

from dataclasses import dataclass, field

import flatbuffers
import numpy as np
import tflite

from .ir import np_dtype
from .ops import OPS

TYPE_CODES = {"float32": 0, "int32": 2, "uint8": 3, "int64": 4, "bool": 6, "int16": 7, "int8": 9, "int4": 17}
BUILTIN_CODES = {k: v for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


def pack_int4(values: np.ndarray) -> bytes:
    """Two int4 values per byte, the first in the low nibble (TFLite's packed layout)."""
    nib = (values.reshape(-1).astype(np.int16) & 0x0F).astype(np.uint8)
    if nib.size % 2:
        nib = np.append(nib, np.uint8(0))
    return (nib[0::2] | (nib[1::2] << 4)).astype(np.uint8).tobytes()


@dataclass
class _Tensor:
    name: str
    shape: tuple
    dtype: str
    buffer: int
    scale: list | None
    zero_point: list | None
    axis: int
    variable: bool = False


@dataclass
class _Op:
    kind: str
    inputs: list
    outputs: list
    options: dict
    version: int
    intermediates: list = field(default_factory=list)


@dataclass
class ModelBuilder:
    tensors: list = field(default_factory=list)
    buffers: list = field(default_factory=lambda: [b""])
    ops: list = field(default_factory=list)
    opcodes: list = field(default_factory=list)   # (kind, version)

    def tensor(self, name: str, shape, dtype: str, data=None, scale=None, zero_point=None,
               axis: int = 0, variable: bool = False) -> int:
        """Declare a tensor; with `data` it is constant, with `variable` it is persistent state.
        Returns its index."""
        buf = 0
        if data is not None:
            arr = np.ascontiguousarray(np.asarray(data, dtype=np_dtype(dtype)).reshape(shape))
            self.buffers.append(pack_int4(arr) if dtype == "int4" else arr.tobytes())
            buf = len(self.buffers) - 1
        if scale is not None and np.ndim(scale) == 0:
            scale = [float(scale)]
        if zero_point is not None and np.ndim(zero_point) == 0:
            zero_point = [int(zero_point)]
        if scale is not None and zero_point is None:
            zero_point = [0] * len(scale)
        self.tensors.append(_Tensor(name, tuple(int(d) for d in shape), dtype, buf,
                                    None if scale is None else [float(s) for s in scale],
                                    None if zero_point is None else [int(z) for z in zero_point], axis,
                                    variable))
        return len(self.tensors) - 1

    def op(self, kind: str, inputs, outputs, options: dict | None = None, version: int = 1,
           intermediates=()) -> None:
        """Add an operator. `options` maps the schema's field names (e.g. "StrideW") to values;
        `intermediates` are tensor indices carrying only quantization (quantized LSTM)."""
        if (kind, version) not in self.opcodes:
            self.opcodes.append((kind, version))
        self.ops.append(_Op(kind, list(inputs), list(outputs), options or {}, version, list(intermediates)))

    # -- serialization ---------------------------------------------------------------------------

    def build(self, inputs, outputs, description: str = "aotc ModelBuilder") -> bytes:
        b = flatbuffers.Builder(1024)

        def vec(start, items, prepend):
            start(b, len(items))
            for x in reversed(items):
                prepend(x)
            return b.EndVector()

        def int_vec(items):
            return vec(lambda bb, n: bb.StartVector(4, n, 4), [int(x) for x in items], b.PrependInt32)

        def float_vec(items):
            return vec(lambda bb, n: bb.StartVector(4, n, 4), [float(x) for x in items], b.PrependFloat32)

        def long_vec(items):
            return vec(lambda bb, n: bb.StartVector(8, n, 8), [int(x) for x in items], b.PrependInt64)

        def offsets(items):
            return vec(lambda bb, n: bb.StartVector(4, n, 4), items, b.PrependUOffsetTRelative)

        buffer_offs = []
        for raw in self.buffers:
            data = b.CreateNumpyVector(np.frombuffer(raw, np.uint8)) if raw else None
            tflite.BufferStart(b)
            if data is not None:
                tflite.BufferAddData(b, data)
            buffer_offs.append(tflite.BufferEnd(b))

        tensor_offs = []
        for t in self.tensors:
            name = b.CreateString(t.name)
            shape = int_vec(t.shape)
            q = None
            if t.scale is not None:
                sc, zp = float_vec(t.scale), long_vec(t.zero_point)
                tflite.QuantizationParametersStart(b)
                tflite.QuantizationParametersAddScale(b, sc)
                tflite.QuantizationParametersAddZeroPoint(b, zp)
                tflite.QuantizationParametersAddQuantizedDimension(b, t.axis)
                q = tflite.QuantizationParametersEnd(b)
            tflite.TensorStart(b)
            tflite.TensorAddShape(b, shape)
            tflite.TensorAddType(b, TYPE_CODES[t.dtype])
            tflite.TensorAddBuffer(b, t.buffer)
            tflite.TensorAddName(b, name)
            if t.variable:
                tflite.TensorAddIsVariable(b, True)
            if q is not None:
                tflite.TensorAddQuantization(b, q)
            tensor_offs.append(tflite.TensorEnd(b))

        op_offs = []
        for o in self.ops:
            ins, outs = int_vec(o.inputs), int_vec(o.outputs)
            inter = int_vec(o.intermediates) if o.intermediates else None
            opt_name = OPS[o.kind].options if o.kind in OPS else None
            if o.options and opt_name is None:
                raise ValueError(f"{o.kind}: options given but aotc knows no options table for this op")
            opt_off = self._options(b, opt_name, o.options, int_vec) if opt_name else None
            tflite.OperatorStart(b)
            tflite.OperatorAddOpcodeIndex(b, self.opcodes.index((o.kind, o.version)))
            tflite.OperatorAddInputs(b, ins)
            tflite.OperatorAddOutputs(b, outs)
            if inter is not None:
                tflite.OperatorAddIntermediates(b, inter)
            if opt_off is not None:
                tflite.OperatorAddBuiltinOptionsType(
                    b, getattr(tflite.BuiltinOptions, opt_name))
                tflite.OperatorAddBuiltinOptions(b, opt_off)
            op_offs.append(tflite.OperatorEnd(b))

        sg_name = b.CreateString("main")
        t_vec, i_vec, o_vec, op_vec = offsets(tensor_offs), int_vec(inputs), int_vec(outputs), offsets(op_offs)
        tflite.SubGraphStart(b)
        tflite.SubGraphAddTensors(b, t_vec)
        tflite.SubGraphAddInputs(b, i_vec)
        tflite.SubGraphAddOutputs(b, o_vec)
        tflite.SubGraphAddOperators(b, op_vec)
        tflite.SubGraphAddName(b, sg_name)
        sg = tflite.SubGraphEnd(b)

        code_offs = []
        for kind, version in self.opcodes:
            code = BUILTIN_CODES[kind]
            tflite.OperatorCodeStart(b)
            tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
            tflite.OperatorCodeAddBuiltinCode(b, code)
            tflite.OperatorCodeAddVersion(b, version)
            code_offs.append(tflite.OperatorCodeEnd(b))

        desc = b.CreateString(description)
        codes_vec, sg_vec, buf_vec = offsets(code_offs), offsets([sg]), offsets(buffer_offs)
        tflite.ModelStart(b)
        tflite.ModelAddVersion(b, 3)
        tflite.ModelAddOperatorCodes(b, codes_vec)
        tflite.ModelAddSubgraphs(b, sg_vec)
        tflite.ModelAddDescription(b, desc)
        tflite.ModelAddBuffers(b, buf_vec)
        b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
        return bytes(b.Output())

    @staticmethod
    def _options(b, opt_name: str, options: dict, int_vec):
        vectors = {k: int_vec(v) for k, v in options.items() if isinstance(v, (list, tuple))}
        getattr(tflite, f"{opt_name}Start")(b)
        for key, value in options.items():
            adder = getattr(tflite, f"{opt_name}Add{key}")
            adder(b, vectors[key] if key in vectors else value)
        return getattr(tflite, f"{opt_name}End")(b)
