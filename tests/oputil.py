"""Helpers for one-op tests: build a model with aotc's ModelBuilder, verify it bit-exact."""
from __future__ import annotations

import os

import numpy as np

import aotc
from aotc.tflite_writer import ModelBuilder

__all__ = ["ModelBuilder", "assert_exact", "rng_weights"]


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
