"""CONV_2D and DEPTHWISE_CONV_2D one-op models, bit-exact with LiteRT's reference (and TFLM for int8)."""
import numpy as np
import pytest

import aotc
from aotc.errors import ModelError
from oputil import ModelBuilder, assert_exact, rng_weights

ACTS = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}
PAD = {"SAME": 0, "VALID": 1}


def _out(size, k, stride, dil, pad):
    eff = (k - 1) * dil + 1
    return (size + stride - 1) // stride if pad == "SAME" else (size + stride - eff) // stride


def conv_model(dtype="int8", kind="CONV_2D", n=1, h=7, w=6, c=5, k=(3, 3), out_c=6, stride=(1, 1),
               dil=(1, 1), pad="SAME", act="NONE", per_channel=True, mult=1, seed=0, out_scale=None,
               bias=True, version=None, bias_dtype=None, options=None, zero_bias=False, wdtype="int8"):
    mb = ModelBuilder()
    options = dict(options or {})
    dw = kind == "DEPTHWISE_CONV_2D"
    if dw:
        out_c = c * mult
        wshape, axis, wc = (1, k[0], k[1], out_c), 3, 1
    else:
        wc = c // options.pop("groups", 1)
        wshape, axis = (out_c, k[0], k[1], wc), 0
    oh, ow = _out(h, k[0], stride[0], dil[0], pad), _out(w, k[1], stride[1], dil[1], pad)
    taps = k[0] * k[1] * wc
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
        if wdtype == "int4":   # values in [-8, 7]: scales 16x larger keep the outputs' spread
            ws = [16 * s for s in ws]
            wdata = rng_weights(wshape, "int8", seed, -8, 7)
        else:
            wdata = rng_weights(wshape, "int8", seed)
        wt = mb.tensor("w", wshape, wdtype, data=wdata, scale=ws, axis=axis)
        # keep outputs mostly in range: the accumulator's spread grows like sqrt(taps)
        default = (0.04 if dtype == "int8" else 0.00035) * np.sqrt(taps)
        y = mb.tensor("y", (n, oh, ow, out_c), dtype, scale=out_scale or default, zero_point=zp_out)
        bt = bias_dtype or ("int32" if dtype == "int8" else "int64")
        blim = 3000 if wdtype == "int8" else 190   # the bias is in units of the (16x larger) int4 scale
        bdata = rng_weights((out_c,), "int32", seed + 1, -blim, blim) * (0 if zero_bias else 1)
        b = mb.tensor("b", (out_c,), bt, data=bdata,
                      scale=[in_scale * s for s in ws], axis=0) if bias else -1
    opts = {"Padding": PAD[pad], "StrideH": stride[0], "StrideW": stride[1], "DilationHFactor": dil[0],
            "DilationWFactor": dil[1], "FusedActivationFunction": ACTS[act]}
    if dw:
        opts["DepthMultiplier"] = mult
    opts.update(options)
    if version is None:
        version = {"int8": 3, "float32": 1, "int16": 4 if not dw else 5}[dtype]
    mb.op(kind, [x, wt, b], [y], opts, version=version)
    return mb.build([x], [y])


