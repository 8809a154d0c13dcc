"""GATHER, GATHER_ND, EMBEDDING_LOOKUP one-op models, bit-exact with LiteRT (and TFLM where it runs
the op), with constant and run-time indices."""
import numpy as np
import pytest

import aotc
from aotc.errors import ModelError
from aotc.references import LiteRT
from aotc.verify import HostModel, SanitizedHostModel
from oputil import ModelBuilder, assert_exact

TYPES = ["float32", "int8", "int16", "int32"]
QUANT = {"int8": dict(scale=0.05, zero_point=-7), "int16": dict(scale=0.001, zero_point=0),
         "float32": {}, "int32": {}, "int64": {}, "bool": {}}
GATHER_V = {"float32": 1, "int8": 2, "int16": 6, "int32": 1, "int64": 1, "bool": 1}


def gather_model(dtype, shape, idx, axis=0, batch_dims=0, idx_dtype="int32", runtime_idx=False,
                 kind="GATHER"):
    idx = np.asarray(idx)
    mb = ModelBuilder()
    x = mb.tensor("x", shape, dtype, **QUANT[dtype])
    if runtime_idx:
        i = mb.tensor("i", idx.shape, idx_dtype)
    else:
        i = mb.tensor("i", idx.shape, idx_dtype, data=idx)
    if kind == "GATHER":
        a = axis % len(shape)
        bd = batch_dims % max(idx.ndim, 1) if batch_dims < 0 else batch_dims
        out = list(shape[:a]) + list(idx.shape[bd:]) + list(shape[a + 1:])
        opts = {"Axis": axis, "BatchDims": batch_dims}
        v = GATHER_V[dtype] if batch_dims == 0 else 5
    else:
        out = list(idx.shape[:-1]) + list(shape[idx.shape[-1]:])
        opts = {}
        v = {"float32": 1, "int8": 2, "int16": 3, "int32": 1, "int64": 1, "bool": 1}[dtype]
    y = mb.tensor("y", out, dtype, **QUANT[dtype])
    mb.op(kind, [x, i], [y], opts, version=v)
    return mb.build([x, i] if runtime_idx else [x], [y])


def run_both(model, feeds):
    """Compile, run each feed on the host and in LiteRT; assert identical outputs."""
    compiled = aotc.compile(model)
    host = HostModel(compiled)
    ref = LiteRT(model)
    for feed in feeds:
        ours, theirs = host.run(feed), ref.run(feed)
        for t in compiled.graph.outputs:
            np.testing.assert_array_equal(ours[t.index], theirs[t.index])
    return compiled


def _x(t, rng):
    if t.dtype == "float32":
        return rng.normal(size=t.shape).astype(np.float32)
    if t.dtype == "bool":
        return rng.integers(0, 2, t.shape).astype(bool)
    info = np.iinfo(t.dtype)
    return rng.integers(max(info.min, -30000), min(info.max, 30000) + 1, t.shape).astype(t.dtype)


def feeds_for(model, index_limits, n=3):
    """Feeds with in-range run-time indices: index_limits gives the bound of each index (last axis)."""
    from aotc import reader
    g = reader.read(model)
    rng = np.random.default_rng(0)
    feeds = []
    for _ in range(n):
        feed = {}
        for t in g.inputs:
            if t.name == "i":
                feed[t.index] = (rng.integers(0, 1 << 30, t.shape) % np.asarray(index_limits)).astype(t.dtype)
            else:
                feed[t.index] = _x(t, rng)
        feeds.append(feed)
    return feeds


# ---- GATHER --------------------------------------------------------------------------------------

GATHERS = [  # shape, indices, axis, batch_dims
    ((5, 3), [4, 0, 2, 2], 0, 0),
    ((2, 5, 3), [[1, 4], [0, 0], [3, 2]], 1, 0),
    ((2, 3, 4), [3, 0], -1, 0),
    ((4,), 2, 0, 0),                               # scalar index
    ((2, 4, 3), [[0, 3, 1], [2, 2, 0]], 1, 1),      # batch_dims 1
    ((2, 3, 4, 2), [[1, 0], [3, 3]], 2, 1),         # batch_dims 1, outer dims
    ((2, 4, 3), [[0, 3, 1], [2, 2, 0]], 1, -1),     # negative batch_dims
]


