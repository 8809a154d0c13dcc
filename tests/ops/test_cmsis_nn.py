"""cmsis_nn backend: one-op models per lowered op and parameter set, built with CMSIS-NN on the host
(its portable C path) and bit-exact with TFLM. Needs a CMSIS-NN checkout (the cmsis_nn_path fixture)."""
import re
import shutil
import subprocess

import numpy as np
import pytest

import aotc
from aotc.backends import cmsis_nn
from aotc.errors import UsageError
from oputil import assert_exact
from test_conv import conv_model
from test_elementwise import binary_model
from test_fully_connected import fc_model
from test_pool import pool_model
from test_softmax import softmax_model

def lowered(model, target="m55", **kw):
    c = aotc.compile(model, target=target, measure_code=False, **kw)
    return [call for call in c.calls if not call.alias]


def check(cmsis_nn_path, model, fn, inputs=4, target="m55"):
    """The op goes to CMSIS-NN `fn` and the host build is bit-exact with TFLM, with the -D<NAME>_DEBUG
    scratch checks of init compiled in (init fails if a planned scratch buffer is short). Ops the m55
    gives to aotc's faster Helium kernels are checked on a DSP target (cortex-m33), which keeps them
    on CMSIS-NN."""
    calls = lowered(model, target=target)
    assert [c.function for c in calls] == [fn], [(c.backend, c.function, c.note) for c in calls]
    name = aotc.compile(model, target=target, measure_code=False).name
    return assert_exact(model, inputs=inputs, reference="tflm", target=target, cmsis_nn=cmsis_nn_path,
                        extra_cflags=[f"-D{name.upper()}_DEBUG"])


def test_m55_runs_its_faster_generic_kernels_instead():
    """Measured on the emulated M55: int8 SOFTMAX, depthwise with a depth multiplier above 1 and ADD
    of equal shapes are faster in aotc's kernels; the report says why. A DSP target keeps CMSIS-NN."""
    for model in (softmax_model("int8", shape=(3, 10)), conv_model(kind="DEPTHWISE_CONV_2D", **DW_CASES["mult2"]),
                  binary_model("ADD", "int8")):
        (m55,) = lowered(model)
        assert m55.backend == "generic_c" and "faster" in m55.note
        (m33,) = lowered(model, target="cortex-m33")
        assert m33.backend == "cmsis_nn"


# ---- CONV_2D ----------------------------------------------------------------------------------------

CONV_CASES = {
    "3x3_same": dict(),
    "3x3_valid_stride2_relu": dict(pad="VALID", stride=(2, 2), act="RELU"),
    "1x1_fast": dict(k=(1, 1), pad="VALID", c=8, out_c=12),
    "1x1_stride2": dict(k=(1, 1), pad="VALID", stride=(2, 2), c=8),
    "1xn": dict(h=1, k=(1, 3), c=4, out_c=5, act="RELU6"),
    "dilated": dict(h=9, w=9, dil=(2, 2)),
    "per_tensor_batch2": dict(n=2, per_channel=False, act="RELU_N1_TO_1"),
    "no_bias": dict(bias=False),
}


# the m55 gathers windows of narrow kernel rows itself (runtime/aotc/cmsis_conv.h): 3x5 by default
GATHERED = {"3x3_same", "3x3_valid_stride2_relu", "dilated", "no_bias"}


@pytest.mark.parametrize("case", list(CONV_CASES))
def test_conv_s8(cmsis_nn_path, case):
    model = conv_model(**CONV_CASES[case])
    check(cmsis_nn_path, model, "aotc_cmsis_conv_s8" if case in GATHERED else "arm_convolve_wrapper_s8")
    if case in GATHERED:   # the DSP build keeps CMSIS-NN's own convolution
        check(cmsis_nn_path, model, "arm_convolve_wrapper_s8", target="cortex-m33")


@pytest.mark.parametrize("kw", [dict(c=1, k=(10, 4), h=13, w=6, stride=(2, 2), out_c=16),
                                dict(c=3, h=9, w=11, stride=(2, 2), pad="SAME", act="RELU6"),
                                dict(c=7, k=(3, 5), h=6, w=9, dil=(2, 1)),
                                dict(c=16, h=6, w=6, stride=(2, 2)),
                                dict(c=17, h=6, w=6)])
