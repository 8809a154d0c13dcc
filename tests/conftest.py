import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_MODELS = REPO.parent / "shared" / "models"
# the real models end-to-end tests run (person_detect through its copy LiteRT accepts)
SHARED_MODEL_FILES = [
    "hello_world_int8.tflite",
    "ad01_int8.tflite",
    "micro_speech_quantized.tflite",
    "kws_ref_model.tflite",
    "pretrainedResnet_quant.tflite",
    "vww_96_int8.tflite",
    "seanet_conv4_int16x8.tflite",
    "person_detect_fixed.tflite",
]


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Host builds go to a per-session cache unless the caller chose one."""
    if "AOTC_CACHE_DIR" not in os.environ:
        os.environ["AOTC_CACHE_DIR"] = str(tmp_path_factory.mktemp("aotc-cache"))
    yield


def shared_model(name: str) -> Path:
    path = SHARED_MODELS / name
    if not path.is_file():
        pytest.skip(f"{name} not found in ../shared/models")
    return path
