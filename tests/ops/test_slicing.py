"""SLICE, SPLIT, SPLIT_V, UNPACK, PACK, TILE, BROADCAST_TO, BROADCAST_ARGS, REVERSE_V2, FILL, EXPAND_DIMS,
DYNAMIC_UPDATE_SLICE one-op models, bit-exact with LiteRT (and TFLM where it runs the op)."""
import numpy as np
import pytest

import aotc
from aotc.errors import AotcError, ModelError
from oputil import ModelBuilder, assert_exact

TYPES = ["float32", "int8", "int16", "int32"]


def cases(items, types=TYPES):
    """Every type on the first case, int8 on the others (the copies do not depend on the type
    beyond the element size)."""
    out = [(t, items[0]) for t in types]
    out += [("int8", c) for c in items[1:]]
    return out
QUANT = {"int8": dict(scale=0.05, zero_point=-7), "int16": dict(scale=0.001, zero_point=0),
         "float32": {}, "int32": {}, "int64": {}, "bool": {}}


def model(kind, dtype, in_shapes, out_shapes, params=(), options=None, version=1, order=None,
          param_dtype="int32", out_quant=None):
    """Data inputs of `in_shapes`, then constant int parameters; `order` permutes the op's inputs
    (indices into data + params) for ops whose data input is not first (SPLIT)."""
    mb = ModelBuilder()
    xs = [mb.tensor(f"x{i}", s, dtype, **QUANT[dtype]) for i, s in enumerate(in_shapes)]
    ps = [mb.tensor(f"p{i}", np.shape(p), param_dtype, data=p) for i, p in enumerate(params)]
    ys = [mb.tensor(f"y{i}", s, dtype, **(out_quant or QUANT[dtype])) for i, s in enumerate(out_shapes)]
    ins = xs + ps
    if order is not None:
        ins = [ins[i] for i in order]
    mb.op(kind, ins, ys, options or {}, version=version)
    return mb.build(xs, ys)


# ---- SLICE -----------------------------------------------------------------------------------------

SLICES = [((2, 5, 4), [1, 1, 0], [1, 3, -1]),
          ((6, 7), [2, 0], [-1, 7]),
          ((1, 4, 5, 3), [0, 1, 2, 1], [1, 2, 3, 2]),
          ((3, 2, 2, 3, 4), [1, 0, 1, 0, 1], [2, 2, 1, 3, 2])]


@pytest.mark.parametrize("dtype,case", cases(SLICES))
def test_slice(dtype, case):
    shape, begin, size = case
    out = [s if s != -1 else d - b for d, b, s in zip(shape, begin, size)]
    v = {"int8": 2, "int16": 3, "float32": 1, "int32": 1}[dtype]
    assert_exact(model("SLICE", dtype, [shape], [out], [np.array(begin, np.int32), np.array(size, np.int32)],
                       version=v), inputs=2)


def test_slice_int64_params_and_tflm():
    m = model("SLICE", "int8", [(4, 6)], [(2, 3)], [np.array([1, 2], np.int64), np.array([2, 3], np.int64)],
              version=2, param_dtype="int64")
    assert_exact(m, inputs=2)
    assert_exact(model("SLICE", "int8", [(4, 6)], [(2, 3)], [np.array([1, 2], np.int32),
                                                             np.array([2, 3], np.int32)], version=2),
                 inputs=2, reference="tflm")


def test_slice_out_of_range_is_rejected():
    m = model("SLICE", "int8", [(4, 6)], [(2, 3)], [np.array([3, 0], np.int32), np.array([2, 3], np.int32)],
              version=2)
    with pytest.raises(ModelError, match="invalid size"):
        aotc.compile(m)


# ---- SPLIT / SPLIT_V / UNPACK ------------------------------------------------------------------

@pytest.mark.parametrize("dtype,case", cases([((2, 6, 3), 1, 3), ((4, 5), 0, 2), ((2, 3, 4), -1, 4)]))
def test_split(dtype, case):
    shape, axis, n = case
    out = list(shape)
    out[axis] //= n
    v = {"int8": 2, "int16": 3, "float32": 1, "int32": 1}[dtype]
    m = model("SPLIT", dtype, [shape], [out] * n, [np.array(axis, np.int32)], {"NumSplits": n}, version=v,
              order=[1, 0])
    assert_exact(m, inputs=2)


