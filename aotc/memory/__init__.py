"""Static memory planning: liveness -> buffers -> planner -> checked Plan."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ModelError, UsageError
from ..ir import Graph, Tensor
from .check import check, check_schedule, check_views
from .liveness import Buffer, live_bytes, liveness, lower_bound, round_up

__all__ = ["Buffer", "Plan", "check_fits", "check_schedule", "liveness", "lower_bound", "peak", "plan", "schedule"]
from .planners import HEURISTICS, PLANNERS, arena_size, same_buffers
from .pools import assign as assign_pools
from .schedule import search as search_schedule

IO_MODES = ("caller", "arena")
SCHEDULES = ("search", "given")


@dataclass
class Plan:
    buffers: list[Buffer]
    offsets: dict[str, int]
    arena_size: int
    lower_bound: int
    planner: str
    align: int
    views: dict[Tensor, tuple[Tensor, int]]   # tensor -> (owner tensor, byte offset in the owner)
    io: str = "arena"
    # tensors whose storage is a caller's buffer: owner tensor -> ("input" | "output", position)
    external: dict[Tensor, tuple[str, int]] = field(default_factory=dict)
    elided: set[int] = field(default_factory=set)      # steps that need no code (concat in place)
    reuses: list[dict] = field(default_factory=list)   # in-place and concat rules applied
    candidates: dict[str, int] = field(default_factory=dict)   # planner -> arena bytes (for "best")
    pool_sizes: dict[str, int] = field(default_factory=dict)   # extra pools after the arena: name -> bytes
    arena_pool: str = "arena"          # the name of the first pool (the arena) when there are several
    _by_key: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # buffer_of's index

    def owner(self, t: Tensor) -> Tensor:
        return self.views.get(t, (t, 0))[0]

    def buffer_of(self, t: Tensor) -> Buffer:
        return self._buffer(self.owner(t))

    def _buffer(self, key) -> Buffer:
        """The first buffer of tensor `key` (or named `key`, for scratch), from an index built once."""
        if not self._by_key:
            for b in reversed(self.buffers):
                if b.tensor is not None:
                    self._by_key[b.tensor] = b
                self._by_key[b.name] = b
        if key not in self._by_key:
            raise KeyError(key)
        return self._by_key[key]

    def location(self, t: Tensor) -> tuple[str, int]:
        """("arena", offset), ("pool:NAME", offset) for an extra memory pool, or ("input" | "output",
        position) of the caller's buffer holding t."""
        ext = self.external.get(self.owner(t))
        if ext is not None:
            return ext
        return self.pool_of(self.buffer_of(t)), self.offset_of(t)

    def pool_of(self, b: Buffer) -> str:
        return "arena" if b.pool in ("arena", self.arena_pool) else f"pool:{b.pool}"

    def scratch_location(self, step: int) -> tuple[str, int]:
        b = self._buffer(f"scratch{step}")
        return self.pool_of(b), self.offsets[b.name]

    def offset_of(self, t: Tensor) -> int:
        return self.offsets[self.buffer_of(t).name] + self.view_offset(t)

    def view_offset(self, t: Tensor) -> int:
        """Byte offset of t inside the tensor owning its storage (0 unless t is a slice of it)."""
        return self.views.get(t, (t, 0))[1]


def external_storage(graph: Graph, views) -> dict[Tensor, tuple[str, int]]:
    """Zero-copy I/O: kernels read graph inputs from the caller's input buffers and write graph outputs
    straight into the caller's output buffers. An output that views an input, or a second output
    viewing the same tensor as an earlier one, stays a copy (codegen emits it)."""
    external: dict[Tensor, tuple[str, int]] = {}

    def owner(t):
        return views.get(t, (t, 0))[0]
    for i, t in enumerate(graph.inputs):
        external[owner(t)] = ("input", i)
    for j, t in enumerate(graph.outputs):
        external.setdefault(owner(t), ("output", j))
    return external


def schedule(graph: Graph, calls, align: int = 16, mode: str = "search", io: str = "arena"):
    """The calls in the execution order to plan: the given one, or the searched order when its
    lower bound (liveness with every reuse rule, not the search's model) is below the given one's.
    Either way the order is checked (check_schedule) before anything is planned on it."""
    if mode not in SCHEDULES:
        raise UsageError(f"unknown schedule '{mode}' (known: {', '.join(SCHEDULES)})")
    order = list(calls)
    if mode == "search":
        searched = [calls[i] for i in search_schedule(graph, calls, align)]
        if searched != order and peak(graph, searched, align, io)[0] < peak(graph, order, align, io)[0]:
            order = searched
    check_schedule(graph, order, [c.op for c in calls])
    return order


