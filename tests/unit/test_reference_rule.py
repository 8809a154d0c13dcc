"""One rule picks the reference of `aotc verify` and `aotc bench` (references.choose_reference): a named
reference wins, otherwise the interpreter whose arithmetic the build follows. And a verification that
would compare nothing is an error, never a pass."""
import numpy as np
import pytest

import aotc
from aotc.errors import UsageError
from aotc.references import choose_reference
from oputil import fc_chain

# (reference, rounding, calls CMSIS-NN, exact) -> (reference, rounding)
RULE = [
    ((None, None, False, None), ("litert", "litert")),        # generic kernels: LiteRT's arithmetic
    ((None, "litert", False, None), ("litert", "litert")),
    ((None, "tflm", False, None), ("tflm", "tflm")),          # --rounding tflm follows TFLM
    ((None, None, True, None), ("tflm", "tflm")),             # CMSIS-NN rounds as TFLM does
    ((None, "litert", True, None), ("tflm", "litert")),
    ((None, None, True, "litert"), ("litert", "litert")),     # --exact litert: the differing ops are generic
    ((None, "tflm", True, "litert"), ("tflm", "tflm")),
    (("litert", None, True, None), ("litert", "litert")),     # a named reference wins
    (("litert", "tflm", False, None), ("litert", "tflm")),
    (("tflm", None, False, None), ("tflm", "tflm")),
]


@pytest.mark.parametrize("given,chosen", RULE)
def test_choose_reference(given, chosen):
    assert choose_reference(*given) == chosen


def test_verify_follows_the_rule():
    assert aotc.verify(fc_chain(), inputs=1).reference == "litert"
    res = aotc.verify(fc_chain(), inputs=1, rounding="tflm")
    assert (res.reference, res.rounding) == ("tflm", "tflm")
    assert "vs tflm (rounding tflm)" in res.summary()
    res = aotc.verify(fc_chain(), inputs=1, rounding="tflm", reference="litert")
    assert (res.reference, res.rounding) == ("litert", "tflm")


def test_verify_of_a_cmsis_nn_build_compares_with_tflm(cmsis_nn_path):
    res = aotc.verify(fc_chain(), target="m55", inputs=2, cmsis_nn=cmsis_nn_path)
    assert (res.reference, res.rounding) == ("tflm", "tflm") and res.bit_exact, res.summary()
    res = aotc.verify(fc_chain(), target="m55", inputs=2, cmsis_nn=cmsis_nn_path, exact="litert")
    assert res.reference == "litert" and res.bit_exact, res.summary()


@pytest.mark.parametrize("inputs", [0, -3])
def test_verify_that_compares_nothing_is_a_usage_error(inputs):
    with pytest.raises(UsageError, match="nothing would be compared" if inputs == 0 else "negative"):
        aotc.verify(fc_chain(), inputs=inputs)


def test_inputs_0_with_a_file_compares_the_file(tmp_path):
    f = tmp_path / "x.npy"
    np.save(f, np.arange(-4, 4, dtype=np.int8).reshape(1, 8))
    res = aotc.verify(fc_chain(), inputs=0, input_files=[f])
    assert res.inputs_run == 1 and res.outputs[0].total == 4 and res.bit_exact, res.summary()
    with pytest.raises(UsageError, match="negative"):
        aotc.verify(fc_chain(), inputs=-1, input_files=[f])
