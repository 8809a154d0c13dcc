"""ABS / NEG / SQUARE / SQRT / RSQRT / EXP / LOG / SIN / COS / FLOOR / CEIL / ROUND / CAST / ZEROS_LIKE /
LOGICAL_NOT one-op models against LiteRT (and TFLM where it runs the op). int8 models run all 256
input values."""
import numpy as np
import pytest

import aotc
from oputil import ModelBuilder, assert_exact


def unary_model(kind, dtype="int8", shape=(1, 256), q_in=(0.05, -3), q_out=(0.03, 4), version=1,
                out_dtype=None, options=None):
    mb = ModelBuilder()
    od = out_dtype or dtype
    qi = dict(scale=q_in[0], zero_point=q_in[1]) if dtype in ("int8", "int16") and q_in else {}
    qo = dict(scale=q_out[0], zero_point=q_out[1]) if od in ("int8", "int16") and q_out else {}
    x = mb.tensor("x", shape, dtype, **qi)
    y = mb.tensor("y", shape, od, **qo)
    mb.op(kind, [x], [y], options, version=version)
    return mb.build([x], [y])


def bool_wrapped(kind, src, dst, shape, options=None):
    """A bool graph input or output is wrapped in a CAST from / to int32 (the generated model.h does not
    include <stdbool.h>, so bool graph inputs and outputs do not build yet)."""
    mb = ModelBuilder()
    x = mb.tensor("x", shape, "int32" if src == "bool" else src)
    t = x
    if src == "bool":
        t = mb.tensor("xb", shape, "bool")
        mb.op("CAST", [x], [t])
    y = mb.tensor("yb" if dst == "bool" else "y", shape, dst)
    mb.op(kind, [t], [y], options)
    out = y
    if dst == "bool":
        out = mb.tensor("y", shape, "int32")
        mb.op("CAST", [y], [out])
    return mb.build([x], [out])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("unary")

    def make(name, arr):
        p = d / f"{name}.npy"
        np.save(p, arr)
        return p
    return make


def all_int8(files, lo=-128):
    return files(f"s8_{lo}", np.arange(-128, 128, dtype=np.int32).clip(lo, 127).astype(np.int8).reshape(1, 256))


def int16_ramp(files, lo=-32768, hi=32767, n=1024):
    v = np.linspace(lo, hi, n).round().astype(np.int16).reshape(1, n)
    return files(f"s16_{lo}_{hi}_{n}", v)


# ---- float32 -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["ABS", "NEG", "SQUARE", "SQRT", "RSQRT", "EXP", "LOG", "SIN", "COS", "FLOOR"])
def test_float32(kind):
    assert_exact(unary_model(kind, "float32", shape=(3, 40)), inputs=4)


def test_float32_edges(files):
    # no infinite results: verify counts inf == inf as a mismatch
    x = np.array([1e-3, -1e-3, 0.5, -0.5, 1.5, 2.5, -2.5, 1e-30, 88.0, 60.0, -104.0, 30.0, 7e-5, -7.5, np.nan, 3.3],
                 np.float32).reshape(1, 16)
    f = files("f32_edges", x)
    for kind in ["ABS", "NEG", "SQRT", "RSQRT", "EXP", "LOG", "FLOOR", "SIN", "COS"]:
        assert_exact(unary_model(kind, "float32", shape=(1, 16)), inputs=0, input_files=[f])


@pytest.mark.parametrize("kind", ["CEIL", "ROUND", "FLOOR", "ABS", "NEG", "SQUARE", "SQRT", "EXP", "LOG"])
def test_float32_against_tflm(kind, files):
    """CEIL and ROUND are not in LiteRT's reference resolver: TFLM is their reference."""
    x = np.array([0.5, -0.5, 1.5, 2.5, -2.5, -1.5, 3.49, -3.51, 0.25, 7.0, -7.25, 60.5] * 2, np.float32).reshape(1, 24)
    f = files("f32_halves", x)
    assert_exact(unary_model(kind, "float32", shape=(1, 24)), inputs=2, input_files=[f], reference="tflm")


def test_ceil_round_are_not_in_litert_reference():
    with pytest.raises(Exception, match="CEIL"):
        aotc.verify(unary_model("CEIL", "float32", shape=(1, 4)), inputs=1)


