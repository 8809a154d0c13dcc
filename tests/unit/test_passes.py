"""Each graph pass on tiny graphs built in code: what it rewrites, and what it must leave alone."""
from __future__ import annotations

import numpy as np
import pytest

from aotc import passes
from aotc.errors import UsageError
from aotc.ir import Graph, Op, Quant, Tensor
from aotc.passes.layout import int_mean_equals_avgpool
from aotc.passes.requant import merge_exact, round_trip_exact


def q(s, zp=0):
    return Quant((s,), (zp,))


def act(name, shape=(1, 4, 4, 2), dtype="int8", quant=None):
    return Tensor(name, shape, dtype, quant if quant is not None or dtype == "float32" else q(0.1, -3))


def const(name, data, dtype="int32", quant=None):
    a = np.asarray(data)
    return Tensor(name, a.shape, dtype, quant, a.astype(dtype))


def conv(x, y, activation="NONE", padding="VALID"):
    w = Tensor("w", (2, 1, 1, x.shape[3]), x.dtype, q(0.02) if x.dtype != "float32" else None,
               np.ones((2, 1, 1, x.shape[3]), dtype=x.dtype))
    return Op("CONV_2D", [x, w, None], [y], {"activation": activation, "padding": padding, "stride_h": 1,
                                              "stride_w": 1, "dilation_h": 1, "dilation_w": 1}, 0)


def graph(ops, inputs, outputs):
    for i, op in enumerate(ops):
        op.index = i
        op.sources = (i,)
    return Graph(ops, inputs, outputs)


def kinds(g):
    return [o.kind for o in g.ops]


# ---- fuse_activations -------------------------------------------------------------------------------

@pytest.mark.parametrize("relu,prior,want", [("RELU", "NONE", "RELU"), ("RELU6", "NONE", "RELU6"),
                                             ("RELU_N1_TO_1", "NONE", "RELU_N1_TO_1"),
                                             ("RELU6", "RELU", "RELU6"), ("RELU", "RELU6", "RELU6")])
def test_fuse_activation(relu, prior, want):
    x, h, y = act("x"), act("h"), act("y")
    g = graph([conv(x, h, prior), Op(relu, [h], [y])], [x], [y])
    log = []
    out = passes.fuse_activations(g, log)
    out.verify()
    assert kinds(out) == ["CONV_2D"] and out.ops[0].attrs["activation"] == want
    assert out.ops[0].outputs == [y] and out.ops[0].sources == (0, 1)
    assert log[0]["action"] == "fused"


def test_fuse_activation_float_and_combination_kept():
    x, h, y = act("x", dtype="float32"), act("h", dtype="float32"), act("y", dtype="float32")
    g = graph([conv(x, h), Op("RELU", [h], [y])], [x], [y])
    assert kinds(passes.fuse_activations(g)) == ["CONV_2D"]
    # RELU_N1_TO_1 then RELU is [0, 1]: no fused activation says that
    x, h, y = act("x"), act("h"), act("y")
    g = graph([conv(x, h, "RELU_N1_TO_1"), Op("RELU", [h], [y])], [x], [y])
    log = []
    assert kinds(passes.fuse_activations(g, log)) == ["CONV_2D", "RELU"]
    assert log[0]["action"] == "kept"


def test_fuse_activation_not_when_requantizing_or_shared():
    x, h, y = act("x"), act("h"), act("y", quant=q(0.05, -3))
    g = graph([conv(x, h), Op("RELU", [h], [y])], [x], [y])
    assert kinds(passes.fuse_activations(g)) == ["CONV_2D", "RELU"]
    x, h, y = act("x"), act("h"), act("y")
    g = graph([conv(x, h), Op("RELU", [h], [y])], [x], [y, h])      # h is also a graph output
    assert kinds(passes.fuse_activations(g)) == ["CONV_2D", "RELU"]
    x, h, y, z = act("x"), act("h"), act("y"), act("z")
    g = graph([conv(x, h), Op("RELU", [h], [y]), Op("RELU6", [h], [z])], [x], [y, z])
    assert kinds(passes.fuse_activations(g)) == ["CONV_2D", "RELU", "RELU6"]
    x, h, y = act("x"), act("h"), act("y")                           # producer without fused activation
    g = graph([Op("RESHAPE", [x], [h]), Op("RELU", [h], [y])], [x], [y])
    assert kinds(passes.fuse_activations(g)) == ["RESHAPE", "RELU"]


