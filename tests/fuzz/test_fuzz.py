"""The short, deterministic fuzz campaign CI runs (campaign.py documents the long one)."""
import sys
from pathlib import Path

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


def test_structural_mutations_reach_window_parameters():
    """Strides, dilations and window sizes of every windowed op family are mutation targets."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
    from mutators import fields
    from test_codegen_c import FAMILIES
    described = " | ".join(f.what for build in FAMILIES.values() for f in fields(build()))
    for expected in ("stride_h", "stride_w", "dilation_h", "dilation_w", "filter_h", "filter_w",
                     "depth_multiplier"):
        assert expected in described, expected
