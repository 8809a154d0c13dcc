"""ADD / SUB / MUL one-op models, bit-exact with LiteRT's reference kernels."""
import numpy as np
import pytest

import aotc
from oputil import ModelBuilder, assert_exact, rng_weights

ACTS = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}
VERSIONS = {("ADD", "int8"): 2, ("ADD", "int16"): 3, ("ADD", "float32"): 1, ("ADD", "int32"): 1,
            ("SUB", "int8"): 2, ("SUB", "int16"): 3, ("SUB", "float32"): 1, ("SUB", "int32"): 1,
            ("MUL", "int8"): 2, ("MUL", "int16"): 5, ("MUL", "float32"): 1, ("MUL", "int32"): 1}


def binary_model(kind, dtype="int8", shape_a=(1, 4, 4, 3), shape_b=(1, 4, 4, 3), act="NONE",
                 scales=(0.05, 0.03, 0.06), zps=(-3, 7, 2), const_b=False, pot_scale_int16=None, seed=0,
                 b_range=(None, None)):
    mb = ModelBuilder()
    out_shape = tuple(np.broadcast_shapes(shape_a, shape_b))
    if dtype in ("float32", "int32"):
        q = [{}, {}, {}]
    else:
        if dtype == "int16":
            zps = (0, 0, 0)
        q = [{"scale": s, "zero_point": z} for s, z in zip(scales, zps)]
    a = mb.tensor("a", shape_a, dtype, **q[0])
    data_b = None
    if const_b:
        data_b = (rng_weights(shape_b, "float32", seed) if dtype == "float32"
                  else rng_weights(shape_b, dtype, seed, -100, 100) if dtype == "int32"
                  else rng_weights(shape_b, dtype, seed, *b_range))
    b = mb.tensor("b", shape_b, dtype, data=data_b, **q[1])
    y = mb.tensor("y", out_shape, dtype, **q[2])
    opts = {"FusedActivationFunction": ACTS[act]}
    if pot_scale_int16 is not None:
        opts["PotScaleInt16"] = pot_scale_int16
    mb.op(kind, [a, b], [y], opts, version=VERSIONS[(kind, dtype)])
    return mb.build([a] if const_b else [a, b], [y])


@pytest.mark.parametrize("kind", ["ADD", "SUB"])
@pytest.mark.parametrize("act", list(ACTS))
def test_addsub_int8_acts(kind, act):
    assert_exact(binary_model(kind, act=act, scales=(0.05, 0.03, 0.06)))


@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("shapes", [((1, 4, 4, 3), (3,)), ((2, 1, 5), (1, 3, 1)), ((1, 4, 4, 3), ()),
                                    ((), (2, 3)), ((2, 3, 1, 4, 1), (3, 5, 1, 2)), ((4, 1), (1, 1))])
def test_broadcast_int8(kind, shapes):
    assert_exact(binary_model(kind, shape_a=shapes[0], shape_b=shapes[1],
                              scales=(0.05, 0.03, 0.06 if kind != "MUL" else 0.15)))


@pytest.mark.parametrize("kind", ["ADD", "SUB"])
@pytest.mark.parametrize("scales", [(0.05, 0.05, 0.05), (0.01, 0.2, 0.1), (0.3, 0.002, 0.25)])
def test_addsub_int8_scales(kind, scales):
    assert_exact(binary_model(kind, scales=scales, zps=(-128, 127, -5)))


@pytest.mark.parametrize("kind", ["ADD", "SUB"])
@pytest.mark.parametrize("pot", [False, True])
def test_addsub_int16_general(kind, pot):
    # not power-of-two scales: the general path whatever pot_scale_int16 says
    assert_exact(binary_model(kind, "int16", scales=(0.0004, 0.0003, 0.0008), act="RELU",
                              pot_scale_int16=pot, shape_b=(3,)))


@pytest.mark.parametrize("kind", ["ADD", "SUB"])
@pytest.mark.parametrize("scales", [(2**-10, 2**-12, 2**-10), (2**-13, 2**-11, 2**-11)])
def test_addsub_int16_pot(kind, scales):
    assert_exact(binary_model(kind, "int16", scales=scales, pot_scale_int16=True))
    assert_exact(binary_model(kind, "int16", scales=scales, pot_scale_int16=False))


@pytest.mark.parametrize("act", ["NONE", "RELU6"])
def test_mul_int8(act):
    assert_exact(binary_model("MUL", act=act, scales=(0.05, 0.03, 0.12), zps=(5, -9, -20)))