# ---- int8 tables ---------------------------------------------------------------------------------

@pytest.mark.parametrize("q", [((0.05, -3), (0.03, 4)), ((0.02, 0), (0.02, 0)), ((0.1, 100), (0.05, -128)),
                               ((0.01, -128), (0.01, -128))])
def test_abs_int8(q, files):
    assert_exact(unary_model("ABS", q_in=q[0], q_out=q[1], version=2), inputs=2, input_files=[all_int8(files)])


def test_abs_int8_against_tflm(files):
    assert_exact(unary_model("ABS", q_in=(0.05, -3), q_out=(0.03, 4), version=2), inputs=1,
                 input_files=[all_int8(files)], reference="tflm")


@pytest.mark.parametrize("q", [((0.05, -128), (0.01, -128)), ((0.1, -20), (0.02, -100)), ((0.5, 0), (0.09, -128))])
def test_sqrt_int8(q, files):
    f = all_int8(files, lo=q[0][1])   # LiteRT refuses negative inputs
    assert_exact(unary_model("SQRT", q_in=q[0], q_out=q[1], version=2), inputs=0, input_files=[f])


@pytest.mark.parametrize("q", [((0.05, -128), (0.05, -128)), ((0.01, -30), (0.2, -128)), ((0.3, 0), (0.01, -100))])
def test_rsqrt_int8(q, files):
    f = all_int8(files, lo=q[0][1])
    assert_exact(unary_model("RSQRT", q_in=q[0], q_out=q[1], version=2), inputs=0, input_files=[f])


@pytest.mark.parametrize("q", [((0.02, -3), (0.03, -128)), ((0.05, 0), (0.5, -128)), ((0.7, 0), (1e36, -128)),
                               ((0.04, 60), (0.001, -120))])
def test_exp_int8(q, files):
    assert_exact(unary_model("EXP", q_in=q[0], q_out=q[1], version=2), inputs=2, input_files=[all_int8(files)])


@pytest.mark.parametrize("q", [((0.05, -3), (0.03, 4)), ((0.1, -128), (0.05, 20)), ((0.5, 50), (0.04, -10))])
def test_log_int8(q, files):
    assert_exact(unary_model("LOG", q_in=q[0], q_out=q[1], version=2), inputs=2, input_files=[all_int8(files)])


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64"])
def test_neg_int(dtype):
    q = (0.05, 0) if dtype in ("int8", "int16") else None
    assert_exact(unary_model("NEG", dtype, shape=(2, 64), q_in=q, q_out=q), inputs=4)


# ---- int16 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("q", [((0.001, 0), (0.001, 0)), ((0.001, 0), (0.0007, 0)), (None, None)])
def test_abs_int16(q, files):
    assert_exact(unary_model("ABS", "int16", shape=(1, 1024), q_in=q[0], q_out=q[1], version=3),
                 inputs=2, input_files=[int16_ramp(files)])


def test_abs_int32():
    assert_exact(unary_model("ABS", "int32", shape=(2, 50), version=3), inputs=4)


@pytest.mark.parametrize("q", [((0.001, 0), (0.0003, 0)), ((0.01, 0), (0.00002, 0))])
def test_sqrt_int16(q, files):
    assert_exact(unary_model("SQRT", "int16", shape=(1, 1024), q_in=q[0], q_out=q[1], version=2),
                 inputs=0, input_files=[int16_ramp(files, lo=0)])


@pytest.mark.parametrize("q", [((0.001, 0), (0.0005, 0)), ((0.0003, 0), (0.002, 0))])
def test_rsqrt_int16(q, files):
    assert_exact(unary_model("RSQRT", "int16", shape=(1, 1024), q_in=q[0], q_out=q[1], version=3),
                 inputs=0, input_files=[int16_ramp(files, lo=0)])


@pytest.mark.parametrize("q", [((0.0002, 0), (0.0003, 0)), ((0.0001, 0), (0.00004, 0))])
def test_exp_int16(q, files):
    assert_exact(unary_model("EXP", "int16", shape=(1, 1024), q_in=q[0], q_out=q[1], version=2),
                 inputs=2, input_files=[int16_ramp(files)])


