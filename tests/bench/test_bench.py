"""`aotc bench` on the emulated Cortex-M55 (QEMU mps3-an547) with aotc's generic kernels."""
import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import shared_model  # noqa: E402

import aotc  # noqa: E402
from aotc import bench as bench_mod  # noqa: E402
from aotc.cli import main as cli_main  # noqa: E402
from aotc.demo import build_demo_model  # noqa: E402

_MISSING = [t for t in ("arm-none-eabi-gcc", "qemu-system-arm") if shutil.which(t) is None]
needs_tools = pytest.mark.skipif(bool(_MISSING), reason=f"{' and '.join(_MISSING)} not installed "
                                 "(Debian: gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)")


def _check(r):
    assert r.bit_exact is True, r.summary()
    assert r.instructions > 0 and r.init_instructions > 0
    assert r.flash_bytes >= r.weights_bytes > 0
    assert r.ram_bytes >= r.arena_bytes + r.stack_bytes
    assert 0 < r.stack_bytes < 16 * 1024
    assert r.text_bytes > 0 and r.rodata_bytes >= r.weights_bytes


def _per_op_matches(r):
    assert r.per_op is not None and len(r.per_op) == r.ops
    total = sum(p["instructions"] for p in r.per_op)
    # the hooks are calls the compiler cannot see through, so the profiling build is its own program:
    # its steps add up to its own total (less the hook calls and the glue between steps)
    hooks = 50 * len(r.per_op)   # the hook calls themselves, outside the steps: matters on tiny models
    assert r.profile_instructions - max(0.05 * r.profile_instructions, hooks) <= total <= r.profile_instructions, \
        (total, r.profile_instructions)


def test_ticks_to_instructions():
    # shift 5: 32 ns per instruction, 31.25 ns per tick -> 125/128 instructions per tick, rounded up
    assert bench_mod.ticks_to_instructions(0) == 0
    assert bench_mod.ticks_to_instructions(128) == 125
    assert bench_mod.ticks_to_instructions(129) == 126
    assert bench_mod.ticks_to_instructions(4, shift=10) == 1


@needs_tools
def test_hello_world_repeatable_and_per_op():
    path = shared_model("hello_world_int8.tflite")
    a = bench_mod.bench(path, target="m55", per_op=True)
    _check(a)
    _per_op_matches(a)
    assert [p["kind"] for p in a.per_op] == ["FULLY_CONNECTED"] * 3
    b = bench_mod.bench(path, target="m55")
    assert (b.instructions, b.init_instructions, b.stack_bytes, b.flash_bytes) == \
        (a.instructions, a.init_instructions, a.stack_bytes, a.flash_bytes)


@needs_tools
def test_micro_speech_cli_json(tmp_path, capsys):
    path = shared_model("micro_speech_quantized.tflite")
    out = tmp_path / "r.json"
    assert cli_main(["bench", str(path), "--target", "m55", "--json", str(out), "--per-op"]) == 0
    text = capsys.readouterr().out
    assert "bit-exact" in text and "instructions" in text
    d = json.loads(out.read_text())
    for key in ("instructions", "init_instructions", "ram_bytes", "arena_bytes", "stack_bytes", "flash_bytes",
                "weights_bytes", "bit_exact", "per_op"):
        assert key in d, key
    assert d["bit_exact"] is True and d["instructions"] > 100_000
    assert d["flash_bytes"] >= d["weights_bytes"] and d["ram_bytes"] >= d["arena_bytes"]
    total = sum(p["instructions"] for p in d["per_op"])
    # the hooks are calls the compiler cannot see through, so the profiling build is its own program:
    # the steps add up to its total (less the hook calls), not to the plain build's
    assert 0.98 * d["profile_instructions"] <= total <= d["profile_instructions"]
    assert "/" not in d["model"]


@needs_tools
def test_demo_model_bytes():
    r = bench_mod.bench(build_demo_model(), target="m55", per_op=True, seed=3)
    _check(r)
    _per_op_matches(r)
    kinds = [p["kind"] for p in r.per_op]
    assert "CONV_2D" in kinds and "SOFTMAX" in kinds


@needs_tools
def test_timeout_is_a_clear_error():
    path = shared_model("micro_speech_quantized.tflite")
    with pytest.raises(bench_mod.EmulatorTimeout, match="did not finish"):
        bench_mod.bench(path, target="m55", timeout=0.01)


@needs_tools
def test_stack_overflow_of_dtcm_is_a_link_error():
    path = shared_model("hello_world_int8.tflite")
    with pytest.raises(bench_mod.LinkOverflowError, match="does not fit"):
        bench_mod.bench(path, target="m55", stack_bytes=600 * 1024)


