"""RELU / RELU6 / RELU_N1_TO_1 / LOGISTIC / TANH / HARD_SWISH one-op models, bit-exact with LiteRT.
int8 models run every one of the 256 input values (a [1, 256] input holding -128..127)."""
import numpy as np
import pytest

import aotc
from oputil import ModelBuilder, assert_exact

VERSIONS = {"RELU": 2, "RELU6": 2, "RELU_N1_TO_1": 1, "LOGISTIC": 2, "TANH": 2, "HARD_SWISH": 1,
            "LEAKY_RELU": 1, "ELU": 1, "GELU": 1}


def unary_model(kind, dtype="int8", shape=(1, 256), q_in=(0.05, -3), q_out=(0.03, 4), version=None, options=None):
    mb = ModelBuilder()
    if dtype == "float32":
        x = mb.tensor("x", shape, dtype)
        y = mb.tensor("y", shape, dtype)
    else:
        x = mb.tensor("x", shape, dtype, scale=q_in[0], zero_point=q_in[1])
        y = mb.tensor("y", shape, dtype, scale=q_out[0], zero_point=q_out[1])
    mb.op(kind, [x], [y], options, version=version or (2 if dtype == "int16" and kind in ("LEAKY_RELU", "GELU")
                                                       else 3 if dtype == "int16" else VERSIONS[kind]))
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


@pytest.mark.parametrize("kind", ["RELU", "RELU6", "RELU_N1_TO_1", "LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU"])
def test_float32(kind):
    assert_exact(unary_model(kind, "float32", shape=(3, 40)))


@pytest.fixture(scope="module")
def int16_ramp(tmp_path_factory):
    path = tmp_path_factory.mktemp("act16") / "ramp.npy"
    v = np.concatenate([np.arange(-32768, 32768, 61), np.arange(-600, 600, 3), [32767, -32767, 0, 1, -1]])
    v = np.concatenate([v, np.random.default_rng(3).integers(-32768, 32768, 2048 - v.size)])
    np.save(path, v.astype(np.int16).reshape(1, 2048))
    return path


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("s_in", [2**-12, 2**-11, 2**-10, 0.0007, 1e-5, 0.002])
@pytest.mark.parametrize("reference", ["litert", "tflm"])
def test_int16_logistic_tanh(kind, s_in, reference, int16_ramp):
    """reference_integer_ops::Logistic / Tanh: power-of-two input scales (2^-12, and 2^-11 for TANH)
    take the direct path, others a rescaling multiplier; LiteRT and TFLM compute the same."""
    model = unary_model(kind, "int16", shape=(1, 2048), q_in=(s_in, 0), q_out=(2**-15, 0))
    assert_exact(model, inputs=2, input_files=[int16_ramp], reference=reference)


def test_int16_logistic_output_scale_is_an_error():
    with pytest.raises(Exception, match="1/32768"):
        aotc.verify(unary_model("LOGISTIC", "int16", q_in=(2**-12, 0), q_out=(2**-14, 0)), inputs=1)


def test_int16_elu_is_an_error():
    with pytest.raises(Exception, match="int16 ELU is not supported"):
        aotc.verify(unary_model("ELU", "int16", q_in=(2**-12, 0), q_out=(2**-12, 0), version=1), inputs=1)


# ---- LEAKY_RELU, ELU, GELU, PRELU -----------------------------------------------------------------

@pytest.mark.parametrize("alpha", [0.2, 0.01, 1.7, -0.3])
@pytest.mark.parametrize("q", [((0.05, -3), (0.03, 4)), ((0.02, 100), (0.05, -128))])
def test_leaky_relu_int8(alpha, q, all_int8):
    exact_all(unary_model("LEAKY_RELU", q_in=q[0], q_out=q[1], options={"Alpha": alpha}), all_int8)


@pytest.mark.parametrize("alpha", [0.2, -0.3])
def test_leaky_relu_int8_against_tflm(alpha, all_int8):
    model = unary_model("LEAKY_RELU", q_in=(0.05, -3), q_out=(0.03, 4), options={"Alpha": alpha})
    assert_exact(model, inputs=1, input_files=[all_int8], reference="tflm")


@pytest.mark.parametrize("alpha", [0.2, 1.3])
@pytest.mark.parametrize("scales", [(0.0005, 0.0005), (0.0004, 0.0003)])
def test_leaky_relu_int16(alpha, scales, int16_ramp):
    model = unary_model("LEAKY_RELU", "int16", shape=(1, 2048), q_in=(scales[0], 0), q_out=(scales[1], 0),
                        options={"Alpha": alpha})
    assert_exact(model, inputs=2, input_files=[int16_ramp])
    assert_exact(model, inputs=1, input_files=[int16_ramp], reference="tflm")


