"""Patch-based execution: the first windowed layers run band by band of output rows, each kernel on
its sub-window with adjusted padding. Bit-exact end to end for every stage length and band height
tried, and below the layer-by-layer lower bound on the VWW-style shared models."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import aotc
from aotc import reader
from aotc.compiler import Options, compile_graph
from aotc.errors import UsageError
from oputil import ModelBuilder, assert_exact

MODELS = Path(__file__).resolve().parents[2].parent / "shared" / "models"
Q = {"int8": lambda s, z: dict(scale=s, zero_point=z), "float32": lambda s, z: {}}


def chain_model(dtype: str = "int8", h: int = 13, w: int = 11) -> bytes:
    """x[1,h,w,3] -> CONV 3x3 /2 SAME -> DEPTHWISE 3x3 dilation 2 SAME -> MAX_POOL 2x2 /2 VALID
    -> CONV 1x1 -> y (graph output), odd sizes so the bands and halos are uneven."""
    rng = np.random.default_rng(4)
    q = Q[dtype]
    mb = ModelBuilder()

    def weights(name, shape, channels):
        if dtype == "float32":
            return mb.tensor(name, shape, "float32", data=rng.normal(0, 0.4, shape))
        return mb.tensor(name, shape, "int8", data=rng.integers(-127, 128, shape), scale=[0.01] * channels,
                         axis=0 if shape[0] == channels else 3)

    def bias(name, n, scale):
        if dtype == "float32":
            return mb.tensor(name, (n,), "float32", data=rng.normal(0, 0.1, n))
        return mb.tensor(name, (n,), "int32", data=rng.integers(-300, 300, n), scale=[scale] * n)

    x = mb.tensor("x", (1, h, w, 3), dtype, **q(0.05, -3))
    h1, w1 = (h + 1) // 2, (w + 1) // 2
    a = mb.tensor("a", (1, h1, w1, 8), dtype, **q(0.08, 2))
    mb.op("CONV_2D", [x, weights("w0", (8, 3, 3, 3), 8), bias("b0", 8, 0.0005)], [a],
          {"Padding": 0, "StrideH": 2, "StrideW": 2, "FusedActivationFunction": 1}, version=3)
    b = mb.tensor("b", (1, h1, w1, 8), dtype, **q(0.08, 1))
    mb.op("DEPTHWISE_CONV_2D", [a, weights("w1", (1, 3, 3, 8), 8), bias("b1", 8, 0.0008)], [b],
          {"Padding": 0, "StrideH": 1, "StrideW": 1, "DepthMultiplier": 1, "DilationHFactor": 2,
           "DilationWFactor": 2}, version=3)
    p = mb.tensor("p", (1, h1 // 2, w1 // 2, 8), dtype, **q(0.08, 1))
    mb.op("MAX_POOL_2D", [b], [p], {"Padding": 1, "StrideH": 2, "StrideW": 2, "FilterHeight": 2,
                                   "FilterWidth": 2})
    y = mb.tensor("y", (1, h1 // 2, w1 // 2, 4), dtype, **q(0.1, 0))
    mb.op("CONV_2D", [p, weights("w2", (4, 1, 1, 8), 4), bias("b2", 4, 0.0008)], [y],
          {"Padding": 1, "StrideH": 1, "StrideW": 1}, version=3)
    return mb.build([x], [y])


@pytest.mark.parametrize("mode", ["1:1", "2:1", "2:3", "3:2", "4:1", "4:2"])
def test_bands_are_bit_exact_for_every_stage_and_height(mode):
    model = chain_model()
    c = aotc.compile(model, patches=mode, measure_code=False)
    k, band = map(int, mode.split(":"))
    stage, = c.report["patches"]["stages"]
    assert stage["ops"] == list(range(k)) and stage["band_rows"] == band and stage["way"] == "recompute"
    assert_exact(model, inputs=3, patches=mode)


def test_bands_float32_and_sanitizers():
    model = chain_model("float32")
    assert_exact(model, inputs=2, patches="3:2", sanitize=True)
    assert_exact(chain_model("int8", 16, 16), inputs=2, patches="2:2", sanitize=True, io="arena")


def test_auto_keeps_the_smaller_arena_and_reports_the_cost():
    model = chain_model(h=40, w=40)
    off = aotc.compile(model, measure_code=False)
    auto = aotc.compile(model, patches="auto", measure_code=False)
    p = auto.report["patches"]
    assert p is not None and p["arena_with"] == auto.plan.arena_size < off.plan.arena_size == p["arena_without"]
    assert p["extra_work_pct"] > 0 and p["stages"]
    assert_exact(model, inputs=2, patches="auto")


def test_unknown_or_impossible_modes_are_usage_errors():
    with pytest.raises(UsageError, match="K:B"):
        aotc.compile(chain_model(), patches="sometimes", measure_code=False)
    with pytest.raises(UsageError, match="chain of 4"):
        aotc.compile(chain_model(), patches="9:1", measure_code=False)


@pytest.mark.parametrize("model,ref", [("vww_96_int8.tflite", None),
                                       ("person_detect.tflite", "person_detect_fixed.tflite")])
def test_vww_style_models_go_below_the_layer_by_layer_bound(model, ref):
    path = MODELS / model
    if not path.is_file():
        pytest.skip(f"{model} not in ../shared/models")
    layer_by_layer = compile_graph(reader.read(path), Options(measure_code=False)).plan.lower_bound
    c = compile_graph(reader.read(path), Options(measure_code=False, patches="auto"))
    assert c.plan.arena_size < 0.7 * layer_by_layer
    res = aotc.verify(path, inputs=2, patches="auto", reference_model=MODELS / ref if ref else None)
    assert res.bit_exact, res.summary()


def test_patches_with_cmsis_nn(cmsis_nn_path):
    path = MODELS / "vww_96_int8.tflite"
    if not path.is_file():
        pytest.skip("vww_96_int8.tflite not in ../shared/models")
    res = aotc.verify(path, target="m55", reference="tflm", inputs=2, patches="auto", cmsis_nn=cmsis_nn_path)
    assert res.bit_exact, res.summary()


# ---- residual blocks, streamed through line buffers -------------------------------------------------

def residual_model(dtype: str = "int8", h: int = 12, w: int = 10, c: int = 8, projection: bool = False) -> bytes:
    """A ResNet-style pair of blocks on odd sizes: x -> CONV 3x3 (relu) -> a; block 1: a -> CONV 3x3
    (relu) -> CONV 3x3 -> + a -> r1; block 2: r1 -> CONV 3x3 /2 -> CONV 3x3 -> + CONV 1x1 /2 (r1) -> y.
    Block 1's output may take a's storage when streamed; block 2 has a projection shortcut. With
    `projection`, block 1's shortcut is a CONV 1x1 of a too (its output has a's layout)."""
    rng = np.random.default_rng(7)
    q = Q[dtype]
    mb = ModelBuilder()

    def conv(name, x, out_c, k, stride, act, zp):
        in_c = x_shapes[x]
        if dtype == "float32":
            wt = mb.tensor(f"{name}_w", (out_c, k, k, in_c), "float32", data=rng.normal(0, 0.3, (out_c, k, k, in_c)))
            bs = mb.tensor(f"{name}_b", (out_c,), "float32", data=rng.normal(0, 0.1, out_c))
        else:
            wt = mb.tensor(f"{name}_w", (out_c, k, k, in_c), "int8", data=rng.integers(-127, 128, (out_c, k, k, in_c)),
                           scale=[0.004] * out_c, axis=0)
            bs = mb.tensor(f"{name}_b", (out_c,), "int32", data=rng.integers(-300, 300, out_c), scale=[0.0002] * out_c)
        hh, ww = shape_of[x][1:3]
        oh, ow = (hh + stride - 1) // stride, (ww + stride - 1) // stride
        y = mb.tensor(name, (1, oh, ow, out_c), dtype, **q(0.06, zp))
        shape_of[y], x_shapes[y] = (1, oh, ow, out_c), out_c
        mb.op("CONV_2D", [x, wt, bs], [y], {"Padding": 0, "StrideH": stride, "StrideW": stride,
                                            "FusedActivationFunction": act}, version=3)
        return y

    def add(name, a, b):
        y = mb.tensor(name, shape_of[a], dtype, **q(0.09, -2))
        shape_of[y], x_shapes[y] = shape_of[a], x_shapes[a]
        mb.op("ADD", [a, b], [y], {"FusedActivationFunction": 1})
        return y

    shape_of, x_shapes = {}, {}
    x = mb.tensor("x", (1, h, w, 3), dtype, **q(0.05, -3))
    shape_of[x], x_shapes[x] = (1, h, w, 3), 3
    a = conv("a", x, c, 3, 1, 1, -5)
    r1 = add("r1", conv("b1c2", conv("b1c1", a, c, 3, 1, 1, -4), c, 3, 1, 0, 3),
             conv("b1sc", a, c, 1, 1, 0, 2) if projection else a)
    y = add("y", conv("b2c2", conv("b2c1", r1, 2 * c, 3, 2, 1, -1), 2 * c, 3, 1, 0, 2),
            conv("b2sc", r1, 2 * c, 1, 2, 0, 1))
    return mb.build([x], [y])


@pytest.mark.parametrize("h,w", [(12, 10), (16, 16), (20, 12), (16, 8)])
def test_residual_blocks_in_bands_bit_exact_and_smaller(h, w):
    """Depending on the sizes, auto streams block 1 over its input, streams block 2 with its
    shortcut written into the output, recomputes block 2, or streams the whole network from the input
    (line buffers read by two ops): each bit-exact and smaller."""
    model = residual_model(h=h, w=w)
    off = aotc.compile(model, measure_code=False)
    c = aotc.compile(model, patches="auto", measure_code=False)
    p = c.report["patches"]
    assert p["arena_with"] == c.plan.arena_size < off.plan.arena_size == p["arena_without"]
    assert_exact(model, inputs=3, patches="auto")


def test_residual_ways_covered():
    seen = set()
    for h, w in [(12, 10), (16, 16), (20, 12), (16, 8)]:
        for s in aotc.compile(residual_model(h=h, w=w), patches="auto", measure_code=False).report["patches"]["stages"]:
            seen.add((s["way"], s["in_place"], len(s["ops"])))
    assert {("stream", True, 3), ("stream", False, 4), ("recompute", False, 4), ("stream", False, 8)} <= seen


@pytest.mark.parametrize("band", [1, 2, 4, 5])
def test_streamed_residual_block_writes_over_its_input(band):
    """Block 1 (steps 1-3) streamed: its output takes a's storage, whatever the band height."""
    from aotc.memory import patches as P
    model = residual_model()
    base = aotc.compile(model, measure_code=False)
    calls, views, stage = P.split(base.graph, base.calls, 1, 3, band, "stream", P._sketch)
    assert stage.in_place and stage.extra_macs == 0 and stage.bands == -(-12 // band)
    w, x = base.calls[3].op.outputs[0], base.calls[1].op.inputs[0]
    assert views[w] == (x, 0)
    # the stage without its ADD leaves a read by the ADD after it: no output over it
    _, _, partial = P.split(base.graph, base.calls, 1, 2, band, "stream", P._sketch)
    assert not partial.in_place


@pytest.mark.parametrize("dtype,kw", [("int8", dict(sanitize=True)), ("float32", {}),
                                      ("int8", dict(io="arena"))])
def test_streamed_stages_every_way(dtype, kw):
    """A small budget and the default one; float32, the sanitizers and inputs copied through the arena."""
    model = residual_model(dtype, h=11, w=9)
    for mode in ("auto:10", "auto"):
        c = aotc.compile(model, patches=mode, measure_code=False, **{k: v for k, v in kw.items() if k == "io"})
        assert c.report["patches"] is not None, mode
        assert_exact(model, inputs=2, patches=mode, **kw)


def test_patch_budget_is_respected_and_parsed():
    model = residual_model(h=16, w=16)
    for pct in (0.2, 1, 50):
        c = aotc.compile(model, patches=f"auto:{pct}", measure_code=False)
        p = c.report["patches"]
        assert p is None or p["extra_work_pct"] <= pct
    assert aotc.compile(model, patches="auto:0", measure_code=False).report["patches"] is None
    with pytest.raises(UsageError, match="percentage"):
        aotc.compile(model, patches="auto:lots", measure_code=False)


def test_streamed_residual_blocks_on_cmsis_nn_c_path(cmsis_nn_path):
    assert_exact(residual_model(h=16, w=16), inputs=3, reference="tflm", target="m55",
                 cmsis_nn=cmsis_nn_path, patches="auto")


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
@pytest.mark.parametrize("cmsis", [False, True])
@pytest.mark.parametrize("size", [16, 24])
def test_streamed_residual_blocks_on_the_m55(request, cmsis, size):
    """The line-buffer moves (Helium copies) and in-place writes on the emulated M55, with the
    generic kernels and with CMSIS-NN's Helium kernels: block 1 over its input (16), the whole
    network from the input (24)."""
    from aotc.bench import bench
    nn = request.getfixturevalue("cmsis_nn_path") if cmsis else None
    r = bench(residual_model(h=size, w=size), target="m55", cmsis_nn=nn,
              reference="tflm" if cmsis else "litert", patches="auto")
    assert r.bit_exact is True, r.summary()


def test_report_lists_each_stage(tmp_path):
    c = aotc.compile(residual_model(h=16, w=16), patches="auto", out_dir=tmp_path / "out", measure_code=False)
    text = (c.out_dir / "report.txt").read_text()
    p = c.report["patches"]
    assert f"arena {p['arena_without']:,} -> {p['arena_with']:,} bytes" in text
    assert text.count("  stage      ops ") == len(p["stages"]) >= 2
    assert "output over its input" in text and "bytes moved" in text


def _forced(i, j, band, way):
    """A stand-in for patches.choose that applies one given stage (what "auto" may pick)."""
    from aotc.memory import patches as P

    def choose(graph, calls, mode, bound_of, lower_op):
        new_calls, views, stage = P.split(graph, calls, i, j, band, way, lambda op, call: lower_op(op))
        return new_calls, views, [stage]
    return choose


def _every_stage(model, target="generic"):
    from aotc.memory import patches as P
    c = aotc.compile(model, target=target, measure_code=False)
    return [(i, j) for i in range(len(c.calls)) for j in range(i, len(c.calls))
            if P.stage_io(c.graph, c.calls, i, j) is not None]


@pytest.mark.parametrize("projection", [False, True])
@pytest.mark.parametrize("way", ["stream", "recompute"])
@pytest.mark.parametrize("band", [1, 3])
def test_every_stage_of_a_residual_network_is_bit_exact(monkeypatch, way, band, projection):
    """Each stage the search could pick (any start, any end, branches and joins), both ways, bands
    that do not divide the height: bit-exact, whether or not the output takes the input's storage.
    With a projection shortcut of the input's layout, its band is written into the output's rows
    early in the band, so the output may not take the input's storage.
    ("1:1" only keeps the compiler from dropping a stage that does not shrink the arena.)"""
    from aotc import compiler
    model = residual_model(h=11, w=9, projection=projection)
    stages = _every_stage(model)
    assert len(stages) >= 10
    in_place = 0
    for i, j in stages:
        monkeypatch.setattr(compiler.patches, "choose", _forced(i, j, band, way))
        c = aotc.compile(model, patches="1:1", measure_code=False)
        assert c.report["patches"]["stages"][0]["ops"] == list(range(i, j + 1))
        in_place += c.report["patches"]["stages"][0]["in_place"]
        assert_exact(model, inputs=1, patches="1:1")
    assert in_place or way == "recompute" or projection


@pytest.mark.parametrize("projection", [False, True])
@pytest.mark.parametrize("way", ["stream", "recompute"])
def test_every_stage_on_cmsis_nn(cmsis_nn_path, monkeypatch, way, projection):
    """The same with CMSIS-NN's kernels (their C path on the host) and aotc's gather."""
    from aotc import compiler
    model = residual_model(h=11, w=9, projection=projection)
    for i, j in _every_stage(model, "m55"):
        monkeypatch.setattr(compiler.patches, "choose", _forced(i, j, 3, way))
        assert_exact(model, inputs=1, patches="1:1", target="m55", reference="tflm", cmsis_nn=cmsis_nn_path)


def test_cmsis_nn_add_runs_in_place_and_joins_stages_on_a_dsp_target(cmsis_nn_path):
    """On the Cortex-M33 the residual ADDs are CMSIS-NN's arm_elementwise_add_s8, which may run in
    place: layer by layer it writes over an input, and in bands it closes a stage."""
    model = residual_model(h=16, w=16)
    nn = cmsis_nn_path
    c = aotc.compile(model, target="cortex-m33", measure_code=False)
    adds = [call for call in c.calls if call.op.kind == "ADD"]
    assert adds and all(a.function == "arm_elementwise_add_s8" for a in adds)
    assert any(r["rule"] == "in-place" and r["kind"] == "ADD" for r in c.plan.reuses)
    assert_exact(model, inputs=2, reference="tflm", target="cortex-m33", cmsis_nn=nn)
    p = aotc.compile(model, target="cortex-m33", patches="auto", measure_code=False).report["patches"]
    assert any(s["ops"][-1] in (3, 7) for s in p["stages"])
    assert_exact(model, inputs=2, reference="tflm", target="cortex-m33", cmsis_nn=nn, patches="auto")


def padded_stride2_model() -> bytes:
    """Random-model seed 797: MUL -> PAD (2 rows on top) -> DEPTHWISE 2x2 /2 VALID; the PAD folds into
    the depthwise's explicit padding, so output row 0 reads only padding and a band of it needs no
    input row at all (the band split looked up the MUL's band that was never made: KeyError)."""
    rng = np.random.default_rng(5)
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 2, 7, 3), "int8", scale=0.05, zero_point=-3)
    k = mb.tensor("k", (1, 1, 1, 3), "int8", data=rng.integers(-127, 128, (1, 1, 1, 3)), scale=0.01)
    m = mb.tensor("m", (1, 2, 7, 3), "int8", scale=0.02, zero_point=1)
    mb.op("MUL", [x, k], [m], {}, version=2)
    p = mb.tensor("p", (1, 4, 9, 3), "int8", scale=0.02, zero_point=1)
    pads = mb.tensor("pads", (4, 2), "int32", data=np.array([[0, 0], [2, 0], [2, 0], [0, 0]]))
    mb.op("PAD", [m, pads], [p], {}, version=2)
    w = mb.tensor("w", (1, 2, 2, 6), "int8", data=rng.integers(-127, 128, (1, 2, 2, 6)), scale=[0.01] * 6, axis=3)
    b = mb.tensor("b", (6,), "int32", data=rng.integers(-300, 300, 6), scale=[0.0002] * 6)
    y = mb.tensor("y", (1, 2, 4, 6), "int8", scale=0.1, zero_point=0)
    mb.op("DEPTHWISE_CONV_2D", [p, w, b], [y], {"Padding": 1, "StrideH": 2, "StrideW": 2,
                                                 "DepthMultiplier": 2}, version=3)
    return mb.build([x], [y])


@pytest.mark.parametrize("mode", ["auto", "auto:300"])
def test_bands_whose_rows_read_only_padding_are_not_split(mode):
    assert_exact(padded_stride2_model(), inputs=3, patches=mode)


def test_forced_bands_of_a_one_row_output_are_a_usage_error():
    """Random-model seed 10994: "1:1" on a MAX_POOL_2D whose output has one row; the forced mode
    unpacked the (absent) stage and raised TypeError instead of saying why it cannot apply."""
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 2, 2, 3), "float32")
    y = mb.tensor("y", (1, 1, 2, 3), "float32")
    mb.op("MAX_POOL_2D", [x], [y], {"Padding": 1, "StrideH": 2, "StrideW": 1, "FilterHeight": 2,
                                    "FilterWidth": 1})
    z = mb.tensor("z", (1, 1, 2, 3), "float32")
    mb.op("RELU", [y], [z])
    with pytest.raises(UsageError, match="--patches 1:1"):
        aotc.compile(mb.build([x], [z]), measure_code=False, patches="1:1")
