"""The generated C: warning-free under gcc and clang with strict flags, clean under ASan/UBSan with
the documented init/invoke contract, and byte-identical when generated twice."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import aotc
from aotc.tflite_writer import ModelBuilder
from conftest import SHARED_MODELS
from oputil import fc_chain

STRICT = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Werror"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1"]
COMPILERS = ["gcc", "clang"]




def reshape_fc_two_outputs() -> bytes:
    """Two inputs, two outputs, RESHAPE aliasing, an int16x8 FC: more header macros to exercise."""
    rng = np.random.default_rng(1)
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 2, 5), "int8", scale=0.05, zero_point=-3)
    r = mb.tensor("r", (1, 10), "int8", scale=0.05, zero_point=-3)
    w = mb.tensor("w", (3, 10), "int8", data=rng.integers(-127, 128, (3, 10)), scale=0.01)
    y = mb.tensor("y", (1, 3), "int8", scale=0.1, zero_point=4)
    x16 = mb.tensor("x16", (2, 4), "int16", scale=0.001, zero_point=0)
    w16 = mb.tensor("w16", (5, 4), "int8", data=rng.integers(-127, 128, (5, 4)), scale=[0.01] * 5, axis=0)
    b16 = mb.tensor("b16", (5,), "int64", data=rng.integers(-900, 900, 5), scale=[1e-5] * 5)
    y16 = mb.tensor("y16", (2, 5), "int16", scale=0.002, zero_point=0)
    mb.op("RESHAPE", [x], [r], {"NewShape": [1, 10]})
    mb.op("FULLY_CONNECTED", [r, w, -1], [y], {}, version=4)
    mb.op("FULLY_CONNECTED", [x16, w16, b16], [y16], {}, version=7)
    return mb.build([x, x16], [y, y16])


SMALL = {"fc_chain": fc_chain, "two_io": reshape_fc_two_outputs}
SHARED = sorted(p.name for p in SHARED_MODELS.glob("*.tflite")) if SHARED_MODELS.is_dir() else []


def compile_model(which: str, out: Path) -> aotc.compiler.Compiled:
    if which in SMALL:
        return aotc.compile(SMALL[which](), out_dir=out, name=which)
    try:
        return aotc.compile(SHARED_MODELS / which, out_dir=out)
    except aotc.UnsupportedError as e:
        pytest.skip(f"{which} does not compile yet: {e}")


def need(cc: str) -> None:
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} is not installed")


def run(cmd, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))}\n{r.stdout}\n{r.stderr}"
    return r


# ---- warning-free -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Each model compiled once per module: name -> Compiled (or the skip reason)."""
    cache: dict[str, object] = {}

    def get(which: str):
        if which not in cache:
            out = tmp_path_factory.mktemp("gen") / which.replace(".tflite", "")
            try:
                cache[which] = compile_model(which, out)
            except pytest.skip.Exception as e:
                cache[which] = str(e)
        if isinstance(cache[which], str):
            pytest.skip(cache[which])
        return cache[which]
    return get


@pytest.mark.parametrize("cc", COMPILERS)
@pytest.mark.parametrize("which", list(SMALL) + SHARED)
def test_generated_c_compiles_without_warnings(generated, which, cc, tmp_path):
    need(cc)
    c = generated(which)
    d = c.out_dir
    run([cc, *STRICT, "-c", d / f"{c.name}.c", "-I", d, "-o", tmp_path / "model.o"])
    # the header on its own, included from C99 user code
    (tmp_path / "user.c").write_text(f'#include "{c.name}.h"\nint user_dummy(void) {{ return {c.name.upper()}_OK; }}\n')
    run([cc, *STRICT, "-c", tmp_path / "user.c", "-I", d, "-o", tmp_path / "user.o"])


