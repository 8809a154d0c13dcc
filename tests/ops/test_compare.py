"""EQUAL / NOT_EQUAL / GREATER / GREATER_EQUAL / LESS / LESS_EQUAL one-op models, bit-exact with
LiteRT's reference kernels (and TFLM where it runs the op)."""
import numpy as np
import pytest

import aotc
from oputil import ModelBuilder, rng_weights
from oputil import assert_exact as _assert_exact


def assert_exact(model, inputs=3, **kw):
    return _assert_exact(model, inputs=inputs, **kw)

def bool_to_int8(mb, cond, shape):
    """SELECT_V2(cond, 1, 0): an int8 view of a bool tensor, so the graph's outputs are not bool."""
    q = {"scale": 1.0, "zero_point": 0}
    one = mb.tensor(f"one{cond}", (), "int8", data=np.array(1, np.int8), **q)
    zero = mb.tensor(f"zero{cond}", (), "int8", data=np.array(0, np.int8), **q)
    out = mb.tensor(f"int{cond}", shape, "int8", **q)
    mb.op("SELECT_V2", [cond, one, zero], [out])
    return out


def bool_input(mb, name, shape):
    """A float32 graph input x and the bool tensor x > 0 (graph inputs are not bool)."""
    x = mb.tensor(name, shape, "float32")
    zero = mb.tensor(f"{name}_zero", (), "float32", data=np.array(0, np.float32))
    c = mb.tensor(f"{name}_bool", shape, "bool")
    mb.op("GREATER", [x, zero], [c])
    return x, c


KINDS = ["EQUAL", "NOT_EQUAL", "GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL"]


def compare_model(kind, dtype, shape_a=(2, 3, 4), shape_b=(2, 3, 4), quant=((0.05, 3), (0.07, -2)),
                  const_b=False, seed=0):
    mb = ModelBuilder()
    q = [{"scale": s, "zero_point": z} for s, z in quant] if quant else [{}, {}]
    if dtype in ("float32", "int32", "bool"):
        q = [{}, {}]
    if dtype == "bool":
        xa, a = bool_input(mb, "a", shape_a)
        xb, b = bool_input(mb, "b", shape_b)
        out_shape = tuple(np.broadcast_shapes(shape_a, shape_b))
        y = mb.tensor("y", out_shape, "bool")
        mb.op(kind, [a, b], [y])
        return mb.build([xa, xb], [bool_to_int8(mb, y, out_shape)])
    a = mb.tensor("a", shape_a, dtype, **q[0])
    data_b = None
    if const_b:
        data_b = (rng_weights(shape_b, "float32", seed) if dtype == "float32"
                  else rng_weights(shape_b, dtype, seed, -20, 20) if dtype == "int32"
                  else rng_weights(shape_b, dtype, seed))
    b = mb.tensor("b", shape_b, dtype, data=data_b, **q[1])
    out_shape = tuple(np.broadcast_shapes(shape_a, shape_b))
    y = mb.tensor("y", out_shape, "bool")
    mb.op(kind, [a, b], [y], version=2)
    return mb.build([a] if const_b else [a, b], [bool_to_int8(mb, y, out_shape)])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["float32", "int32", "int8"])
def test_compare(kind, dtype):
    assert_exact(compare_model(kind, dtype))
    assert_exact(compare_model(kind, dtype, shape_a=(2, 1, 4), shape_b=(3, 1)))


@pytest.mark.parametrize("kind", KINDS)
def test_compare_int8_equal_scales(kind):
    # same scale and zero point: many exact ties, where the rescaling must agree bit for bit
    assert_exact(compare_model(kind, "int8", quant=((0.1, 0), (0.1, 0)), shape_b=(4,)))


@pytest.mark.parametrize("kind", ["LESS", "EQUAL"])
@pytest.mark.parametrize("quant", [((0.5, -128), (0.003, 127)), ((1e-3, 5), (0.9, 0))])
def test_compare_int8_scales(kind, quant):
    assert_exact(compare_model(kind, "int8", quant=quant))


@pytest.mark.parametrize("kind", KINDS)
def test_compare_int16(kind):
    """LiteRT 2.3 rescales quantized int16 for (NOT_)EQUAL only; the others compare stored values."""
    assert_exact(compare_model(kind, "int16", quant=((0.001, 0), (0.0007, 0))))
    if kind == "NOT_EQUAL":
        with pytest.raises(Exception, match="leaves the output unwritten"):
            aotc.verify(compare_model(kind, "int16", quant=None), inputs=1)
    else:
        assert_exact(compare_model(kind, "int16", quant=None, shape_b=(1, 3, 1)))


@pytest.mark.parametrize("kind", ["EQUAL", "NOT_EQUAL"])
def test_compare_bool(kind):
    assert_exact(compare_model(kind, "bool", shape_b=(4,)))


@pytest.mark.parametrize("kind", ["EQUAL", "GREATER_EQUAL"])
def test_compare_const_broadcast(kind):
    assert_exact(compare_model(kind, "int8", shape_a=(1, 2, 3, 4, 5), shape_b=(2, 1, 4, 1), const_b=True))
    assert_exact(compare_model(kind, "float32", shape_a=(), shape_b=(3, 4), const_b=True))


@pytest.mark.parametrize("kind", ["LESS", "EQUAL"])
def test_compare_against_tflm(kind):
    assert_exact(compare_model(kind, "int8", shape_b=(4,)), reference="tflm")
    assert_exact(compare_model(kind, "float32", shape_b=(3, 1)), reference="tflm")


def test_int16_quantized_against_tflm_is_an_error():
    """TFLM computes no rescaling parameters for int16 (it compares with zero multipliers)."""
    with pytest.raises(Exception, match="TFLM compares int16"):
        aotc.verify(compare_model("GREATER", "int16", quant=((0.001, 0), (0.0007, 0))), inputs=1,
                    reference="tflm")


def test_bool_ordering_is_an_error():
    with pytest.raises(Exception, match="type bool is not supported"):
        aotc.verify(compare_model("LESS", "bool"), inputs=1)


def test_scale_not_below_one_is_an_error():
    with pytest.raises(Exception, match="not below 1"):
        aotc.verify(compare_model("LESS", "int8", quant=((1.5, 0), (0.1, 0))), inputs=1)
