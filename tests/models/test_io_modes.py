"""Zero-copy I/O (default) and arena I/O give the same bits; the corner cases of zero-copy: an output
that views an input, two outputs viewing one tensor, an output also read by a later op."""
import pytest

import aotc
from conftest import shared_model
from oputil import ModelBuilder, assert_exact


@pytest.mark.parametrize("io", ["caller", "arena"])
@pytest.mark.parametrize("model", ["kws_ref_model.tflite", "pretrainedResnet_quant.tflite"])
def test_both_io_modes_bit_exact(model, io):
    res = aotc.verify(shared_model(model), inputs=4, io=io)
    assert res.bit_exact, res.summary()


def test_arena_mode_puts_io_in_the_arena_and_says_so():
    path = shared_model("vww_96_int8.tflite")
    caller, arena = aotc.compile(path), aotc.compile(path, io="arena")
    x = arena.graph.inputs[0]
    assert arena.plan.location(x)[0] == "arena" and caller.plan.location(caller.graph.inputs[0]) == ("input", 0)
    # the 27,648-byte input is live with the first conv's output, below the later peak: it costs nothing
    assert arena.report["arena_bytes"] >= caller.report["arena_bytes"]
    assert "_IO_IN_ARENA 1" in arena.files["vww_96_int8.h"] and "_IO_IN_ARENA 0" in caller.files["vww_96_int8.h"]


def corner_model() -> bytes:
    """x -> RESHAPE -> out0 (a view of the input); x -> RELU -> h; h -> out1; h -> RESHAPE -> out2
    (a second output viewing h); h -> RELU6 -> out3 (out1's buffer is read after it is written)."""
    mb = ModelBuilder()
    q = {"scale": 0.05, "zero_point": -4}
    x = mb.tensor("x", (1, 8), "int8", **q)
    s = mb.tensor("s", (2,), "int32", data=[2, 4])
    out0 = mb.tensor("out0", (2, 4), "int8", **q)
    mb.op("RESHAPE", [x, s], [out0])
    h = mb.tensor("h", (1, 8), "int8", **q)
    mb.op("RELU", [x], [h], version=2)
    out2 = mb.tensor("out2", (2, 4), "int8", **q)
    mb.op("RESHAPE", [h, s], [out2])
    out3 = mb.tensor("out3", (1, 8), "int8", **q)
    mb.op("RELU6", [h], [out3], version=2)
    return mb.build([x], [out0, h, out2, out3])


@pytest.mark.parametrize("io", ["caller", "arena"])
def test_zero_copy_corner_cases(io):
    res = assert_exact(corner_model(), inputs=6, io=io)
    assert len(res.outputs) == 4
    src = aotc.compile(corner_model(), io=io).files["model.c"]
    if io == "caller":   # out0 copies the input; out2 copies out1 (the kernels write only h's buffer)
        assert src.count("memcpy") == 2
