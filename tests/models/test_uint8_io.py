"""A model with uint8 input and output (as older converters and camera pipelines produce):
QUANTIZE uint8 -> int8 at the input, int8 -> uint8 at the output, bit-exact end to end."""
import numpy as np
import pytest

from oputil import ModelBuilder, assert_exact


def uint8_io_model() -> bytes:
    rng = np.random.default_rng(5)
    mb = ModelBuilder()
    xu = mb.tensor("image_u8", (1, 6, 6, 3), "uint8", scale=1 / 255, zero_point=0)
    x = mb.tensor("image_s8", (1, 6, 6, 3), "int8", scale=1 / 255, zero_point=-128)
    mb.op("QUANTIZE", [xu], [x])
    w = mb.tensor("w", (8, 3, 3, 3), "int8", data=rng.integers(-127, 128, (8, 3, 3, 3)),
                  scale=list(np.linspace(0.004, 0.01, 8)), axis=0)
    b = mb.tensor("b", (8,), "int32", data=rng.integers(-2000, 2000, 8),
                  scale=list(np.linspace(0.004, 0.01, 8) / 255))
    h = mb.tensor("conv", (1, 6, 6, 8), "int8", scale=0.02, zero_point=-20)
    mb.op("CONV_2D", [x, w, b], [h], {"Padding": 0, "StrideW": 1, "StrideH": 1, "FusedActivationFunction": 0,
                                      "DilationWFactor": 1, "DilationHFactor": 1}, version=3)
    yu = mb.tensor("out_u8", (1, 6, 6, 8), "uint8", scale=0.03, zero_point=120)
    mb.op("QUANTIZE", [h], [yu])
    return mb.build([xu], [yu])


@pytest.mark.parametrize("reference", ["litert", "tflm"])
def test_uint8_boundary_quantize_bit_exact(reference):
    assert_exact(uint8_io_model(), inputs=6, reference=reference)