# ---- requantize ---------------------------------------------------------------------------------------

def test_identity_quantize_removed_and_output_rewired():
    x, h, y, z = act("x"), act("h"), act("y"), act("z")
    g = graph([conv(x, h), Op("QUANTIZE", [h], [y]), Op("RELU", [y], [z])], [x], [z])
    out = passes.requantize(g)
    assert kinds(out) == ["CONV_2D", "RELU"] and out.ops[1].inputs == [h]
    # as the last op: the producer writes the graph output directly
    g = graph([conv(x, h), Op("QUANTIZE", [h], [y])], [x], [y])
    out = passes.requantize(g)
    out.verify()
    assert kinds(out) == ["CONV_2D"] and out.ops[0].outputs == [y]
    # input straight to output: kept
    g = graph([Op("QUANTIZE", [x], [y])], [x], [y])
    assert kinds(passes.requantize(g)) == ["QUANTIZE"]


def test_real_requantize_kept():
    x, h, y = act("x"), act("h"), act("y", quant=q(0.2, 1))
    g = graph([conv(x, h), Op("QUANTIZE", [h], [y])], [x], [y])
    assert kinds(passes.requantize(g)) == ["CONV_2D", "QUANTIZE"]


def test_dequantize_quantize_round_trip():
    x, h, f, y, z = act("x"), act("h"), act("f", dtype="float32"), act("y"), act("z")
    g = graph([conv(x, h), Op("DEQUANTIZE", [h], [f]), Op("QUANTIZE", [f], [y]), Op("RELU", [y], [z])], [x], [z])
    out = passes.requantize(g)
    out.verify()
    assert kinds(out) == ["CONV_2D", "RELU"]
    # the float output is read elsewhere: DEQUANTIZE stays, QUANTIZE goes
    g = graph([conv(x, h), Op("DEQUANTIZE", [h], [f]), Op("QUANTIZE", [f], [y]), Op("RELU", [y], [z])],
              [x], [z, f])
    assert kinds(passes.requantize(g)) == ["CONV_2D", "DEQUANTIZE", "RELU"]
    # back to another quantization: kept
    y2 = act("y2", quant=q(0.3, 0))
    g = graph([conv(x, h), Op("DEQUANTIZE", [h], [f]), Op("QUANTIZE", [f], [y2])], [x], [y2])
    assert kinds(passes.requantize(g)) == ["CONV_2D", "DEQUANTIZE", "QUANTIZE"]


def test_round_trip_proof():
    assert round_trip_exact(act("a", quant=q(0.1, -3)))
    assert round_trip_exact(act("a", dtype="int16", quant=q(1 / 32768)))
    assert not round_trip_exact(act("a", quant=q(3e38, 0)))    # scale * q overflows float32


def test_merge_requantizations():
    # int8 -> a 256x finer int16 -> back: the middle step loses nothing
    a, b, c = act("a", quant=q(0.1, 0)), act("b", dtype="int16", quant=q(0.1 / 256, 0)), act("c", quant=q(0.1, 0))
    assert merge_exact(a, b, c)
    # ... but to 2x coarser, gemmlowp's two roundings of -63.5 differ from one (-64 vs -63)
    assert not merge_exact(a, b, act("c", quant=q(0.2, 0)))
    a2, b2, c2 = act("a", quant=q(0.1, 0)), act("b", quant=q(0.3, 0)), act("c", quant=q(0.1, 0))
    assert not merge_exact(a2, b2, c2)             # coarser in the middle loses information
    x, h = act("x", quant=q(0.1, 0)), act("h", quant=q(0.1, 0))
    g = graph([conv(x, h), Op("QUANTIZE", [h], [b]), Op("QUANTIZE", [b], [c])], [x], [c])
    out = passes.requantize(g)
    assert kinds(out) == ["CONV_2D", "QUANTIZE"] and out.ops[1].inputs == [h] and out.ops[1].sources == (1, 2)
    g = graph([conv(x, h), Op("QUANTIZE", [h], [b2]), Op("QUANTIZE", [b2], [c2])], [x], [c2])
    assert kinds(passes.requantize(g)) == ["CONV_2D", "QUANTIZE", "QUANTIZE"]


