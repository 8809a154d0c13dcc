"""Several memory pools: the hottest buffers in the first (fastest) pool while they fit, each pool
planned and checked on its own, the generated API taking one buffer per pool, bit-exact end to end."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import aotc
from aotc.errors import UsageError
from aotc.memory import pools
from aotc.memory.check import check
from oputil import assert_exact
from test_patches import chain_model

STRICT = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion", "-Werror"]


def test_hot_buffers_go_to_the_fast_pool_within_its_limit():
    model = chain_model(h=24, w=24)
    one = aotc.compile(model, measure_code=False)
    c = aotc.compile(model, pools="fast=1024,slow", measure_code=False)
    p = c.plan
    assert p.arena_pool == "fast" and set(p.pool_sizes) == {"slow"}
    assert p.arena_size <= 1024 and c.report["pools"] == {"fast": p.arena_size, "slow": p.pool_sizes["slow"]}
    for name in ("fast", "slow"):
        members = [b for b in p.buffers if b.pool == name]
        assert members
        check(members, p.offsets, p.arena_size if name == "fast" else p.pool_sizes["slow"])
    owner = {t: o for t, (o, _) in p.views.items()}
    heat = pools.heat(p.buffers, c.calls, lambda t: owner.get(t, t))
    fast = [b for b in p.buffers if b.pool == "fast"]
    slow = [b for b in p.buffers if b.pool == "slow"]
    # a slow buffer is either colder than every fast one or too big for what the fast pool had left
    hottest_slow = max(slow, key=lambda b: heat[b.name])
    assert heat[hottest_slow.name] <= max(heat[b.name] for b in fast) or hottest_slow.size > 1024 - min(
        b.size for b in fast)
    assert p.arena_size + p.pool_sizes["slow"] >= one.plan.arena_size


@pytest.mark.parametrize("io", ["caller", "arena"])
def test_pools_are_bit_exact_and_sanitizer_clean(io):
    assert_exact(chain_model(h=24, w=24), inputs=3, pools="fast=1024,slow", io=io, sanitize=True)


def test_pools_with_patches_and_state():
    assert_exact(chain_model(h=24, w=24), inputs=2, pools="fast=512,slow", patches="2:2")


def test_generated_api_takes_one_buffer_per_pool(tmp_path: Path):
    aotc.compile(chain_model(h=24, w=24), pools="fast=1024,slow", out_dir=tmp_path / "out", name="pm")
    h = (tmp_path / "out" / "pm.h").read_text()
    assert "void *slow, size_t slow_size" in h and "PM_SLOW_DEFINE" in h
    (tmp_path / "main.c").write_text(
        '#include "pm.h"\nPM_ARENA_DEFINE(arena);\nPM_SLOW_DEFINE(slow);\n'
        "int main(void) {\n    pm_ctx_t ctx;\n    static int8_t x[PM_INPUT0_SIZE], y[PM_OUTPUT0_SIZE];\n"
        "    if (pm_init(&ctx, arena, sizeof arena, slow, sizeof slow) != PM_OK) return 1;\n"
        "    if (pm_init(&ctx, arena, sizeof arena, slow, sizeof slow - 16) != PM_ERR_ARENA_SIZE) return 2;\n"
        "    if (pm_init(&ctx, arena, sizeof arena, (void *)0, 0) != PM_ERR_NULL) return 3;\n"
        "    if (pm_init(&ctx, arena, sizeof arena, slow, sizeof slow) != PM_OK) return 4;\n"
        "    return pm_invoke(&ctx, x, y);\n}\n")
    exe = tmp_path / "app"
    subprocess.run(["gcc", *STRICT, "-I", tmp_path / "out", tmp_path / "main.c", tmp_path / "out" / "pm.c", "-o",
                    exe, "-lm"], check=True)
    assert subprocess.run([exe]).returncode == 0


def test_m55_target_pools():
    c = aotc.compile(chain_model(h=24, w=24), target="m55", pools="target", backends=("generic_c",),
                     measure_code=False)
    assert list(c.report["pools"]) == ["dtcm", "sram"]


@pytest.mark.parametrize("spec,msg", [("fast=100", "two or more"), ("a=1,a", "distinct"),
                                      ("arena=64,b", "usable pool name"), ("x=64,9y", "usable pool name"),
                                      ("x,y=5", "only the last"), ("x=abc,y", "NAME=BYTES"),
                                      ("target", "lists no")])
def test_bad_pool_specs_are_usage_errors(spec, msg):
    with pytest.raises(UsageError, match=msg):
        aotc.compile(chain_model(), pools=spec, measure_code=False)


def test_a_buffer_too_big_for_every_pool_is_an_error():
    with pytest.raises(UsageError, match="fits in none"):
        aotc.compile(chain_model(h=24, w=24), pools="a=64,b=64", measure_code=False)


def test_plan_table_and_picture_show_the_pools():
    from aotc.memory import picture
    c = aotc.compile(chain_model(h=24, w=24), pools="fast=1024,slow", measure_code=False)
    text = picture.table(c.plan, c.calls)
    assert "[fast]" in text and "[slow]" in text and "pool slow" in text and "all pools" in text
    assert ">slow</text>" in picture.svg(c.plan, c.calls)
