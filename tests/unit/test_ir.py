"""Graph IR: toposort order and cycle detection, Graph.verify's structural invariants."""
from __future__ import annotations

import numpy as np
import pytest

from aotc import ModelError
from aotc.ir import Graph, Op, Quant, Tensor


def act(name: str, index: int = -1) -> Tensor:
    return Tensor(name, (1, 4), "int8", Quant((0.1,), (0,)), index=index)


def const(name: str) -> Tensor:
    return Tensor(name, (4,), "int32", data=np.zeros(4, np.int32))


def op(kind, ins, outs, index):
    return Op(kind, list(ins), list(outs), index=index)


def diamond():
    """x -> A -> a ; a -> B -> b ; a -> C -> c ; (b, c) -> D -> y"""
    x, a, b, c, y = (act(n) for n in "xabcy")
    A = op("A", [x, const("wa")], [a], 0)
    B = op("B", [a], [b], 1)
    C = op("C", [a, None], [c], 2)
    D = op("D", [b, c], [y], 3)
    return (A, B, C, D), x, y


def test_toposort_keeps_a_valid_order():
    (A, B, C, D), x, y = diamond()
    g = Graph([A, B, C, D], [x], [y])
    assert g.toposort() == [A, B, C, D]
    g.verify()


def test_toposort_reorders_a_reversed_schedule():
    (A, B, C, D), x, y = diamond()
    g = Graph([D, C, B, A], [x], [y])
    order = g.toposort()
    assert order.index(A) < order.index(B) < order.index(D)
    assert order.index(A) < order.index(C) < order.index(D)
    assert sorted(order, key=lambda o: o.index) == [A, B, C, D]
    with pytest.raises(ModelError):
        g.verify()  # the unsorted schedule uses before it defines
    Graph(order, [x], [y]).verify()


def test_toposort_is_stable_for_independent_ops():
    x1, x2, y1, y2 = act("x1"), act("x2"), act("y1"), act("y2")
    P, Q = op("P", [x1], [y1], 0), op("Q", [x2], [y2], 1)
    assert Graph([Q, P], [x1, x2], [y1, y2]).toposort() == [Q, P]
    assert Graph([P, Q], [x1, x2], [y1, y2]).toposort() == [P, Q]


def test_toposort_long_chain_does_not_recurse():
    x = act("x")
    ts = [x] + [act(f"t{i}") for i in range(5000)]
    ops = [op("N", [ts[i]], [ts[i + 1]], i) for i in range(5000)]
    g = Graph(list(reversed(ops)), [x], [ts[-1]])
    assert g.toposort() == ops


def test_toposort_detects_a_cycle():
    x, a, b, y = act("x"), act("a"), act("b"), act("y")
    P = op("P", [x, b], [a], 0)
    Q = op("Q", [a], [b], 1)
    R = op("R", [b], [y], 2)
    g = Graph([P, Q, R], [x], [y])
    with pytest.raises(ModelError, match="cycle") as info:
        g.toposort()
    assert "op 0 P" in str(info.value) or "op 1 Q" in str(info.value)


def test_toposort_detects_a_self_loop():
    x, a = act("x"), act("a")
    P = op("P", [x, a], [a], 4)
    with pytest.raises(ModelError, match="op 4 P.*cycle"):
        Graph([P], [x], [a]).toposort()


def test_toposort_detects_a_long_cycle():
    ts = [act(f"t{i}") for i in range(50)]
    ops = [op("N", [ts[i]], [ts[(i + 1) % 50]], i) for i in range(50)]
    with pytest.raises(ModelError, match="cycle"):
        Graph(ops, [], [ts[0]]).toposort()


def test_verify_catches_use_before_def():
    (A, B, C, D), x, y = diamond()
    g = Graph([A, D, B, C], [x], [y])
    with pytest.raises(ModelError) as info:
        g.verify()
    msg = str(info.value)
    assert "op 3 D" in msg and '"b"' in msg and "no earlier op produces" in msg


def test_verify_catches_a_tensor_with_no_producer():
    x, orphan, y = act("x"), act("orphan", 7), act("y")
    g = Graph([op("P", [x, orphan], [y], 0)], [x], [y])
    with pytest.raises(ModelError, match=r'op 0 P, tensor 7 "orphan"'):
        g.verify()


def test_verify_catches_two_producers_and_writing_an_input():
    x, a, y = act("x"), act("a"), act("y")
    with pytest.raises(ModelError, match="already has a producer"):
        Graph([op("P", [x], [a], 0), op("Q", [x], [a], 1), op("R", [a], [y], 2)], [x], [y]).verify()
    with pytest.raises(ModelError, match="already has a producer"):
        Graph([op("P", [a], [x], 0)], [x, a], [x]).verify()


def test_verify_catches_an_output_never_produced():
    x, a, y = act("x"), act("a"), act("y")
    with pytest.raises(ModelError, match="graph output is never produced"):
        Graph([op("P", [x], [a], 0)], [x], [y]).verify()


def test_verify_accepts_constants_optional_inputs_and_identity():
    (A, B, C, D), x, y = diamond()
    Graph([A, B, C, D], [x], [y]).verify()           # C has a None input, A a constant
    Graph([], [x], [x]).verify()                     # an output that is an input


def test_op_sources_and_error_location():
    t = act("w", 3)
    o = Op("CONV_2D", [t], [act("y")], index=5)
    assert o.sources == (5,)
    assert str(o.error("bad", t)) == 'op 5 CONV_2D, tensor 3 "w": bad'
    assert o.input(0) is t and o.input(3) is None


def test_tensor_sizes_and_identity():
    a, b = act("same"), act("same")
    assert a != b and len({a, b}) == 2              # identity, not value, equality
    assert a.size == 4 and a.nbytes == 4 and not a.is_const
    c = const("c")
    assert c.is_const and c.nbytes == 16
    assert Tensor("s", (), "float32").size == 1 and Tensor("z", (0, 3), "int16").nbytes == 0
