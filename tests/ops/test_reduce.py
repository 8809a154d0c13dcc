"""MEAN / SUM / REDUCE_PROD / REDUCE_MAX / REDUCE_MIN / REDUCE_ALL / REDUCE_ANY / CUMSUM one-op models, bit-exact with LiteRT's
reference kernels (and TFLM where it runs the op)."""
import numpy as np
import pytest

import aotc
from aotc.errors import ModelError
from oputil import ModelBuilder, assert_exact

VERSIONS = {"MEAN": 3, "SUM": 2, "REDUCE_PROD": 2, "REDUCE_MAX": 3, "REDUCE_MIN": 3, "REDUCE_ALL": 1,
            "REDUCE_ANY": 1}
# (input scale, zp), (output scale, zp): different scales exercise the rescaling
QUANT = {
    "int8": (dict(scale=0.05, zero_point=-7), dict(scale=0.02, zero_point=4)),
    "int16": (dict(scale=0.001, zero_point=0), dict(scale=0.0007, zero_point=0)),
    "float32": ({}, {}),
    "int32": ({}, {}),
    "bool": ({}, {}),
}


def reduce_model(kind, dtype, shape, axes, keep_dims, same_quant=False, qo=None):
    qi, qo_default = QUANT[dtype]
    qo = qi if same_quant else (qo or qo_default)
    ax = [a % len(shape) for a in axes]
    out = [1 if d in ax else s for d, s in enumerate(shape)] if keep_dims else \
        [s for d, s in enumerate(shape) if d not in ax]
    mb = ModelBuilder()
    x = mb.tensor("x", shape, dtype, **qi)
    a = mb.tensor("axis", (len(axes),), "int32", data=np.array(axes, np.int32))
    y = mb.tensor("y", out, dtype, **qo)
    mb.op(kind, [x, a], [y], {"KeepDims": keep_dims}, version=VERSIONS[kind])
    return mb.build([x], [y])


AXES = [
    ((1, 5, 6, 8), [1, 2], True),      # global average pool: 4-D H,W with keep_dims
    ((1, 5, 6, 8), [2, 1], False),
    ((2, 3, 4, 5), [-1], True),
    ((2, 3, 4, 5), [0, 2], False),
    ((2, 3, 4, 5), [3, 0, 1, 2], False),  # everything
    ((7, 9), [0], False),
    ((1, 1, 3, 1), [1, 3], True),      # size-1 dims
    ((3, 4, 5), [1, 1, -2], True),     # duplicates
]


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32", "int32"])
@pytest.mark.parametrize("shape,axes,keep", AXES)
def test_mean(dtype, shape, axes, keep):
    assert_exact(reduce_model("MEAN", dtype, shape, axes, keep), inputs=3)


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_mean_same_scale(dtype):
    assert_exact(reduce_model("MEAN", dtype, (1, 4, 4, 16), [1, 2], True, same_quant=True), inputs=3)


def test_mean_large_count_and_upscale():
    """n = 3600 (shift clamped by the multiplier's exponent) and s_in > s_out."""
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 60, 60, 2), "int8", scale=0.5, zero_point=3)
    a = mb.tensor("axis", (2,), "int32", data=np.array([1, 2], np.int32))
    y = mb.tensor("y", (1, 1, 1, 2), "int8", scale=0.01, zero_point=-2)
    mb.op("MEAN", [x, a], [y], {"KeepDims": True}, version=3)
    assert_exact(mb.build([x], [y]), inputs=3)


@pytest.mark.parametrize("kind", ["REDUCE_MAX", "REDUCE_MIN"])
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32", "int32"])
@pytest.mark.parametrize("shape,axes,keep", [AXES[0], AXES[3], AXES[6]])
def test_reduce_min_max(kind, dtype, shape, axes, keep):
    assert_exact(reduce_model(kind, dtype, shape, axes, keep, same_quant=True), inputs=2)


@pytest.mark.parametrize("dtype", ["float32", "int32"])
@pytest.mark.parametrize("shape,axes,keep", [AXES[0], AXES[3], AXES[5]])
def test_sum(dtype, shape, axes, keep):
    assert_exact(reduce_model("SUM", dtype, shape, axes, keep), inputs=2)


def test_mean_wrong_output_shape_is_rejected():
    mb = ModelBuilder()
    x = mb.tensor("x", (2, 3), "float32")
    a = mb.tensor("axis", (1,), "int32", data=np.array([1], np.int32))
    y = mb.tensor("y", (2, 2), "float32")
    mb.op("MEAN", [x, a], [y], {"KeepDims": False}, version=1)
    with pytest.raises(ModelError, match="should be"):
        aotc.compile(mb.build([x], [y]))


