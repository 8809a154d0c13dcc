"""Schedule search: the execution order is a choice among the graph's topological orders, and on
branching graphs (residual blocks, parallel branches) it changes how many bytes are alive at once.

Which op must run before which comes from the ops' own tensors (`dependencies`): an op waits for
the producer of every non-constant tensor it reads, and ops touching one state tensor keep the
file's order. Storage is a separate matter: a view (RESHAPE, SQUEEZE: `alias` calls) owns no bytes
of its own and keeps its source's alive, so the cost model counts bytes by storage owner. (Mixing
the two, a view once "produced" its owner's bytes and so came before the op writing them.)

The search walks the orders as states "set of ops done" (bitmasks), level by level, keeping for
every state the order reaching it with the smallest peak of live bytes: the activations alive while
an op runs (its inputs, everything still needed later, its outputs and its scratch). It is exact
while a level holds at most `max_states` states and no state has more than `max_branching` ready
ops. Past that it keeps the best states only (a beam) and tries the ready ops in file order: no
longer exact, and the caller keeps the given order when it is better (memory.schedule). The beam
narrows with the graph so that the candidates tried stay near `work`: compile time grows linearly
with the number of ops."""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import Graph
from .liveness import round_up


def dependencies(graph: Graph, calls) -> list[set[int]]:
    """For each call (by index), the calls that must run before it."""
    producer = {t: i for i, c in enumerate(calls) for t in c.op.outputs}
    preds: list[set[int]] = [set() for _ in calls]
    last_state_user: dict = {}
    for i, c in enumerate(calls):
        for t in c.op.inputs:
            if t is None or t.is_const:
                continue
            if t.variable:   # state is read and written in place: keep the file's order among its users
                if t in last_state_user:
                    preds[i].add(last_state_user[t])
                last_state_user[t] = i
            elif t in producer and producer[t] != i:
                preds[i].add(producer[t])
    return preds


@dataclass
class _CostModel:
    """Live bytes by storage owner: per call, the owners it reads and the bytes it makes."""
    size: dict
    reads: list[set]
    writes: list[set]
    scratch: list[int]
    keep: set            # owners alive to the end: graph outputs and state
    start: set           # owners alive before the first op: graph inputs (read or output) and state
    inplace: list[set]   # per call, the owners its output may overwrite when it reads them last


def _cost_model(graph: Graph, calls, align: int) -> _CostModel:
    owner: dict = {}
    for c in calls:
        if c.alias:
            src = c.op.inputs[0]
            owner[c.op.outputs[0]] = owner.get(src, src)

    def own(t):
        return owner.get(t, t)

    reads = [{own(t) for t in c.op.inputs if t is not None and not t.is_const} for c in calls]
    writes = [set() if c.alias else {own(t) for t in c.op.outputs} for c in calls]
    size = {t: 0 if t.variable else round_up(t.nbytes, align) for r, w in zip(reads, writes) for t in r | w}
    keep = {own(t) for t in graph.outputs} | {t for t in size if t.variable}
    read_anywhere = set().union(*reads) if reads else set()
    start = {t for t in size if t.variable}
    start |= {own(t) for t in graph.inputs if own(t) in keep or own(t) in read_anywhere}
    for t in start:
        size.setdefault(t, round_up(t.nbytes, align))
    inplace = [{t for t in (c.op.inputs[k] for k in c.inplace) if t is not None and own(t) is t
                and not t.is_const and t not in keep and t not in start} for c in calls]
    return _CostModel(size, reads, writes, [round_up(c.scratch_bytes, align) for c in calls], keep, start,
                      inplace)


def peak_of(order: list[int], graph: Graph, calls, align: int) -> int:
    """The modelled peak of live bytes for `order` (indices into calls)."""
    m = _cost_model(graph, calls, align)
    remaining: dict = {}
    for i in order:
        for t in m.reads[i]:
            remaining[t] = remaining.get(t, 0) + 1
    live = set(m.start)
    live_bytes = sum(m.size[t] for t in live)
    peak = 0
    for i in order:
        for t in m.writes[i] - live:
            live.add(t)
            live_bytes += m.size[t]
        peak = max(peak, live_bytes + m.scratch[i])
        dead = [t for t in m.writes[i] if t not in m.keep and not remaining.get(t)]
        for t in m.reads[i]:
            remaining[t] -= 1
            if not remaining[t] and t not in m.keep:
                dead.append(t)
        for t in dead:
            if t in live:
                live.discard(t)
                live_bytes -= m.size[t]
    return peak


def search(graph: Graph, calls, align: int, max_states: int = 2000, max_branching: int = 8,
           work: int = 100_000) -> list[int]:
    """A topological order of `calls` (as indices) with a small modelled peak (the smallest while
    the search is exact); on ties the earlier one in file order."""
    n = len(calls)
    if n <= 2:
        return list(range(n))
    m = _cost_model(graph, calls, align)
    preds = dependencies(graph, calls)
    pred_mask = [sum(1 << p for p in ps) for ps in preds]
    succs: list[list[int]] = [[] for _ in range(n)]
    for i, ps in enumerate(preds):
        for p in ps:
            succs[p].append(i)
    users: dict = {}
    for i, r in enumerate(m.reads):
        for t in r:
            users[t] = users.get(t, 0) | (1 << i)
    made = [sum(m.size[t] for t in m.writes[i] if t not in m.start) for i in range(n)]
    # bytes op i may free: (size, readers) of what it reads, freed once every reader has run;
    # and what it writes that nobody reads and nobody keeps, freed at once
    read_masks = [[(m.size[t], users[t]) for t in m.reads[i] if t not in m.keep] for i in range(n)]
    unread = [sum(m.size[t] for t in m.writes[i] if t not in m.keep and t not in users) for i in range(n)]
    # an op that may write over an input it reads last (KernelCall.inplace) makes that many bytes fewer
    overwritable = [[(min(m.size[t], made[i]), users[t]) for t in m.inplace[i]] for i in range(n)]
    beam = max(8, min(max_states, work // (n * max_branching)))

    # a state: ops done (bitmask) -> (peak, live bytes, ready ops (bitmask), order as (op, parent))
    ready0 = sum(1 << i for i in range(n) if not pred_mask[i])
    states = {0: (0, sum(m.size[t] for t in m.start), ready0, None)}
    for _ in range(n):
        nxt: dict = {}
        for done, (peak, live, ready, order) in states.items():
            tried, pending = 0, ready
            while pending and tried < max_branching:
                low = pending & -pending
                pending ^= low
                tried += 1
                i = low.bit_length() - 1
                key = done | low
                step_peak = live + made[i] + m.scratch[i]
                if overwritable[i]:
                    step_peak -= max((sz for sz, readers in overwritable[i] if not readers & ~key), default=0)
                if step_peak < peak:
                    step_peak = peak
                old = nxt.get(key)
                if old is not None and old[0] <= step_peak:
                    continue   # as good an order reaches the same state (found first: earlier in file order)
                freed = unread[i]
                for sz, readers in read_masks[i]:
                    if not readers & ~key:
                        freed += sz
                now_ready = ready ^ low
                for s in succs[i]:
                    if not pred_mask[s] & ~key:
                        now_ready |= 1 << s
                nxt[key] = (step_peak, live + made[i] - freed, now_ready, (i, order))
        if len(nxt) > beam:
            nxt = dict(sorted(nxt.items(), key=lambda kv: kv[1][:2])[:beam])
        states = nxt
    best = min(states.values(), key=lambda s: s[:2])
    order, node = [], best[3]
    while node is not None:
        order.append(node[0])
        node = node[1]
    return order[::-1]