@pytest.mark.parametrize("dtype", TYPES)
@pytest.mark.parametrize("case", GATHERS, ids=[f"g{i}" for i in range(len(GATHERS))])
def test_gather_const_indices(dtype, case):
    shape, idx, axis, bd = case
    assert_exact(gather_model(dtype, shape, idx, axis, bd), inputs=2)


@pytest.mark.parametrize("idx_dtype", ["int32", "int64", "int16"])
@pytest.mark.parametrize("case", [GATHERS[1], GATHERS[4]], ids=["axis1", "batch"])
def test_gather_runtime_indices(idx_dtype, case):
    shape, idx, axis, bd = case
    m = gather_model("int8", shape, idx, axis, bd, idx_dtype=idx_dtype, runtime_idx=True)
    run_both(m, feeds_for(m, shape[axis % len(shape)]))


@pytest.mark.parametrize("dtype", ["int64"])
def test_gather_int64(dtype):
    assert_exact(gather_model(dtype, (3, 4), [2, 0], 1), inputs=2)


def test_gather_tflm():
    assert_exact(gather_model("int8", (2, 5, 3), [[1, 4], [0, 0]], 1), inputs=2, reference="tflm")


def test_gather_out_of_range_runtime_index_writes_zeros():
    """LiteRT fails the invoke; aotc's kernel writes zeros and never reads out of bounds (ASan)."""
    m = gather_model("int16", (4, 3), [0, 0, 0], 0, runtime_idx=True)
    compiled = aotc.compile(m)
    x = np.arange(12, dtype=np.int16).reshape(4, 3) + 1
    idx = np.array([3, 4, -1], np.int32)
    xi, ii = compiled.graph.inputs
    want = np.stack([x[3], np.zeros(3, np.int16), np.zeros(3, np.int16)])
    out = HostModel(compiled).run({xi.index: x, ii.index: idx})[compiled.graph.outputs[0].index]
    np.testing.assert_array_equal(out, want)
    checked = SanitizedHostModel(compiled)
    try:
        got = checked.run_many([{xi.index: x, ii.index: idx}])[0]
    finally:
        checked.close()
    np.testing.assert_array_equal(got[compiled.graph.outputs[0].index], want)


def test_gather_constant_out_of_range_is_rejected():
    with pytest.raises(ModelError, match="out of range"):
        aotc.compile(gather_model("int8", (4, 3), [1, 4], 0))


def test_gather_bad_batch_dims_is_rejected():
    with pytest.raises(ModelError, match="batch_dims"):
        aotc.compile(gather_model("int8", (2, 4, 3), [[0, 1], [1, 0]], 0, 1))


# ---- GATHER_ND -----------------------------------------------------------------------------------

GATHER_NDS = [
    ((4, 3), [[1, 2], [3, 0], [0, 0]]),        # full index: scalars
    ((4, 3, 2), [[1], [3]]),                   # slices
    ((2, 3, 4), [[[0, 2], [1, 1]], [[1, 0], [0, 1]]]),
]


@pytest.mark.parametrize("dtype", TYPES)
@pytest.mark.parametrize("shape,idx", GATHER_NDS)
def test_gather_nd_const_indices(dtype, shape, idx):
    assert_exact(gather_model(dtype, shape, idx, kind="GATHER_ND"), inputs=2)


@pytest.mark.parametrize("idx_dtype", ["int32", "int64", "int16"])
def test_gather_nd_runtime_indices(idx_dtype):
    shape, idx = GATHER_NDS[2]
    m = gather_model("float32", shape, idx, kind="GATHER_ND", idx_dtype=idx_dtype, runtime_idx=True)
    run_both(m, feeds_for(m, [2, 3]))


