"""The real models in ../shared/models, end to end: compile, build on the host, and compare with both
references on deterministic inputs (uniform and realistic), bit for bit."""
import numpy as np
import pytest

import aotc
from conftest import SHARED_MODEL_FILES, shared_model

MODELS = SHARED_MODEL_FILES


@pytest.mark.parametrize("reference", ["litert", "tflm"])
@pytest.mark.parametrize("model", MODELS)
def test_model_bit_exact(model, reference):
    res = aotc.verify(shared_model(model), inputs=10, seed=0, reference=reference)
    assert res.inputs_run == 10
    assert res.bit_exact, res.summary()


def test_ad01_references_differ_and_rounding_follows_each():
    """ad01 is all FULLY_CONNECTED: LiteRT (float requant) and TFLM (double rounding) disagree on it,
    so matching both proves --rounding really switches the arithmetic."""
    path = shared_model("ad01_int8.tflite")
    crossed = aotc.verify(path, inputs=4, reference="litert", rounding="tflm", per_layer=True)
    assert not crossed.bit_exact
    assert crossed.first_mismatch is not None and crossed.first_mismatch.kind == "FULLY_CONNECTED"


def test_person_detect_original_is_accepted_and_checked_against_the_fixed_copy():
    """LiteRT refuses person_detect.tflite (1-D bias with quantized_dimension 3); aotc compiles it and
    is checked against LiteRT running person_detect_fixed.tflite, including the two real images."""
    original, fixed = shared_model("person_detect.tflite"), shared_model("person_detect_fixed.tflite")
    images = [shared_model("person_detect_person_input.bin"), shared_model("person_detect_no_person_input.bin")]
    res = aotc.verify(original, inputs=10, reference_model=fixed, input_files=images)
    assert res.inputs_run == 12
    assert res.bit_exact, res.summary()


@pytest.mark.parametrize("image,expected", [("person_detect_person_input.bin", [-113, 113]),
                                            ("person_detect_no_person_input.bin", [57, -57])])
def test_person_detect_known_outputs(image, expected):
    from aotc.verify import HostModel, load_input_file
    compiled = aotc.compile(shared_model("person_detect.tflite"))
    x = load_input_file(shared_model(image), compiled.graph.inputs[0])
    out = HostModel(compiled).run({compiled.graph.inputs[0].index: x})
    assert np.asarray(out[compiled.graph.outputs[0].index]).reshape(-1).tolist() == expected


@pytest.mark.parametrize("model", MODELS)
def test_model_clean_under_sanitizers(model):
    """The generated C and runtime run under AddressSanitizer + UBSan with the same outputs."""
    res = aotc.verify(shared_model(model), inputs=2, seed=7, sanitize=True)
    assert res.sanitized and res.bit_exact, res.summary()