@pytest.mark.parametrize("q", [((0.001, 0), (0.0003, 0)), ((0.0002, 0), (0.0001, 0))])
def test_log_int16(q, files):
    assert_exact(unary_model("LOG", "int16", shape=(1, 1024), q_in=q[0], q_out=q[1], version=2),
                 inputs=2, input_files=[int16_ramp(files)])


def test_int16_zero_point_is_an_error():
    with pytest.raises(Exception, match="zero point 0"):
        aotc.verify(unary_model("EXP", "int16", shape=(1, 8), q_in=(0.001, 3), q_out=(0.001, 0), version=2), inputs=1)


@pytest.mark.parametrize("kind", ["SQUARE", "SIN", "FLOOR"])
def test_quantized_float_only_ops_are_an_error(kind):
    with pytest.raises(Exception, match="int8 is not supported"):
        aotc.verify(unary_model(kind, "int8", shape=(1, 8)), inputs=1)


# ---- CAST, ZEROS_LIKE, LOGICAL_NOT ---------------------------------------------------------------

CAST_PAIRS = [("float32", t) for t in ("int8", "uint8", "int16", "int32", "int64", "bool")] + \
    [(f, "float32") for f in ("int8", "uint8", "int16", "int32", "int64", "bool")] + \
    [("int32", "int8"), ("int32", "uint8"), ("int32", "int16"), ("int32", "bool"), ("int8", "int32"),
     ("uint8", "int8"), ("int8", "uint8"), ("int16", "int8"), ("bool", "int32"), ("int64", "int32"),
     ("int32", "int64")]


@pytest.mark.parametrize("src,dst", CAST_PAIRS)
def test_cast(src, dst, files):
    edges = None
    if src == "float32":
        edges = np.array([300.7, -300.2, np.nan, 1e10, -1e10, -2.5, 2.5, -0.7, 127.9, -128.9, 65535.5, np.inf,
                          -np.inf, 0.0, -0.0, 2147483520.0], np.float32).reshape(1, 16)
    elif src == "int32":
        edges = np.array([300, -300, 2**31 - 1, -2**31, 65535, 65536, -1, 0, 128, -129, 255, 256, 32768, -32769,
                          1, 2], np.int32).reshape(1, 16)
    kw = {"input_files": [files(f"cast_{src}", edges)]} if edges is not None else {}
    if "bool" in (src, dst):
        model = bool_wrapped("CAST", src, dst, (1, 16))
    else:
        model = unary_model("CAST", src, shape=(1, 16), out_dtype=dst, q_in=None, q_out=None,
                            options={"InDataType": 0, "OutDataType": 0})
    assert_exact(model, inputs=3, **kw)


@pytest.mark.parametrize("src,dst", [("float32", "int8"), ("float32", "int32"), ("int32", "int8"), ("int16", "float32")])
def test_cast_against_tflm(src, dst, files):
    """TFLM's float -> int cast gives 0 for NaN (LiteRT the type's maximum): rounding tflm follows it."""
    if src == "float32":
        x = np.array([np.nan, 1e10, -1e10, 300.5, -2.5, 7.9, 0.0, -0.0], np.float32)
    else:
        x = np.array([300, -300, 2**31 - 1, -2**31, 128, -129, 0, 5]).astype(src)
    f = files(f"cast_tflm_{src}", x.reshape(1, 8))
    model = unary_model("CAST", src, shape=(1, 8), out_dtype=dst, q_in=None, q_out=None)
    assert_exact(model, inputs=1, input_files=[f], reference="tflm")
    if src == "float32":
        assert not aotc.verify(model, inputs=0, input_files=[f], reference="tflm", rounding="litert").bit_exact


@pytest.mark.parametrize("dtype", ["float32", "int32", "int64"])
def test_zeros_like(dtype):
    assert_exact(unary_model("ZEROS_LIKE", dtype, shape=(2, 9), q_in=None, q_out=None), inputs=2)


def test_zeros_like_int8_is_an_error():
    with pytest.raises(Exception, match="int8 is not supported"):
        aotc.verify(unary_model("ZEROS_LIKE", "int8", shape=(2, 9)), inputs=1)


def test_logical_not():
    model = bool_wrapped("LOGICAL_NOT", "bool", "bool", (3, 7))
    assert_exact(model, inputs=3)
    assert_exact(model, inputs=2, reference="tflm")