def test_missing_tools_are_clear(monkeypatch):
    monkeypatch.setattr(bench_mod.shutil, "which", lambda tool: None)
    with pytest.raises(bench_mod.ToolMissingError, match="arm-none-eabi-gcc not found"):
        bench_mod.bench(build_demo_model(), target="m55")
    assert issubclass(bench_mod.ToolMissingError, aotc.AotcError)


def test_target_without_board():
    with pytest.raises(aotc.errors.UsageError, match="no emulated board"):
        bench_mod.bench(build_demo_model(), target="generic")


@needs_tools
def test_exact_litert_on_cmsis_nn_is_bit_exact_on_the_m55(cmsis_nn_path):
    """ad01 through CMSIS-NN differs from LiteRT (FULLY_CONNECTED rounding); --exact litert routes those
    ops to the generic kernels and the emulated target then matches LiteRT bit for bit."""
    path = shared_model("ad01_int8.tflite")
    plain = bench_mod.bench(path, target="m55", cmsis_nn=cmsis_nn_path, reference="litert")
    exact = bench_mod.bench(path, target="m55", cmsis_nn=cmsis_nn_path, reference="litert",
                            exact="litert")
    assert plain.bit_exact is False and exact.bit_exact is True


# ---- the reference: the one named, else the one whose arithmetic the build follows ----------------------

def _cli_bench(capsys, tmp_path, *args):
    out = tmp_path / "r.json"
    rc = cli_main(["bench", *map(str, args), "--json", str(out)])
    return rc, capsys.readouterr().out, json.loads(out.read_text())


@needs_tools
def test_cmsis_nn_build_compares_with_tflm_in_the_cli_and_the_api(cmsis_nn_path, capsys, tmp_path):
    """ad01's FULLY_CONNECTED rounds as TFLM does under CMSIS-NN: the CLI and bench() both compare with
    TFLM (and say so) unless LiteRT is named, which then reports the mismatch."""
    path = shared_model("ad01_int8.tflite")
    api = bench_mod.bench(path, target="m55", cmsis_nn=cmsis_nn_path)
    assert (api.reference, api.rounding, api.bit_exact) == ("tflm", "tflm", True), api.summary()
    rc, text, d = _cli_bench(capsys, tmp_path, path, "--target", "m55", "--cmsis-nn", cmsis_nn_path)
    assert rc == 0 and "outputs vs tflm" in text and "bit-exact" in text
    assert (d["reference"], d["rounding"], d["bit_exact"]) == (api.reference, api.rounding, api.bit_exact)
    rc, text, d = _cli_bench(capsys, tmp_path, path, "--target", "m55", "--cmsis-nn", cmsis_nn_path,
                             "--reference", "litert")
    assert rc == 1 and "outputs vs litert" in text and "MISMATCH" in text
    assert (d["reference"], d["bit_exact"]) == ("litert", False)


@needs_tools
def test_rounding_tflm_compares_with_tflm_in_the_cli_and_the_api(capsys, tmp_path):
    path = shared_model("ad01_int8.tflite")
    api = bench_mod.bench(path, target="m55", rounding="tflm")
    assert (api.reference, api.bit_exact) == ("tflm", True), api.summary()
    rc, text, d = _cli_bench(capsys, tmp_path, path, "--rounding", "tflm")
    assert rc == 0 and "outputs vs tflm" in text
    assert (d["reference"], d["rounding"]) == ("tflm", "tflm")
    rc, text, d = _cli_bench(capsys, tmp_path, path)
    assert rc == 0 and "outputs vs litert" in text and d["reference"] == "litert"


@needs_tools
@pytest.mark.slow
@pytest.mark.parametrize("model", ["kws_ref_model.tflite", "vww_96_int8.tflite"])
def test_real_models_on_cmsis_nn_bit_exact_on_the_m55(cmsis_nn_path, capsys, tmp_path, model):
    """`aotc bench --target m55 --cmsis-nn PATH`: CMSIS-NN's Helium kernels on the emulated M55, bit-exact
    with TFLM, and mostly CMSIS-NN calls."""
    rc, text, d = _cli_bench(capsys, tmp_path, shared_model(model), "--target", "m55", "--cmsis-nn", cmsis_nn_path)
    assert rc == 0, text
    assert d["bit_exact"] is True and d["reference"] == "tflm"
    assert d["backend"].startswith("cmsis_nn") and d["instructions"] > 1_000_000
