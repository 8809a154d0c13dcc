"""PAD, PADV2, CONCATENATION, STRIDED_SLICE, TRANSPOSE one-op models, bit-exact with LiteRT."""
import numpy as np
import pytest

import aotc
from aotc.errors import ModelError
from oputil import ModelBuilder, assert_exact

TYPES = ["int8", "int16", "float32"]
QUANT = {"int8": dict(scale=0.05, zero_point=-7), "int16": dict(scale=0.001, zero_point=0),
         "float32": {}, "int32": {}}
VERSIONS = {"PAD": 4, "PADV2": 4, "CONCATENATION": 4, "TRANSPOSE": 6, "STRIDED_SLICE": 4}


def one_op(kind, dtype, in_shapes, out_shape, params=(), options=None, const_inputs=()):
    """inputs: data tensors of `in_shapes`, then int32 constant `params` (list of arrays)."""
    mb = ModelBuilder()
    xs = [mb.tensor(f"x{i}", s, dtype, **QUANT[dtype]) for i, s in enumerate(in_shapes)]
    cs = [mb.tensor(f"c{i}", np.shape(c), dt, data=c, **q) for i, (c, dt, q) in enumerate(const_inputs)]
    ps = [mb.tensor(f"p{i}", np.shape(p), "int32", data=p) for i, p in enumerate(params)]
    y = mb.tensor("y", out_shape, dtype, **QUANT[dtype])
    mb.op(kind, xs + cs + ps, [y], options or {}, version=VERSIONS[kind])
    return mb.build(xs, [y])


# ---- TRANSPOSE -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", TYPES + ["int32"])
@pytest.mark.parametrize("shape,perm", [
    ((2, 3, 4), (2, 0, 1)),
    ((1, 5, 1, 3), (0, 3, 1, 2)),
    ((2, 3), (1, 0)),
    ((3, 4, 5), (0, 1, 2)),
    ((2, 1, 3, 2, 2, 3), (5, 3, 1, 0, 4, 2)),
    ((2, 3, 4), (-1, 0, 1)),
])
def test_transpose(dtype, shape, perm):
    p = [q % len(shape) for q in perm]
    out = tuple(shape[q] for q in p)
    assert_exact(one_op("TRANSPOSE", dtype, [shape], out, [np.array(perm, np.int32)]), inputs=2)


# ---- PAD / PADV2 ----------------------------------------------------------------------------------

PADS = [
    ((1, 4, 5, 3), [[0, 0], [1, 2], [2, 1], [0, 0]]),
    ((3, 4), [[1, 0], [0, 3]]),
    ((2, 3), [[0, 0], [0, 0]]),
    ((1, 2, 1, 3, 2), [[1, 1], [0, 2], [1, 0], [0, 0], [3, 1]]),
]


@pytest.mark.parametrize("dtype", TYPES)
@pytest.mark.parametrize("shape,pads", PADS)
def test_pad(dtype, shape, pads):
    out = tuple(s + a + b for s, (a, b) in zip(shape, pads))
    assert_exact(one_op("PAD", dtype, [shape], out, [np.array(pads, np.int32)]), inputs=2)


@pytest.mark.parametrize("dtype", TYPES)
def test_padv2_constant(dtype):
    shape, pads = (1, 3, 4, 2), [[0, 1], [2, 0], [1, 1], [0, 1]]
    out = tuple(s + a + b for s, (a, b) in zip(shape, pads))
    value = {"int8": 100, "int16": -1234, "float32": -2.75}[dtype]
    mb = ModelBuilder()
    x = mb.tensor("x", shape, dtype, **QUANT[dtype])
    p = mb.tensor("p", (4, 2), "int32", data=np.array(pads, np.int32))
    c = mb.tensor("c", (), dtype, data=np.array(value), **QUANT[dtype])
    y = mb.tensor("y", out, dtype, **QUANT[dtype])
    mb.op("PADV2", [x, p, c], [y], {}, version=4)
    res = assert_exact(mb.build([x], [y]), inputs=2)
    assert res.outputs[0].dtype == dtype


def test_pad_zero_point_is_the_fill():
    """int8 PAD fills with the output zero point (-7 here), not 0: compare the compiled output."""
    model = one_op("PAD", "int8", [(1, 2)], (1, 4), [np.array([[0, 0], [1, 1]], np.int32)])
    assert_exact(model, inputs=3)


