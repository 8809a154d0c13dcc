"""AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D one-op models, bit-exact with LiteRT's reference (and
TFLM for int8)."""
import pytest

import aotc
from aotc.errors import ModelError
from oputil import ModelBuilder, assert_exact

ACTS = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}
PAD = {"SAME": 0, "VALID": 1}
KINDS = ["AVERAGE_POOL_2D", "MAX_POOL_2D"]


def _out(size, k, stride, pad):
    return (size + stride - 1) // stride if pad == "SAME" else (size + stride - k) // stride


def pool_model(kind="AVERAGE_POOL_2D", dtype="int8", n=1, h=7, w=8, c=5, f=(3, 3), stride=(2, 2),
               pad="SAME", act="NONE", scale=None, zp=None, version=None):
    mb = ModelBuilder()
    oh, ow = _out(h, f[0], stride[0], pad), _out(w, f[1], stride[1], pad)
    if dtype == "float32":
        q = {}
    else:
        q = {"scale": scale or (0.03 if dtype == "int8" else 0.0002),
             "zero_point": (-4 if dtype == "int8" else 0) if zp is None else zp}
    x = mb.tensor("x", (n, h, w, c), dtype, **q)
    y = mb.tensor("y", (n, oh, ow, c), dtype, **q)
    version = version or {"float32": 1, "int8": 2, "int16": 3}[dtype]
    mb.op(kind, [x], [y], {"Padding": PAD[pad], "StrideH": stride[0], "StrideW": stride[1],
                           "FilterHeight": f[0], "FilterWidth": f[1], "FusedActivationFunction": ACTS[act]},
          version=version)
    return mb.build([x], [y])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
@pytest.mark.parametrize("act", list(ACTS))
def test_activations(kind, dtype, act):
    assert_exact(pool_model(kind, dtype, act=act))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
@pytest.mark.parametrize("pad", ["SAME", "VALID"])
@pytest.mark.parametrize("stride", [(1, 1), (2, 2), (1, 3)])
def test_stride_padding(kind, dtype, pad, stride):
    assert_exact(pool_model(kind, dtype, pad=pad, stride=stride, h=9, w=7, f=(2, 3), n=2))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reference", ["litert", "tflm"])
@pytest.mark.parametrize("shape,f", [((1, 1, 1, 3), (3, 3)), ((1, 1, 9, 7), (2, 4)), ((2, 5, 1, 6), (5, 1)),
                                     ((1, 4, 6, 10), (6, 6)), ((1, 5, 5, 16), (5, 5))])
def test_int8_odd_shapes(kind, reference, shape, f):
    """1x1 input, 1-wide, channel counts not multiples of 4, window larger than the input (SAME),
    global pooling (window == input)."""
    n, h, w, c = shape
    assert_exact(pool_model(kind, "int8", n=n, h=h, w=w, c=c, f=f, stride=(1, 2)), reference=reference)


@pytest.mark.parametrize("kind", KINDS)
def test_int8_global_valid(kind):
    assert_exact(pool_model(kind, "int8", h=6, w=5, c=7, f=(6, 5), stride=(1, 1), pad="VALID"), inputs=12)


# ---- L2_POOL_2D (float32 only in LiteRT) ------------------------------------------------------------

@pytest.mark.parametrize("act", list(ACTS))
def test_l2_activations(act):
    res = assert_exact(pool_model("L2_POOL_2D", "float32", act=act, version=1))
    for o in res.outputs:
        assert o.max_abs_diff == 0, res.summary()


@pytest.mark.parametrize("pad", ["SAME", "VALID"])
@pytest.mark.parametrize("stride,f,shape", [((1, 1), (2, 3), (2, 9, 7, 3)), ((2, 2), (3, 3), (1, 7, 8, 5)),
                                            ((1, 3), (4, 2), (1, 5, 9, 1)), ((1, 1), (5, 5), (1, 5, 5, 6))])
def test_l2_stride_padding(pad, stride, f, shape):
    """Partial windows at SAME borders change the divisor; global pooling with VALID."""
    n, h, w, c = shape
    res = assert_exact(pool_model("L2_POOL_2D", "float32", n=n, h=h, w=w, c=c, f=f, stride=stride, pad=pad,
                                  version=1))
    for o in res.outputs:
        assert o.max_abs_diff == 0, res.summary()


def test_l2_tflm():
    assert_exact(pool_model("L2_POOL_2D", "float32", version=1), reference="tflm")


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_l2_quantized_is_rejected(dtype):
    with pytest.raises(ModelError, match="float32 only"):
        aotc.compile(pool_model("L2_POOL_2D", dtype, version=1))
