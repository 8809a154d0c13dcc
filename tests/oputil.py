"""Helpers for one-op tests: build a model with aotc's ModelBuilder, verify it bit-exact."""
from __future__ import annotations

import os

import numpy as np

import aotc
from aotc.tflite_writer import ModelBuilder

__all__ = ["ModelBuilder", "assert_exact", "fc_chain", "rng_weights"]


def assert_exact(model: bytes, inputs: int = 6, seed: int = 0, reference: str | None = None, **kw):
    """Compile + host-run + compare with the reference; fail with the per-layer summary otherwise.
    float32 models pass when within verify's stated tolerance, integer models only when bit-exact.
    The default reference is LiteRT; AOTC_TEST_REFERENCE=tflm reruns a suite against TFLM."""
    reference = reference or os.environ.get("AOTC_TEST_REFERENCE", "litert")
    res = aotc.verify(model, inputs=inputs, seed=seed, reference=reference, **kw)
    assert res.ok, res.summary()
    if all(o.dtype != "float32" for o in res.outputs):
        assert res.bit_exact, res.summary()
    assert res.inputs_run >= inputs
    return res


def rng_weights(shape, dtype="int8", seed=0, lo=None, hi=None):
    rng = np.random.default_rng(seed)
    if dtype == "float32":
        return rng.normal(0, 0.5, shape).astype(np.float32)
    info = np.iinfo(dtype)
    lo = info.min if lo is None else lo
    hi = info.max if hi is None else hi
    return rng.integers(lo, hi + 1, shape).astype(dtype)


def fc_chain(extra_op: str | None = None) -> bytes:
    """int8 x[1,8] -> FC(relu) -> h[1,6] -> FC -> y[1,4]; with `extra_op`, an op of that kind
    computes a second output from h."""
    rng = np.random.default_rng(0)
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 8), "int8", scale=0.05, zero_point=-3)
    w1 = mb.tensor("w1", (6, 8), "int8", data=rng.integers(-127, 128, (6, 8)), scale=[0.01] * 6, axis=0)
    b1 = mb.tensor("b1", (6,), "int32", data=rng.integers(-500, 500, 6), scale=[0.0005] * 6)
    h = mb.tensor("h", (1, 6), "int8", scale=0.1, zero_point=2)
    w2 = mb.tensor("w2", (4, 6), "int8", data=rng.integers(-127, 128, (4, 6)), scale=0.02)
    y = mb.tensor("y", (1, 4), "int8", scale=0.08, zero_point=-1)
    mb.op("FULLY_CONNECTED", [x, w1, b1], [h], {"FusedActivationFunction": 1}, version=4)
    mb.op("FULLY_CONNECTED", [h, w2, -1], [y], {}, version=4)
    outputs = [y]
    if extra_op:
        z = mb.tensor("z", (1, 6), "int8", scale=0.1, zero_point=2)
        mb.op(extra_op, [h], [z])
        outputs.append(z)
    return mb.build([x], outputs)