def test_mul_int8_large_multiplier():
    # s1 * s2 / s_out = 1.9 > 1: a positive shift; small constant factors keep outputs in range
    assert_exact(binary_model("MUL", scales=(0.05, 0.04, 0.00105), zps=(0, 0, 0), const_b=True,
                              shape_b=(1, 1, 1, 3), b_range=(-1, 1)))


def test_mul_int16():
    assert_exact(binary_model("MUL", "int16", scales=(0.0003, 0.0002, 0.0025), act="RELU", shape_b=(4, 1, 3)))


@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
def test_float32(kind):
    assert_exact(binary_model(kind, "float32", shape_b=(4, 1, 1), act="RELU6"))
    assert_exact(binary_model(kind, "float32", const_b=True))


@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
def test_int32(kind):
    assert_exact(binary_model(kind, "int32", shape_b=(1, 1, 3), const_b=True, act="RELU"))


@pytest.mark.parametrize("kind", ["ADD", "SUB"])
@pytest.mark.parametrize("scales", [(2**-10, 2**-12, 2**-10), (2**-13, 2**-11, 2**-11)])
def test_addsub_int16_pot_against_tflm(kind, scales):
    """TFLM ignores pot_scale_int16 and always takes the general int16 path; LiteRT's power-of-two
    path rounds differently (1 LSB)."""
    model = binary_model(kind, "int16", scales=scales, pot_scale_int16=True)
    assert_exact(model, reference="tflm")
    assert not aotc.verify(model, inputs=6, reference="tflm", rounding="litert").bit_exact


def test_int32_add_activation_against_tflm():
    """TFLM's int32 ADD ignores the fused activation (clamps to the int32 range only)."""
    model = binary_model("ADD", "int32", shape_b=(1, 1, 3), const_b=True, act="RELU")
    assert_exact(model, reference="tflm")
    assert not aotc.verify(model, inputs=6, reference="tflm", rounding="litert").bit_exact


def mul_int16_tie_model():
    """int16 MUL whose multiplier differs between float (LiteRT: float(s1 * s2) / s_out) and double
    (TFLM: double(s1) * double(s2) / double(s_out)) arithmetic, with operands chosen so that a few
    of the 65536 products round differently."""
    rng = np.random.default_rng(1)
    a_vals = rng.integers(-32768, 32767, (256, 1)).astype(np.int16)
    b_vals = rng.integers(-32768, 32767, (1, 256)).astype(np.int16)
    mb = ModelBuilder()
    a = mb.tensor("a", (256, 1), "int16", scale=0.00011785073002101853, zero_point=0)
    b = mb.tensor("b", (1, 256), "int16", scale=0.00017367220425512642, zero_point=0, data=b_vals)
    y = mb.tensor("y", (256, 256), "int16", scale=0.002110842615365982, zero_point=0)
    mb.op("MUL", [a, b], [y], {"FusedActivationFunction": 0}, version=5)
    return mb.build([a], [y]), a_vals


def test_mul_int16_multiplier_against_tflm(tmp_path):
    model, a_vals = mul_int16_tie_model()
    path = tmp_path / "a.npy"
    np.save(path, a_vals)
    assert_exact(model, inputs=1, input_files=[path], reference="tflm")
    assert_exact(model, inputs=1, input_files=[path], reference="litert")
    crossed = aotc.verify(model, inputs=0, input_files=[path], reference="tflm", rounding="litert")
    assert not crossed.bit_exact


def test_output_scale_too_small_is_an_error():
    import aotc
    from aotc.errors import ModelError
    with pytest.raises(Exception, match="outside"):
        aotc.verify(binary_model("ADD", scales=(1.0, 1.0, 1e-9)), inputs=1)
    assert ModelError


# ---- MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, DIV, FLOOR_DIV, FLOOR_MOD, POW, ADD_N, LOGICAL, SELECT -----

def quick(model, inputs=3, **kw):
    return assert_exact(model, inputs=inputs, **kw)


