"""QUANTIZE / DEQUANTIZE one-op models, bit-exact with LiteRT's reference kernels, and constant
DEQUANTIZE folding."""
import numpy as np
import pytest

import aotc
from oputil import ModelBuilder, assert_exact, rng_weights

QUANT = {"int8": (0.03, -5), "uint8": (0.02, 130), "int16": (0.0002, 0)}


def quantize_model(in_dtype, out_dtype, q_in=None, q_out=None, shape=(2, 33), version=None):
    mb = ModelBuilder()
    qi = {} if in_dtype == "float32" else dict(zip(("scale", "zero_point"), q_in or QUANT[in_dtype]))
    qo = dict(zip(("scale", "zero_point"), q_out or QUANT[out_dtype]))
    x = mb.tensor("x", shape, in_dtype, **qi)
    y = mb.tensor("y", shape, out_dtype, **qo)
    mb.op("QUANTIZE", [x], [y], version=version or (3 if "int16" in (in_dtype, out_dtype) else 2))
    return mb.build([x], [y])


@pytest.mark.parametrize("out_dtype,q_out", [("int8", (0.03, -5)), ("int8", (0.1, 0)), ("uint8", (0.02, 130)),
                                             ("int16", (0.0002, 0)), ("int16", (0.001, 0))])
def test_quantize_float(out_dtype, q_out):
    assert_exact(quantize_model("float32", out_dtype, q_out=q_out))


def test_quantize_float_rounding_ties(tmp_path):
    # exact halves of the scale: roundf rounds them away from zero
    path = tmp_path / "ties.npy"
    np.save(path, (np.arange(-33, 33, dtype=np.float32) * np.float32(0.25)).reshape(2, 33))
    assert_exact(quantize_model("float32", "int8", q_out=(0.5, 1)), inputs=2, input_files=[path])


@pytest.mark.parametrize("in_dtype,out_dtype,q_in,q_out", [
    ("int8", "uint8", (0.03, -5), (0.03, 123)),
    ("uint8", "int8", (0.02, 130), (0.02, 2)),
    ("int8", "int8", (0.03, -5), (0.05, 7)),
    ("int8", "int8", (0.05, 3), (0.02, -4)),
    ("uint8", "uint8", (0.02, 130), (0.03, 100)),
    ("int8", "int16", (0.03, -5), (0.0002, 0)),
    ("int16", "int16", (0.0002, 0), (0.0003, 0)),
    ("int16", "int8", (0.0002, 0), (0.03, -3)),
])
def test_requantize(in_dtype, out_dtype, q_in, q_out):
    assert_exact(quantize_model(in_dtype, out_dtype, q_in=q_in, q_out=q_out))


def dequantize_model(dtype, q=None, shape=(3, 17)):
    mb = ModelBuilder()
    s, z = q or QUANT[dtype]
    x = mb.tensor("x", shape, dtype, scale=s, zero_point=z)
    y = mb.tensor("y", shape, "float32")
    mb.op("DEQUANTIZE", [x], [y], version=3 if dtype == "int16" else 2)
    return mb.build([x], [y])


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16"])
def test_dequantize(dtype):
    res = assert_exact(dequantize_model(dtype))
    assert all(o.max_abs_diff == 0 for o in res.outputs)


def test_dequantize_constant_weights_fold():
    # a float model whose int8 (per-channel) weights are dequantized at load: DEQUANTIZE folds
    mb = ModelBuilder()
    w = mb.tensor("w", (4, 6), "int8", data=rng_weights((4, 6), "int8"), scale=[0.01, 0.02, 0.005, 0.03], axis=0)
    wf = mb.tensor("wf", (4, 6), "float32")
    x = mb.tensor("x", (4, 6), "float32")
    y = mb.tensor("y", (4, 6), "float32")
    mb.op("DEQUANTIZE", [w], [wf], version=2)
    mb.op("ADD", [x, wf], [y], {"FusedActivationFunction": 0})
    model = mb.build([x], [y])
    res = assert_exact(model, reference="litert")
    assert all(o.max_abs_diff == 0 for o in res.outputs)
    # TFLM would apply scale[0] to every channel: verify refuses that comparison with a clear error
    with pytest.raises(aotc.AotcError, match="per-channel"):
        aotc.verify(model, inputs=1, reference="tflm")


def test_per_channel_quantize_output_is_an_error():
    mb = ModelBuilder()
    x = mb.tensor("x", (2, 3), "float32")
    y = mb.tensor("y", (2, 3), "int8", scale=[0.1, 0.2, 0.3], axis=1)
    mb.op("QUANTIZE", [x], [y])
    with pytest.raises(Exception, match="per-channel"):
        aotc.verify(mb.build([x], [y]), inputs=1)