def test_pad_negative_is_rejected():
    model = one_op("PAD", "int8", [(3, 4)], (3, 3), [np.array([[0, 0], [0, -1]], np.int32)])
    with pytest.raises(ModelError, match="negative paddings"):
        aotc.compile(model)


# ---- CONCATENATION -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", TYPES + ["int32"])
@pytest.mark.parametrize("shapes,axis", [
    ([(1, 4, 4, 3), (1, 4, 4, 5)], 3),
    ([(1, 4, 4, 3), (1, 4, 4, 5)], -1),
    ([(2, 3), (1, 3), (4, 3)], 0),
    ([(2, 1, 3), (2, 4, 3), (2, 2, 3)], -2),
    ([(5,), (1,)], 0),
])
def test_concatenation(dtype, shapes, axis):
    rank = len(shapes[0])
    a = axis % rank
    out = list(shapes[0])
    out[a] = sum(s[a] for s in shapes)
    assert_exact(one_op("CONCATENATION", dtype, shapes, tuple(out), options={"Axis": axis}), inputs=2)


def test_concatenation_with_constant_input():
    c = np.arange(-6, 6, dtype=np.int8).reshape(1, 2, 6)
    model = one_op("CONCATENATION", "int8", [(1, 3, 6)], (1, 5, 6), options={"Axis": 1},
                   const_inputs=[(c, "int8", QUANT["int8"])])
    assert_exact(model, inputs=2)


def test_concatenation_different_scales_is_rejected():
    mb = ModelBuilder()
    a = mb.tensor("a", (1, 2), "int8", scale=0.1, zero_point=0)
    b = mb.tensor("b", (1, 2), "int8", scale=0.2, zero_point=0)
    y = mb.tensor("y", (1, 4), "int8", scale=0.1, zero_point=0)
    mb.op("CONCATENATION", [a, b], [y], {"Axis": 1}, version=2)
    with pytest.raises(ModelError, match="requantization"):
        aotc.compile(mb.build([a, b], [y]))


def test_concatenation_fused_activation_is_rejected():
    model = one_op("CONCATENATION", "float32", [(1, 2), (1, 2)], (1, 4),
                   options={"Axis": 1, "FusedActivationFunction": 1})
    with pytest.raises(ModelError, match="fused activation"):
        aotc.compile(model)


# ---- STRIDED_SLICE --------------------------------------------------------------------------------

def _ss_out(shape, begin, end, strides, bm=0, em=0, sm=0):
    """numpy's view of the slice (same semantics as TFLite for these masks)."""
    idx = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        if sm & (1 << i):
            idx.append(b)
        else:
            idx.append(slice(None if bm & (1 << i) else b, None if em & (1 << i) else e, s))
    idx += [slice(None)] * (len(shape) - len(begin))
    return np.zeros(shape)[tuple(idx)].shape


SLICES = [  # shape, begin, end, strides, begin_mask, end_mask, shrink_mask
    ((1, 6, 5, 3), [0, 1, 0, 0], [1, 5, 5, 3], [1, 1, 2, 1], 0, 0, 0),
    ((1, 6, 5, 3), [0, -2, 0, 2], [1, -6, 5, 0], [1, -1, 1, -1], 0, 8, 0),      # negative strides
    ((1, 6, 5, 3), [0, 0, -1, 0], [0, 0, -9, 0], [1, 2, -2, 1], 15 - 4, 15 - 4, 0),
    ((4, 7), [-3, 1], [-1, 6], [1, 3], 0, 0, 0),                                # negative indices
    ((4, 7), [1, 0], [2, 7], [1, 1], 0, 0, 1),                                  # shrink axis 0
    ((4, 7), [0, -1], [4, 0], [1, 1], 0, 0, 2),                                 # shrink last axis
    ((4, 7), [0, 100], [4, -100], [1, -1], 1, 0, 0),                            # clamping
    ((2, 3, 4), [1], [2], [1], 0, 0, 0),                                        # fewer indices than dims
    ((1, 1, 8), [0, 0, 7], [1, 1, 0], [1, 1, -3], 3, 3, 0),                     # size-1 dims
    ((5,), [4], [5], [1], 0, 0, 1),                                             # -> scalar
]