def test_reduce_max_requantization_is_rejected():
    with pytest.raises(ModelError, match="quantization must equal"):
        aotc.compile(reduce_model("REDUCE_MAX", "int8", (2, 3), [1], False))


@pytest.mark.parametrize("kind,dtype", [("MEAN", "int8"), ("MEAN", "float32"), ("REDUCE_MAX", "int16"),
                                        ("SUM", "int32")])
def test_sanitized(kind, dtype):
    assert_exact(reduce_model(kind, dtype, (2, 3, 4, 5), [0, 2], False, same_quant=kind != "MEAN"),
                 inputs=2, sanitize=True)


MORE_AXES = [
    ((6,), [0], False),                    # rank 1 -> scalar
    ((6,), [-1], True),
    ((2, 3, 2, 2, 3), [1, 3, 4], False),   # rank 5, non-contiguous axes
    ((2, 3, 4, 5), [-3, -1], True),
]


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
@pytest.mark.parametrize("shape,axes,keep", MORE_AXES)
def test_mean_more_axes(dtype, shape, axes, keep):
    assert_exact(reduce_model("MEAN", dtype, shape, axes, keep), inputs=2)


@pytest.mark.parametrize("dtype,case", [("int8", AXES[0]), ("int16", AXES[3]), ("float32", AXES[7])])
def test_mean_tflm(dtype, case):
    assert_exact(reduce_model("MEAN", dtype, *case), inputs=2, reference="tflm")


# int8 SUM: LiteRT 2.3's reference reads the bytes as uint8 (reproduced under rounding litert); TFLM
# computes the sum of the int8 values. Output scales keep most results unsaturated on both.
SUM_Q = {"int8": dict(scale=0.3, zero_point=4), "int16": dict(scale=0.004, zero_point=0)}


@pytest.mark.parametrize("shape,axes,keep", [AXES[0], AXES[2], AXES[3], AXES[4], AXES[7]])
def test_sum_int8(shape, axes, keep):
    model = reduce_model("SUM", "int8", shape, axes, keep, qo=dict(scale=1.5, zero_point=4))
    assert_exact(model, inputs=2)
    if axes == AXES[3][1]:
        assert_exact(model, inputs=2, reference="tflm")


@pytest.mark.parametrize("shape,axes,keep", [AXES[0], AXES[7]])
def test_sum_int16_tflm(shape, axes, keep):
    assert_exact(reduce_model("SUM", "int16", shape, axes, keep, qo=SUM_Q["int16"]), inputs=2, reference="tflm")


def test_sum_int16_litert_is_refused():
    model = reduce_model("SUM", "int16", (2, 3), [1], False, qo=SUM_Q["int16"])
    with pytest.raises(ModelError, match="int16 SUM"):
        aotc.compile(model)


def test_sum_int8_upscale_saturates_like_the_reference():
    """s_in > s_out: a left-shifting multiplier and saturation at both ends."""
    model = reduce_model("SUM", "int8", (3, 4), [1], False, qo=dict(scale=0.01, zero_point=0))
    assert_exact(model, inputs=2)
    assert_exact(model, inputs=2, reference="tflm")


@pytest.mark.parametrize("dtype", ["float32", "int32", "int8", "int16"])
@pytest.mark.parametrize("shape,axes,keep", [((2, 3, 4), [1], False), ((2, 3, 4), [0, 2], True),
                                             ((3, 5), [0, 1], False)])
def test_reduce_prod(dtype, shape, axes, keep):
    qo = {"int8": dict(scale=0.2, zero_point=-3), "int16": dict(scale=0.0005, zero_point=0)}.get(dtype)
    model = reduce_model("REDUCE_PROD", dtype, shape, axes, keep, qo=qo)
    assert_exact(model, inputs=2, input_files=[_prod_input(dtype, shape)])


def _prod_input(dtype, shape):
    """Values near 1 in real terms so that products stay in range (and int32 products wrap)."""
    import tempfile
    rng = np.random.default_rng(3)
    if dtype == "float32":
        a = rng.uniform(0.5, 1.6, shape).astype(np.float32) * rng.choice([-1, 1], shape)
    elif dtype == "int8":      # scale 0.05, zp -7: real 0.5..1.6 is q 3..25
        a = (rng.integers(3, 26, shape) * rng.choice([-1, 1], shape)).astype(np.int8)
    elif dtype == "int16":     # scale 0.001: real 0.5..1.6
        a = (rng.integers(500, 1600, shape) * rng.choice([-1, 1], shape)).astype(np.int16)
    else:
        a = rng.integers(-70000, 70000, shape).astype(np.int32)
    path = tempfile.NamedTemporaryFile(suffix=".npy", delete=False).name
    np.save(path, a)
    return path


