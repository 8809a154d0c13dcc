"""The operator table behind `aotc ops` and docs/ops.md: complete, honest about types, and in step
with the registry."""
from pathlib import Path

from aotc.op_table import NOT_SUPPORTED, TFLM_BUILTINS, markdown, rows
from aotc.ops import OPS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ops.md"


def test_docs_ops_md_is_generated_from_the_table():
    assert DOCS.read_text() == markdown(), "regenerate with: python -m aotc.op_table > docs/ops.md"


def test_every_registered_op_declares_its_types_and_a_way_to_run():
    for r in rows("generic"):
        if r.kind in OPS:
            assert r.types, f"{r.kind} declares no types"
            assert r.supported, f"{r.kind}: {r.reason}"


def test_every_tflm_builtin_is_supported_or_says_why():
    unsupported = [r for r in rows("generic") if r.in_tflm and not r.supported]
    assert {r.kind for r in unsupported} == set(NOT_SUPPORTED)
    assert len([k for k in TFLM_BUILTINS if k in OPS]) >= 90


def test_m55_lowers_the_cmsis_nn_ops_with_cmsis_nn_first():
    m55 = {r.kind: r for r in rows("m55")}
    for kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX", "ADD", "MUL"):
        assert m55[kind].backends[0] == "cmsis_nn", kind
