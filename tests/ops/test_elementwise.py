"""ADD / SUB / MUL one-op models, bit-exact with LiteRT's reference kernels."""
import numpy as np
import pytest

import aotc
from oputil import ModelBuilder, assert_exact, rng_weights

ACTS = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}
VERSIONS = {("ADD", "int8"): 2, ("ADD", "int16"): 3, ("ADD", "float32"): 1, ("ADD", "int32"): 1,
            ("SUB", "int8"): 2, ("SUB", "int16"): 3, ("SUB", "float32"): 1, ("SUB", "int32"): 1,
            ("MUL", "int8"): 2, ("MUL", "int16"): 5, ("MUL", "float32"): 1, ("MUL", "int32"): 1}


def binary_model(kind, dtype="int8", shape_a=(1, 4, 4, 3), shape_b=(1, 4, 4, 3), act="NONE",
                 scales=(0.05, 0.03, 0.06), zps=(-3, 7, 2), const_b=False, pot_scale_int16=None, seed=0,
                 b_range=(None, None)):
    mb = ModelBuilder()
    out_shape = tuple(np.broadcast_shapes(shape_a, shape_b))
    if dtype in ("float32", "int32"):
        q = [{}, {}, {}]
    else:
        if dtype == "int16":
            zps = (0, 0, 0)
        q = [{"scale": s, "zero_point": z} for s, z in zip(scales, zps)]
    a = mb.tensor("a", shape_a, dtype, **q[0])
    data_b = None
    if const_b:
        data_b = (rng_weights(shape_b, "float32", seed) if dtype == "float32"
                  else rng_weights(shape_b, dtype, seed, -100, 100) if dtype == "int32"
                  else rng_weights(shape_b, dtype, seed, *b_range))
    b = mb.tensor("b", shape_b, dtype, data=data_b, **q[1])
    y = mb.tensor("y", out_shape, dtype, **q[2])
    opts = {"FusedActivationFunction": ACTS[act]}
    if pot_scale_int16 is not None:
        opts["PotScaleInt16"] = pot_scale_int16
    mb.op(kind, [a, b], [y], opts, version=VERSIONS[(kind, dtype)])
    return mb.build([a] if const_b else [a, b], [y])


@pytest.mark.parametrize("kind", ["ADD", "SUB"])
@pytest.mark.parametrize("act", list(ACTS))
def test_addsub_int8_acts(kind, act):
    assert_exact(binary_model(kind, act=act, scales=(0.05, 0.03, 0.06)))


@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("shapes", [((1, 4, 4, 3), (3,)), ((2, 1, 5), (1, 3, 1)), ((1, 4, 4, 3), ()),
                                    ((), (2, 3)), ((2, 3, 1, 4, 1), (3, 5, 1, 2)), ((4, 1), (1, 1))])
def test_broadcast_int8(kind, shapes):
    assert_exact(binary_model(kind, shape_a=shapes[0], shape_b=shapes[1],
                              scales=(0.05, 0.03, 0.06 if kind != "MUL" else 0.15)))


@pytest.mark.parametrize("kind", ["ADD", "SUB"])
@pytest.mark.parametrize("scales", [(0.05, 0.05, 0.05), (0.01, 0.2, 0.1), (0.3, 0.002, 0.25)])
def test_addsub_int8_scales(kind, scales):
    assert_exact(binary_model(kind, scales=scales, zps=(-128, 127, -5)))


@pytest.mark.parametrize("kind", ["ADD", "SUB"])
@pytest.mark.parametrize("pot", [False, True])
def test_addsub_int16_general(kind, pot):
    # not power-of-two scales: the general path whatever pot_scale_int16 says
    assert_exact(binary_model(kind, "int16", scales=(0.0004, 0.0003, 0.0008), act="RELU",
                              pot_scale_int16=pot, shape_b=(3,)))


@pytest.mark.parametrize("kind", ["ADD", "SUB"])
@pytest.mark.parametrize("scales", [(2**-10, 2**-12, 2**-10), (2**-13, 2**-11, 2**-11)])
def test_addsub_int16_pot(kind, scales):
    assert_exact(binary_model(kind, "int16", scales=scales, pot_scale_int16=True))
    assert_exact(binary_model(kind, "int16", scales=scales, pot_scale_int16=False))