def test_conv_gather_narrow_rows(cmsis_nn_path, kw):
    """Narrow kernel rows (first layers, 16-channel 3x3): the m55 gathers whole kernel rows and calls
    CMSIS-NN's GEMM as arm_convolve_s8 does; bit-exact with TFLM, odd sizes, stride, dilation,
    padding at every edge. Rows above 48 bytes keep CMSIS-NN's own gather."""
    k_w = kw.get("k", (3, 3))[1]
    check(cmsis_nn_path, conv_model(**kw), "aotc_cmsis_conv_s8" if k_w * kw["c"] <= 48 else "arm_convolve_wrapper_s8")


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
@pytest.mark.parametrize("kw", [dict(c=1, k=(10, 4), h=13, w=6, stride=(2, 2), out_c=16),
                                dict(c=3, h=9, w=11, stride=(2, 2), pad="SAME", act="RELU6"),
                                dict(c=7, k=(3, 5), h=6, w=9, dil=(2, 1)),
                                dict(c=16, h=7, w=6, stride=(2, 2), pad="SAME")])
def test_conv_gather_narrow_rows_on_the_m55(cmsis_nn_path, kw):
    """The gather's Helium copies and fills (predicated, 16 bytes a step) on the emulated M55."""
    from aotc.bench import bench
    r = bench(conv_model(**kw), target="m55", cmsis_nn=cmsis_nn_path, reference="tflm")
    assert r.bit_exact is True, r.summary()


@pytest.mark.parametrize("bias_dtype", ["int64", "int32"])
def test_conv_s16(cmsis_nn_path, bias_dtype):
    opts = {"QuantizedBiasType": 2} if bias_dtype == "int32" else None     # TensorType INT32
    model = conv_model("int16", bias_dtype=bias_dtype, stride=(2, 1), options=opts, version=8 if opts else None)
    check(cmsis_nn_path, model, "arm_convolve_wrapper_s16")


# ---- DEPTHWISE_CONV_2D ------------------------------------------------------------------------------

DW_CASES = {
    "3x3_same": dict(c=8),
    "5x5_stride2_relu6": dict(c=6, k=(5, 5), stride=(2, 2), act="RELU6"),
    "mult2": dict(c=3, mult=2, pad="VALID"),
    "one_in_ch_mult8": dict(c=1, mult=8),
    "dilated": dict(h=9, w=9, c=4, dil=(2, 2)),
}


@pytest.mark.parametrize("case", list(DW_CASES))
def test_depthwise_s8(cmsis_nn_path, case):
    model = conv_model(kind="DEPTHWISE_CONV_2D", **DW_CASES[case])
    multiplier = DW_CASES[case].get("mult", 1) > 1
    check(cmsis_nn_path, model, "arm_depthwise_conv_wrapper_s8", target="cortex-m33" if multiplier else "m55")


@pytest.mark.parametrize("k", [(3, 3), (2, 4)])
def test_depthwise_s16(cmsis_nn_path, k):
    check(cmsis_nn_path, conv_model("int16", kind="DEPTHWISE_CONV_2D", c=4, k=k), "arm_depthwise_conv_wrapper_s16")


# ---- FULLY_CONNECTED --------------------------------------------------------------------------------

@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("act", ["NONE", "RELU"])
def test_fc_s8(cmsis_nn_path, per_channel, act):
    fn = "arm_fully_connected_per_channel_s8" if per_channel else "arm_fully_connected_s8"
    check(cmsis_nn_path, fc_model(per_channel=per_channel, act=act, batches=2), fn)


def test_fc_s8_no_bias(cmsis_nn_path):
    check(cmsis_nn_path, fc_model(bias=False, depth=16), "arm_fully_connected_per_channel_s8")


def test_fc_s16(cmsis_nn_path):
    check(cmsis_nn_path, fc_model("int16", per_channel=False, depth=20, units=9), "arm_fully_connected_s16")


def test_fc_kernel_sums_in_flash_for_mve():
    """m55 (MVE): arm_vector_sum_s8 done at compile time, a const table passed as ctx.buf, no arena scratch."""
    model = fc_model(per_channel=False, depth=16, units=5)
    (call,) = lowered(model)
    sums = [c for c in call.consts if c.suffix == "kernel_sums"]
    assert sums and call.scratch_bytes == 0
    g = aotc.reader.read(model)
    op = g.ops[0]
    x, w, b = op.inputs[0], op.inputs[1], op.inputs[2]
    want = b.data.astype(np.int64) + (w.data.astype(np.int64).sum(axis=1) - 16 * w.quant.zp) * -x.quant.zp
    assert np.array_equal(sums[0].values, want.astype(np.int32))
    (call,) = lowered(model, features=())       # plain C CMSIS-NN takes no kernel sums
    assert not any(c.suffix == "kernel_sums" for c in call.consts)