@pytest.mark.parametrize("q", [((0.05, -3), (0.03, 4)), ((0.1, 100), (0.02, -60))])
def test_elu_int8_against_tflm(q, all_int8):
    """ELU is not in LiteRT's reference resolver; TFLM's table (expf(x) - 1) is the reference."""
    model = unary_model("ELU", q_in=q[0], q_out=q[1])
    assert_exact(model, inputs=1, input_files=[all_int8], reference="tflm")


def test_elu_is_not_in_litert_reference():
    with pytest.raises(Exception, match="ELU"):
        aotc.verify(unary_model("ELU", "float32", shape=(2, 8)), inputs=1)


@pytest.mark.parametrize("approximate", [False, True])
@pytest.mark.parametrize("q", [((0.05, -3), (0.03, 4)), ((0.02, 40), (0.01, -100))])
def test_gelu_int8(approximate, q, all_int8):
    exact_all(unary_model("GELU", q_in=q[0], q_out=q[1], options={"Approximate": approximate}), all_int8)


@pytest.mark.parametrize("approximate", [False, True])
@pytest.mark.parametrize("q", [((0.0002, 0), (0.0002, 0)), ((0.0005, 10), (0.0001, -7))])
def test_gelu_int16(approximate, q, int16_ramp):
    model = unary_model("GELU", "int16", shape=(1, 2048), q_in=q[0], q_out=q[1], options={"Approximate": approximate})
    assert_exact(model, inputs=2, input_files=[int16_ramp])


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu_float32(approximate):
    assert_exact(unary_model("GELU", "float32", shape=(3, 40), options={"Approximate": approximate}), inputs=4)


@pytest.mark.parametrize("kind", ["LEAKY_RELU", "ELU"])
def test_leaky_elu_float32_against_tflm(kind):
    options = {"Alpha": 0.3} if kind == "LEAKY_RELU" else None
    assert_exact(unary_model(kind, "float32", shape=(3, 40), options=options), inputs=3, reference="tflm")


def test_leaky_relu_float32():
    assert_exact(unary_model("LEAKY_RELU", "float32", shape=(3, 40), options={"Alpha": 0.3}), inputs=3)


def prelu_model(dtype, x_shape, a_shape, alpha_data=None, q=((0.05, -3), (0.01, 5), (0.03, 4)), const=True):
    mb = ModelBuilder()
    adt = "float32" if dtype == "float32" else "int8"
    qx = dict(scale=q[0][0], zero_point=q[0][1]) if dtype != "float32" else {}
    qa = dict(scale=q[1][0], zero_point=q[1][1]) if dtype != "float32" else {}
    qy = dict(scale=q[2][0], zero_point=q[2][1]) if dtype != "float32" else {}
    rng = np.random.default_rng(1)
    if alpha_data is None:
        alpha_data = rng.uniform(-1, 1, a_shape) if adt == "float32" else rng.integers(-128, 128, a_shape)
    x = mb.tensor("x", x_shape, dtype, **qx)
    a = mb.tensor("alpha", a_shape, adt, data=alpha_data if const else None, **qa)
    y = mb.tensor("y", x_shape, dtype, **qy)
    mb.op("PRELU", [x, a], [y])
    return mb.build([x, a] if not const else [x], [y])


@pytest.mark.parametrize("dtype", ["float32", "int8", "int16"])
@pytest.mark.parametrize("a_shape", [(1, 1, 6), (6,), (4, 1, 6), (1, 4, 5, 6), (1, 1, 1)])
def test_prelu(dtype, a_shape):
    q = ((0.05, -3), (0.01, 5), (0.03, 4)) if dtype != "int16" else ((0.0005, 0), (0.01, 5), (0.0003, 0))
    assert_exact(prelu_model(dtype, (1, 4, 5, 6), a_shape, q=q), inputs=4)


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_prelu_runtime_alpha(dtype):
    assert_exact(prelu_model(dtype, (2, 3, 8), (3, 8), const=False), inputs=4)


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_prelu_against_tflm(dtype):
    """TFLM computes the multipliers in double (LiteRT in float32)."""
    q = ((0.05, -3), (0.011, 5), (0.037, 4)) if dtype == "int8" else ((0.0005, 0), (0.011, 5), (0.0003, 0))
    assert_exact(prelu_model(dtype, (1, 4, 5, 6), (1, 1, 6), q=q), inputs=4, reference="tflm")


def test_prelu_runtime_alpha_not_trailing_is_an_error():
    with pytest.raises(Exception, match="must repeat along"):
        aotc.verify(prelu_model("float32", (2, 3, 8), (2, 1, 8), const=False), inputs=1)


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
    ("ELU", ((0.05, -3), (0.03, 4))),
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