def test_gather_nd_out_of_range_runtime_index_writes_zeros():
    m = gather_model("int8", (4, 3), [[0, 0], [0, 0]], kind="GATHER_ND", runtime_idx=True)
    compiled = aotc.compile(m)
    x = (np.arange(12, dtype=np.int8) + 1).reshape(4, 3)
    idx = np.array([[3, 2], [1, 3]], np.int32)
    xi, ii = compiled.graph.inputs
    out = HostModel(compiled).run({xi.index: x, ii.index: idx})[compiled.graph.outputs[0].index]
    np.testing.assert_array_equal(out, [x[3, 2], 0])


# ---- EMBEDDING_LOOKUP -----------------------------------------------------------------------------

def embedding_model(vdtype, ydtype, rows=6, cols=(4,), ids=(3, 0, 5, 3), per_row=False, runtime_ids=False,
                    runtime_value=False):
    rng = np.random.default_rng(0)
    mb = ModelBuilder()
    shape = (rows,) + tuple(cols)
    ids = np.array(ids, np.int32)
    i = mb.tensor("i", ids.shape, "int32") if runtime_ids else mb.tensor("i", ids.shape, "int32", data=ids)
    if vdtype == "float32":
        q = {}
        data = rng.normal(size=shape).astype(np.float32)
    else:
        q = dict(scale=list(np.linspace(0.01, 0.05, rows)), zero_point=[0] * rows, axis=0) if per_row \
            else QUANT["int8"] if ydtype == "int8" else dict(scale=0.03, zero_point=0)
        data = rng.integers(-128, 128, shape).astype(np.int8)
    v = mb.tensor("v", shape, vdtype, **q) if runtime_value else mb.tensor("v", shape, vdtype, data=data, **q)
    y = mb.tensor("y", (len(ids),) + tuple(cols), ydtype, **(q if ydtype == vdtype else {}))
    mb.op("EMBEDDING_LOOKUP", [i, v], [y], version=1 if vdtype == ydtype == "float32" else 3)
    ins = ([i] if runtime_ids else []) + ([v] if runtime_value else [])
    return mb.build(ins, [y])


@pytest.mark.parametrize("vdtype,ydtype", [("float32", "float32"), ("int8", "int8"), ("int8", "float32")])
def test_embedding_lookup_runtime_ids(vdtype, ydtype):
    m = embedding_model(vdtype, ydtype, runtime_ids=True)
    run_both(m, feeds_for(m, 6))


def test_embedding_lookup_per_row_scales():
    m = embedding_model("int8", "float32", cols=(2, 3), per_row=True, runtime_ids=True)
    run_both(m, feeds_for(m, 6))


def test_embedding_lookup_runtime_values():
    assert_exact(embedding_model("float32", "float32", runtime_value=True), inputs=2)
    assert_exact(embedding_model("int8", "int8", runtime_value=True), inputs=2)


def test_evaluate_matches_litert():
    from aotc import reader
    from aotc.ops import OPS
    for m in [gather_model("int8", *GATHERS[4][:2], 1, 1, runtime_idx=False),
              gather_model("int8", *GATHER_NDS[2], kind="GATHER_ND")]:
        g = reader.read(m)
        op = g.ops[0]
        x = np.random.default_rng(2).integers(-128, 128, op.inputs[0].shape).astype(np.int8)
        got = OPS[op.kind].evaluate(op, [x, op.inputs[1].data])[0]
        np.testing.assert_array_equal(got.reshape(op.outputs[0].shape), LiteRT(m).run({op.inputs[0].index: x})
                                      [op.outputs[0].index])
    m = embedding_model("int8", "float32", per_row=True, runtime_value=True)
    g = reader.read(m)
    op = g.ops[0]
    v = np.random.default_rng(3).integers(-128, 128, op.inputs[1].shape).astype(np.int8)
    got = OPS[op.kind].evaluate(op, [op.inputs[0].data, v])[0]
    np.testing.assert_array_equal(got, LiteRT(m).run({op.inputs[1].index: v})[op.outputs[0].index])