def test_split_tflm():
    m = model("SPLIT", "int8", [(2, 6)], [(2, 2)] * 3, [np.array(1, np.int32)], {"NumSplits": 3}, version=2,
              order=[1, 0])
    assert_exact(m, inputs=2, reference="tflm")


@pytest.mark.parametrize("dtype,case", cases([((2, 7, 3), 1, [2, -1, 1]), ((6, 2), 0, [1, 5]),
                                              ((3, 4), -1, [0, 4])]))
def test_split_v(dtype, case):
    shape, axis, sizes = case
    dim = shape[axis]
    real = [s if s != -1 else dim - (sum(sizes) + 1) for s in sizes]
    outs = []
    for s in real:
        o = list(shape)
        o[axis] = s
        outs.append(o)
    if 0 in real:   # zero-size outputs are rejected by the reader
        with pytest.raises(AotcError):
            aotc.compile(model("SPLIT_V", dtype, [shape], outs, [np.array(sizes, np.int32),
                                                                np.array(axis, np.int32)],
                               {"NumSplits": len(sizes)}, version=2))
        return
    m = model("SPLIT_V", dtype, [shape], outs, [np.array(sizes, np.int32), np.array(axis, np.int32)],
              {"NumSplits": len(sizes)}, version=2)
    assert_exact(m, inputs=2)


