"""Outputs overlapping their inputs (memory/overlap.py): the trail a raster-order kernel needs, checked
against a byte-level simulation that fails one byte short; the planners and the plan check honouring
trails; and CMSIS-NN convolution chains that overlap, bit-exact on the host (CMSIS-NN's C path) and
on the emulated Cortex-M55 (its Helium path)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

import aotc
from aotc.memory.check import PlanError, check
from aotc.memory.liveness import Buffer, lower_bound
from aotc.memory.overlap import raster_trail
from aotc.memory.planners import HEURISTICS, PLANNERS, arena_size
from oputil import ModelBuilder, assert_exact, rng_weights

# ---- the trail, against a simulation --------------------------------------------------------------

def simulate(x, k, stride, pad, out_c_mult, trail, batch=1):
    """A depthwise-style kernel on one byte array: input stored `trail` bytes above the output. Output
    pixels are computed in raster order in groups of `batch` (CMSIS-NN's Helium kernels read 4 pixels'
    inputs while they write those 4), each reading its window of the memory. A group's output bytes
    count as written before its reads: the worst interleaving raster_trail allows. Returns the outputs
    and whether any read met a byte a write had claimed."""
    h, w, c = x.shape
    oh, ow = (h + 2 * pad[0] - k) // stride[0] + 1, (w + 2 * pad[1] - k) // stride[1] + 1
    oc = c * out_c_mult
    mem = np.zeros(max(oh * ow * oc, trail + x.size), np.int64)
    mem[trail:trail + x.size] = x.ravel()
    written = np.zeros(mem.size, bool)
    clobbered = False
    pixels = [(oy, ox) for oy in range(oh) for ox in range(ow)]
    for g in range(0, len(pixels), batch):
        for oy, ox in pixels[g:g + batch]:   # the worst order the rule allows: the group's writes first
            at = (oy * ow + ox) * oc
            written[at:at + oc] = True
        results = []
        for oy, ox in pixels[g:g + batch]:
            acc = np.zeros(c, np.int64)
            for ky in range(k):
                for kx in range(k):
                    iy, ix = oy * stride[0] - pad[0] + ky, ox * stride[1] - pad[1] + kx
                    if 0 <= iy < h and 0 <= ix < w:
                        at = trail + (iy * w + ix) * c
                        clobbered |= bool(written[at:at + c].any())
                        acc += mem[at:at + c]
            results.append(np.repeat(acc, out_c_mult))
        for (oy, ox), r in zip(pixels[g:g + batch], results):
            at = (oy * ow + ox) * oc
            mem[at:at + oc] = r
    return mem[:oh * ow * oc].reshape(oh, ow, oc), clobbered


CASES = [  # (h, w, c, k, stride, pad, output channels per input channel, batch)
    (7, 5, 3, 3, (1, 1), (1, 1), 1, 1),
    (9, 8, 2, 3, (2, 2), (1, 1), 1, 1),
    (6, 6, 4, 3, (2, 2), (0, 0), 1, 1),
    (8, 5, 3, 1, (1, 1), (0, 0), 2, 4),      # a 1x1 conv widening 3 -> 6 channels, 4 pixels at a time
    (5, 7, 4, 5, (1, 1), (2, 2), 1, 1),
]


@pytest.mark.parametrize("h,w,c,k,stride,pad,mult,batch", CASES)
def test_trail_is_safe_and_tight(h, w, c, k, stride, pad, mult, batch):
    x = np.random.default_rng(0).integers(1, 100, (h, w, c))
    oh, ow = (h + 2 * pad[0] - k) // stride[0] + 1, (w + 2 * pad[1] - k) // stride[1] + 1
    trail = raster_trail((1, h, w, c), (1, oh, ow, c * mult), 1, 1, stride, pad, batch=batch)
    apart, _ = simulate(x, k, stride, pad, mult, trail=oh * ow * c * mult, batch=batch)
    shared, clobbered = simulate(x, k, stride, pad, mult, trail=trail, batch=batch)
    assert not clobbered and np.array_equal(shared, apart)
    assert trail < oh * ow * c * mult            # it does overlap
    if trail:                                     # one byte less and a read sees a written byte
        assert simulate(x, k, stride, pad, mult, trail=trail - 1, batch=batch)[1]


# ---- planners and the plan check ------------------------------------------------------------------

def chain(trail=48):
    """t0 -> op1 -> t1 -> op2 -> t2 -> op3 -> t3, each output allowed to trail its input."""
    bs = [Buffer(f"t{i}", 256, 16, max(i, 0), i + 1) for i in range(4)]
    for i in range(1, 4):
        bs[i].trails[f"t{i - 1}"] = trail
    return bs


@pytest.mark.parametrize("name", HEURISTICS + ("best",))
def test_planners_use_trails_and_plans_pass_the_check(name):
    bs = chain()
    offsets = PLANNERS[name](bs)
    size = arena_size(bs, offsets)
    check(bs, offsets, size)
    assert size >= lower_bound(bs) == 256 + 48
    if name in ("greedy_by_size_late_first", "best"):
        assert size == 256 + 3 * 48                 # the chain builds downwards


def test_check_refuses_an_output_closer_than_its_trail():
    bs = chain()
    check(bs, {"t0": 48, "t1": 0, "t2": 512, "t3": 464}, 768)
    with pytest.raises(PlanError, match="overlap"):
        check(bs, {"t0": 32, "t1": 0, "t2": 512, "t3": 464}, 768)
    with pytest.raises(PlanError, match="overlap"):      # the input may not sit below its output
        check(bs, {"t0": 0, "t1": 48, "t2": 512, "t3": 464}, 768)


# ---- end to end -----------------------------------------------------------------------------------

def conv_chain_model() -> bytes:
    """CONV 3x3 -> DEPTHWISE 3x3 -> CONV 1x1 (8 -> 16) -> DEPTHWISE 3x3 stride 2 -> CONV 3x3: the
    three middle ops may write over their inputs (the first reads the caller's input, the last writes
    the caller's output)."""
    mb = ModelBuilder()
    shapes = [(1, 12, 10, 3), (1, 12, 10, 8), (1, 12, 10, 8), (1, 12, 10, 16), (1, 6, 5, 16), (1, 6, 5, 12)]
    scales = [0.05, 0.3, 0.3, 0.4, 0.4, 0.5]
    ts = [mb.tensor(f"t{i}", s, "int8", scale=scales[i], zero_point=i - 3) for i, s in enumerate(shapes)]
    specs = [("CONV_2D", 3, 1), ("DEPTHWISE_CONV_2D", 3, 1), ("CONV_2D", 1, 1), ("DEPTHWISE_CONV_2D", 3, 2),
             ("CONV_2D", 3, 1)]
    for i, (kind, k, s) in enumerate(specs):
        c_in, out_c = shapes[i][-1], shapes[i + 1][-1]
        dw = kind == "DEPTHWISE_CONV_2D"
        wshape = (1, k, k, out_c) if dw else (out_c, k, k, c_in)
        ws = list(np.linspace(0.002, 0.01, out_c))
        w = mb.tensor(f"w{i}", wshape, "int8", data=rng_weights(wshape, "int8", i), scale=ws, axis=3 if dw else 0)
        b = mb.tensor(f"b{i}", (out_c,), "int32", data=rng_weights((out_c,), "int32", i, -3000, 3000),
                      scale=[scales[i] * v for v in ws], axis=0)
        opts = {"Padding": 0, "StrideH": s, "StrideW": s, "DilationHFactor": 1, "DilationWFactor": 1,
                "FusedActivationFunction": 1}          # SAME, RELU
        if dw:
            opts["DepthMultiplier"] = 1
        mb.op(kind, [ts[i], w, b], [ts[i + 1]], opts, version=3)
    return mb.build([ts[0]], [ts[-1]])


def overlap_steps(model, **kw):
    c = aotc.compile(model, target="m55", measure_code=False, **kw)
    return sorted(r["step"] for r in c.plan.reuses if r["rule"] == "overlap"), c


def test_m55_plan_overlaps_the_chain():
    """On the M55 (Helium) the three middle ops overlap their inputs, the 1x1 conv included; on a DSP
    or plain C build of CMSIS-NN the 1x1 conv loops output channels outermost, so it may not."""
    steps, c = overlap_steps(conv_chain_model())
    assert steps == [1, 2, 3]
    plain, _ = overlap_steps(conv_chain_model(), features=())
    assert plain == [1, 3]
    bufs = [b for b in c.plan.buffers if b.pool == c.plan.arena_pool]
    apart = [Buffer(b.name, b.size, b.align, b.first, b.last) for b in bufs]   # the same, no trails
    assert c.plan.arena_size < arena_size(apart, PLANNERS["best"](apart))


def test_overlapping_chain_bit_exact_on_cmsis_nn_c_path(cmsis_nn_path):
    assert_exact(conv_chain_model(), inputs=4, reference="tflm", target="m55", cmsis_nn=cmsis_nn_path)


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
def test_overlapping_chain_bit_exact_on_the_m55(cmsis_nn_path):
    from aotc.bench import bench
    r = bench(conv_chain_model(), target="m55", cmsis_nn=cmsis_nn_path, reference="tflm")
    assert r.bit_exact is True, r.summary()
