"""L2_NORMALIZATION one-op models, bit-exact with LiteRT and TFLM (int8: the fixed-point 1/sqrt)."""
import numpy as np
import pytest

import aotc
from aotc.errors import ModelError
from oputil import ModelBuilder, assert_exact


def l2_model(dtype, shape, q=(0.1, 5), out_q=(1 / 128, 0), act=0):
    mb = ModelBuilder()
    if dtype == "float32":
        x = mb.tensor("x", shape, dtype)
        y = mb.tensor("y", shape, dtype)
    else:
        x = mb.tensor("x", shape, dtype, scale=q[0], zero_point=q[1])
        y = mb.tensor("y", shape, dtype, scale=out_q[0], zero_point=out_q[1])
    mb.op("L2_NORMALIZATION", [x], [y], {"FusedActivationFunction": act}, version=2 if dtype == "int8" else 1)
    return mb.build([x], [y])


@pytest.mark.parametrize("reference", ["litert", "tflm"])
@pytest.mark.parametrize("shape,q", [((3, 12), (0.1, 5)), ((2, 1), (0.05, 0)), ((2, 500), (0.1, -100)),
                                     ((2, 3, 7), (0.5, 127))])
def test_l2_int8(shape, q, reference):
    assert_exact(l2_model("int8", shape, q), inputs=3, reference=reference)


def test_l2_int8_small_and_zero_rows(tmp_path):
    """sum of squares 0, 1 (the special case), 2..7 (negative shifts) and large rows."""
    x = np.array([[5, 5, 5, 5], [5, 6, 5, 5], [6, 6, 5, 5], [7, 5, 6, 4], [127, -128, 127, -128]], np.int8)
    path = tmp_path / "x.npy"
    np.save(path, x)
    for ref in ("litert", "tflm"):
        assert_exact(l2_model("int8", (5, 4)), inputs=1, input_files=[path], reference=ref)


def test_l2_float32():
    assert_exact(l2_model("float32", (2, 3, 9)), inputs=3)
    assert_exact(l2_model("float32", (4, 5)), inputs=2, reference="tflm")


def test_l2_bad_output_quantization_is_an_error():
    with pytest.raises(ModelError, match="1/128"):
        aotc.compile(l2_model("int8", (2, 4), out_q=(1 / 64, 0)))


def test_l2_activation_is_an_error():
    with pytest.raises(ModelError, match="RELU"):
        aotc.compile(l2_model("float32", (2, 4), act=1))