# ---- layout -------------------------------------------------------------------------------------------

def test_cancel_transposes():
    x, a, b, z = act("x", (1, 2, 3, 4)), act("a", (1, 4, 2, 3)), act("b", (1, 2, 3, 4)), act("z", (1, 2, 3, 4))
    p1, p2 = const("p1", [0, 3, 1, 2]), const("p2", [0, 2, 3, 1])
    g = graph([Op("TRANSPOSE", [x, p1], [a]), Op("TRANSPOSE", [a, p2], [b]), Op("RELU", [b], [z])], [x], [z])
    out = passes.cancel_transposes(g)
    out.verify()
    assert kinds(out) == ["RELU"] and out.ops[0].inputs == [x]
    # not inverse permutations: kept
    b3 = act("b", (1, 3, 4, 2))
    g = graph([Op("TRANSPOSE", [x, p1], [a]), Op("TRANSPOSE", [a, p1], [b3])], [x], [b3])
    assert kinds(passes.cancel_transposes(g)) == ["TRANSPOSE", "TRANSPOSE"]


def test_merge_reshapes():
    x, a, b, z = act("x", (1, 8)), act("a", (2, 4)), act("b", (4, 2)), act("z", (4, 2))
    g = graph([Op("RESHAPE", [x], [a]), Op("RESHAPE", [a], [b]), Op("RELU", [b], [z])], [x], [z])
    out = passes.merge_reshapes(g)
    out.verify()
    assert kinds(out) == ["RESHAPE", "RELU"] and out.ops[0].inputs[0] is x and out.ops[0].sources == (0, 1)
    c = act("c", (1, 8))     # back to the start: nothing left
    g = graph([Op("RESHAPE", [x], [a]), Op("RESHAPE", [a], [c]), Op("RELU", [c], [z])], [x], [z])
    assert kinds(passes.merge_reshapes(g)) == ["RELU"]


def _mean(x, y, axes=(1, 2), keep=True):
    return Op("MEAN", [x, const("axes", list(axes))], [y], {"keep_dims": keep})


def test_mean_to_avgpool_float():
    x, y = act("x", (1, 5, 3, 2), "float32"), act("y", (1, 1, 1, 2), "float32")
    out = passes.mean_to_avgpool(graph([_mean(x, y)], [x], [y]))
    assert kinds(out) == ["AVERAGE_POOL_2D"]
    assert (out.ops[0].attrs["filter_h"], out.ops[0].attrs["filter_w"]) == (5, 3)
    y2 = act("y", (1, 2), "float32")
    assert kinds(passes.mean_to_avgpool(graph([_mean(x, y2, keep=False)], [x], [y2]))) == ["MEAN"]
    y3 = act("y", (1, 5, 1, 2), "float32")
    assert kinds(passes.mean_to_avgpool(graph([_mean(x, y3, (2,))], [x], [y3]))) == ["MEAN"]


def test_mean_to_avgpool_int8_only_when_proven():
    # the proof itself: LiteRT's MEAN (fixed-point 1/n) against the pool's rounded division
    results = {(zp, n): int_mean_equals_avgpool("int8", 0.1, zp, n) for zp in (0, -3, 5) for n in (1, 2, 4, 9, 25)}
    assert results[(0, 1)]
    for (zp, n), ok in results.items():
        x, y = act("x", (1, n, 1, 2), quant=q(0.1, zp)), act("y", (1, 1, 1, 2), quant=q(0.1, zp))
        out = passes.mean_to_avgpool(graph([_mean(x, y)], [x], [y]))
        assert kinds(out) == (["AVERAGE_POOL_2D"] if ok else ["MEAN"])
    x, y = act("x", (1, 1, 1, 2), quant=q(0.1, 0)), act("y", (1, 1, 1, 2), quant=q(0.2, 0))
    assert kinds(passes.mean_to_avgpool(graph([_mean(x, y)], [x], [y]))) == ["MEAN"]


# ---- fold_pad (off by default) ----------------------------------------------------------------------

