"""The generated CMakeLists.txt builds a static library a user's project links, and a model that
calls CMSIS-NN stops at configure time with a clear message when CMSIS_NN_PATH is missing."""
import os
import shutil
import subprocess

import pytest

import aotc
from oputil import fc_chain

APP = """cmake_minimum_required(VERSION 3.13)
project(app C)
add_subdirectory(model)
add_executable(app main.c)
target_link_libraries(app PRIVATE fc)
"""
MAIN = """#include <stdio.h>
#include "fc.h"
FC_ARENA_DEFINE(arena);
int main(void)
{
    fc_ctx_t ctx;
    int8_t in[FC_INPUT0_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8};
    int8_t out[FC_OUTPUT0_SIZE];
    int i;
    if (fc_init(&ctx, arena, sizeof arena) != FC_OK || fc_invoke(&ctx, in, out) != FC_OK) return 1;
    for (i = 0; i < FC_OUTPUT0_SIZE; i++) printf("%d\\n", out[i]);
    return 0;
}
"""


def _need_cmake():
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed")


def _project(tmp_path, target="generic", **options):
    aotc.compile(fc_chain(), target=target, out_dir=tmp_path / "model", name="fc", **options)
    (tmp_path / "CMakeLists.txt").write_text(APP)
    (tmp_path / "main.c").write_text(MAIN)


def test_generated_library_builds_and_runs_from_a_user_project(tmp_path):
    _need_cmake()
    _project(tmp_path)
    run = lambda *a: subprocess.run(a, cwd=tmp_path, capture_output=True, text=True, timeout=300)  # noqa: E731
    assert run("cmake", "-S", ".", "-B", "b").returncode == 0
    r = run("cmake", "--build", "b")
    assert r.returncode == 0, r.stdout + r.stderr
    out = run(str(tmp_path / "b" / "app"))
    assert out.returncode == 0 and len(out.stdout.split()) == 4


def test_cmsis_nn_model_without_cmsis_nn_path_stops_at_configure(tmp_path):
    _need_cmake()
    _project(tmp_path, target="m55")
    env = {k: v for k, v in os.environ.items() if k != "CMSIS_NN_PATH"}
    r = subprocess.run(["cmake", "-S", ".", "-B", "b"], cwd=tmp_path, capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode != 0
    assert "set CMSIS_NN_PATH" in r.stderr


def test_cmsis_nn_model_builds_with_cmake_from_a_tree_without_its_cmake_project(tmp_path, cmsis_nn_path):
    """A CMSIS-NN tree without its top-level CMakeLists.txt (a pack, the snapshot the tests use) is
    built from its sources; the host build of the m55 model (generated for CMSIS-NN's C path, no
    Helium) then prints what the generic build with TFLM's rounding (which CMSIS-NN follows) does."""
    _need_cmake()
    outputs = []
    for target in ("generic", "m55"):
        work = tmp_path / target
        work.mkdir()
        _project(work, target=target, rounding="tflm", **({"features": ()} if target == "m55" else {}))
        run = lambda *a: subprocess.run(a, cwd=work, capture_output=True, text=True, timeout=600)  # noqa: E731
        r = run("cmake", "-S", ".", "-B", "b", f"-DCMSIS_NN_PATH={cmsis_nn_path}")
        assert r.returncode == 0, r.stdout + r.stderr
        r = run("cmake", "--build", "b", "-j", "2")
        assert r.returncode == 0, r.stdout + r.stderr
        out = run(str(work / "b" / "app"))
        assert out.returncode == 0
        outputs.append(out.stdout.split())
    assert "arm_" in (tmp_path / "m55" / "model" / "fc.c").read_text()   # it really calls CMSIS-NN
    assert outputs[0] == outputs[1] and len(outputs[0]) == 4