@pytest.mark.parametrize("cc", COMPILERS)
def test_hostile_tensor_names_cannot_inject_c(cc, tmp_path):
    """Tensor names land in C comments: a name holding a comment terminator must stay a comment."""
    need(cc)
    rng = np.random.default_rng(0)
    mb = ModelBuilder()
    x = mb.tensor("x */ int injected; /* a\nb \\", (1, 8), "int8", scale=0.05, zero_point=-3)
    w = mb.tensor("w /* nested", (6, 8), "int8", data=rng.integers(-127, 128, (6, 8)), scale=0.01)
    y = mb.tensor("y ??/", (1, 6), "int8", scale=0.1, zero_point=2)
    mb.op("FULLY_CONNECTED", [x, w, -1], [y], {}, version=4)
    c = aotc.compile(mb.build([x], [y]), out_dir=tmp_path / "out", name="hostile")
    d = c.out_dir
    run([cc, *STRICT, "-c", d / "hostile.c", "-I", d, "-o", tmp_path / "m.o"])
    r = subprocess.run(["nm", str(tmp_path / "m.o")], capture_output=True, text=True)
    assert "injected" not in r.stdout


# ---- init / invoke under the sanitizers ---------------------------------------------------------

MAIN = r"""
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "@name@.h"

@NAME@_ARENA_DEFINE(static_arena);

int main(void)
{
    @name@_ctx_t ctx;
    void *exact = NULL;
    unsigned char *shifted;
    int rc, k;
@decls@
    /* exact-size heap arena: ASan flags any byte read or written past ARENA_SIZE */
    if (posix_memalign(&exact, @NAME@_ARENA_ALIGN, @NAME@_ARENA_SIZE ? @NAME@_ARENA_SIZE : 1) != 0) return 90;
    shifted = (unsigned char *)malloc(@NAME@_ARENA_SIZE + 2 * @NAME@_ARENA_ALIGN);
    if (shifted == NULL) return 91;
@alloc@
    /* documented errors */
    if ((rc = @name@_init(NULL, static_arena, sizeof static_arena)) != @NAME@_ERR_NULL) return 10;
    if ((rc = @name@_init(&ctx, NULL, sizeof static_arena)) != @NAME@_ERR_NULL) return 11;
    if (@NAME@_ARENA_SIZE > 0u) {
        if ((rc = @name@_init(&ctx, exact, @NAME@_ARENA_SIZE - 1u)) != @NAME@_ERR_ARENA_SIZE) return 12;
        if ((rc = @name@_invoke(&ctx@args@)) != @NAME@_ERR_NULL) return 13;   /* failed init: unusable */
    }
    {   /* misaligned by one byte */
        unsigned char *p = shifted;
        while (((size_t)p % @NAME@_ARENA_ALIGN) != 1u) p++;
        if ((rc = @name@_init(&ctx, p, @NAME@_ARENA_SIZE + @NAME@_ARENA_ALIGN)) != @NAME@_ERR_ARENA_ALIGN) return 14;
        if ((rc = @name@_invoke(&ctx@args@)) != @NAME@_ERR_NULL) return 15;
    }
    if ((rc = @name@_invoke(NULL@args@)) != @NAME@_ERR_NULL) return 16;

    /* the macro-defined arena, zero input */
    if ((rc = @name@_init(&ctx, static_arena, sizeof static_arena)) != @NAME@_OK) return 20;
    if ((rc = @name@_invoke(&ctx@args@)) != @NAME@_OK) return 21;
@print@
    /* the exact-size heap arena filled with garbage, then a patterned input, twice */
    if ((rc = @name@_init(&ctx, exact, @NAME@_ARENA_SIZE)) != @NAME@_OK) return 30;
    memset(exact, 0xA5, @NAME@_ARENA_SIZE);
    for (k = 0; k < 2; k++) {
@pattern@
        if ((rc = @name@_invoke(&ctx@args@)) != @NAME@_OK) return 31;
    }
@print@
@free@
    free(exact);
    free(shifted);
    return 0;
}
"""


