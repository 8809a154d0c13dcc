"""TRANSPOSE_CONV one-op models, bit-exact with LiteRT's reference (and TFLM where it runs the op)."""
import numpy as np
import pytest

import aotc
from aotc.errors import ModelError
from oputil import ModelBuilder, assert_exact, rng_weights

ACTS = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}
PAD = {"SAME": 0, "VALID": 1}


def out_size(size, k, stride, pad, extra=0):
    """The usual output size (what TF's Conv2DTranspose makes) plus `extra` rows the padding allows."""
    return (size * stride if pad == "SAME" else (size - 1) * stride + k) - (extra if pad == "SAME" else -extra)


def tconv_model(dtype="int8", n=1, h=4, w=5, c=3, k=(3, 3), out_c=4, stride=(2, 2), pad="SAME", act="NONE",
                per_channel=True, bias=True, extra=(0, 0), seed=0, out_scale=None, bias_dtype=None,
                options=None, version=None, three_inputs=False, shape_data=None, zero_bias=False):
    mb = ModelBuilder()
    oh, ow = out_size(h, k[0], stride[0], pad, extra[0]), out_size(w, k[1], stride[1], pad, extra[1])
    wshape = (out_c, k[0], k[1], c)
    # each output sums about k_h*k_w*c/(s_h*s_w) products
    taps = max(1.0, k[0] * k[1] * c / (stride[0] * stride[1]))
    if dtype == "float32":
        x = mb.tensor("x", (n, h, w, c), "float32")
        wt = mb.tensor("w", wshape, "float32", data=rng_weights(wshape, "float32", seed))
        y = mb.tensor("y", (n, oh, ow, out_c), "float32")
        bdata = rng_weights((out_c,), "float32", seed + 1) * (0 if zero_bias else 1)
        b = mb.tensor("b", (out_c,), "float32", data=bdata) if bias else -1
    else:
        in_scale = 0.05 if dtype == "int8" else 0.0005
        zp_in, zp_out = (-3, 5) if dtype == "int8" else (0, 0)
        x = mb.tensor("x", (n, h, w, c), dtype, scale=in_scale, zero_point=zp_in)
        ws = list(np.linspace(0.002, 0.01, out_c)) if per_channel else [0.005]
        wt = mb.tensor("w", wshape, "int8", data=rng_weights(wshape, "int8", seed), scale=ws, axis=0)
        default = (0.04 if dtype == "int8" else 0.00035) * np.sqrt(taps)
        y = mb.tensor("y", (n, oh, ow, out_c), dtype, scale=out_scale or default, zero_point=zp_out)
        bt = bias_dtype or ("int32" if dtype == "int8" else "int64")
        bdata = rng_weights((out_c,), "int32", seed + 1, -3000, 3000) * (0 if zero_bias else 1)
        b = mb.tensor("b", (out_c,), bt, data=bdata, scale=[in_scale * s for s in ws], axis=0) if bias else -1
    shape = mb.tensor("out_shape", (4,), "int32",
                      data=np.array(shape_data or (n, oh, ow, out_c), np.int32))
    opts = {"Padding": PAD[pad], "StrideH": stride[0], "StrideW": stride[1]}
    if act != "NONE":
        opts["FusedActivationFunction"] = ACTS[act]
    opts.update(options or {})
    if version is None:
        version = (5 if "QuantizedBiasType" in opts else 4 if act != "NONE" else 3 if bias
                   else 2 if dtype != "float32" else 1)
    inputs = [shape, wt, x] + ([] if three_inputs else [b])
    mb.op("TRANSPOSE_CONV", inputs, [y], opts, version=version)
    return mb.build([x], [y])


@pytest.mark.parametrize("pad", ["SAME", "VALID"])
@pytest.mark.parametrize("stride", [(1, 1), (2, 2), (3, 2)])
def test_int8_stride_padding(pad, stride):
    assert_exact(tconv_model(pad=pad, stride=stride, k=(3, 2), h=4, w=5))


@pytest.mark.parametrize("pad,extra", [("SAME", (1, 0)), ("SAME", (0, 1)), ("VALID", (1, 1)),
                                       ("VALID", (0, 1))])
def test_int8_output_sizes_padding_allows(pad, extra):
    """Output sizes other than the usual one change the padding (SAME) or leave rows bias-only (VALID)."""
    assert_exact(tconv_model(pad=pad, extra=extra, stride=(2, 2), k=(3, 4), h=3, w=4))


@pytest.mark.parametrize("act", list(ACTS))
def test_int8_activations(act):
    assert_exact(tconv_model(act=act))


@pytest.mark.parametrize("reference", ["litert", "tflm"])
def test_int8_per_tensor_batches(reference):
    assert_exact(tconv_model(per_channel=False, n=2, c=5, out_c=3, k=(2, 2), stride=(2, 2)),
                 reference=reference)


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (1, 1, 6, 7), (2, 5, 1, 2)])
def test_int8_odd_shapes(shape):
    """1x1 input, 1-wide input, channel counts not multiples of 4, kernel larger than the stride."""
    n, h, w, c = shape
    assert_exact(tconv_model(n=n, h=h, w=w, c=c, k=(4, 3), out_c=5, stride=(1, 2)))


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_kernel_smaller_than_stride(dtype):
    """Gaps: some outputs receive no input at all (bias only)."""
    assert_exact(tconv_model(dtype, k=(1, 2), stride=(3, 3), pad="VALID", extra=(2, 0), n=2))