def test_fc_bias_lives_only_in_the_kernel_sums_on_mve(tmp_path):
    """The Helium kernels read the bias only through the kernel sums, so the m55 output passes NULL,
    links no bias array, and refuses to build for an Arm CPU without MVE (where the sums are
    ignored and the bias would be missing). The host (plain C) build passes the bias."""
    model = fc_model(per_channel=False, depth=16, units=5)
    c = aotc.compile(model, target="m55", out_dir=tmp_path / "mve", measure_code=False)
    src = (c.out_dir / f"{c.name}.c").read_text()
    (call,) = [k for k in c.calls if not k.alias]
    bias = call.op.inputs[2]
    assert call.args[10] == "NULL" and call.requires == ("mve",)
    assert "#if defined(__arm__) && !defined(ARM_MATH_MVEI)" in src and "#error" in src
    assert f"/* {bias.name} " not in src                       # the bias array is not emitted
    plain = aotc.compile(model, target="m55", out_dir=tmp_path / "c", measure_code=False, features=())
    (pcall,) = [k for k in plain.calls if not k.alias]
    assert pcall.args[10] != "NULL" and not pcall.requires
    assert "ARM_MATH_MVEI" not in (plain.out_dir / f"{plain.name}.c").read_text()


def test_cmsis_structs_are_static_const_unless_they_point_at_scratch(tmp_path):
    """Parameters and dims are flash data (no stores, no stack at run time), each distinct one defined
    once at file scope; a context whose buffer is arena scratch is built at run time."""
    c = aotc.compile(conv_model(c=17), target="m55", out_dir=tmp_path, measure_code=False)   # wider than the gather
    src = (c.out_dir / f"{c.name}.c").read_text()
    assert re.search(r"\nstatic const cmsis_nn_conv_params model_k\d+ = \{", src)
    dims = re.findall(r"\nstatic const cmsis_nn_dims model_k\d+ = (\{[^}]*\});", src)
    assert len(dims) >= 3 and len(set(dims)) == len(dims)
    assert re.search(r"\n\s+const cmsis_nn_context nn_ctx = \{\(void \*\)\(void \*\)\(arena \+ \d+\)", src)


# ---- pooling ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,fn", [("AVERAGE_POOL_2D", "arm_avgpool"), ("MAX_POOL_2D", "arm_max_pool")])
@pytest.mark.parametrize("dtype", ["int8", "int16"])
@pytest.mark.parametrize("pad,act", [("SAME", "NONE"), ("VALID", "RELU6")])
def test_pool(cmsis_nn_path, kind, fn, dtype, pad, act):
    check(cmsis_nn_path, pool_model(kind, dtype, pad=pad, act=act), f"{fn}_{'s16' if dtype == 'int16' else 's8'}")


# ---- SOFTMAX ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_softmax_s8(cmsis_nn_path, beta):
    check(cmsis_nn_path, softmax_model("int8", shape=(3, 10), beta=beta), "arm_softmax_s8", target="cortex-m33")


def test_softmax_s8_s16(cmsis_nn_path):
    check(cmsis_nn_path, softmax_model("int8", out_dtype="int16"), "arm_softmax_s8_s16", target="cortex-m33")


def test_softmax_s16(cmsis_nn_path):
    check(cmsis_nn_path, softmax_model("int16", q_in=(0.001, 0)), "arm_softmax_s16")


# ---- ADD / MUL --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["ADD", "MUL"])
@pytest.mark.parametrize("act", ["NONE", "RELU"])
def test_elementwise_s8(cmsis_nn_path, kind, act):
    # the m55 runs int8 ADD of equal shapes in aotc's table kernel: CMSIS-NN's is checked on a DSP target
    check(cmsis_nn_path, binary_model(kind, "int8", act=act), f"arm_elementwise_{kind.lower()}_s8",
          target="cortex-m33" if kind == "ADD" else "m55")


