"""Schedule search: the execution order is a choice among the graph's topological orders, and on
branching graphs (residual blocks, parallel branches) it changes how many bytes are alive at once.

The search walks the orders as states "set of ops done" (bitmasks), level by level, and keeps for
every state the order reaching it with the smallest peak, so it is exact for the cost it models:
bytes of the activations alive while an op runs (its inputs, everything still needed later, its
outputs and its scratch). The number of states is bounded by the graph's width; past
`max_states` at one level (fewer on big graphs, to bound compile time) the search keeps the best
states only (a beam), which is no longer exact but still never worse than the given order, since that
order is kept as a candidate too."""
from __future__ import annotations

from ..ir import Graph
from .liveness import round_up


def _cost_model(graph: Graph, calls, align: int):
    """Per call: tensors it reads and writes (activation storage owners only) and scratch bytes."""
    owner: dict = {}
    for call in calls:
        if call.alias:
            src = call.op.inputs[0]
            owner[call.op.outputs[0]] = owner.get(src, src)

    def own(t):
        return owner.get(t, t)

    reads = [{own(t) for t in c.op.inputs if t is not None and not t.is_const} for c in calls]
    writes = [{own(t) for t in c.op.outputs} for c in calls]
    return reads, writes, [c.scratch_bytes for c in calls], own


def peak_of(order: list[int], graph: Graph, calls, align: int) -> int:
    """The modelled peak of live bytes for `order` (indices into calls)."""
    reads, writes, scratch, own = _cost_model(graph, calls, align)
    size = {}
    for r, w in zip(reads, writes):
        for t in r | w:
            size[t] = 0 if t.variable else round_up(t.nbytes, align)
    keep = {own(t) for t in graph.outputs} | {t for t in size if t.variable}
    remaining = {t: sum(1 for i in order if t in reads[i]) for t in size}
    live = {own(t) for t in graph.inputs}
    peak = 0
    for i in order:
        live |= writes[i]
        peak = max(peak, sum(size.get(t, round_up(t.nbytes, align)) for t in live) + round_up(scratch[i], align))
        for t in reads[i]:
            remaining[t] -= 1
        live = {t for t in live if remaining.get(t, 0) > 0 or t in keep}
    return peak


def search(graph: Graph, calls, align: int, max_states: int = 2000, work: int = 2_000_000) -> list[int]:
    """A topological order of `calls` (as indices) with the smallest modelled peak; the given order
    on ties. The beam narrows on big graphs so that states x ops x levels stays near `work`."""
    n = len(calls)
    if n <= 2:
        return list(range(n))
    max_states = max(16, min(max_states, work // (n * n)))
    reads, writes, scratch, own = _cost_model(graph, calls, align)
    producer = {t: i for i, w in enumerate(writes) for t in w}
    preds = [0] * n
    for i, r in enumerate(reads):
        for t in r:
            p = producer.get(t)
            if p is not None and p != i:
                preds[i] |= 1 << p
    users: dict = {}
    for i, r in enumerate(reads):
        for t in r:
            users[t] = users.get(t, 0) | (1 << i)
    size = {t: round_up(t.nbytes, align) for t in set(users) | set(producer)}
    keep = {own(t) for t in graph.outputs}
    graph_inputs = {own(t) for t in graph.inputs}
    variables = {t for t in size if t.variable}
    # bytes alive before any op: state, and graph inputs someone reads (or that are outputs)
    start = sum(size[t] for t in variables) + sum(size[t] for t in graph_inputs
                                                   if t in size and t not in variables and (t in keep or t in users))
    made = [sum(size[t] for t in writes[i] if t not in variables) for i in range(n)]

    read_masks = [[(size[t], users[t]) for t in reads[i] if t not in keep and t not in variables]
                  for i in range(n)]
    unread = [sum(size[t] for t in writes[i] if t not in keep and t not in variables and t not in users)
              for i in range(n)]

    def freed(i: int, done: int) -> int:
        """Bytes whose last reader is op i (or that nobody reads), once ops `done` and i have run."""
        return sum(sz for sz, mask in read_masks[i] if not mask & ~done) + unread[i]

    identity = list(range(n))
    # state: ops done (bitmask) -> (peak so far, order, bytes alive now)
    states: dict[int, tuple[int, list[int], int]] = {0: (0, [], start)}
    for _ in range(n):
        nxt: dict[int, tuple[int, list[int], int]] = {}
        for done, (peak, order, live) in states.items():
            for i in range(n):
                if done >> i & 1 or preds[i] & ~done:
                    continue
                key = done | (1 << i)
                step_peak = max(peak, live + made[i] + round_up(scratch[i], align))
                cand = (step_peak, order + [i], live + made[i] - freed(i, key))
                if key not in nxt or cand[:2] < nxt[key][:2]:
                    nxt[key] = cand
        if len(nxt) > max_states:
            prefix = {sum(1 << i for i in identity[:len(next(iter(nxt.values()))[1])])}
            ranked = sorted(nxt.items(), key=lambda kv: kv[1])
            nxt = dict(ranked[:max_states] + [kv for kv in ranked[max_states:] if kv[0] in prefix])
        states = nxt
    (_, order, _), = states.values()
    if peak_of(order, graph, calls, align) > peak_of(identity, graph, calls, align):
        return identity   # the model is approximate past the beam: never do worse than the given order
    return order
