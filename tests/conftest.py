import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_MODELS = REPO.parent / "shared" / "models"
# an unmodified CMSIS-NN snapshot for tests and CI; the product never looks here
SHARED_CMSIS_NN = REPO.parent / "shared" / "third_party" / "CMSIS-NN"
# The CMSIS-NN checkout the tests build with: the caller's CMSIS_NN_PATH, else the shared snapshot.
# Taken out of the environment for the session (see _no_implicit_cmsis_nn), so it is read here once.
CMSIS_NN_PATH = os.environ.get("CMSIS_NN_PATH") or (str(SHARED_CMSIS_NN) if SHARED_CMSIS_NN.is_dir() else None)
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
    """Host builds go to a per-session cache unless the caller chose one. pytest-xdist workers share
    theirs (entries are renamed into place whole), so CMSIS-NN is built once per run, not per worker."""
    if "AOTC_CACHE_DIR" not in os.environ:
        if os.environ.get("PYTEST_XDIST_WORKER"):
            cache = tmp_path_factory.getbasetemp().parent / "aotc-cache"   # the run's folder, above each worker's
            cache.mkdir(exist_ok=True)
        else:
            cache = tmp_path_factory.mktemp("aotc-cache")
        os.environ["AOTC_CACHE_DIR"] = str(cache)
    yield


@pytest.fixture(scope="session", autouse=True)
def _no_implicit_cmsis_nn():
    """aotc falls back to $CMSIS_NN_PATH when no path is passed; a test that means CMSIS-NN passes the
    `cmsis_nn_path` fixture's path, so a variable in the caller's environment never turns a generic-kernel
    test into a CMSIS-NN one."""
    saved = os.environ.pop("CMSIS_NN_PATH", None)
    yield
    if saved is not None:
        os.environ["CMSIS_NN_PATH"] = saved


@pytest.fixture
def cmsis_nn_path() -> str:
    """The CMSIS-NN checkout to build with ($CMSIS_NN_PATH, else ../shared/third_party/CMSIS-NN); the
    test is skipped when there is neither."""
    if CMSIS_NN_PATH is None:
        pytest.skip("no CMSIS-NN: set CMSIS_NN_PATH or provide ../shared/third_party/CMSIS-NN")
    return CMSIS_NN_PATH


def shared_model(name: str) -> Path:
    path = SHARED_MODELS / name
    if not path.is_file():
        pytest.skip(f"{name} not found in ../shared/models")
    return path