@pytest.mark.parametrize("kind", ["ADD", "MUL"])
def test_elementwise_s16(cmsis_nn_path, kind):
    model = binary_model(kind, "int16", scales=(0.0005, 0.0003, 0.0006 if kind == "ADD" else 0.004),
                         zps=(0, 0, 0), pot_scale_int16=False if kind == "ADD" else None)
    check(cmsis_nn_path, model, f"arm_elementwise_{kind.lower()}_s16")


# ---- fallbacks, exact="litert", sources --------------------------------------------------------------

def test_fallbacks_say_why():
    calls = lowered(binary_model("ADD", "int8", shape_b=(1, 1, 1, 3)))
    assert calls[0].backend == "generic_c" and "broadcasting" in calls[0].note
    calls = lowered(fc_model("float32"))
    assert calls[0].backend == "generic_c" and "integer" in calls[0].note
    calls = lowered(conv_model(c=6, options={"groups": 2}))
    assert calls[0].backend == "generic_c" and "grouped" in calls[0].note


def test_exact_litert_routes_fc_to_generic_c():
    (call,) = lowered(fc_model(), exact="litert")
    assert call.backend == "generic_c" and "exact=litert" in call.note
    (call,) = lowered(conv_model(), exact="litert")
    assert call.backend == "cmsis_nn"


def test_exact_litert_bit_exact_with_litert(cmsis_nn_path):
    model = fc_model("int16", depth=32, units=32, per_channel=False, seed=3, out_scale=0.003)
    mixed = aotc.verify(model, target="m55", reference="litert", cmsis_nn=cmsis_nn_path, inputs=8)
    assert not mixed.bit_exact, "test model does not separate the two roundings"
    assert_exact(model, inputs=8, reference="litert", target="m55", cmsis_nn=cmsis_nn_path, exact="litert")


def test_scratch_sizes_follow_features():
    model = conv_model(c=8, k=(3, 3))
    mve = lowered(model)[0].scratch_bytes
    dsp = lowered(model, features=("dsp",))[0].scratch_bytes
    plain = lowered(model, features=())[0].scratch_bytes
    assert mve == 4 * ((8 * 9 + 15) // 16) * 16 and plain == dsp == 2 * 72 * 2
    model = conv_model(kind="DEPTHWISE_CONV_2D", c=8, k=(3, 3))
    assert lowered(model)[0].scratch_bytes == 4 * 124 * 9
    assert lowered(model, features=("dsp",))[0].scratch_bytes == 0      # arm_depthwise_conv_3x3_s8
    assert lowered(model, target="cortex-m4")[0].scratch_check.startswith("arm_depthwise_conv_wrapper_s8_get")


def test_sources_errors(tmp_path):
    with pytest.raises(UsageError, match="not a CMSIS-NN checkout"):
        cmsis_nn.sources(tmp_path)
    with pytest.raises(UsageError, match="not a CMSIS-NN checkout"):
        cmsis_nn.sources(tmp_path / "missing")


def test_sources(cmsis_nn_path):
    files, incs = cmsis_nn.sources(cmsis_nn_path)
    assert any(f.name == "arm_convolve_wrapper_s8.c" for f in files)
    assert not any(f.stem.endswith("_f32") for f in files)
    assert (incs[0] / "arm_nnfunctions.h").is_file()


def test_verify_without_cmsis_nn_is_a_usage_error(monkeypatch):
    monkeypatch.delenv("CMSIS_NN_PATH", raising=False)
    with pytest.raises(UsageError, match="CMSIS_NN_PATH"):
        aotc.verify(fc_model(), target="m55", inputs=1)


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs arm-none-eabi-gcc")
def test_mve_output_refuses_a_build_without_helium(cmsis_nn_path, tmp_path):
    c = aotc.compile(fc_model(per_channel=False, depth=16, units=5), target="m55", out_dir=tmp_path,
                     measure_code=False)
    base = ["arm-none-eabi-gcc", "-mthumb", "-mfloat-abi=hard", "-std=c99", "-O2", "-c",
            str(c.out_dir / f"{c.name}.c"), "-I", str(c.out_dir), "-isystem", f"{cmsis_nn_path}/Include",
            "-o", str(tmp_path / "o.o")]
    ok = subprocess.run(base[:1] + ["-mcpu=cortex-m55"] + base[1:], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(base[:1] + ["-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16"] + base[1:], capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "generated for a Helium (MVE) CPU" in bad.stderr