def render_main(c) -> str:
    name, NAME = c.name, c.name.upper()
    decls, alloc, pattern, prints, frees, args = [], [], [], [], [], []
    for kind, ts in (("INPUT", c.graph.inputs), ("OUTPUT", c.graph.outputs)):
        for i, t in enumerate(ts):
            v = f"{kind.lower()}{i}"
            m = f"{NAME}_{kind}{i}"
            decls.append(f"    {m}_TYPE *{v};")
            n = f"({m}_SIZE ? {m}_SIZE : 1)"
            if kind == "INPUT":   # zero input
                alloc.append(f"    {v} = ({m}_TYPE *)calloc({n}, sizeof *{v}); if ({v} == NULL) return 92;")
                pattern.append(f"        {{ size_t j; for (j = 0; j < {m}_SIZE; j++) "
                               f"{v}[j] = ({m}_TYPE)((j * 37u + (size_t)k * 11u) % 97u); }}")
            else:
                alloc.append(f"    {v} = ({m}_TYPE *)malloc({n} * sizeof *{v}); if ({v} == NULL) return 93;")
                cast = "(double)" if t.dtype == "float32" else "(long long)"
                fmt = "%g" if t.dtype == "float32" else "%lld"
                prints.append(f'    {{ size_t j; for (j = 0; j < {m}_SIZE && j < 8u; j++) '
                              f'printf("{fmt} ", {cast}{v}[j]); printf("\\n"); }}')
            frees.append(f"    free({v});")
            args.append(v)
    text = MAIN
    for key, val in {"decls": "\n".join(decls), "alloc": "\n".join(alloc), "pattern": "\n".join(pattern),
                     "print": "\n".join(prints), "free": "\n".join(frees),
                     "args": "".join(f", {a}" for a in args), "name": name, "NAME": NAME}.items():
        text = text.replace(f"@{key}@", val)
    return text


@pytest.mark.parametrize("which", list(SMALL) + SHARED)
def test_init_and_invoke_under_sanitizers(generated, which, tmp_path):
    need("gcc")
    c = generated(which)
    d = c.out_dir
    (tmp_path / "main.c").write_text(render_main(c))
    exe = tmp_path / "main"
    run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", *SANITIZE, "-I", d,
         tmp_path / "main.c", d / f"{c.name}.c", "-lm", "-o", exe])
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS="print_stacktrace=1")
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert "runtime error" not in r.stderr and "AddressSanitizer" not in r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2 * len(c.graph.outputs)


def test_error_codes_are_the_documented_values(generated):
    c = generated("fc_chain")
    h = (c.out_dir / "fc_chain.h").read_text()
    for line in ("#define FC_CHAIN_OK 0", "#define FC_CHAIN_ERR_NULL (-1)", "#define FC_CHAIN_ERR_ARENA_SIZE (-2)",
                 "#define FC_CHAIN_ERR_ARENA_ALIGN (-3)", f"#define FC_CHAIN_ARENA_SIZE {c.plan.arena_size}u",
                 "#define FC_CHAIN_ARENA_ALIGN 16u"):
        assert line in h


# ---- determinism --------------------------------------------------------------------------------

def test_generating_twice_gives_identical_files(tmp_path):
    a = aotc.compile(fc_chain(), out_dir=tmp_path / "a")
    b = aotc.compile(fc_chain(), out_dir=tmp_path / "b")
    assert a.files == b.files
    for f in (tmp_path / "a").rglob("*"):
        if f.is_file():
            assert f.read_bytes() == (tmp_path / "b" / f.relative_to(tmp_path / "a")).read_bytes(), f


def test_generating_in_two_processes_gives_identical_files(tmp_path):
    """Different hash seeds (set/dict iteration order of objects) must not change the output."""
    models = {"fc_chain.tflite": fc_chain(), "two_io.tflite": reshape_fc_two_outputs()}
    for name in ("hello_world_int8.tflite", "ad01_int8.tflite", "kws_ref_model.tflite"):
        if (SHARED_MODELS / name).is_file():
            models[name] = (SHARED_MODELS / name).read_bytes()
    for name, data in models.items():
        (tmp_path / name).write_bytes(data)
    script = ("import sys, aotc\n"
              "for m in sys.argv[2:]:\n"
              "    try:\n"
              "        aotc.compile(m, out_dir=sys.argv[1] + '/' + m[:-7])\n"
              "    except aotc.UnsupportedError:\n"
              "        pass\n")
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        run([sys.executable, "-c", script, f"out{seed}", *models], cwd=tmp_path, env=env)

    def files(root: Path):
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    one, two = files(tmp_path / "out1"), files(tmp_path / "out2")
    assert one.keys() == two.keys() and one, sorted(one)
    for k in one:
        assert one[k] == two[k], k