@pytest.mark.parametrize("dtype", TYPES + ["int32"])
@pytest.mark.parametrize("case", SLICES, ids=[f"s{i}" for i in range(len(SLICES))])
def test_strided_slice(dtype, case):
    shape, begin, end, strides, bm, em, sm = case
    out = _ss_out(shape, begin, end, strides, bm, em, sm)
    params = [np.array(v, np.int32) for v in (begin, end, strides)]
    opts = {"BeginMask": bm, "EndMask": em, "ShrinkAxisMask": sm}
    assert_exact(one_op("STRIDED_SLICE", dtype, [shape], out, params, opts), inputs=2)


def test_strided_slice_ellipsis_and_new_axis():
    # x[..., 1:3, None] on (2, 3, 4): ellipsis bit 0, new axis bit 2
    shape, out = (2, 3, 4), (2, 3, 2, 1)
    params = [np.array(v, np.int32) for v in ([0, 1, 0], [0, 3, 0], [1, 1, 1])]
    opts = {"EllipsisMask": 1, "NewAxisMask": 4}
    assert_exact(one_op("STRIDED_SLICE", "int8", [shape], out, params, opts), inputs=2)


def test_strided_slice_wrong_output_shape_is_rejected():
    params = [np.array(v, np.int32) for v in ([0, 0], [2, 2], [1, 1])]
    model = one_op("STRIDED_SLICE", "int8", [(4, 4)], (2, 3), params)
    with pytest.raises(ModelError, match="should be"):
        aotc.compile(model)


@pytest.mark.parametrize("kind", ["STRIDED_SLICE", "PAD", "CONCATENATION", "TRANSPOSE"])
def test_sanitized(kind):
    """ASan/UBSan build: negative strides and offsets stay inside the buffers."""
    if kind == "STRIDED_SLICE":
        shape, begin, end, strides, bm, em, sm = SLICES[1]
        model = one_op(kind, "int16", [shape], _ss_out(shape, begin, end, strides),
                       [np.array(v, np.int32) for v in (begin, end, strides)])
    elif kind == "PAD":
        model = one_op(kind, "float32", [PADS[3][0]], (3, 4, 2, 3, 6), [np.array(PADS[3][1], np.int32)])
    elif kind == "CONCATENATION":
        model = one_op(kind, "int8", [(2, 1, 3), (2, 4, 3)], (2, 5, 3), options={"Axis": 1})
    else:
        model = one_op(kind, "float32", [(2, 3, 4)], (4, 2, 3), [np.array([2, 0, 1], np.int32)])
    assert_exact(model, inputs=2, sanitize=True)


def _litert_run(model, x):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    it = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


@pytest.mark.parametrize("case", SLICES + ["pad", "transpose", "concat"])
def test_evaluate_matches_litert(case):
    """The numpy `evaluate` used by constant folding gives LiteRT's values."""
    from aotc import reader
    from aotc.ops import OPS
    if case == "pad":
        model = one_op("PAD", "int8", [PADS[0][0]], (1, 7, 8, 3), [np.array(PADS[0][1], np.int32)])
    elif case == "transpose":
        model = one_op("TRANSPOSE", "int8", [(2, 3, 4)], (4, 2, 3), [np.array([2, 0, 1], np.int32)])
    elif case == "concat":
        model = one_op("CONCATENATION", "int8", [(2, 3)], (2, 5), options={"Axis": 1},
                       const_inputs=[(np.arange(6, dtype=np.int8).reshape(2, 3)[:, :2], "int8",
                                      QUANT["int8"])])
    else:
        shape, begin, end, strides, bm, em, sm = case
        model = one_op("STRIDED_SLICE", "int8", [shape], _ss_out(shape, begin, end, strides, bm, em, sm),
                       [np.array(v, np.int32) for v in (begin, end, strides)],
                       {"BeginMask": bm, "EndMask": em, "ShrinkAxisMask": sm})
    g = reader.read(model)
    op = g.ops[0]
    x = np.random.default_rng(1).integers(-128, 128, op.inputs[0].shape).astype(np.int8)
    values = [x] + [t.data for t in op.inputs[1:]]
    got = OPS[op.kind].evaluate(op, values)[0]
    np.testing.assert_array_equal(np.asarray(got).reshape(op.outputs[0].shape), _litert_run(model, x))