@pytest.mark.parametrize("kind,dtype", [("REDUCE_MAX", "int8"), ("REDUCE_MIN", "float32")])
@pytest.mark.parametrize("shape,axes,keep", [MORE_AXES[1], MORE_AXES[2], AXES[4], AXES[7]])
def test_reduce_min_max_more_axes(kind, dtype, shape, axes, keep):
    assert_exact(reduce_model(kind, dtype, shape, axes, keep, same_quant=True), inputs=2)


@pytest.mark.parametrize("kind,dtype", [("REDUCE_MIN", "int8"), ("REDUCE_MAX", "float32")])
def test_reduce_min_max_tflm(kind, dtype):
    assert_exact(reduce_model(kind, dtype, *MORE_AXES[2], same_quant=True), inputs=2, reference="tflm")


@pytest.mark.parametrize("kind,fill,tflm_value", [("REDUCE_MAX", -np.inf, -np.finfo(np.float32).max),
                                                  ("REDUCE_MIN", np.inf, np.finfo(np.float32).max)])
def test_reduce_min_max_all_dims_starts_from_the_first_element(kind, fill, tflm_value):
    """LiteRT's ReduceAllDims starts from x[0] (an all -inf input gives -inf, as LiteRT computes here);
    TFLM's ReduceGeneric starts from the init value (-FLT_MAX), which rounding tflm reproduces.
    (verify() counts equal infinities as a mismatch, so this compares directly.)"""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from aotc.verify import HostModel
    model = reduce_model(kind, "float32", (2, 3), [0, 1], False)
    x = np.full((2, 3), fill, np.float32)
    it = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    ref = it.get_tensor(it.get_output_details()[0]["index"])
    ours = list(HostModel(aotc.compile(model)).run({0: x}).values())[0]
    assert ref.tobytes() == np.asarray(ours, np.float32).tobytes() and ref == fill
    ours_tflm = list(HostModel(aotc.compile(model, rounding="tflm")).run({0: x}).values())[0]
    assert ours_tflm == np.float32(tflm_value)


def test_reduce_prod_requantization_fold_rejects_unquantized_int8():
    mb = ModelBuilder()
    x = mb.tensor("x", (2, 3), "int8")
    a = mb.tensor("axis", (1,), "int32", data=np.array([1], np.int32))
    y = mb.tensor("y", (2,), "int8")
    mb.op("REDUCE_PROD", [x, a], [y], {"KeepDims": False}, version=2)
    with pytest.raises(ModelError, match="no quantization"):
        aotc.compile(mb.build([x], [y]))


@pytest.mark.parametrize("kind", ["SUM", "REDUCE_PROD", "REDUCE_MAX"])
def test_reduce_unsupported_type_is_an_error(kind):
    mb = ModelBuilder()
    x = mb.tensor("x", (2, 3), "int64")
    a = mb.tensor("axis", (1,), "int32", data=np.array([1], np.int32))
    y = mb.tensor("y", (2,), "int64")
    mb.op(kind, [x, a], [y], {"KeepDims": False}, version=1)
    with pytest.raises(ModelError, match="int64 is not supported"):
        aotc.compile(mb.build([x], [y]))


def cumsum_model(dtype, shape, axis, exclusive, reverse):
    mb = ModelBuilder()
    x = mb.tensor("x", shape, dtype)
    a = mb.tensor("axis", (), "int32", data=np.array(axis, np.int32))
    y = mb.tensor("y", shape, dtype)
    mb.op("CUMSUM", [x, a], [y], {"Exclusive": exclusive, "Reverse": reverse})
    return mb.build([x], [y])


