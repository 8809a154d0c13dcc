"""RELU / RELU6 / RELU_N1_TO_1 / LOGISTIC / TANH / HARD_SWISH one-op models, bit-exact with LiteRT.
int8 models run every one of the 256 input values (a [1, 256] input holding -128..127)."""
import numpy as np
import pytest

import aotc
from oputil import ModelBuilder, assert_exact

VERSIONS = {"RELU": 2, "RELU6": 2, "RELU_N1_TO_1": 1, "LOGISTIC": 2, "TANH": 2, "HARD_SWISH": 1}


def unary_model(kind, dtype="int8", shape=(1, 256), q_in=(0.05, -3), q_out=(0.03, 4), version=None):
    mb = ModelBuilder()
    if dtype == "float32":
        x = mb.tensor("x", shape, dtype)
        y = mb.tensor("y", shape, dtype)
    else:
        x = mb.tensor("x", shape, dtype, scale=q_in[0], zero_point=q_in[1])
        y = mb.tensor("y", shape, dtype, scale=q_out[0], zero_point=q_out[1])
    mb.op(kind, [x], [y], version=version or (3 if dtype == "int16" else VERSIONS[kind]))
    return mb.build([x], [y])


@pytest.fixture(scope="module")
def all_int8(tmp_path_factory):
    path = tmp_path_factory.mktemp("act") / "all_int8.npy"
    np.save(path, np.arange(-128, 128, dtype=np.int8).reshape(1, 256))
    return path


def exact_all(model, path, inputs=2):
    return assert_exact(model, inputs=inputs, input_files=[path])


@pytest.mark.parametrize("kind", ["RELU", "RELU6", "RELU_N1_TO_1"])
@pytest.mark.parametrize("q", [((0.05, -3), (0.03, 4)), ((0.02, 0), (0.02, 0)), ((0.1, 100), (0.01, -128)),
                               ((0.01, -128), (0.07, 20))])
def test_relu_int8(kind, q, all_int8):
    exact_all(unary_model(kind, q_in=q[0], q_out=q[1]), all_int8)


@pytest.mark.parametrize("kind", ["RELU", "RELU6"])
@pytest.mark.parametrize("scales", [(0.0005, 0.0005), (0.0004, 0.0003)])
def test_relu_int16(kind, scales):
    assert_exact(unary_model(kind, "int16", shape=(2, 50), q_in=(scales[0], 0), q_out=(scales[1], 0)))


@pytest.mark.parametrize("q_in", [(0.05, -3), (0.1, 0), (0.02, 60), (0.5, -128)])
def test_logistic_int8(q_in, all_int8):
    exact_all(unary_model("LOGISTIC", q_in=q_in, q_out=(1 / 256, -128)), all_int8)


@pytest.mark.parametrize("q", [((0.05, -3), (1 / 128, 0)), ((0.02, 10), (1 / 128, 0)), ((0.1, -100), (0.009, 3))])
def test_tanh_int8(q, all_int8):
    exact_all(unary_model("TANH", q_in=q[0], q_out=q[1]), all_int8)


@pytest.mark.parametrize("q", [((0.05, -3), (0.03, 4)), ((0.1, 0), (0.05, -90)), ((0.02, 30), (0.01, -20)),
                               ((0.2, -128), (0.2, -110))])
def test_hard_swish_int8(q, all_int8):
    exact_all(unary_model("HARD_SWISH", q_in=q[0], q_out=q[1]), all_int8)


@pytest.mark.parametrize("kind", ["RELU", "RELU6", "RELU_N1_TO_1", "LOGISTIC", "TANH", "HARD_SWISH"])
def test_float32(kind):
    assert_exact(unary_model(kind, "float32", shape=(3, 40)))


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH"])
def test_int16_logistic_tanh_is_a_clear_error(kind):
    with pytest.raises(Exception, match="int16"):
        aotc.verify(unary_model(kind, "int16", q_in=(2**-12, 0), q_out=(2**-15, 0)), inputs=1)


def test_logistic_wrong_output_scale_is_an_error():
    with pytest.raises(Exception, match="1/256"):
        aotc.verify(unary_model("LOGISTIC", q_out=(0.01, -128)), inputs=1)


@pytest.mark.parametrize("kind,q", [
    ("RELU", ((0.05, -3), (0.03, 4))),
    ("RELU6", ((0.05, -3), (0.03, 4))),      # TFLM clamps without rescaling; LiteRT rescales
    ("RELU6", ((0.1, 100), (0.01, -128))),
    ("LOGISTIC", ((0.05, -3), (1 / 256, -128))),
    ("TANH", ((0.02, 10), (1 / 128, 0))),
    ("TANH", ((0.1, -100), (0.009, 3))),      # TFLM ignores the output quantization (emits 1/128, 0)
    ("HARD_SWISH", ((0.05, -3), (0.03, 4))),
])
def test_int8_against_tflm(kind, q, all_int8):
    """All 256 int8 inputs against the TFLM interpreter (rounding follows --reference tflm)."""
    model = unary_model(kind, q_in=q[0], q_out=q[1])
    assert_exact(model, inputs=2, input_files=[all_int8], reference="tflm")


def test_relu6_references_really_differ(all_int8):
    """With different input and output scales the two references disagree on RELU6, so the test
    above proves the tflm variant is used."""
    model = unary_model("RELU6", q_in=(0.05, -3), q_out=(0.03, 4))
    crossed = aotc.verify(model, inputs=0, input_files=[all_int8], reference="tflm", rounding="litert")
    assert not crossed.bit_exact


def test_tanh_references_really_differ(all_int8):
    """TFLM's fixed-point TANH writes Q0.7 whatever the output quantization; LiteRT rescales to it."""
    model = unary_model("TANH", q_in=(0.1, -100), q_out=(0.009, 3))
    crossed = aotc.verify(model, inputs=0, input_files=[all_int8], reference="tflm", rounding="litert")
    assert not crossed.bit_exact


@pytest.mark.parametrize("scales", [(0.0005, 0.0005), (0.0004, 0.0003), (0.0001, 0.0004)])
def test_relu6_int16_against_tflm(scales):
    """TFLM clamps int16 RELU6 to [zp_in, round(6 / s_in)] without rescaling to the output's scale."""
    model = unary_model("RELU6", "int16", shape=(4, 50), q_in=(scales[0], 0), q_out=(scales[1], 0))
    assert_exact(model, reference="tflm")
    if scales[0] != scales[1]:
        crossed = aotc.verify(model, inputs=6, reference="tflm", rounding="litert")
        assert not crossed.bit_exact