@pytest.mark.parametrize("how", ["minus_one", "three_inputs"])
def test_int8_without_bias(how):
    assert_exact(tconv_model(bias=False, three_inputs=how == "three_inputs", act="RELU"))


@pytest.mark.parametrize("act", ["NONE", "RELU6"])
@pytest.mark.parametrize("per_channel", [False, True])
def test_int16x8(act, per_channel):
    assert_exact(tconv_model("int16", act=act, per_channel=per_channel, stride=(2, 1), k=(3, 3), c=5))


def test_int16x8_tflm():
    """TFLM runs the int64-bias 16x8 kernel the same way (it reads an int32 bias as int64, so the
    quantized_bias_type INT32 variant is checked against LiteRT only)."""
    assert_exact(tconv_model("int16", stride=(1, 2), k=(2, 3), act="RELU"), reference="tflm")


def test_int16x8_valid_without_bias():
    assert_exact(tconv_model("int16", bias=False, pad="VALID", extra=(1, 0), n=2))


def test_int16x8_int32_bias():
    """quantized_bias_type INT32: the reference accumulates in int32 and requantizes with the int32 MBQM."""
    assert_exact(tconv_model("int16", bias_dtype="int32", options={"QuantizedBiasType": 2}, c=7))


def test_int16x8_int64_bias_type():
    assert_exact(tconv_model("int16", options={"QuantizedBiasType": 4}, act="RELU"))


@pytest.mark.parametrize("act", ["NONE", "RELU"])
@pytest.mark.parametrize("pad", ["SAME", "VALID"])
def test_float32(act, pad):
    assert_exact(tconv_model("float32", act=act, pad=pad, n=2, stride=(2, 3), k=(3, 4)))


def test_float32_without_bias_tflm():
    assert_exact(tconv_model("float32", bias=False, stride=(1, 1)), reference="tflm")


def test_float32_is_bit_exact():
    """Same products summed in the same order as the reference's scatter: identical floats."""
    res = assert_exact(tconv_model("float32", stride=(2, 2), k=(5, 5), c=8, out_c=3, act="RELU6"))
    for o in res.outputs:
        assert o.max_abs_diff == 0, res.summary()


def test_int16x8_int32_bias_without_bias_type_is_rejected():
    with pytest.raises(ModelError, match="quantized_bias_type"):
        aotc.compile(tconv_model("int16", bias_dtype="int32"))


def test_unsupported_activation_is_rejected():
    with pytest.raises(ModelError, match="TANH"):
        aotc.compile(tconv_model(options={"FusedActivationFunction": 4}, version=4))


def test_output_shape_mismatch_is_rejected():
    with pytest.raises(ModelError, match="output_shape"):
        aotc.compile(tconv_model(shape_data=(1, 8, 9, 4)))


def test_inconsistent_input_size_is_rejected():
    """A 3x3 output cannot come from a 4x5 input at stride 2."""
    with pytest.raises(ModelError, match="needs a"):
        aotc.compile(tconv_model(stride=(2, 2), options={"StrideH": 1}))


def test_int4_filter_is_rejected():
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 2, 2, 3), "int8", scale=0.05, zero_point=0)
    wt = mb.tensor("w", (2, 3, 3, 3), "int4", data=rng_weights((2, 3, 3, 3), "int8", 0, -8, 7), scale=[0.1])
    y = mb.tensor("y", (1, 4, 4, 2), "int8", scale=0.1, zero_point=0)
    shape = mb.tensor("s", (4,), "int32", data=np.array([1, 4, 4, 2], np.int32))
    mb.op("TRANSPOSE_CONV", [shape, wt, x], [y], {"Padding": 0, "StrideH": 2, "StrideW": 2}, version=2)
    with pytest.raises(ModelError, match="int4"):
        aotc.compile(mb.build([x], [y]))


@pytest.mark.parametrize("pad", ["SAME", "VALID"])
def test_float32_constant_folding(pad):
    """A TRANSPOSE_CONV of constants is folded at compile time (evaluate) and must match LiteRT."""
    rng = np.random.default_rng(3)
    mb = ModelBuilder()
    h, w, c, k, s, out_c = 3, 4, 2, (3, 2), (2, 3), 3
    oh, ow = out_size(h, k[0], s[0], pad, 1), out_size(w, k[1], s[1], pad, 1)
    xc = mb.tensor("xc", (1, h, w, c), "float32", data=rng.normal(0, 1, (1, h, w, c)).astype(np.float32))
    wt = mb.tensor("w", (out_c, *k, c), "float32", data=rng.normal(0, 1, (out_c, *k, c)).astype(np.float32))
    b = mb.tensor("b", (out_c,), "float32", data=rng.normal(0, 1, out_c).astype(np.float32))
    shape = mb.tensor("s", (4,), "int32", data=np.array([1, oh, ow, out_c], np.int32))
    t = mb.tensor("t", (1, oh, ow, out_c), "float32")
    z = mb.tensor("z", (1, oh, ow, out_c), "float32")
    y = mb.tensor("y", (1, oh, ow, out_c), "float32")
    mb.op("TRANSPOSE_CONV", [shape, wt, xc, b], [t], {"Padding": PAD[pad], "StrideH": s[0], "StrideW": s[1]},
          version=3)
    mb.op("ADD", [t, z], [y])
    model = mb.build([z], [y])
    calls = [k for k in aotc.compile(model, measure_code=False).calls if not k.alias]
    assert [k.op.kind for k in calls] == ["ADD"]
    assert_exact(model, inputs=2)
