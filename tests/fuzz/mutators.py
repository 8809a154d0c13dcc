"""Mutations of .tflite files for the fuzz campaign: byte-level (truncation, bit flips, spliced chunks,
extreme 32-bit words) and structural, through the schema: the byte positions of index, size and
quantization fields are located with the flatbuffer's own vtables and patched in place, so a mutant
is still a well-formed flatbuffer whose *meaning* is hostile (an out-of-range tensor index, a
negative dimension, a NaN scale, an op that reads its own output, ...)."""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import tflite

EXTREME_INTS = [-1, 0, 1, 2, 3, 127, 128, 255, 256, 32767, 32768, 65535, 65537, 2**31 - 1, -2**31, 2**30,
                0x7FFF0000, 1000000]
# builtin options whose window geometry (strides, dilations, window sizes) the mutations patch:
# union type name -> (vtable offset, field name) of each int32 field
WINDOW_OPTIONS = {
    "Conv2DOptions": ((6, "stride_w"), (8, "stride_h"), (12, "dilation_w"), (14, "dilation_h")),
    "DepthwiseConv2DOptions": ((6, "stride_w"), (8, "stride_h"), (10, "depth_multiplier"),
                               (14, "dilation_w"), (16, "dilation_h")),
    "Pool2DOptions": ((6, "stride_w"), (8, "stride_h"), (10, "filter_w"), (12, "filter_h")),
    "TransposeConvOptions": ((6, "stride_w"), (8, "stride_h")),
}
OPTION_TYPES = {v: k for k, v in vars(tflite.BuiltinOptions).items() if not k.startswith("_")}
EXTREME_FLOATS = [0.0, -0.0, -1.0, float("nan"), float("inf"), float("-inf"), 1e-45, 3.4e38, 1e-30]


@dataclass(frozen=True)
class Field:
    """One patchable scalar in the file: its byte offset, struct format and what it is."""
    pos: int
    fmt: str      # '<i', '<I', '<f', '<q', '<b'
    what: str


def _table_field(tab, vt_off: int) -> int | None:
    o = tab.Offset(vt_off)
    return tab.Pos + o if o else None


def fields(buf: bytes) -> list[Field]:
    """Every index, size, type, version and quantization field of the first subgraph. Stacked
    mutations parse already-mutated files, so vectors that run past the end are skipped."""
    out: list[Field] = []
    m = tflite.Model.GetRootAs(buf, 0)

    def _vector(tab, vt_off: int, elem: int = 4):
        o = tab.Offset(vt_off)
        if not o:
            return None
        start, n = tab.Vector(o), tab.VectorLen(o)
        return (start, n) if 0 <= start and start + elem * n <= len(buf) else None

    for i in range(m.OperatorCodesLength()):
        oc = m.OperatorCodes(i)
        for vt, fmt, what in ((4, "<b", "deprecated_builtin_code"), (8, "<i", "version"), (10, "<i", "builtin_code")):
            p = _table_field(oc._tab, vt)
            if p is not None:
                out.append(Field(p, fmt, f"opcode {i} {what}"))
    sg = m.Subgraphs(0)
    if sg.TensorsLength() > 100000 or sg.OperatorsLength() > 100000 or m.OperatorCodesLength() > 100000:
        raise ValueError("too mutated to walk")
    for vt, what in ((6, "graph input"), (8, "graph output")):
        v = _vector(sg._tab, vt)
        if v:
            out += [Field(v[0] + 4 * j, "<i", f"{what} {j}") for j in range(v[1])]
    for t in range(sg.TensorsLength()):
        tt = sg.Tensors(t)
        v = _vector(tt._tab, 4)
        if v:
            out += [Field(v[0] + 4 * j, "<i", f"tensor {t} dim {j}") for j in range(v[1])]
        for vt, fmt, what in ((6, "<b", "type"), (8, "<I", "buffer")):
            p = _table_field(tt._tab, vt)
            if p is not None:
                out.append(Field(p, fmt, f"tensor {t} {what}"))
        q = tt.Quantization()
        if q is not None:
            v = _vector(q._tab, 8)
            if v:
                out += [Field(v[0] + 4 * j, "<f", f"tensor {t} scale {j}") for j in range(v[1])]
            v = _vector(q._tab, 10, 8)
            if v:
                out += [Field(v[0] + 8 * j, "<q", f"tensor {t} zero_point {j}") for j in range(v[1])]
            p = _table_field(q._tab, 16)
            if p is not None:
                out.append(Field(p, "<i", f"tensor {t} quantized_dimension"))
    for k in range(sg.OperatorsLength()):
        op = sg.Operators(k)
        p = _table_field(op._tab, 4)
        if p is not None:
            out.append(Field(p, "<I", f"op {k} opcode_index"))
        for vt, what in ((6, "input"), (8, "output")):
            v = _vector(op._tab, vt)
            if v:
                out += [Field(v[0] + 4 * j, "<i", f"op {k} {what} {j}") for j in range(v[1])]
        out += _window_fields(op, k)
    return out