KINDS = ["CONV_2D", "DEPTHWISE_CONV_2D"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("act", list(ACTS))
def test_int8_activations(kind, act):
    assert_exact(conv_model(kind=kind, act=act, mult=2))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("pad", ["SAME", "VALID"])
@pytest.mark.parametrize("stride", [(1, 1), (2, 2), (2, 1)])
def test_int8_stride_padding(kind, pad, stride):
    assert_exact(conv_model(kind=kind, pad=pad, stride=stride, h=9, w=8, k=(3, 2)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reference", ["litert", "tflm"])
def test_int8_dilation_per_tensor(kind, reference):
    assert_exact(conv_model(kind=kind, dil=(2, 2), per_channel=False, h=9, w=10, stride=(1, 2)),
                 reference=reference)


@pytest.mark.parametrize("reference", ["litert", "tflm"])
def test_int8_depth_multiplier_batches(reference):
    assert_exact(conv_model(kind="DEPTHWISE_CONV_2D", mult=2, n=2, c=3, dil=(2, 1), stride=(2, 2)),
                 reference=reference)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", [(1, 1, 1, 3), (1, 1, 7, 5), (2, 6, 1, 7), (1, 2, 2, 9)])
def test_int8_odd_shapes(kind, shape):
    """1x1 input, 1-wide, channels not a multiple of 4, kernel larger than the input with SAME."""
    n, h, w, c = shape
    assert_exact(conv_model(kind=kind, n=n, h=h, w=w, c=c, k=(3, 5), out_c=3, mult=3, stride=(2, 1)))


@pytest.mark.parametrize("reference", ["litert", "tflm"])
def test_int8_pointwise_and_batches(reference):
    assert_exact(conv_model(n=3, k=(1, 1), c=13, out_c=11, pad="VALID"), reference=reference)


def test_int8_grouped_conv():
    assert_exact(conv_model(c=6, out_c=9, options={"groups": 3}, version=6, k=(3, 3)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("act", ["NONE", "RELU6"])
def test_int16x8(kind, act):
    assert_exact(conv_model("int16", kind=kind, act=act, mult=2, stride=(2, 1), dil=(1, 2), h=8, w=9))


@pytest.mark.parametrize("kind", KINDS)
def test_int16x8_per_tensor_valid(kind):
    assert_exact(conv_model("int16", kind=kind, per_channel=False, pad="VALID", k=(2, 3), n=2))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("act", ["NONE", "RELU"])
def test_float32(kind, act):
    assert_exact(conv_model("float32", kind=kind, act=act, mult=2, stride=(2, 2), dil=(1, 2), n=2))


def test_float32_grouped():
    assert_exact(conv_model("float32", c=4, out_c=6, options={"groups": 2}, version=6))


def test_int16x8_int32_bias():
    """quantized_bias_type INT32: TFLite then accumulates in int32 and requantizes with the int32 MBQM."""
    assert_exact(conv_model("int16", bias_dtype="int32", options={"QuantizedBiasType": 2}, k=(3, 3), c=9))


def test_int16x8_int32_bias_without_bias_type_is_rejected():
    with pytest.raises(ModelError, match="quantized_bias_type"):
        aotc.compile(conv_model("int16", bias_dtype="int32"))


@pytest.mark.parametrize("kind", KINDS)
def test_unsupported_activation_is_rejected(kind):
    with pytest.raises(ModelError, match="TANH"):
        aotc.compile(conv_model(kind=kind, options={"FusedActivationFunction": 4}))


def test_inconsistent_output_shape_is_rejected():
    model = conv_model(stride=(2, 2), options={"StrideH": 1})
    with pytest.raises(ModelError, match="does not match"):
        aotc.compile(model)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_without_bias(kind, dtype):
    """LiteRT refuses an omitted bias, so the reference runs the same model with a zero bias."""
    model = conv_model(dtype, kind=kind, bias=False, mult=2, stride=(2, 1))
    ref = conv_model(dtype, kind=kind, bias=True, zero_bias=True, mult=2, stride=(2, 1))
    assert_exact(model, inputs=3, reference_model=ref)


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_conv_without_bias_tflm(dtype):
    assert_exact(conv_model(dtype, bias=False), inputs=3, reference="tflm")


# ---- int4 filters (TensorType INT4; the reader unpacks them, the kernels run them as int8) ---------
# LiteRT: CONV_2D int8 x int4 is version 7; DEPTHWISE_CONV_2D int8 x int4 is version 7 too, but the
# 2.3 BUILTIN_REF resolver registers DEPTHWISE_CONV_2D up to version 6 only (its kernel keys on the
# filter type, not the version), so the depthwise models use version 6.

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("reference", ["litert", "tflm"])
def test_int4_filter(kind, per_channel, reference):
    version = 7 if kind == "CONV_2D" else 6
    assert_exact(conv_model(kind=kind, wdtype="int4", per_channel=per_channel, mult=2, stride=(2, 1),
                            c=5, h=8, w=7, version=version), reference=reference)


@pytest.mark.parametrize("kind", KINDS)
def test_int4_filter_pointwise_valid_no_bias(kind):
    version = 7 if kind == "CONV_2D" else 6
    model = conv_model(kind=kind, wdtype="int4", k=(1, 1), pad="VALID", c=9, out_c=6, bias=False,
                       version=version)
    ref = conv_model(kind=kind, wdtype="int4", k=(1, 1), pad="VALID", c=9, out_c=6, zero_bias=True,
                     version=version)
    assert_exact(model, inputs=3, reference_model=ref)


def test_int4_filter_int16x8_conv():
    assert_exact(conv_model("int16", wdtype="int4", version=7, stride=(2, 2), act="RELU6"))


def test_int4_weights_stay_const_int8():
    c = aotc.compile(conv_model(wdtype="int4", version=7), measure_code=False)
    (call,) = [k for k in c.calls if not k.alias]
    w = call.op.inputs[1]
    assert w.dtype == "int4" and w.is_const and w.data.dtype == np.int8
    assert w.data.min() >= -8 and w.data.max() <= 7


def test_int4_depthwise_int16_is_rejected():
    """LiteRT's 16x8 depthwise kernel does not unpack int4 filters."""
    with pytest.raises(ModelError, match="int4"):
        aotc.compile(conv_model("int16", kind="DEPTHWISE_CONV_2D", wdtype="int4", version=6))


@pytest.mark.parametrize("kind", KINDS)
def test_int4_filter_falls_back_from_cmsis_nn(kind):
    from aotc.backends import cmsis_nn
    model = conv_model(kind=kind, wdtype="int4", version=7 if kind == "CONV_2D" else 6)
    graph = aotc.reader.read(model)
    ok, why = cmsis_nn.CmsisNN().supports(graph.ops[0])
    assert not ok and "int4" in why
    c = aotc.compile(model, target="m55", measure_code=False)
    (call,) = [k for k in c.calls if not k.alias]
    assert call.backend == "generic_c"
