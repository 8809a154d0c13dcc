"""The generic kernels' Helium (MVE) paths only run on the Cortex-M55: one-op models covering the
parameters that select them (odd channel counts, groups, dilation, strides, padding, depth multipliers,
batches, int16x8) run on the emulated M55 and must be bit-exact with LiteRT."""
import shutil

import pytest

from aotc.bench import bench
from ops.test_conv import conv_model
from ops.test_elementwise import binary_model
from ops.test_fully_connected import fc_model

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                                reason="needs arm-none-eabi-gcc and qemu-system-arm")

CONV_CASES = [
    dict(kind="CONV_2D", c=5, out_c=7),
    dict(kind="CONV_2D", c=20, out_c=9, h=9, w=8, stride=(2, 2), pad="SAME", act="RELU"),
    dict(kind="CONV_2D", c=6, out_c=8, options={"groups": 2}, h=8, w=8),
    dict(kind="CONV_2D", c=33, out_c=13, dil=(2, 2), h=9, w=9),
    dict(kind="CONV_2D", c=3, out_c=5, k=(1, 1), n=2, per_channel=False),
    dict(kind="CONV_2D", dtype="int16", c=19, out_c=6, h=8, w=7),
    dict(kind="DEPTHWISE_CONV_2D", c=21, h=9, w=8),
    dict(kind="DEPTHWISE_CONV_2D", c=1, mult=6, h=9, w=8, stride=(2, 2)),
    dict(kind="DEPTHWISE_CONV_2D", c=3, mult=2, h=6, w=7),
    dict(kind="DEPTHWISE_CONV_2D", c=17, h=7, w=7, dil=(2, 2), pad="VALID", act="RELU6", n=2),
]
FC_CASES = [dict(depth=37, units=5), dict(depth=300, units=3, batches=2, bias=False)]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_conv_helium_paths_bit_exact_on_m55(case):
    r = bench(conv_model(**case), target="m55")
    assert r.bit_exact is True, r.summary()


@pytest.mark.parametrize("case", FC_CASES, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_fc_helium_paths_bit_exact_on_m55(case):
    r = bench(fc_model(**case), target="m55")
    assert r.bit_exact is True, r.summary()


@pytest.mark.parametrize("kind,act,shape", [("ADD", "NONE", (1, 37)), ("SUB", "RELU", (2, 5, 5, 3)),
                                            ("ADD", "RELU6", (1, 4)), ("SUB", "NONE", (256, 256))])
def test_add_sub_table_kernel_bit_exact_on_m55(kind, act, shape):
    """The int8 ADD/SUB kernel with tabulated input rescales: four Helium lanes, two gathers, and a
    predicated tail (37 and 75 elements). 65,536 random pairs reach the rounding ties: dropping the
    half-away-from-zero fixup of the requantization fails that case."""
    model = binary_model(kind, "int8", shape_a=shape, shape_b=shape, act=act)
    r = bench(model, target="m55")
    assert r.bit_exact is True, r.summary()