def _pad(x, p, pads, value=None):
    ins = [x, const("pads", pads)]
    if value is not None:
        ins.append(value)
    return Op("PADV2" if value is not None else "PAD", ins, [p])


def test_fold_pad_into_conv():
    x, p, y = act("x", (1, 4, 4, 2)), act("p", (1, 7, 6, 2)), act("y", (1, 7, 6, 2))
    g = graph([_pad(x, p, [[0, 0], [1, 2], [0, 2], [0, 0]]), conv(p, y)], [x], [y])
    out = passes.fold_pad(g)
    out.verify()
    assert kinds(out) == ["CONV_2D"]
    c = out.ops[0]
    assert c.inputs[0] is x and c.attrs["padding"] == "EXPLICIT" and c.attrs["explicit_padding"] == (1, 0, 2, 2)
    assert c.sources == (0, 1)


def test_fold_pad_adds_same_padding():
    x, p = act("x", (1, 4, 4, 2)), act("p", (1, 6, 6, 2))
    w = Tensor("w", (2, 3, 3, 2), "int8", q(0.02), np.ones((2, 3, 3, 2), np.int8))
    y = act("y", (1, 6, 6, 2))
    c = Op("CONV_2D", [p, w, None], [y], {"activation": "NONE", "padding": "SAME", "stride_h": 1, "stride_w": 1,
                                          "dilation_h": 1, "dilation_w": 1})
    out = passes.fold_pad(graph([_pad(x, p, [[0, 0], [1, 1], [1, 1], [0, 0]]), c], [x], [y]))
    assert out.ops[0].attrs["explicit_padding"] == (2, 2, 2, 2)


def test_fold_pad_kept():
    x, p, y = act("x", (1, 4, 4, 2)), act("p", (1, 6, 6, 2)), act("y", (1, 6, 6, 2))
    # fill value is not the zero point
    v = const("v", [7], "int8", q(0.1, -3)).__class__("v", (1,), "int8", q(0.1, -3), np.array([7], np.int8))
    g = graph([_pad(x, p, [[0, 0], [1, 1], [1, 1], [0, 0]], v), conv(p, y)], [x], [y])
    assert kinds(passes.fold_pad(g)) == ["PADV2", "CONV_2D"]
    # channel padding
    p2, y2 = act("p", (1, 4, 4, 4)), act("y", (1, 4, 4, 2))
    g = graph([_pad(x, p2, [[0, 0], [0, 0], [0, 0], [1, 1]]), conv(p2, y2)], [x], [y2])
    assert kinds(passes.fold_pad(g)) == ["PAD", "CONV_2D"]
    # pooling: TFLite excludes padding from the window
    pool = Op("MAX_POOL_2D", [p], [act("z", (1, 6, 6, 2))], {"activation": "NONE", "padding": "VALID",
                                                              "stride_h": 1, "stride_w": 1, "filter_h": 1, "filter_w": 1})
    g = graph([_pad(x, p, [[0, 0], [1, 1], [1, 1], [0, 0]]), pool], [x], pool.outputs)
    assert kinds(passes.fold_pad(g)) == ["PAD", "MAX_POOL_2D"]


# ---- registry -------------------------------------------------------------------------------------------

def test_registry_and_run():
    names = [p.name for p in passes.PASSES]
    assert len(names) == len(set(names))
    assert all(p.doc and p.summary for p in passes.PASSES)
    assert all(p.default for p in passes.PASSES)   # every pass is on unless --disable-pass
    with pytest.raises(UsageError, match="unknown pass 'nope'"):
        passes.run(Graph([], [], []), disabled=("nope",))
    x, h, y = act("x"), act("h"), act("y")
    g = passes.run(graph([conv(x, h), Op("RELU", [h], [y])], [x], [y]))
    assert kinds(g) == ["CONV_2D"]
    assert any(a["action"] == "fused" for a in g.pass_log["actions"])
    x, h, y = act("x"), act("h"), act("y")
    g = passes.run(graph([conv(x, h), Op("RELU", [h], [y])], [x], [y]), disabled=("fuse_activations",))
    assert kinds(g) == ["CONV_2D", "RELU"]
    assert "fold_pad" in passes.describe()
