"""MEAN / SUM / REDUCE_MAX / REDUCE_MIN one-op models, bit-exact with LiteRT's reference kernels."""
import numpy as np
import pytest

import aotc
from aotc.errors import ModelError
from oputil import ModelBuilder, assert_exact

VERSIONS = {"MEAN": 3, "SUM": 2, "REDUCE_MAX": 3, "REDUCE_MIN": 3}
# (input scale, zp), (output scale, zp): different scales exercise the rescaling
QUANT = {
    "int8": (dict(scale=0.05, zero_point=-7), dict(scale=0.02, zero_point=4)),
    "int16": (dict(scale=0.001, zero_point=0), dict(scale=0.0007, zero_point=0)),
    "float32": ({}, {}),
    "int32": ({}, {}),
}


def reduce_model(kind, dtype, shape, axes, keep_dims, same_quant=False):
    qi, qo = QUANT[dtype]
    if same_quant:
        qo = qi
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