def _place(bufs: list[Buffer], planner: str, align: int):
    """(offsets, aligned size, planner description, per-planner sizes) for one pool."""
    candidates: dict[str, int] = {}
    chosen = planner
    if planner == "best":
        with same_buffers():   # the greedy orders hill_climb and branch_and_bound restart from are placed once
            results = {name: PLANNERS[name](bufs) for name in HEURISTICS}
        candidates = {name: max(round_up(arena_size(bufs, o), align), align) for name, o in results.items()}
        chosen = min(HEURISTICS, key=lambda n: candidates[n])
        offsets = results[chosen]
        chosen = f"best ({chosen})"
    else:
        offsets = PLANNERS[planner](bufs)
    # at least one aligned block even when every tensor lives in the caller's buffers: C has no
    # zero-length arrays, and the API stays the same for every model
    size = max(round_up(arena_size(bufs, offsets), align), align)
    return offsets, size, chosen, candidates


def plan(graph: Graph, calls, align: int = 16, planner: str = "best", io: str = "arena", views=None,
         pools=None) -> Plan:
    """`pools`: None for one arena, or a list of memory.pools.Pool, fastest first."""
    if planner not in PLANNERS:
        raise UsageError(f"unknown planner '{planner}' (known: {', '.join(sorted(PLANNERS))})")
    if io not in IO_MODES:
        raise UsageError(f"unknown I/O mode '{io}' (known: {', '.join(IO_MODES)})")
    check_schedule(graph, calls, views=views)
    # per-layer verification ("unshared") reads every tensor after the run: no bytes may be reused
    live = liveness(graph, calls, align, reuse=planner != "unshared", given_views=views)
    external = external_storage(graph, live.views) if io == "caller" else {}
    bufs = [b for b in live.buffers if b.tensor is None or b.tensor not in external]
    if not pools:
        offsets, size, chosen, candidates = _place(bufs, planner, align)
        check(bufs, offsets, size)
        check_views(calls, bufs, live.views, external)
        return Plan(bufs, offsets, size, lower_bound(bufs), chosen, align, live.views, io, external,
                    live.elided, live.reuses, candidates)
    owner = {t: o for t, (o, _) in live.views.items()}
    where, first_fit = assign_pools(bufs, calls, pools, lambda t: owner.get(t, t))
    offsets, sizes, chosen, candidates = {}, {}, planner, {}
    for p in pools:
        members = [b for b in bufs if where[b.name] == p.name]
        for b in members:
            b.pool = p.name
        offs, size, desc, cands = _place(members, planner, align)
        if p.limit is not None and size > p.limit:   # the planner lost to the first fit that chose the pools
            offs = {b.name: first_fit[b.name] for b in members}
            size = max(round_up(arena_size(members, offs), align), align)
        check(members, offs, size)
        offsets.update(offs)
        sizes[p.name] = size
        if p is pools[0]:
            chosen, candidates = desc, cands
    check_views(calls, bufs, live.views, external)
    first = pools[0].name
    return Plan(bufs, offsets, sizes[first], lower_bound(bufs), chosen, align, live.views, io, external,
                live.elided, live.reuses, candidates, {n: s for n, s in sizes.items() if n != first}, first)


def peak(graph: Graph, calls, align: int = 16, io: str = "arena", views=None) -> tuple[int, list[int]]:
    """The lower bound of the arena without placing anything, and the steps where it is reached."""
    live = liveness(graph, calls, align, given_views=views)
    external = external_storage(graph, live.views) if io == "caller" else {}
    per_step = live_bytes([b for b in live.buffers if b.tensor is None or b.tensor not in external])
    top = max(per_step, default=0)
    return top, [s for s, n in enumerate(per_step) if n == top]


def check_fits(plan: Plan, limit: int | None, what: str) -> None:
    """ModelError when the arena exceeds `limit` bytes: by how much, and which buffer is largest."""
    if limit is None or plan.arena_size <= limit:
        return
    big = max(plan.buffers, key=lambda b: (b.size, b.name))
    t = big.tensor
    desc = f'tensor {t.index} "{t.name}"' if t is not None else big.name
    raise ModelError(f"the arena needs {plan.arena_size:,} bytes, {plan.arena_size - limit:,} more than the "
                     f"{limit:,} of {what}; the largest buffer is {desc}, {big.size:,} bytes, "
                     f"live from step {big.first} to {big.last}")