def _window_fields(op, k: int) -> list[Field]:
    """The stride, dilation and window-size fields the op's options table stores (the writer omits
    fields equal to the schema's default, so those cannot be patched in place)."""
    table = op.BuiltinOptions()
    names = WINDOW_OPTIONS.get(OPTION_TYPES.get(op.BuiltinOptionsType()), ())
    if table is None or not names:
        return []
    opts = tflite.Conv2DOptions()   # any table type: only its vtable is read
    opts.Init(table.Bytes, table.Pos)
    found = ((_table_field(opts._tab, vt), name) for vt, name in names)
    return [Field(p, "<i", f"op {k} {name}") for p, name in found if p is not None]


def patch(buf: bytes, f: Field, value) -> bytes:
    b = bytearray(buf)
    if f.fmt == "<b":
        value = int(value) & 0xFF
        b[f.pos] = value
        return bytes(b)
    if f.fmt == "<I":
        value = int(value) & 0xFFFFFFFF
    struct.pack_into(f.fmt, b, f.pos, value)
    return bytes(b)


def structural(buf: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    fs = fields(buf)
    f = fs[int(rng.integers(len(fs)))]
    if f.fmt == "<f":
        value = EXTREME_FLOATS[int(rng.integers(len(EXTREME_FLOATS)))]
    elif f.what.startswith("op ") and (" input " in f.what or " output " in f.what) and rng.random() < 0.5:
        # rewire to another tensor: creates cycles, double producers, reads of unproduced tensors
        n_tensors = tflite.Model.GetRootAs(buf, 0).Subgraphs(0).TensorsLength()
        value = int(rng.integers(-1, n_tensors + 2))
    else:
        value = EXTREME_INTS[int(rng.integers(len(EXTREME_INTS)))]
    return patch(buf, f, value), f"{f.what} = {value}"


def truncate(buf: bytes, rng) -> tuple[bytes, str]:
    n = int(rng.integers(0, len(buf)))
    return buf[:n], f"truncated to {n} bytes"


def bit_flips(buf: bytes, rng) -> tuple[bytes, str]:
    b = bytearray(buf)
    k = int(rng.integers(1, 9))
    for _ in range(k):
        i = int(rng.integers(len(b)))
        b[i] ^= 1 << int(rng.integers(8))
    return bytes(b), f"{k} bit flips"


def extreme_word(buf: bytes, rng) -> tuple[bytes, str]:
    b = bytearray(buf)
    i = int(rng.integers(0, max(len(b) - 4, 1))) & ~3
    v = EXTREME_INTS[int(rng.integers(len(EXTREME_INTS)))]
    struct.pack_into("<I", b, i, v & 0xFFFFFFFF)
    return bytes(b), f"word at {i} = {v}"


def splice(buf: bytes, rng, donor: bytes | None = None) -> tuple[bytes, str]:
    donor = donor or buf
    n = int(rng.integers(4, 64))
    src = int(rng.integers(0, max(len(donor) - n, 1)))
    dst = int(rng.integers(0, max(len(buf) - n, 1)))
    b = bytearray(buf)
    b[dst:dst + n] = donor[src:src + n]
    return bytes(b), f"spliced {n} bytes from {src} to {dst}"


MUTATORS = [structural, structural, structural, truncate, bit_flips, extreme_word, splice]


def mutate(buf: bytes, rng: np.random.Generator, donors=()) -> tuple[bytes, str]:
    fn = MUTATORS[int(rng.integers(len(MUTATORS)))]
    if fn is splice and donors:
        return splice(buf, rng, donors[int(rng.integers(len(donors)))])
    return fn(buf, rng)
