"""BATCH_MATMUL one-op models: adj_x / adj_y, broadcast batch dimensions, a constant RHS (as the
converter emits it), float32 / int8 / int16; bit-exact with LiteRT and TFLM."""
import numpy as np
import pytest

import aotc
from aotc.errors import ModelError
from oputil import ModelBuilder, assert_exact

QUANT = {
    "int8": [dict(scale=0.05, zero_point=-3), dict(scale=0.04, zero_point=5), dict(scale=0.9, zero_point=2)],
    "int16": [dict(scale=0.001), dict(scale=0.002), dict(scale=0.5)],
    "float32": [{}, {}, {}],
}
VERSION = {"float32": 1, "int8": 2, "int16": 3}


def bmm_model(dtype, lhs_shape, rhs_shape, adj_x=False, adj_y=False, const_rhs=False, seed=0,
              out_dtype=None, rhs_dtype=None):
    rng = np.random.default_rng(seed)
    q = QUANT[dtype]
    mb = ModelBuilder()
    lhs = mb.tensor("lhs", lhs_shape, dtype, **q[0])
    data = None
    if const_rhs:
        data = (rng.normal(0, 0.5, rhs_shape).astype(np.float32) if dtype == "float32"
                else rng.integers(-120, 121, rhs_shape))
    rhs = mb.tensor("rhs", rhs_shape, rhs_dtype or dtype, data=data, **q[1])
    rows = lhs_shape[-1] if adj_x else lhs_shape[-2]
    cols = rhs_shape[-2] if adj_y else rhs_shape[-1]
    n = max(len(lhs_shape), len(rhs_shape)) - 2
    lb = (1,) * (n - len(lhs_shape) + 2) + tuple(lhs_shape[:-2])
    rb = (1,) * (n - len(rhs_shape) + 2) + tuple(rhs_shape[:-2])
    batch = tuple(max(a, b) for a, b in zip(lb, rb))
    y = mb.tensor("y", batch + (rows, cols), out_dtype or dtype, **q[2])
    mb.op("BATCH_MATMUL", [lhs, rhs], [y], {"AdjX": adj_x, "AdjY": adj_y}, version=VERSION[dtype])
    return mb.build([lhs] if const_rhs else [lhs, rhs], [y])


CASES = [  # lhs shape, rhs shape, adj_x, adj_y, const rhs
    ((2, 3, 5), (2, 5, 4), False, False, False),
    ((3, 6), (6, 4), False, False, False),
    ((2, 1, 3, 5), (4, 4, 3), True, True, False),        # broadcast both ways, both adjoint
    ((2, 5, 3), (2, 5, 4), True, False, False),
    ((2, 3, 5), (1, 4, 5), False, True, False),
    ((3, 5, 2), (5, 4), True, False, True),              # constant RHS, rank 2 broadcast
    ((3, 5, 2), (4, 2), False, True, True),
    ((2, 3, 4, 5), (1, 5, 6), False, False, True),       # LiteRT's [..., 1, X, Y] collapse path
    ((1, 2, 2, 3, 4), (2, 1, 2, 4, 3), False, False, False),   # rank 5
]


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}x{c[1]}{'_ax' if c[2] else ''}"
                         f"{'_ay' if c[3] else ''}{'_const' if c[4] else ''}")
def test_batch_matmul(dtype, case):
    ls, rs, ax, ay, const = case
    assert_exact(bmm_model(dtype, ls, rs, ax, ay, const), inputs=3)


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_batch_matmul_tflm(dtype):
    assert_exact(bmm_model(dtype, (2, 3, 5), (5, 4), False, False, True), inputs=3, reference="tflm")
    assert_exact(bmm_model(dtype, (2, 5, 3), (2, 4, 5), True, True), inputs=3, reference="tflm")


def test_batch_matmul_outputs_are_not_saturated():
    """The test scales keep the reference's outputs mostly in range, so the tests can fail."""
    from aotc import reader
    from aotc.verify import input_sets, open_reference
    for dtype in ("int8", "int16"):
        model = bmm_model(dtype, (2, 3, 5), (2, 5, 4))
        g = reader.read(model)
        ref = open_reference("litert", model, g)
        for _, feed in input_sets(g, 2, 0, ()):
            out = np.asarray(ref.run(feed)[g.outputs[0].index])
            info = np.iinfo(out.dtype)
            assert np.mean((out == info.min) | (out == info.max)) < 0.2, out


@pytest.mark.parametrize("kw,msg", [
    (dict(rhs_dtype="int8"), "hybrid"),
    (dict(out_dtype="int32"), "output type int32"),
])
def test_batch_matmul_unsupported(kw, msg):
    dtype = "float32" if "rhs_dtype" in kw else "int8"
    model = bmm_model(dtype, (2, 3, 5), (5, 4), const_rhs=True, **kw)
    with pytest.raises(ModelError, match=msg):
        aotc.compile(model)
