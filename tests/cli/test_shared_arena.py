"""`aotc compile a.tflite b.tflite --shared-arena`: one arena for models that run one at a time, used
by a C program that alternates them; every output bit-exact with LiteRT."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np

from aotc.references import LiteRT
from oputil import ModelBuilder, fc_chain
from test_cli import aotc, assert_clean_error


def wide_model() -> bytes:
    """x[1,8] -> FC -> [1,64] -> FC -> y[1,3]: a bigger arena than fc_chain's."""
    rng = np.random.default_rng(5)
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 8), "int8", scale=0.05, zero_point=-3)
    w1 = mb.tensor("w1", (64, 8), "int8", data=rng.integers(-127, 128, (64, 8)), scale=0.01)
    h = mb.tensor("h", (1, 64), "int8", scale=0.1, zero_point=2)
    w2 = mb.tensor("w2", (3, 64), "int8", data=rng.integers(-127, 128, (3, 64)), scale=0.01)
    y = mb.tensor("y", (1, 3), "int8", scale=0.2, zero_point=0)
    mb.op("FULLY_CONNECTED", [x, w1, -1], [h], {}, version=4)
    mb.op("FULLY_CONNECTED", [h, w2, -1], [y], {}, version=4)
    return mb.build([x], [y])


MAIN = r"""
#include <stdio.h>
#include "shared_arena.h"
AOTC_SHARED_ARENA_DEFINE(arena);
int main(void)
{
    int8_t x[8] = {-100, -50, -3, 0, 7, 33, 90, 127};
    int8_t ya[4], yb[3], ya2[4];
    int8_t ya_extra[6], ya2_extra[6];
    small_ctx_t a;
    wide_ctx_t b;
    int i;
    if (small_init(&a, arena, sizeof arena) || small_invoke(&a, x, ya, ya_extra)) return 1;
    if (wide_init(&b, arena, sizeof arena) || wide_invoke(&b, x, yb)) return 2;
    if (small_init(&a, arena, sizeof arena) || small_invoke(&a, x, ya2, ya2_extra)) return 3;
    for (i = 0; i < 4; ++i) printf("%d ", ya[i]);
    for (i = 0; i < 3; ++i) printf("%d ", yb[i]);
    for (i = 0; i < 4; ++i) printf("%d ", ya2[i]);
    printf("\n");
    return 0;
}
"""


def test_two_models_share_one_arena(tmp_path: Path):
    small, wide = fc_chain("TANH"), wide_model()
    (tmp_path / "small.tflite").write_bytes(small)
    (tmp_path / "wide.tflite").write_bytes(wide)
    r = aotc("compile", "small.tflite", "wide.tflite", "--shared-arena", "-o", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_text())
    sizes = {m["name"]: m["arena_bytes"] for m in report["models"]}
    assert report["shared_arena_bytes"] == max(sizes.values()) < report["separate_arenas_bytes"]
    assert (out / "small" / "small.c").is_file() and (out / "wide" / "aotc" / "common.h").is_file()
    (tmp_path / "main.c").write_text(MAIN)
    exe = tmp_path / "app"
    cmd = ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-I", str(out), "-I", str(out / "small"),
           "-I", str(out / "wide"), str(tmp_path / "main.c"), str(out / "small" / "small.c"),
           str(out / "wide" / "wide.c"), "-o", str(exe), "-lm"]
    subprocess.run(cmd, check=True, capture_output=True)
    got = [int(v) for v in subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split()]
    x = np.array([[-100, -50, -3, 0, 7, 33, 90, 127]], np.int8)

    def reference(model):
        ref = LiteRT(model)
        return ref.run({ref.inputs[0]: x})[ref.outputs[0]].reshape(-1).tolist()
    want_a, want_b = reference(small), reference(wide)
    assert got == want_a + want_b + want_a


def test_shared_arena_needs_the_flag_and_distinct_names(tmp_path: Path):
    (tmp_path / "m.tflite").write_bytes(fc_chain())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "m.tflite").write_bytes(fc_chain())
    r = aotc("compile", "m.tflite", "sub/m.tflite", "-o", "out", cwd=tmp_path)
    assert_clean_error(r, "--shared-arena")
    r = aotc("compile", "m.tflite", "sub/m.tflite", "--shared-arena", "-o", "out", cwd=tmp_path)
    assert_clean_error(r, "rename")
    assert not (tmp_path / "out").exists()