@pytest.mark.parametrize("act", ["NONE", "RELU6"])
def test_mul_int8(act):
    assert_exact(binary_model("MUL", act=act, scales=(0.05, 0.03, 0.12), zps=(5, -9, -20)))


def test_mul_int8_large_multiplier():
    # s1 * s2 / s_out = 1.9 > 1: a positive shift; small constant factors keep outputs in range
    assert_exact(binary_model("MUL", scales=(0.05, 0.04, 0.00105), zps=(0, 0, 0), const_b=True,
                              shape_b=(1, 1, 1, 3), b_range=(-1, 1)))


def test_mul_int16():
    assert_exact(binary_model("MUL", "int16", scales=(0.0003, 0.0002, 0.0025), act="RELU", shape_b=(4, 1, 3)))


@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
def test_float32(kind):
    assert_exact(binary_model(kind, "float32", shape_b=(4, 1, 1), act="RELU6"))
    assert_exact(binary_model(kind, "float32", const_b=True))


@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
def test_int32(kind):
    assert_exact(binary_model(kind, "int32", shape_b=(1, 1, 3), const_b=True, act="RELU"))


@pytest.mark.parametrize("kind", ["ADD", "SUB"])
@pytest.mark.parametrize("scales", [(2**-10, 2**-12, 2**-10), (2**-13, 2**-11, 2**-11)])
def test_addsub_int16_pot_against_tflm(kind, scales):
    """TFLM ignores pot_scale_int16 and always takes the general int16 path; LiteRT's power-of-two
    path rounds differently (1 LSB)."""
    model = binary_model(kind, "int16", scales=scales, pot_scale_int16=True)
    assert_exact(model, reference="tflm")
    assert not aotc.verify(model, inputs=6, reference="tflm", rounding="litert").bit_exact


def test_int32_add_activation_against_tflm():
    """TFLM's int32 ADD ignores the fused activation (clamps to the int32 range only)."""
    model = binary_model("ADD", "int32", shape_b=(1, 1, 3), const_b=True, act="RELU")
    assert_exact(model, reference="tflm")
    assert not aotc.verify(model, inputs=6, reference="tflm", rounding="litert").bit_exact


def mul_int16_tie_model():
    """int16 MUL whose multiplier differs between float (LiteRT: float(s1 * s2) / s_out) and double
    (TFLM: double(s1) * double(s2) / double(s_out)) arithmetic, with operands chosen so that a few
    of the 65536 products round differently."""
    rng = np.random.default_rng(1)
    a_vals = rng.integers(-32768, 32767, (256, 1)).astype(np.int16)
    b_vals = rng.integers(-32768, 32767, (1, 256)).astype(np.int16)
    mb = ModelBuilder()
    a = mb.tensor("a", (256, 1), "int16", scale=0.00011785073002101853, zero_point=0)
    b = mb.tensor("b", (1, 256), "int16", scale=0.00017367220425512642, zero_point=0, data=b_vals)
    y = mb.tensor("y", (256, 256), "int16", scale=0.002110842615365982, zero_point=0)
    mb.op("MUL", [a, b], [y], {"FusedActivationFunction": 0}, version=5)
    return mb.build([a], [y]), a_vals


def test_mul_int16_multiplier_against_tflm(tmp_path):
    model, a_vals = mul_int16_tie_model()
    path = tmp_path / "a.npy"
    np.save(path, a_vals)
    assert_exact(model, inputs=1, input_files=[path], reference="tflm")
    assert_exact(model, inputs=1, input_files=[path], reference="litert")
    crossed = aotc.verify(model, inputs=0, input_files=[path], reference="tflm", rounding="litert")
    assert not crossed.bit_exact


def test_output_scale_too_small_is_an_error():
    import aotc
    from aotc.errors import ModelError
    with pytest.raises(Exception, match="outside"):
        aotc.verify(binary_model("ADD", scales=(1.0, 1.0, 1e-9)), inputs=1)
    assert ModelError
