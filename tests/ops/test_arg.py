"""ARG_MAX / ARG_MIN one-op models, bit-exact with LiteRT (and TFLM): every input type, both output
types, int32 and int64 axes, first / middle / last / negative axes, ties and NaN."""
import numpy as np
import pytest

import aotc
from aotc.errors import ModelError
from oputil import ModelBuilder, assert_exact


def arg_model(kind, dtype, shape, axis, out="int32", axis_t="int32", version=None):
    mb = ModelBuilder()
    x = mb.tensor("x", shape, dtype)
    a = mb.tensor("axis", (1,), axis_t, data=np.array([axis], axis_t))
    ax = axis % len(shape)
    y = mb.tensor("y", [s for d, s in enumerate(shape) if d != ax], out)
    mb.op(kind, [x, a], [y], {"OutputType": 2 if out == "int32" else 4},
          version=version or (2 if dtype == "int8" else 1))
    return mb.build([x], [y])


@pytest.mark.parametrize("kind", ["ARG_MAX", "ARG_MIN"])
@pytest.mark.parametrize("dtype", ["float32", "int8", "uint8", "int32"])
@pytest.mark.parametrize("shape,axis,out,axis_t", [((2, 3, 4), 1, "int32", "int32"),
                                                   ((3, 40), -1, "int64", "int32"),
                                                   ((5, 2, 3), 0, "int32", "int64")])
def test_arg(kind, dtype, shape, axis, out, axis_t):
    assert_exact(arg_model(kind, dtype, shape, axis, out, axis_t), inputs=2)


@pytest.mark.parametrize("kind", ["ARG_MAX", "ARG_MIN"])
def test_arg_ties_keep_the_first_index(kind, tmp_path):
    x = np.array([[3, 7, 7, 1, 7], [-2, -2, -2, -2, -2], [5, 1, 1, 5, 0], [0, 0, 9, 9, 0]], np.int8)
    path = tmp_path / "ties.npy"
    np.save(path, x)
    for ref in ("litert", "tflm"):
        assert_exact(arg_model(kind, "int8", (4, 5), 1), inputs=1, input_files=[path], reference=ref)
    xt = np.ascontiguousarray(x.T)  # ties along axis 0 (strided)
    np.save(path, xt)
    assert_exact(arg_model(kind, "int8", (5, 4), 0), inputs=1, input_files=[path])


@pytest.mark.parametrize("kind", ["ARG_MAX", "ARG_MIN"])
def test_arg_float_ties(kind, tmp_path):
    """Equal values (and -0.0 == 0.0) keep the first index, on the vectorised last-axis path (depth >= 4)
    and the strided one. NaN inputs are not covered: LiteRT 2.3's x86 build answers them from its
    emulated-NEON path, aotc follows the NaN-aware comparator of newer LiteRT and TFLM."""
    x = np.array([[1.0, 2.0, 2.0, -5.0, 2.0], [-0.0, 0.0, -3.0, -3.0, 0.0], [4.0] * 5, [0.5, -1.0, 0.5, -1.0, 0.5]],
                 np.float32)
    path = tmp_path / "ties.npy"
    np.save(path, x)
    assert_exact(arg_model(kind, "float32", (4, 5), 1, "int64"), inputs=1, input_files=[path])
    assert_exact(arg_model(kind, "float32", (4, 5), 1), inputs=1, input_files=[path], reference="tflm")
    np.save(path, np.ascontiguousarray(x.T))
    assert_exact(arg_model(kind, "float32", (5, 4), 0), inputs=1, input_files=[path])


def test_arg_int16_is_an_error():
    with pytest.raises(ModelError, match="int16 is not supported"):
        aotc.compile(arg_model("ARG_MAX", "int16", (2, 3), 1))


def test_arg_output_type_mismatch_is_an_error():
    mb = ModelBuilder()
    x = mb.tensor("x", (2, 3), "float32")
    a = mb.tensor("axis", (1,), "int32", data=np.array([1], np.int32))
    y = mb.tensor("y", (2,), "int32")
    mb.op("ARG_MAX", [x, a], [y], {"OutputType": 4})
    with pytest.raises(ModelError, match="output_type int64"):
        aotc.compile(mb.build([x], [y]))
