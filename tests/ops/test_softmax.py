"""SOFTMAX one-op models, bit-exact with LiteRT's reference kernels: varied input scales and beta,
so rows are neither one-hot nor flat (the tails of the integer exp matter)."""
import numpy as np
import pytest

import aotc
from oputil import ModelBuilder, assert_exact


def softmax_model(dtype="int8", shape=(2, 10), beta=1.0, q_in=(0.1, 5), out_dtype=None, version=None):
    out_dtype = out_dtype or dtype
    mb = ModelBuilder()
    if dtype == "float32":
        x = mb.tensor("x", shape, dtype)
        y = mb.tensor("y", shape, dtype)
    else:
        x = mb.tensor("x", shape, dtype, scale=q_in[0], zero_point=q_in[1])
        q_out = (1 / 256, -128) if out_dtype == "int8" else (1 / 32768, 0) if dtype == "int16" else (1 / 65536, -32768)
        y = mb.tensor("y", shape, out_dtype, scale=q_out[0], zero_point=q_out[1])
    mb.op("SOFTMAX", [x], [y], {"Beta": beta}, version=version or (3 if dtype == "int16" else 2))
    return mb.build([x], [y])


@pytest.mark.parametrize("q_in", [(0.01, 0), (0.05, -10), (0.1, 5), (0.25, 0), (1.0, -128), (0.003, 20)])
@pytest.mark.parametrize("beta", [1.0, 0.5, 2.3])
def test_softmax_int8(q_in, beta):
    assert_exact(softmax_model(q_in=q_in, beta=beta, shape=(3, 12)))


@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (4, 3, 37), (1, 1000)])
def test_softmax_int8_shapes(shape):
    assert_exact(softmax_model(shape=shape, q_in=(0.05, 0)), inputs=4)


def test_softmax_int8_all_differences(tmp_path):
    # one row holds every int8 value: every table entry (and the diff_min cut) is exercised
    path = tmp_path / "ramp.npy"
    np.save(path, np.arange(-128, 128, dtype=np.int8).reshape(1, 256))
    for scale, beta in ((0.02, 1.0), (0.1, 0.3), (0.0625, 1.0)):
        assert_exact(softmax_model(shape=(1, 256), q_in=(scale, 0), beta=beta), inputs=2, input_files=[path])


def test_softmax_int8_to_int16():
    assert_exact(softmax_model(out_dtype="int16", q_in=(0.05, 3), shape=(2, 20)))


@pytest.mark.parametrize("q_in", [(0.001, 0), (0.0003, 0)])
@pytest.mark.parametrize("beta", [1.0, 0.7])
def test_softmax_int16(q_in, beta):
    assert_exact(softmax_model("int16", q_in=q_in, beta=beta, shape=(3, 16)))


@pytest.mark.parametrize("q_in", [(0.001, 0), (0.0003, 0)])
@pytest.mark.parametrize("beta", [1.0, 0.7])
def test_softmax_int16_against_tflm(q_in, beta):
    """TFLM builds the int16 tables with LUTPopulate<float> and the multiplier in double."""
    assert_exact(softmax_model("int16", q_in=q_in, beta=beta, shape=(40, 16)), reference="tflm")


def test_softmax_int16_references_really_differ():
    # the float32 1/(1+x) table differs from LiteRT's double one in 2 entries, which this model reaches
    model = softmax_model("int16", q_in=(0.001, 0), beta=1.0, shape=(3, 16))
    assert not aotc.verify(model, inputs=6, reference="tflm", rounding="litert").bit_exact


@pytest.mark.parametrize("beta", [1.0, 0.4])
def test_softmax_float32(beta):
    assert_exact(softmax_model("float32", beta=beta, shape=(2, 3, 9)))


def test_softmax_int8_bad_output_quantization_is_an_error():
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 4), "int8", scale=0.1, zero_point=0)
    y = mb.tensor("y", (1, 4), "int8", scale=0.1, zero_point=0)
    mb.op("SOFTMAX", [x], [y], {"Beta": 1.0}, version=2)
    with pytest.raises(Exception, match="1/256"):
        aotc.verify(mb.build([x], [y]), inputs=1)


def log_softmax_model(dtype="int8", shape=(3, 12), q_in=(0.1, 5), q_out=(16 / 256, 127)):
    mb = ModelBuilder()
    if dtype == "float32":
        x = mb.tensor("x", shape, dtype)
        y = mb.tensor("y", shape, dtype)
    else:
        x = mb.tensor("x", shape, dtype, scale=q_in[0], zero_point=q_in[1])
        y = mb.tensor("y", shape, dtype, scale=q_out[0], zero_point=q_out[1])
    mb.op("LOG_SOFTMAX", [x], [y], {}, version=2 if dtype == "int8" else 1)
    return mb.build([x], [y])


@pytest.mark.parametrize("reference", ["litert", "tflm"])
@pytest.mark.parametrize("q_in,shape", [((0.1, 5), (3, 12)), ((0.02, -10), (2, 40)), ((1.0, 0), (2, 300)),
                                        ((0.003, 20), (4, 7)), ((0.25, 0), (1, 1))])
def test_log_softmax_int8(q_in, shape, reference):
    assert_exact(log_softmax_model(q_in=q_in, shape=shape), inputs=3, reference=reference)


def test_log_softmax_int8_all_differences(tmp_path):
    path = tmp_path / "ramp.npy"
    np.save(path, np.arange(-128, 128, dtype=np.int8).reshape(1, 256))
    for scale in (0.02, 0.1, 0.0625):
        assert_exact(log_softmax_model(shape=(1, 256), q_in=(scale, 0)), inputs=2, input_files=[path])


def test_log_softmax_float32():
    assert_exact(log_softmax_model("float32", shape=(2, 3, 9)))
    assert_exact(log_softmax_model("float32", shape=(4, 6)), inputs=2, reference="tflm")


def test_log_softmax_bad_output_quantization_is_an_error():
    with pytest.raises(Exception, match="16/256"):
        aotc.compile(log_softmax_model(q_out=(1 / 256, -128)))
