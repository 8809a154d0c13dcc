"""Every shared model on the m55 target with CMSIS-NN built on the host (its portable C path): bit-exact
with TFLM, and with LiteRT under exact="litert". Needs a CMSIS-NN checkout (the cmsis_nn_path fixture)."""
import pytest

import aotc
from conftest import SHARED_MODEL_FILES, shared_model

MODELS = SHARED_MODEL_FILES


def _debug_flag(model):
    return f"-D{aotc.compile(shared_model(model), target='m55', measure_code=False).name.upper()}_DEBUG"


@pytest.mark.parametrize("model", MODELS)
def test_bit_exact_with_tflm(cmsis_nn_path, model):
    res = aotc.verify(shared_model(model), target="m55", inputs=6, reference="tflm", cmsis_nn=cmsis_nn_path,
                      extra_cflags=[_debug_flag(model)])
    assert res.bit_exact, res.summary()


@pytest.mark.parametrize("model", MODELS)
def test_bit_exact_with_litert_when_exact_litert(cmsis_nn_path, model):
    res = aotc.verify(shared_model(model), target="m55", inputs=6, reference="litert", cmsis_nn=cmsis_nn_path,
                      exact="litert")
    assert res.bit_exact, res.summary()


def test_ad01_fully_connected_differs_from_litert_without_exact(cmsis_nn_path):
    """CMSIS-NN's FULLY_CONNECTED rounds like TFLM: against LiteRT it is off by up to 2 LSB on ad01."""
    res = aotc.verify(shared_model("ad01_int8.tflite"), target="m55", inputs=4, reference="litert",
                      cmsis_nn=cmsis_nn_path)
    assert not res.bit_exact and res.outputs[0].max_abs_diff <= 2, res.summary()


@pytest.mark.parametrize("model", MODELS)
def test_every_op_of_the_shared_models_goes_to_cmsis_nn(model):
    """Only RESHAPE (an alias, no code) falls back, and on the M55 the ops aotc's Helium kernels run
    faster (int8 SOFTMAX, depthwise with a depth multiplier, ADD); everything else is a CMSIS-NN call
    (convolutions with narrow kernel rows through aotc's gather into CMSIS-NN's GEMM)."""
    c = aotc.compile(shared_model(model), target="m55", measure_code=False)
    for call in c.calls:
        if call.alias:
            continue
        if call.backend == "generic_c":
            assert call.op.kind in ("SOFTMAX", "DEPTHWISE_CONV_2D", "ADD"), (call.op, call.note)
            assert "faster" in call.note, (call.op, call.note)
            continue
        assert call.backend == "cmsis_nn", (call.op, call.note)
        if call.function == "aotc_cmsis_conv_s8":
            assert call.op.kind == "CONV_2D" and call.op.inputs[0].shape[3] * call.op.inputs[1].shape[2] <= 48
            assert call.includes == ("arm_nnfunctions.h", "aotc/cmsis_conv.h")
        else:
            assert call.includes == ("arm_nnfunctions.h",)


@pytest.mark.parametrize("kind,conv_padding", [("CONV_2D", 1), ("CONV_2D", 0), ("DEPTHWISE_CONV_2D", 1)])
def test_folded_pad_explicit_padding_on_cmsis_nn(cmsis_nn_path, kind, conv_padding):
    """A PAD folded into the convolution (asymmetric explicit padding) through CMSIS-NN's kernels."""
    from models.test_passes_models import _pad_conv
    model = _pad_conv(kind, conv_padding=conv_padding)
    compiled = aotc.compile(model, target="m55")
    assert [c.op.kind for c in compiled.calls] == [kind] and compiled.calls[0].backend == "cmsis_nn"
    res = aotc.verify(model, target="m55", inputs=4, reference="tflm", cmsis_nn=cmsis_nn_path)
    assert res.bit_exact, res.summary()