def test_empty_slice_is_a_clear_error():
    """An empty result: zero-size tensors are rejected by the reader (a crafted-model class)."""
    shape, begin, end, strides = (1, 6, 5, 3), [0, -2, 0, 0], [1, -6, 5, 3], [1, -1, 1, -1]
    out = _ss_out(shape, begin, end, strides)
    assert 0 in out
    model = one_op("STRIDED_SLICE", "int8", [shape], out, [np.array(v, np.int32) for v in (begin, end, strides)])
    with pytest.raises(ModelError, match="no elements"):
        aotc.compile(model)


SLICES_MASKS = [  # shape, begin, end, strides, options, output shape
    # offset: end is relative to begin
    ((4, 7), [1, 2], [2, 3], [1, 1], {"Offset": True}, (2, 3)),
    ((5, 3), [3, 0], [-2, 3], [-1, 1], {"Offset": True}, (2, 3)),
    # x[None, 1:3] on (4, 5): new axis first
    ((4, 5), [0, 1], [1, 3], [1, 1], {"NewAxisMask": 1}, (1, 2, 5)),
    # x[1, ..., ::-2] on (3, 2, 4, 5): shrink, ellipsis in the middle, negative stride last
    ((3, 2, 4, 5), [1, 0, -1], [2, 0, -6], [1, 1, -2], {"ShrinkAxisMask": 1, "EllipsisMask": 2}, (2, 4, 3)),
    # x[..., None, 2] on (2, 3, 4): ellipsis first, new axis, shrink last
    ((2, 3, 4), [0, 0, 2], [0, 0, 3], [1, 1, 1], {"EllipsisMask": 1, "NewAxisMask": 2, "ShrinkAxisMask": 4},
     (2, 3, 1)),
    # x[-1:, :, 1] with begin/end masks on (3, 4, 5)
    ((3, 4, 5), [-1, 7, 1], [0, 0, 2], [1, 1, 1], {"EndMask": 3, "BeginMask": 2, "ShrinkAxisMask": 4}, (1, 4)),
]


@pytest.mark.parametrize("case", SLICES_MASKS, ids=[f"m{i}" for i in range(len(SLICES_MASKS))])
def test_strided_slice_masks(case):
    shape, begin, end, strides, opts, out = case
    params = [np.array(v, np.int32) for v in (begin, end, strides)]
    assert_exact(one_op("STRIDED_SLICE", "int8", [shape], out, params, opts), inputs=2)


@pytest.mark.parametrize("dtype", ["int64", "uint8"])
def test_strided_slice_other_types(dtype):
    QUANT.setdefault("int64", {})
    QUANT.setdefault("uint8", dict(scale=0.05, zero_point=120))
    shape, begin, end, strides, bm, em, sm = SLICES[1]
    out = _ss_out(shape, begin, end, strides, bm, em, sm)
    params = [np.array(v, np.int32) for v in (begin, end, strides)]
    assert_exact(one_op("STRIDED_SLICE", dtype, [shape], out, params, {"EndMask": em}), inputs=2)


def test_strided_slice_tflm():
    shape, begin, end, strides, bm, em, sm = SLICES[2]
    out = _ss_out(shape, begin, end, strides, bm, em, sm)
    params = [np.array(v, np.int32) for v in (begin, end, strides)]
    assert_exact(one_op("STRIDED_SLICE", "int8", [shape], out, params,
                        {"BeginMask": bm, "EndMask": em}), inputs=2, reference="tflm")


def test_strided_slice_runtime_begin_is_a_clear_error():
    mb = ModelBuilder()
    x = mb.tensor("x", (4, 4), "int8", **QUANT["int8"])
    b = mb.tensor("b", (2,), "int32")
    e = mb.tensor("e", (2,), "int32", data=np.array([2, 2], np.int32))
    s = mb.tensor("s", (2,), "int32", data=np.array([1, 1], np.int32))
    y = mb.tensor("y", (2, 2), "int8", **QUANT["int8"])
    mb.op("STRIDED_SLICE", [x, b, e, s], [y], {}, version=4)
    with pytest.raises(aotc.AotcError, match="must be constant"):
        aotc.compile(mb.build([x, b], [y]))


def test_unsupported_type_names_it():
    mb = ModelBuilder()
    x = mb.tensor("x", (2, 2), "bool")
    p = mb.tensor("p", (2, 2), "int32", data=np.array([[0, 0], [1, 1]], np.int32))
    y = mb.tensor("y", (2, 4), "bool")
    mb.op("PAD", [x, p], [y], {}, version=4)
    with pytest.raises(ModelError, match="type bool is not supported by PAD"):
        aotc.compile(mb.build([x], [y]))
