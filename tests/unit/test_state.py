"""Variable (state) tensors: they keep their bytes from invoke to invoke, no other buffer shares them,
and init fills them as TFLite's ResetVariableTensor does (int8: the zero point, else 0)."""
import pytest

import aotc
from aotc import codegen, reader
from aotc.compiler import Options, compile_graph
from oputil import ModelBuilder, assert_exact

QUANT = {"int8": dict(scale=0.05, zero_point=-7), "int16": dict(scale=0.001, zero_point=0), "float32": {}}


def state_add_model(dtype: str) -> bytes:
    """y = x + s, s a state tensor no op writes: y shows the value init gave s."""
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 4), dtype, **QUANT[dtype])
    s = mb.tensor("s", (1, 4), dtype, variable=True, **QUANT[dtype])
    h = mb.tensor("h", (1, 4), dtype, **QUANT[dtype])
    y = mb.tensor("y", (1, 4), dtype, **QUANT[dtype])
    mb.op("ADD", [x, s], [h], {}, version=3 if dtype == "int16" else 1)
    mb.op("ADD", [h, x], [y], {}, version=3 if dtype == "int16" else 1)
    return mb.build([x], [y])


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_state_starts_as_the_reference_resets_it(dtype):
    assert_exact(state_add_model(dtype), inputs=4, sanitize=True)


def test_a_wrong_initial_state_is_caught(monkeypatch):
    monkeypatch.setattr(codegen, "state_fill", lambda t: 0)   # int8 state must start at its zero point
    res = aotc.verify(state_add_model("int8"), inputs=2)
    assert not res.bit_exact


def test_state_is_never_shared_and_is_cleared_by_init():
    compiled = compile_graph(reader.read(state_add_model("int8")), Options())
    plan = compiled.plan
    state = [b for b in plan.buffers if b.tensor is not None and b.tensor.variable]
    assert len(state) == 1 and (state[0].first, state[0].last) == (0, len(compiled.calls) - 1)
    off = plan.offsets[state[0].name]
    assert f"memset(ctx->arena + {off}, {-7 & 0xFF}, 4u)" in compiled.files["model.c"]
    assert "stateful" in compiled.files["model.h"]