@pytest.mark.parametrize("dtype", ["float32", "int32"])
@pytest.mark.parametrize("exclusive,reverse", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("shape,axis", [((2, 3, 4), 1), ((2, 3, 4), -1), ((5, 3), 0), ((7,), 0)])
def test_cumsum(dtype, exclusive, reverse, shape, axis):
    assert_exact(cumsum_model(dtype, shape, axis, exclusive, reverse), inputs=2)


def test_cumsum_int32_wraps(tmp_path):
    path = tmp_path / "big.npy"
    np.save(path, np.full((2, 5), 2**30 + 7, np.int32))
    assert_exact(cumsum_model("int32", (2, 5), 1, False, False), inputs=1, input_files=[path])


def test_cumsum_int8_is_an_error():
    mb = ModelBuilder()
    x = mb.tensor("x", (2, 3), "int8", scale=0.1, zero_point=0)
    a = mb.tensor("axis", (), "int32", data=np.array(1, np.int32))
    y = mb.tensor("y", (2, 3), "int8", scale=0.1, zero_point=0)
    mb.op("CUMSUM", [x, a], [y], {})
    with pytest.raises(ModelError, match="int8 is not supported"):
        aotc.compile(mb.build([x], [y]))


def test_mean_with_an_empty_axes_constant_is_an_identity():
    """An empty constant (axes of shape [0]) is read as a constant, not refused as a zero-size tensor."""
    mb = ModelBuilder()
    x = mb.tensor("x", (2, 3), "float32")
    axes = mb.tensor("axes", (0,), "int32", data=np.zeros((0,), np.int32))
    y = mb.tensor("y", (2, 3), "float32")
    mb.op("MEAN", [x, axes], [y], {"KeepDims": True})
    assert_exact(mb.build([x], [y]), inputs=2)


# ---- REDUCE_ALL / REDUCE_ANY ---------------------------------------------------------------------

LOGICAL_AXES = [
    ((2, 3, 4), [1], False),
    ((2, 3, 4), [-1, 0], True),
    ((2, 3, 4), [0, 1, 2], False),     # everything
    ((5, 6), [1, 1, -1], True),        # duplicates
    ((1, 4, 1, 3), [1, 3], True),      # size-1 dims
    ((3, 2), [], False),               # no axis: a copy
]


def _bool_files(tmp_path, shape, kind):
    """A fair input, one biased towards true (REDUCE_ALL) or false (REDUCE_ANY) and one all true (all
    false), so that both output values occur even over many elements."""
    files = []
    for k, p in enumerate([0.5, 0.9, 1.0]):
        rng = np.random.default_rng(k)
        x = rng.random(shape) < (p if kind == "REDUCE_ALL" else 1 - p)
        files.append(tmp_path / f"x{k}.npy")
        np.save(files[-1], x)
    return files


@pytest.mark.parametrize("kind", ["REDUCE_ALL", "REDUCE_ANY"])
@pytest.mark.parametrize("shape,axes,keep", LOGICAL_AXES)
def test_reduce_all_any(tmp_path, kind, shape, axes, keep):
    m = reduce_model(kind, "bool", shape, axes, keep)
    res = assert_exact(m, inputs=2, input_files=_bool_files(tmp_path, shape, kind))
    assert res.inputs_run >= 5


@pytest.mark.parametrize("shape,axes,keep", [LOGICAL_AXES[0], LOGICAL_AXES[2], LOGICAL_AXES[3]])
def test_reduce_all_tflm(tmp_path, shape, axes, keep):
    m = reduce_model("REDUCE_ALL", "bool", shape, axes, keep)
    assert_exact(m, inputs=1, input_files=_bool_files(tmp_path, shape, "REDUCE_ALL"), reference="tflm")


def test_reduce_any_sanitized(tmp_path):
    m = reduce_model("REDUCE_ANY", "bool", (2, 3, 4), [0, 2], True)
    assert_exact(m, inputs=1, input_files=_bool_files(tmp_path, (2, 3, 4), "REDUCE_ANY"), sanitize=True)


@pytest.mark.parametrize("kind", ["REDUCE_ALL", "REDUCE_ANY"])
def test_reduce_all_any_folds(kind):
    mb = ModelBuilder()
    c = mb.tensor("c", (2, 3), "bool", data=np.array([[1, 1, 0], [1, 1, 1]], bool))
    a = mb.tensor("axis", (1,), "int32", data=np.array([1], np.int32))
    r = mb.tensor("r", (2,), "bool")
    x = mb.tensor("x", (2,), "bool")
    y = mb.tensor("y", (2,), "bool")
    mb.op(kind, [c, a], [r])
    mb.op("LOGICAL_AND", [x, r], [y])
    compiled = aotc.compile(mb.build([x], [y]))
    assert kind not in [k.op.kind for k in compiled.calls]
    assert_exact(mb.build([x], [y]), inputs=2)


@pytest.mark.parametrize("kind", ["REDUCE_ALL", "REDUCE_ANY"])
def test_reduce_all_any_non_bool_is_an_error(kind):
    mb = ModelBuilder()
    x = mb.tensor("x", (2, 3), "float32")
    a = mb.tensor("axis", (1,), "int32", data=np.array([1], np.int32))
    y = mb.tensor("y", (2,), "float32")
    mb.op(kind, [x, a], [y])
    with pytest.raises(ModelError, match="float32"):
        aotc.compile(mb.build([x], [y]))
