"""FULLY_CONNECTED one-op models, bit-exact with LiteRT (float requant) and TFLM (double rounding)."""
import numpy as np
import pytest

from oputil import ModelBuilder, assert_exact, rng_weights

ACTS = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}


def fc_model(dtype="int8", batches=1, depth=13, units=7, per_channel=True, act="NONE", bias=True,
             keep_num_dims=False, seed=0, out_scale=None, wdtype="int8", version=None):
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
        if wdtype == "int4":   # values in [-8, 7]: scales 16x larger keep the outputs' spread
            ws = [16 * s for s in ws]
            wdata = rng_weights((units, depth), "int8", seed, -8, 7)
        else:
            wdata = rng_weights((units, depth), "int8", seed)
        w = mb.tensor("w", (units, depth), wdtype, data=wdata, scale=ws, axis=0)
        blim = 3000 if wdtype == "int8" else 190   # the bias is in units of the (16x larger) int4 scale
        b = mb.tensor("b", (units,), bias_t, data=rng_weights((units,), "int32", seed + 1, -blim, blim),
                      scale=[0.05 * s for s in ws]) if bias else -1
        default = 0.07 if dtype == "int8" else 0.05 * np.sqrt(depth)   # int16: keep outputs in range
        y = mb.tensor("y", (batches, units), dtype, scale=out_scale or default, zero_point=zp_out)
    mb.op("FULLY_CONNECTED", [x, w, b], [y], {"FusedActivationFunction": ACTS[act],
                                              "KeepNumDims": keep_num_dims},
          version=version or (4 if dtype == "int8" else 7))
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


# ---- int4 weights (TensorType INT4): LiteRT versions 10 (int8 activations) and 13 (int16) ---------

@pytest.mark.parametrize("per_channel,reference", [(False, "litert"), (True, "litert"), (False, "tflm")])
def test_fc_int4_weights_int8(per_channel, reference):
    """TFLM's per-channel fully-connected kernel refuses int4 weights: per-tensor only there."""
    assert_exact(fc_model(wdtype="int4", per_channel=per_channel, batches=2, depth=17, units=6, act="RELU",
                          version=10, out_scale=0.12), reference=reference)


def test_fc_int4_weights_int8_no_bias():
    assert_exact(fc_model(wdtype="int4", bias=False, depth=33, units=5, version=10, out_scale=0.15))


def test_fc_int4_weights_int16x8():
    """TFLM has no int16 x int4 kernel: LiteRT only."""
    assert_exact(fc_model("int16", wdtype="int4", depth=21, units=7, version=13))


def test_fc_int4_weights_fall_back_from_cmsis_nn():
    import aotc
    from aotc.backends import cmsis_nn
    model = fc_model(wdtype="int4", version=10)
    ok, why = cmsis_nn.CmsisNN().supports(aotc.reader.read(model).ops[0])
    assert not ok and "int4" in why
    calls = [k for k in aotc.compile(model, target="m55", measure_code=False).calls if not k.alias]
    assert [k.backend for k in calls] == ["generic_c"]


def test_fc_int4_nonzero_zero_point_is_rejected():
    import aotc
    from aotc.errors import ModelError
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 4), "int8", scale=0.05, zero_point=0)
    w = mb.tensor("w", (3, 4), "int4", data=rng_weights((3, 4), "int8", 0, -8, 7), scale=[0.1], zero_point=[1])
    y = mb.tensor("y", (1, 3), "int8", scale=0.1, zero_point=0)
    mb.op("FULLY_CONNECTED", [x, w, -1], [y], {}, version=10)
    with pytest.raises(ModelError, match="zero point"):
        aotc.compile(mb.build([x], [y]))
