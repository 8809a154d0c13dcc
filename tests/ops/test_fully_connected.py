"""FULLY_CONNECTED one-op models, bit-exact with LiteRT (float requant) and TFLM (double rounding)."""
import numpy as np
import pytest

from oputil import ModelBuilder, assert_exact, rng_weights

ACTS = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}


def fc_model(dtype="int8", batches=1, depth=13, units=7, per_channel=True, act="NONE", bias=True,
             keep_num_dims=False, seed=0, out_scale=None):
    mb = ModelBuilder()
    if dtype == "float32":
        x = mb.tensor("x", (batches, depth), "float32")
        w = mb.tensor("w", (units, depth), "float32", data=rng_weights((units, depth), "float32", seed))
        b = mb.tensor("b", (units,), "float32", data=rng_weights((units,), "float32", seed + 1)) if bias else -1
        y = mb.tensor("y", (batches, units), "float32")
    else:
        bias_t = "int32" if dtype == "int8" else "int64"
        zp_in, zp_out = (-3, 5) if dtype == "int8" else (0, 0)
        x = mb.tensor("x", (batches, depth), dtype, scale=0.05, zero_point=zp_in)
        ws = list(np.linspace(0.002, 0.01, units)) if per_channel else [0.004]
        w = mb.tensor("w", (units, depth), "int8", data=rng_weights((units, depth), "int8", seed),
                      scale=ws, axis=0)
        b = mb.tensor("b", (units,), bias_t, data=rng_weights((units,), "int32", seed + 1, -3000, 3000),
                      scale=[0.05 * s for s in ws]) if bias else -1
        y = mb.tensor("y", (batches, units), dtype, scale=out_scale or (0.07 if dtype == "int8" else 0.0007), zero_point=zp_out)
    mb.op("FULLY_CONNECTED", [x, w, b], [y], {"FusedActivationFunction": ACTS[act],
                                              "KeepNumDims": keep_num_dims}, version=4 if dtype == "int8" else 7)
    return mb.build([x], [y])


@pytest.mark.parametrize("act", list(ACTS))
@pytest.mark.parametrize("per_channel", [False, True])
def test_fc_int8(act, per_channel):
    assert_exact(fc_model(act=act, per_channel=per_channel))


@pytest.mark.parametrize("reference", ["litert", "tflm"])
def test_fc_int8_batches_no_bias(reference):
    assert_exact(fc_model(batches=3, depth=1, units=5, bias=False, per_channel=False), reference=reference)


def test_fc_int16x8():
    assert_exact(fc_model("int16", depth=20, units=9))


def test_fc_float32():
    assert_exact(fc_model("float32", batches=2, act="RELU6"))


def test_fc_rounding_modes_differ_and_each_matches_its_reference():
    """The two references really disagree here; a kernel that ignored --rounding would fail one side."""
    import aotc
    model = fc_model("int16", depth=32, units=32, per_channel=False, seed=3, out_scale=0.003)
    mixed = aotc.verify(model, inputs=8, reference="litert", rounding="tflm")
    assert not mixed.bit_exact, "test model does not separate the two roundings"
    assert_exact(model, inputs=8, reference="litert")
    assert_exact(model, inputs=8, reference="tflm")