def plain_model(kind, dtype, shape_a=(2, 3, 4), shape_b=(2, 3, 4), b_data=None, quant=None, opts=None,
                version=1, a_data=None):
    """A one-op binary model; b (and a) constant when data is given."""
    mb = ModelBuilder()
    q = [{}, {}, {}]
    if quant is not None:
        q = [{"scale": s, "zero_point": z} for s, z in quant]
    a = mb.tensor("a", shape_a, dtype, data=a_data, **q[0])
    b = mb.tensor("b", shape_b, dtype, data=b_data, **q[1])
    y = mb.tensor("y", tuple(np.broadcast_shapes(shape_a, shape_b)), dtype, **q[2])
    mb.op(kind, [a, b], [y], opts or {}, version=version)
    ins = [t for t, d in ((a, a_data), (b, b_data)) if d is None]
    return mb.build(ins, [y])


@pytest.mark.parametrize("kind", ["MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("dtype", ["float32", "int8", "int16", "int32"])
def test_max_min(kind, dtype):
    quant = ((0.05, 3), (0.05, 3), (0.05, 3)) if dtype in ("int8", "int16") else None
    quick(plain_model(kind, dtype, shape_a=(2, 1, 4), shape_b=(3, 1), quant=quant,
                      version=4 if dtype == "int16" else 2))


@pytest.mark.parametrize("kind", ["MAXIMUM", "MINIMUM"])
def test_max_min_against_tflm(kind):
    quant = ((0.05, 3), (0.05, 3), (0.05, 3))
    quick(plain_model(kind, "int8", shape_b=(4,), quant=quant, version=2), reference="tflm")
    quick(plain_model(kind, "float32", shape_b=(3, 1)), reference="tflm")


def test_max_min_int64():
    quick(plain_model("MAXIMUM", "int64", shape_b=(1, 4), version=4))


@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_squared_difference_plain(dtype):
    quick(plain_model("SQUARED_DIFFERENCE", dtype, shape_a=(1, 2, 3, 4, 1), shape_b=(2, 1, 1, 5)))


@pytest.mark.parametrize("quant", [((0.05, 3), (0.07, -2), (0.2, -128)), ((0.02, -128), (0.02, 127), (0.9, -100)),
                                   ((0.1, 0), (0.01, 10), (0.5, 5))])
def test_squared_difference_int8(quant):
    quick(plain_model("SQUARED_DIFFERENCE", "int8", quant=quant, shape_b=(3, 1), version=2))


def test_squared_difference_int8_against_tflm():
    quick(plain_model("SQUARED_DIFFERENCE", "int8", quant=((0.05, 3), (0.07, -2), (0.2, -128)), version=2),
          reference="tflm")


def test_squared_difference_int16_tflm_only():
    """TFLM has an int16 SQUARED_DIFFERENCE (left shift 0); LiteRT's reference kernel does not."""
    model = plain_model("SQUARED_DIFFERENCE", "int16", quant=((0.001, 0), (0.0015, 0), (0.05, 0)), version=2)
    quick(model, reference="tflm")
    with pytest.raises(Exception, match="no int16 path"):
        aotc.verify(model, inputs=1, reference="litert")


def test_squared_difference_large_output_multiplier():
    """Output rescale >= 1: TFLM multiplies it (QuantizeMultiplier); LiteRT's
    QuantizeMultiplierSmallerThanOneExp CHECK-fails, so it is an error with rounding litert."""
    # (any nonzero difference saturates at such an output scale: the test is about the error)
    model = plain_model("SQUARED_DIFFERENCE", "int8", quant=((0.05, 0), (0.05, 0), (1e-7, -128)),
                        shape_b=(4,), b_data=np.array([1, -1, 2, 0], np.int8), version=2)
    quick(model, reference="tflm")
    with pytest.raises(Exception, match="outside"):
        aotc.verify(model, inputs=1, reference="litert")


DIV_ACTS = ["NONE", "RELU6"]


@pytest.mark.parametrize("act", DIV_ACTS)
def test_div_float(act):
    quick(plain_model("DIV", "float32", shape_b=(3, 1), opts={"FusedActivationFunction": ACTS[act]}))


def test_div_float_near_zero():
    """Divisors near zero give huge (finite) quotients; with RELU6 the infinities clamp."""
    tiny = np.array([1e-30, -1e-30, 3e-38, -2e-37], np.float32)
    quick(plain_model("DIV", "float32", shape_b=(4,), b_data=tiny * 1e4))
    quick(plain_model("DIV", "float32", shape_b=(4,), b_data=tiny, opts={"FusedActivationFunction": 3}))


def test_div_int32():
    b = np.array([3, -3, 7, -1, 1, 2, -5, 100], np.int32).reshape(2, 4)
    quick(plain_model("DIV", "int32", shape_a=(3, 2, 4), shape_b=(2, 4), b_data=b))
    quick(plain_model("DIV", "int32", shape_a=(3, 2, 4), shape_b=(2, 4), b_data=b,
                      opts={"FusedActivationFunction": 1}))


def _nonzero(shape, dtype, zp, lo, hi, seed=3):
    v = rng_weights(shape, dtype, seed, lo, hi)
    v[v == zp] = zp + 1 if zp < hi else zp - 1
    return v


@pytest.mark.parametrize("quant", [((0.05, 3), (0.02, -5), (0.1, 0)), ((0.01, -128), (0.05, 127), (0.02, 10)),
                                   ((0.5, 0), (0.004, 0), (1.0, -20))])
def test_div_int8(quant):
    b = _nonzero((2, 3, 4), "int8", quant[1][1], -128, 127)
    quick(plain_model("DIV", "int8", quant=quant, b_data=b, version=2))
    b = _nonzero((4,), "int8", quant[1][1], -128, 127)
    quick(plain_model("DIV", "int8", quant=quant, shape_b=(4,), b_data=b, version=2,
                      opts={"FusedActivationFunction": 1}))


def test_div_int8_against_tflm():
    quant = ((0.05, 3), (0.02, -5), (0.1, 0))
    quick(plain_model("DIV", "int8", quant=quant, b_data=_nonzero((2, 3, 4), "int8", -5, -128, 127), version=2),
          reference="tflm")


def test_div_int16():
    quant = ((0.001, 0), (0.0005, 0), (0.004, 0))
    quick(plain_model("DIV", "int16", quant=quant, b_data=_nonzero((2, 3, 4), "int16", 0, -32768, 32767), version=2))


def test_div_zero_divisor_is_an_error():
    with pytest.raises(Exception, match="zero elements"):
        aotc.verify(plain_model("DIV", "int32", shape_a=(3, 2), shape_b=(2,), b_data=np.array([1, 0], np.int32)), inputs=1)


@pytest.mark.parametrize("kind", ["FLOOR_DIV", "FLOOR_MOD"])
@pytest.mark.parametrize("dtype", ["int8", "int16", "int32"])
def test_floor_div_mod_int(kind, dtype):
    # negative and positive divisors, the saturation edge -128 / -1 and divisor -1 with INT_MIN
    info = np.iinfo(dtype)
    b = np.array([3, -3, 7, -7, 1, -1, 2, -2, info.max, info.min, 5, -128], dtype).reshape(3, 4)
    quick(plain_model(kind, dtype, shape_a=(2, 3, 4), shape_b=(3, 4), b_data=b, version=2))
    quick(plain_model(kind, dtype, shape_a=(3, 1), shape_b=(1, 4),
                      b_data=np.array([-1, 1, -3, 4], dtype).reshape(1, 4), version=2))


@pytest.mark.parametrize("kind", ["FLOOR_DIV", "FLOOR_MOD"])
def test_floor_div_mod_float(kind):
    near_zero = np.array([1e-30, -1e-30, 0.5, -0.25], np.float32)
    quick(plain_model(kind, "float32", shape_b=(4,), b_data=near_zero, version=2))
    quick(plain_model(kind, "float32", shape_a=(3, 1), shape_b=(1, 4), version=2))


@pytest.mark.parametrize("kind", ["FLOOR_DIV", "FLOOR_MOD"])
def test_floor_div_mod_against_tflm(kind):
    quick(plain_model(kind, "float32", shape_b=(4,), version=1), reference="tflm")


def test_floor_mod_zero_divisor_is_an_error():
    with pytest.raises(Exception, match="zero elements"):
        aotc.verify(plain_model("FLOOR_MOD", "int8", shape_a=(3, 2), shape_b=(2,), b_data=np.array([1, 0], np.int8)), inputs=1)


def test_pow():
    quick(plain_model("POW", "float32", shape_b=(4,), b_data=np.array([2.0, 0.5, -1.0, 3.0], np.float32)))
    quick(plain_model("POW", "float32"))   # negative bases to fractional powers: NaN on both sides
    quick(plain_model("POW", "int32", shape_b=(4,), b_data=np.array([0, 1, 2, 3], np.int32)))


@pytest.mark.parametrize("dtype", ["float32", "int32"])
@pytest.mark.parametrize("n", [2, 3, 8])
def test_add_n(dtype, n):
    mb = ModelBuilder()
    ins = [mb.tensor(f"x{i}", (2, 3, 4), dtype) for i in range(n)]
    y = mb.tensor("y", (2, 3, 4), dtype)
    mb.op("ADD_N", ins, [y])
    quick(mb.build(ins, [y]))


def test_add_n_int8_is_an_error():
    mb = ModelBuilder()
    ins = [mb.tensor(f"x{i}", (4,), "int8", scale=0.1, zero_point=0) for i in range(2)]
    y = mb.tensor("y", (4,), "int8", scale=0.1, zero_point=0)
    mb.op("ADD_N", ins, [y])
    with pytest.raises(Exception, match="type int8 is not supported"):
        aotc.verify(mb.build(ins, [y]), inputs=1)


# bool graph inputs/outputs are made from float inputs (x > 0) and turned back into int8 with
# SELECT_V2(cond, 1, 0)

def bool_input(mb, name, shape):
    x = mb.tensor(name, shape, "float32")
    zero = mb.tensor(f"{name}_zero", (), "float32", data=np.array(0, np.float32))
    c = mb.tensor(f"{name}_bool", shape, "bool")
    mb.op("GREATER", [x, zero], [c])
    return x, c


def bool_to_int8(mb, cond, shape):
    q = {"scale": 1.0, "zero_point": 0}
    one = mb.tensor(f"one{cond}", (), "int8", data=np.array(1, np.int8), **q)
    zero = mb.tensor(f"zero{cond}", (), "int8", data=np.array(0, np.int8), **q)
    out = mb.tensor(f"int{cond}", shape, "int8", **q)
    mb.op("SELECT_V2", [cond, one, zero], [out])
    return out


@pytest.mark.parametrize("kind", ["LOGICAL_AND", "LOGICAL_OR"])
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 1, 4), (3, 1))])
def test_logical(kind, shapes):
    mb = ModelBuilder()
    xa, a = bool_input(mb, "a", shapes[0])
    xb, b = bool_input(mb, "b", shapes[1])
    shape = tuple(np.broadcast_shapes(*shapes))
    y = mb.tensor("y", shape, "bool")
    mb.op(kind, [a, b], [y])
    quick(mb.build([xa, xb], [bool_to_int8(mb, y, shape)]))