@pytest.mark.parametrize("dtype,case", cases([((2, 3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1)]))
def test_unpack(dtype, case):
    shape, axis = case
    n = shape[axis]
    out = list(shape)
    del out[axis]
    v = {"int8": 2, "int16": 4, "float32": 1, "int32": 1}[dtype]
    assert_exact(model("UNPACK", dtype, [shape], [out] * n, options={"Num": n, "Axis": axis}, version=v),
                 inputs=2)


def test_unpack_tflm():
    assert_exact(model("UNPACK", "int8", [(2, 3, 4)], [(2, 4)] * 3, options={"Num": 3, "Axis": 1}, version=2),
                 inputs=2, reference="tflm")


def test_unpack_different_quant_is_rejected():
    m = model("UNPACK", "int8", [(2, 3)], [(3,)] * 2, options={"Num": 2, "Axis": 0}, version=2,
              out_quant=dict(scale=0.1, zero_point=0))
    with pytest.raises(ModelError, match="quantization"):
        aotc.compile(m)


# ---- PACK (run time) ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype,case", cases([((3, 4), 1, 3), ((3, 4), 0, 2), ((2, 3), -1, 2), ((5,), 0, 3)]))
def test_pack(dtype, case):
    shape, axis, n = case
    out = list(shape)
    a = axis % (len(shape) + 1)
    out.insert(a, n)
    v = {"int8": 2, "int16": 4, "float32": 1, "int32": 1}[dtype]
    assert_exact(model("PACK", dtype, [shape] * n, [out], options={"Axis": axis, "ValuesCount": n}, version=v),
                 inputs=2)


def test_pack_tflm():
    assert_exact(model("PACK", "int8", [(2, 3)] * 2, [(2, 2, 3)], options={"Axis": 1, "ValuesCount": 2},
                       version=2), inputs=2, reference="tflm")


def test_pack_different_quant_is_rejected():
    m = model("PACK", "int8", [(2, 3)] * 2, [(2, 2, 3)], options={"Axis": 0, "ValuesCount": 2}, version=2,
              out_quant=dict(scale=0.1, zero_point=0))
    with pytest.raises(ModelError, match="quantization"):
        aotc.compile(m)


# ---- TILE / BROADCAST_TO / REVERSE_V2 ----------------------------------------------------------

@pytest.mark.parametrize("dtype,case", cases([((1, 2, 3), (2, 2, 2)), ((2, 3), (2, 1)), ((2, 3), (1, 3)),
                                              ((3,), (4,)), ((2, 1, 2, 3), (1, 3, 2, 1))]))
def test_tile(dtype, case):
    shape, mult = case
    out = [d * m for d, m in zip(shape, mult)]
    v = {"int8": 2, "int16": 2, "float32": 1, "int32": 1}[dtype]
    assert_exact(model("TILE", dtype, [shape], [out], [np.array(mult, np.int32)], version=v), inputs=2)


@pytest.mark.parametrize("dtype,case", cases([((1, 3, 1), (2, 3, 4)), ((3,), (2, 3)), ((2, 1), (2, 4)),
                                              ((1,), (2, 2, 3)), ((2, 1, 3), (4, 2, 5, 3))]))
def test_broadcast_to(dtype, case):
    shape, target = case
    assert_exact(model("BROADCAST_TO", dtype, [shape], [target], [np.array(target, np.int32)], version=2),
                 inputs=2)


@pytest.mark.parametrize("dtype,case", cases([((2, 3, 4), [2, 1]), ((3, 4), [0]), ((3, 4), [1]),
                                              ((2, 3, 4), [-1]), ((2, 3, 2, 2), [1, 2]), ((2, 3, 4), [0, 1, 2])]))
def test_reverse(dtype, case):
    shape, axes = case
    v = {"int8": 3, "int16": 3, "float32": 1, "int32": 1}[dtype]
    assert_exact(model("REVERSE_V2", dtype, [shape], [shape], [np.array(axes, np.int32)], version=v), inputs=2)


# ---- FILL / BROADCAST_ARGS / EXPAND_DIMS -----------------------------------------------------------

@pytest.mark.parametrize("dtype", TYPES)
def test_fill_runtime_value(dtype):
    v = {"int8": 3, "int16": 4, "float32": 1, "int32": 1}[dtype]
    mb = ModelBuilder()
    d = mb.tensor("dims", (3,), "int32", data=np.array([2, 3, 4], np.int32))
    x = mb.tensor("x", (), dtype, **QUANT[dtype])
    y = mb.tensor("y", (2, 3, 4), dtype, **QUANT[dtype])
    mb.op("FILL", [d, x], [y], version=v)
    assert_exact(mb.build([x], [y]), inputs=3)


def test_fill_constant_value_feeds_an_add():
    """A constant FILL feeding a run-time op folds; as a graph output it runs the kernel."""
    mb = ModelBuilder()
    x = mb.tensor("x", (2, 3), "float32")
    d = mb.tensor("dims", (2,), "int32", data=np.array([2, 3], np.int32))
    c = mb.tensor("c", (), "float32", data=np.array(1.5, np.float32))
    f = mb.tensor("f", (2, 3), "float32")
    y = mb.tensor("y", (2, 3), "float32")
    mb.op("FILL", [d, c], [f])
    mb.op("ADD", [x, f], [y])
    compiled = aotc.compile(mb.build([x], [y, f]))
    assert "FILL" in [c.op.kind for c in compiled.calls]
    assert_exact(mb.build([x], [y, f]), inputs=2)


def test_broadcast_args_folds_into_broadcast_to():
    mb = ModelBuilder()
    x = mb.tensor("x", (3, 1), "int8", **QUANT["int8"])
    a = mb.tensor("a", (2,), "int32", data=np.array([3, 1], np.int32))
    b = mb.tensor("b", (3,), "int32", data=np.array([2, 1, 4], np.int32))
    s = mb.tensor("s", (3,), "int32")
    y = mb.tensor("y", (2, 3, 4), "int8", **QUANT["int8"])
    s_out = mb.tensor("s_out", (3,), "int32")
    mb.op("BROADCAST_ARGS", [a, b], [s])
    mb.op("BROADCAST_TO", [x, s], [y], version=2)
    mb.op("BROADCAST_ARGS", [a, b], [s_out])   # a graph output: not folded, a constant copy
    assert_exact(mb.build([x], [y, s_out]), inputs=2)


@pytest.mark.parametrize("dtype,case", cases([((2, 3), -1), ((2, 3), 0), ((2, 3), 2), ((4,), -2)]))
def test_expand_dims(dtype, case):
    shape, axis = case
    a = axis + len(shape) + 1 if axis < 0 else axis
    out = list(shape[:a]) + [1] + list(shape[a:])
    # a view: follow it with a copy so the output is not the input's own buffer
    mb = ModelBuilder()
    x = mb.tensor("x", shape, dtype, **QUANT[dtype])
    ax = mb.tensor("ax", (), "int32", data=np.array(axis, np.int32))
    e = mb.tensor("e", out, dtype, **QUANT[dtype])
    y = mb.tensor("y", out, dtype, **QUANT[dtype])
    mb.op("EXPAND_DIMS", [x, ax], [e])
    mb.op("REVERSE_V2", [e, mb.tensor("r", (1,), "int32", data=np.array([a], np.int32))], [y],
          version={"int8": 3, "int16": 3, "float32": 1, "int32": 1}[dtype])
    compiled = aotc.compile(mb.build([x], [y]))
    assert [c.alias for c in compiled.calls if c.op.kind == "EXPAND_DIMS"] == [True]
    assert_exact(mb.build([x], [y]), inputs=2)


def test_expand_dims_quant_mismatch_is_rejected():
    mb = ModelBuilder()
    x = mb.tensor("x", (2, 3), "int8", **QUANT["int8"])
    ax = mb.tensor("ax", (), "int32", data=np.array(0, np.int32))
    y = mb.tensor("y", (1, 2, 3), "int8", scale=0.1, zero_point=0)
    mb.op("EXPAND_DIMS", [x, ax], [y])
    with pytest.raises(ModelError, match="quantization"):
        aotc.compile(mb.build([x], [y]))


def test_reverse_non_contiguous_axes_is_rejected():
    m = model("REVERSE_V2", "int8", [(2, 3, 4)], [(2, 3, 4)], [np.array([0, 2], np.int32)], version=3)
    with pytest.raises(ModelError, match="not contiguous"):
        aotc.compile(m)


def test_runtime_parameter_is_a_clear_error():
    mb = ModelBuilder()
    x = mb.tensor("x", (2, 3), "float32")
    m = mb.tensor("m", (2,), "int32")
    y = mb.tensor("y", (4, 3), "float32")
    mb.op("TILE", [x, m], [y])
    with pytest.raises(AotcError, match="must be constant"):
        aotc.compile(mb.build([x, m], [y]))


@pytest.mark.parametrize("kind", ["SLICE", "TILE", "BROADCAST_TO", "REVERSE_V2", "SPLIT_V", "FILL",
                                  "BROADCAST_ARGS", "UNPACK"])
def test_evaluate_matches_litert(kind):
    """The numpy `evaluate` used by constant folding gives LiteRT's values."""
    from aotc import reader
    from aotc.ops import OPS
    from aotc.references import LiteRT
    p32 = lambda v: np.array(v, np.int32)  # noqa: E731
    m = {"SLICE": lambda: model("SLICE", "int8", [(4, 5)], [(2, 3)], [p32([1, 2]), p32([2, -1])], version=2),
         "TILE": lambda: model("TILE", "int8", [(2, 3)], [(4, 6)], [p32([2, 2])], version=2),
         "BROADCAST_TO": lambda: model("BROADCAST_TO", "int8", [(3, 1)], [(2, 3, 4)], [p32([2, 3, 4])], version=2),
         "REVERSE_V2": lambda: model("REVERSE_V2", "int8", [(2, 3, 4)], [(2, 3, 4)], [p32([1, 2])], version=3),
         "SPLIT_V": lambda: model("SPLIT_V", "int8", [(2, 5)], [(2, 2), (2, 3)], [p32([2, -1]), p32(1)],
                                  {"NumSplits": 2}, version=2),
         "UNPACK": lambda: model("UNPACK", "int8", [(2, 3)], [(2,)] * 3, options={"Num": 3, "Axis": 1}, version=2),
         }
    if kind in ("FILL", "BROADCAST_ARGS"):
        mb = ModelBuilder()
        if kind == "FILL":
            x = mb.tensor("x", (), "int8", **QUANT["int8"])
            d = mb.tensor("d", (2,), "int32", data=p32([2, 3]))
            y = mb.tensor("y", (2, 3), "int8", **QUANT["int8"])
            mb.op("FILL", [d, x], [y], version=3)
        else:
            x = mb.tensor("x", (3,), "int32")
            b = mb.tensor("b", (2,), "int32", data=p32([4, 1]))
            y = mb.tensor("y", (3,), "int32")
            mb.op("BROADCAST_ARGS", [x, b], [y])
        data = mb.build([x], [y])
    else:
        data = m[kind]()
    g = reader.read(data)
    op = g.ops[0]
    xt = op.inputs[1] if kind == "FILL" else op.inputs[0]
    xv = (np.array([2, 1, 1], np.int32) if kind == "BROADCAST_ARGS"
          else np.random.default_rng(1).integers(-128, 128, xt.shape).astype(np.int8))
    values = [xv if t is xt else t.data for t in op.inputs]
    got = OPS[op.kind].evaluate(op, values)
    ref = LiteRT(data).run({xt.index: xv})
    for t, v in zip(op.outputs, got):
        np.testing.assert_array_equal(np.asarray(v).reshape(t.shape), ref[t.index])


@pytest.mark.parametrize("kind", ["TILE", "REVERSE_V2", "SPLIT"])
def test_sanitized(kind):
    if kind == "TILE":
        m = model("TILE", "int16", [(2, 3)], [(4, 9)], [np.array([2, 3], np.int32)], version=2)
    elif kind == "REVERSE_V2":
        m = model("REVERSE_V2", "float32", [(2, 3, 4)], [(2, 3, 4)], [np.array([0, 1], np.int32)])
    else:
        m = model("SPLIT", "int8", [(2, 6)], [(2, 2)] * 3, [np.array(1, np.int32)], {"NumSplits": 3},
                  version=2, order=[1, 0])
    assert_exact(m, inputs=2, sanitize=True)


# ---- DYNAMIC_UPDATE_SLICE ------------------------------------------------------------------------

DUS_TYPES = ["float32", "int8", "int16", "int32", "int64", "bool"]
TFLM_DUS = ("float32", "int8", "int16", "int32")


def dus_model(dtype, shape, ushape, idx=None, idx_dtype="int32", const_data=False):
    """operand x, update u (model inputs, or constants when const_data), start indices s (constant
    `idx`, or a model input when idx is None)."""
    rng = np.random.default_rng(3)
    mb = ModelBuilder()
    q = QUANT[dtype]
    if const_data:
        mk = lambda n, sh: mb.tensor(n, sh, dtype, data=rng.integers(-100, 100, sh).astype(  # noqa: E731
            {"bool": bool}.get(dtype, dtype)), **q)
        x, u = mk("x", shape), mk("u", ushape)
    else:
        x, u = mb.tensor("x", shape, dtype, **q), mb.tensor("u", ushape, dtype, **q)
    if idx is None:
        s = mb.tensor("s", (len(shape),), idx_dtype)
    else:
        s = mb.tensor("s", (len(shape),), idx_dtype, data=np.array(idx, idx_dtype))
    y = mb.tensor("y", shape, dtype, **q)
    v = 4 if dtype == "int16" else 2 if idx_dtype == "int64" else 1
    mb.op("DYNAMIC_UPDATE_SLICE", [x, u, s], [y], version=v)
    ins = ([] if const_data else [x, u]) + ([s] if idx is None else [])
    return mb.build(ins, [y])


DUS_CASES = [((3, 4, 5), (2, 2, 3), [1, 1, 2]),       # interior
             ((3, 4, 5), (2, 2, 3), [-2, 7, 9]),      # clamped low and high
             ((3, 4, 5), (1, 4, 5), [2, 0, 0]),       # whole rows: one run
             ((6,), (2,), [3]),
             ((2, 3, 4), (2, 3, 4), [1, 1, 1]),       # update as large as the operand
             ((2, 1, 3, 2), (1, 1, 2, 2), [1, 0, 1, 0])]


@pytest.mark.parametrize("dtype,case", cases(DUS_CASES, DUS_TYPES))
def test_dynamic_update_slice(dtype, case):
    shape, ushape, idx = case
    assert_exact(dus_model(dtype, shape, ushape, idx), inputs=2)
    if dtype in TFLM_DUS:
        assert_exact(dus_model(dtype, shape, ushape, idx), inputs=1, reference="tflm")


@pytest.mark.parametrize("dtype,idx_dtype", [("int8", "int32"), ("float32", "int64"), ("bool", "int32"),
                                             ("int16", "int64")])
def test_dynamic_update_slice_runtime_indices(dtype, idx_dtype):
    """Random start indices (mostly far out of range: clamped at both ends)."""
    assert_exact(dus_model(dtype, (3, 4, 5), (2, 1, 3), idx_dtype=idx_dtype), inputs=4)


@pytest.mark.parametrize("idx_dtype", ["int32", "int64"])
def test_dynamic_update_slice_runtime_indices_in_range(tmp_path, idx_dtype):
    """Run-time start indices inside and at the edges of the range, and past it (the kernel clamps)."""
    files = []
    for k, idx in enumerate([[1, 2, 1], [0, 0, 0], [1, 3, 2], [-1, 1, 5], [2**31 - 1 if idx_dtype == "int32"
                                                                           else 2**40, -(2**31), 1]]):
        path = tmp_path / f"idx{k}.npy"
        np.save(path, np.array(idx, idx_dtype))
        files.append(path)
    m = dus_model("int32", (3, 5, 4), (2, 2, 2), idx_dtype=idx_dtype, const_data=True)
    for f in files:
        assert_exact(m, inputs=0, input_files=[f])
    assert_exact(m, inputs=0, input_files=[files[0]], reference="tflm")


def test_dynamic_update_slice_sanitized():
    assert_exact(dus_model("int16", (3, 4, 5), (2, 1, 3), idx_dtype="int64"), inputs=2, sanitize=True)
    assert_exact(dus_model("float32", (3, 4, 5), (2, 2, 3), [1, 1, 2]), inputs=1, sanitize=True)


def test_dynamic_update_slice_folds():
    """All-constant DYNAMIC_UPDATE_SLICE feeding a run-time op folds with `evaluate`."""
    mb = ModelBuilder()
    x = mb.tensor("x", (3, 4), "int32")
    a = mb.tensor("a", (3, 4), "int32", data=np.arange(12, dtype=np.int32).reshape(3, 4))
    b = mb.tensor("b", (2, 2), "int32", data=np.array([[-1, -2], [-3, -4]], np.int32))
    s = mb.tensor("s", (2,), "int32", data=np.array([2, 1], np.int32))   # row clamped to 1
    d = mb.tensor("d", (3, 4), "int32")
    y = mb.tensor("y", (3, 4), "int32")
    mb.op("DYNAMIC_UPDATE_SLICE", [a, b, s], [d])
    mb.op("ADD", [x, d], [y])
    compiled = aotc.compile(mb.build([x], [y]))
    assert "DYNAMIC_UPDATE_SLICE" not in [c.op.kind for c in compiled.calls]
    assert_exact(mb.build([x], [y]), inputs=2)


def test_dynamic_update_slice_errors():
    mb = ModelBuilder()
    x = mb.tensor("x", (3, 4), "float32")
    u = mb.tensor("u", (4, 1), "float32")
    s = mb.tensor("s", (2,), "int32", data=np.array([0, 0], np.int32))
    y = mb.tensor("y", (3, 4), "float32")
    mb.op("DYNAMIC_UPDATE_SLICE", [x, u, s], [y])
    with pytest.raises(ModelError, match="exceeds"):
        aotc.compile(mb.build([x, u], [y]))
    mb = ModelBuilder()
    x = mb.tensor("x", (3, 4), "float32")
    u = mb.tensor("u", (1, 1), "int32")
    s = mb.tensor("s", (2,), "int32", data=np.array([0, 0], np.int32))
    y = mb.tensor("y", (3, 4), "float32")
    mb.op("DYNAMIC_UPDATE_SLICE", [x, u, s], [y])
    with pytest.raises(ModelError, match="update type"):
        aotc.compile(mb.build([x, u], [y]))
