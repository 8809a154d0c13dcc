"""The generated init contract, run in C under AddressSanitizer + UBSan: every failing init (NULL,
too small or misaligned arena or pool) leaves the context not initialised, even a context that held
garbage or an earlier successful binding, and invoke on it returns the error code instead of running
on a stale or garbage arena (found: init(ctx, NULL, size) after a good init left the old arena bound,
and on a garbage context the next invoke dereferenced ctx->arena)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import aotc
from oputil import fc_chain
from test_patches import chain_model

FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
         "-g", "-O1"]


def harness(name: str, pools: bool) -> str:
    """main(): each failing init, on a garbage context and after a successful init, then invoke."""
    N = name.upper()
    pool_ok = ", slow, sizeof slow" if pools else ""
    bad_inits = {  # what is wrong -> (init arguments, expected code)
        "NULL arena": (f"NULL, sizeof arena{pool_ok}", f"{N}_ERR_NULL"),
        "small arena": (f"arena, {N}_ARENA_SIZE - 1{pool_ok}", f"{N}_ERR_ARENA_SIZE"),
        "misaligned arena": (f"misaligned(big_arena), {N}_ARENA_SIZE{pool_ok}", f"{N}_ERR_ARENA_ALIGN"),
    }
    if pools:
        bad_inits.update({
            "NULL pool": ("arena, sizeof arena, NULL, sizeof slow", f"{N}_ERR_NULL"),
            "small pool": (f"arena, sizeof arena, slow, {N}_SLOW_SIZE - 1", f"{N}_ERR_ARENA_SIZE"),
            "misaligned pool": (f"arena, sizeof arena, misaligned(big_slow), {N}_SLOW_SIZE", f"{N}_ERR_ARENA_ALIGN"),
        })
    checks = []
    for k, (what, (args, code)) in enumerate(bad_inits.items()):
        checks.append(f"""
    memset(&ctx, 0xA5, sizeof ctx);   /* garbage: never initialised */
    if ({name}_init(&ctx, {args}) != {code}) FAIL({4 * k + 1}, "{what} on garbage: wrong code");
    if ({name}_invoke(&ctx, x, y) != {N}_ERR_NULL) FAIL({4 * k + 2}, "{what} on garbage: invoke ran");
    if ({name}_init(&ctx, arena, sizeof arena{pool_ok}) != {N}_OK) FAIL({4 * k + 3}, "good init failed");
    if ({name}_init(&ctx, {args}) != {code} || {name}_invoke(&ctx, x, y) != {N}_ERR_NULL)
        FAIL({4 * k + 4}, "{what} after a good init: the old arena stayed bound");""")
    return f"""#include <stdio.h>
#include <string.h>
#include "{name}.h"
#define FAIL(code, msg) do {{ fprintf(stderr, "%s\\n", msg); return code; }} while (0)
{N}_ARENA_DEFINE(arena);
static uint8_t big_arena[{N}_ARENA_SIZE + 2 * {N}_ARENA_ALIGN];   /* room for a misaligned arena */
{f"{N}_SLOW_DEFINE(slow);" if pools else ""}
{f"static uint8_t big_slow[{N}_SLOW_SIZE + 2 * {N}_ARENA_ALIGN];" if pools else ""}

/* the first address in buf one byte past an {N}_ARENA_ALIGN boundary */
static uint8_t *misaligned(uint8_t *buf)
{{
    return buf + ({N}_ARENA_ALIGN + 1u - (uintptr_t)buf % {N}_ARENA_ALIGN) % {N}_ARENA_ALIGN;
}}

int main(void)
{{
    {name}_ctx_t ctx;
    static int8_t x[{N}_INPUT0_SIZE], y[{N}_OUTPUT0_SIZE];
    if ({name}_init(NULL, arena, sizeof arena{pool_ok}) != {N}_ERR_NULL) FAIL(100, "NULL ctx");
    if ({name}_invoke(NULL, x, y) != {N}_ERR_NULL) FAIL(101, "invoke NULL ctx");
{"".join(checks)}
    if ({name}_init(&ctx, arena, sizeof arena{pool_ok}) != {N}_OK || {name}_invoke(&ctx, x, y) != {N}_OK)
        FAIL(102, "init again after failures");
    return 0;
}}
"""


@pytest.mark.parametrize("pools", [False, True], ids=["one_arena", "two_pools"])
def test_failed_init_leaves_the_context_not_initialised(tmp_path: Path, pools):
    name = "pm" if pools else "m"
    model, kw = (chain_model(h=24, w=24), {"pools": "fast=1024,slow"}) if pools else (fc_chain(), {})
    c = aotc.compile(model, out_dir=tmp_path / "out", name=name, measure_code=False, **kw)
    assert c.plan.arena_size > 0
    (tmp_path / "main.c").write_text(harness(name, pools))
    exe = tmp_path / "app"
    subprocess.run(["gcc", *FLAGS, "-I", tmp_path / "out", tmp_path / "main.c", tmp_path / "out" / f"{name}.c",
                    "-o", exe, "-lm"], check=True)
    r = subprocess.run([exe], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
