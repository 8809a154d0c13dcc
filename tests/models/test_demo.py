"""The bundled example (aotc demo-model) compiles and verifies bit-exact: it is what the README runs."""
import aotc
from aotc.demo import build_demo_model, build_demo_model_float


def test_demo_model_is_deterministic():
    assert build_demo_model() == build_demo_model()


def test_demo_model_bit_exact_with_both_references():
    model = build_demo_model()
    for reference in ("litert", "tflm"):
        res = aotc.verify(model, inputs=10, reference=reference)
        assert res.bit_exact, res.summary()


def test_demo_model_outputs_are_not_saturated():
    """A demo whose softmax is pinned at -128 would prove little: check the outputs vary."""
    import numpy as np
    from aotc.verify import HostModel, input_sets
    compiled = aotc.compile(build_demo_model())
    host = HostModel(compiled)
    outs = [host.run(feed)[compiled.graph.outputs[0].index] for _, feed in input_sets(compiled.graph, 8, 0)]
    values = np.concatenate([o.reshape(-1) for o in outs])
    assert len(np.unique(values)) > 8


def test_float_demo_model_within_tolerance():
    """float32 models compile for the same ops; outputs agree within verify's stated tolerance."""
    res = aotc.verify(build_demo_model_float(), inputs=10)
    assert res.ok, res.summary()
    assert res.outputs[0].dtype == "float32" and res.outputs[0].max_abs_diff < 1e-5
