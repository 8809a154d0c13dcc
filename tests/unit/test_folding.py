"""Constant folding of Keras-style shape arithmetic: SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE.

The folded chain must disappear from the compiled calls and the result stay bit-exact with LiteRT."""
import numpy as np
import pytest

import aotc
from aotc.ops import OPS
from oputil import ModelBuilder, assert_exact

SHAPE_OPS = {"SHAPE", "PACK", "STRIDED_SLICE", "CONCATENATION"}


def dynamic_reshape_model(dtype="int8", shape_source="input"):
    """x (1, 4, 6) -> RESHAPE(x, PACK(STRIDED_SLICE(SHAPE(x))[0], 24)) -> MEAN over axis 1 -> (1,).

    shape_source="const" starts the chain from a constant shape tensor instead of SHAPE(x)."""
    q_in = dict(scale=0.05, zero_point=-3) if dtype == "int8" else {}
    q_out = dict(scale=0.02, zero_point=5) if dtype == "int8" else {}
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 4, 6), dtype, **q_in)
    if shape_source == "input":
        shp = mb.tensor("shape", (3,), "int32")
        mb.op("SHAPE", [x], [shp], {"OutType": 2})
    else:
        shp = mb.tensor("shape", (3,), "int32", data=np.array([1, 4, 6], np.int32))
    begin = mb.tensor("begin", (1,), "int32", data=np.array([0], np.int32))
    end = mb.tensor("end", (1,), "int32", data=np.array([1], np.int32))
    strides = mb.tensor("strides", (1,), "int32", data=np.array([1], np.int32))
    batch = mb.tensor("batch", (), "int32")
    mb.op("STRIDED_SLICE", [shp, begin, end, strides], [batch], {"ShrinkAxisMask": 1})
    flat = mb.tensor("flat", (), "int32", data=np.array(24, np.int32))
    new_shape = mb.tensor("new_shape", (2,), "int32")
    mb.op("PACK", [batch, flat], [new_shape], {"ValuesCount": 2, "Axis": 0})
    r = mb.tensor("r", (1, 24), dtype, **q_in)
    mb.op("RESHAPE", [x, new_shape], [r])
    axis = mb.tensor("axis", (1,), "int32", data=np.array([1], np.int32))
    y = mb.tensor("y", (1,), dtype, **q_out)
    mb.op("MEAN", [r, axis], [y], {"KeepDims": False}, version=2)
    return mb.build([x], [y])


def _kinds(compiled):
    return [c.op.kind for c in compiled.calls]


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_constant_shape_chain_folds(dtype):
    model = dynamic_reshape_model(dtype, shape_source="const")
    kinds = _kinds(aotc.compile(model))
    assert not SHAPE_OPS & set(kinds), kinds
    assert kinds == ["RESHAPE", "MEAN"]
    assert_exact(model, inputs=3)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_shape_of_input_chain_folds(dtype):
    model = dynamic_reshape_model(dtype, shape_source="input")
    kinds = _kinds(aotc.compile(model))
    assert not SHAPE_OPS & set(kinds), kinds
    assert kinds == ["RESHAPE", "MEAN"]
    assert_exact(model, inputs=3)


def test_shape_and_pack_evaluate():
    from aotc.ir import Op, Tensor
    x = Tensor("x", (2, 5, 3), "float32")
    s = Tensor("s", (3,), "int32")
    shape_op = Op("SHAPE", [x], [s], {"out_type": "int32"})
    assert OPS["SHAPE"].evaluate(shape_op, [None])[0].tolist() == [2, 5, 3]
    a, b = Tensor("a", (2,), "int32"), Tensor("b", (2,), "int32")
    p = Tensor("p", (2, 2), "int32")
    out = OPS["PACK"].evaluate(Op("PACK", [a, b], [p], {"axis": 1, "values_count": 2}),
                               [np.array([1, 2]), np.array([3, 4])])[0]
    assert out.tolist() == [[1, 3], [2, 4]]