def select_model(kind, dtype, cshape, xshape, yshape, quant=None, version=1):
    mb = ModelBuilder()
    xc, c = bool_input(mb, "c", cshape)
    q = {"scale": 0.1, "zero_point": 2} if dtype in ("int8", "int16") else {}
    x = mb.tensor("x", xshape, dtype, **q)
    y = mb.tensor("y", yshape, dtype, **q)
    shape = tuple(np.broadcast_shapes(xshape, yshape)) if kind == "SELECT_V2" else xshape
    if kind == "SELECT_V2":
        shape = tuple(np.broadcast_shapes(cshape, shape))
    out = mb.tensor("out", shape, dtype, **q)
    mb.op(kind, [c, x, y], [out], version=version)
    return mb.build([xc, x, y], [out])


@pytest.mark.parametrize("dtype", ["float32", "int8", "int16", "int32"])
def test_select(dtype):
    quick(select_model("SELECT", dtype, (2, 3, 4), (2, 3, 4), (2, 3, 4)), inputs=2)
    quick(select_model("SELECT", dtype, (2,), (2, 3, 4), (2, 3, 4)), inputs=2)     # rank-1 condition: rows
    quick(select_model("SELECT", dtype, (), (2, 3), (2, 3)), inputs=2)              # scalar condition


@pytest.mark.parametrize("dtype", ["float32", "int8", "int16", "int32"])
def test_select_v2(dtype):
    quick(select_model("SELECT_V2", dtype, (3, 1, 4), (2, 1), (1, 1, 4), version=2))
    quick(select_model("SELECT_V2", dtype, (4,), (2, 3, 4), (2, 3, 4), version=2))


def test_select_v2_against_tflm():
    quick(select_model("SELECT_V2", "int8", (3, 1, 4), (2, 1), (1, 1, 4), version=2), reference="tflm")
    quick(select_model("SELECT_V2", "float32", (2, 3), (2, 3), (2, 3)), reference="tflm")


def test_types_declared():
    from aotc.ops.registry import OPS
    for kind in ("ADD", "SUB", "MUL", "DIV"):
        assert set(OPS[kind].types) == {"float32", "int8", "int16", "int32"}
    assert "bool" in OPS["SELECT_V2"].types and OPS["LOGICAL_AND"].types == ("bool",)
