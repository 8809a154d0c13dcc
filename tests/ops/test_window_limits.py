"""Strides, dilations, window sizes and paddings at and beyond LiteRT's limits (found with hostile
models: a 3x3 SAME CONV_2D of dilation 2^30 compiled and its C overflowed int in the tap range).
Beyond the limit: one ModelError naming the op and the parameter, as LiteRT refuses the model too.
At the limit: bit-exact with LiteRT and clean under AddressSanitizer + UBSan."""
import pytest

import aotc
from aotc.errors import ModelError
from oputil import ModelBuilder, assert_exact
from test_conv import conv_model
from test_transpose_conv import tconv_model


def pool_model(kind="MAX_POOL_2D", f=(3, 3), stride=(1, 1), h=16, w=16, dtype="int8"):
    """One SAME pool over x[1, h, w, 2]."""
    mb = ModelBuilder()
    q = {} if dtype == "float32" else {"scale": 0.1, "zero_point": -2}
    out_h, out_w = -(-h // stride[0]), -(-w // stride[1])
    x = mb.tensor("x", (1, h, w, 2), dtype, **q)
    y = mb.tensor("y", (1, out_h, out_w, 2), dtype, **q)
    mb.op(kind, [x], [y], {"Padding": 0, "StrideH": stride[0], "StrideW": stride[1], "FilterHeight": f[0],
                           "FilterWidth": f[1]})
    return mb.build([x], [y])


def litert_refuses(model: bytes) -> bool:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    try:
        it = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        it.allocate_tensors()
    except (RuntimeError, ValueError):
        return True
    return False


BEYOND = {  # name: (model, the message's location, what it names)
    "conv_dilation_2^30": (lambda: conv_model(h=16, w=16, c=4, dil=(2**30, 2**30)), "op 0 CONV_2D", "dilation_h"),
    "conv_dilation_int_max": (lambda: conv_model(h=16, w=16, c=4, dil=(1, 2**31 - 1)), "op 0 CONV_2D", "dilation_w"),
    "conv_stride": (lambda: conv_model(h=16, w=16, c=4, stride=(32768, 1)), "op 0 CONV_2D", "stride_h"),
    "depthwise_dilation": (lambda: conv_model(kind="DEPTHWISE_CONV_2D", h=16, w=16, c=4, dil=(1, 32768)),
                           "op 0 DEPTHWISE_CONV_2D", "dilation_w"),
    "depthwise_stride": (lambda: conv_model(kind="DEPTHWISE_CONV_2D", h=16, w=16, c=4, stride=(1, 2**30)),
                         "op 0 DEPTHWISE_CONV_2D", "stride_w"),
    "conv_padding": (lambda: conv_model(h=16, w=16, c=4, k=(5, 1), dil=(16384, 1)),
                     'op 0 CONV_2D, tensor 1 "w"', "padding along height is 32768"),
    "depthwise_padding": (lambda: conv_model(kind="DEPTHWISE_CONV_2D", h=16, w=16, c=4, k=(1, 5), dil=(1, 16384)),
                          'op 0 DEPTHWISE_CONV_2D, tensor 1 "w"', "padding along width is 32768"),
    "max_pool_padding": (lambda: pool_model(f=(65537, 3)), "op 0 MAX_POOL_2D", "padding along height is 32768"),
    "average_pool_padding": (lambda: pool_model("AVERAGE_POOL_2D", f=(3, 65537)), "op 0 AVERAGE_POOL_2D",
                             "padding along width is 32768"),
    "l2_pool_padding": (lambda: pool_model("L2_POOL_2D", f=(65537, 1), dtype="float32"), "op 0 L2_POOL_2D",
                        "padding along height"),
    "transpose_conv_stride": (lambda: tconv_model(h=1, w=1, stride=(32768, 1)), "op 0 TRANSPOSE_CONV", "stride_h"),
    "transpose_conv_padding": (lambda: tconv_model(h=1, w=1, c=1, out_c=1, k=(65537, 1), stride=(1, 1)),
                               'op 0 TRANSPOSE_CONV, tensor 1 "w"', "padding along height is 32768"),
}


@pytest.mark.parametrize("case", list(BEYOND))
def test_window_parameters_beyond_litert_are_one_line_model_errors(case):
    build, location, names = BEYOND[case]
    model = build()
    assert litert_refuses(model)   # the limit is the reference's
    with pytest.raises(ModelError) as info:
        aotc.compile(model, measure_code=False)
    msg = str(info.value)
    assert msg.startswith(location + ":") and names in msg and "\n" not in msg, msg


AT_LIMIT = {  # the largest values LiteRT accepts: pads of 32767 reach the kernels
    "conv_dilation": lambda: conv_model(h=16, w=16, c=4, dil=(32767, 32767)),
    "conv_stride": lambda: conv_model(h=16, w=16, c=4, stride=(32767, 1), dil=(1, 32767)),
    "depthwise_dilation": lambda: conv_model(kind="DEPTHWISE_CONV_2D", h=16, w=16, c=4, mult=2, dil=(32767, 32767)),
    "conv_padding": lambda: conv_model(h=16, w=16, c=4, k=(5, 1), dil=(16383, 1)),
    "max_pool_window": lambda: pool_model(f=(65536, 3)),
    "average_pool_stride": lambda: pool_model("AVERAGE_POOL_2D", f=(2, 65536), stride=(2**30, 1)),
    "transpose_conv_window": lambda: tconv_model(h=1, w=2, c=1, out_c=2, k=(65536, 2), stride=(1, 32767)),
}


@pytest.mark.parametrize("case", list(AT_LIMIT))
def test_window_parameters_at_litert_limit_are_bit_exact_and_sanitizer_clean(case):
    model = AT_LIMIT[case]()
    assert not litert_refuses(model)
    res = assert_exact(model, inputs=2, sanitize=True)
    assert "clean" in res.summary()


def test_window_arithmetic_beyond_int32_is_refused():
    """A 3-row SAME window over 2^31 - 1 rows: size + pad + dilation would overflow the kernel's int."""
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 2**31 - 1, 1, 1), "int8", scale=0.1, zero_point=0)
    y = mb.tensor("y", (1, 2**31 - 1, 1, 1), "int8", scale=0.1, zero_point=0)
    mb.op("MAX_POOL_2D", [x], [y], {"Padding": 0, "StrideH": 1, "StrideW": 1, "FilterHeight": 3, "FilterWidth": 1})
    with pytest.raises(ModelError, match=r"^op 0 MAX_POOL_2D: window arithmetic along height reaches 2147483649, "
                                         "beyond int32"):
        aotc.compile(mb.build([x], [y]), measure_code=False)
