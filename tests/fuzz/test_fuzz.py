"""The short, deterministic fuzz campaign CI runs (campaign.py documents the long one)."""
import campaign
from conftest import SHARED_MODELS


def test_short_campaign_finds_nothing():
    res = campaign.run(campaign.seed_models(SHARED_MODELS), iterations=1500, seed=1, cli_every=100)
    assert res.cases == 1500 and res.cli_cases == 15
    assert res.model_errors > 0 and res.compiled > 0   # the mutants exercise both outcomes
    assert not res.findings, res.findings[:5]


def test_structural_mutations_reach_every_field_kind():
    from aotc.demo import build_demo_model
    from mutators import fields
    described = " | ".join(f.what for f in fields(build_demo_model()))
    for expected in ("dim", "buffer", "scale", "zero_point", "quantized_dimension", "opcode_index",
                     "input", "output", "version", "builtin_code"):
        assert expected in described, expected
