"""The CI budget of the differential fuzzer (random_models.py): 200 random valid models, each compiled
with its seed's random options and compared with LiteRT (bit-exact for integer outputs, within
verify's tolerance for float32); every 10th also with TFLM. random_campaign.py runs the long one."""
from __future__ import annotations

import importlib.util
from collections import Counter

import pytest

import aotc
from aotc.errors import UsageError
from random_models import Gen, random_model, run_case

CI_SEEDS = range(200)
TFLM_SEEDS = range(0, 200, 10)
HAVE_TFLM = importlib.util.find_spec("tflite_micro") is not None


@pytest.mark.parametrize("seed", CI_SEEDS)
def test_random_model_matches_litert(seed):
    rec = run_case(seed)
    assert rec["outcome"] != "failure", f"{rec['description']}\n{rec['detail']}"


@pytest.mark.skipif(not HAVE_TFLM, reason="the tflite-micro package (TFLM's Python interpreter) is not installed")
@pytest.mark.parametrize("seed", TFLM_SEEDS)
def test_random_model_matches_tflm(seed):
    rec = run_case(seed, reference="tflm")
    assert rec["outcome"] != "failure", f"{rec['description']}\n{rec['detail']}"


def test_generator_is_deterministic():
    assert random_model(17) == random_model(17)
    assert random_model(17)[0] != random_model(18)[0]


def test_generator_covers_the_op_families_and_the_stresses():
    """Over the CI seeds: every family, every op kind, every structural stress, every option value;
    aotc compiles almost all of them (a rejection is an option that does not apply, e.g. forced
    patches on a graph that does not start with a windowed op)."""
    families, kinds, notes, opts = Counter(), Counter(), Counter(), Counter()
    rejected = 0
    for seed in CI_SEEDS:
        g = Gen(seed)
        buf, _, _ = g.build()
        assert buf == random_model(seed)[0]
        families[g.family] += 1
        kinds.update(g.ops)
        notes.update(set(g.notes))
        _, options, _ = random_model(seed)
        opts.update(f"{k}={v.split(':')[0] if k == 'patches' else v.split('=')[0]}" for k, v in options.items())
        try:
            aotc.compile(buf, measure_code=False, **options)
        except (aotc.ModelError, UsageError):
            rejected += 1
    assert set(families) == {"int8", "int16", "float32"}
    assert set(kinds) >= {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL",
                          "AVERAGE_POOL_2D", "MAX_POOL_2D", "CONCATENATION", "RESHAPE", "RELU", "RELU6",
                          "LOGISTIC", "TANH", "SOFTMAX", "MEAN", "PAD", "SPLIT", "STRIDED_SLICE",
                          "TRANSPOSE", "QUANTIZE"}
    assert set(notes) >= {"shared-weights", "join", "concat-join", "concat(x,x)", "ADD(x,x)", "MUL(x,x)",
                          "reshape", "split", "output-also-intermediate"}
    from aotc.memory import PLANNERS
    assert {f"planner={p}" for p in PLANNERS} <= set(opts)
    assert {"schedule=search", "schedule=given", "io=caller", "io=arena", "pools=fast"} <= set(opts)
    assert rejected <= len(CI_SEEDS) // 10, rejected
