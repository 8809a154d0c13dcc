"""Liveness over the schedule: every activation tensor and kernel scratch buffer becomes a Buffer
with a lifetime [first, last] in op steps.

Some tensors get no buffer of their own but a view into another tensor's (owner, byte offset):
- RESHAPE/SQUEEZE/EXPAND_DIMS outputs view their input (the lowering marks them `alias`);
- the output of an elementwise op may overwrite an input at that input's last use (the lowering
  lists such inputs in `inplace`);
- the inputs of a CONCATENATION along its outermost non-unit axis are written by their producers
  straight into their slice of the output, and the concatenation disappears.
The owner's lifetime grows to cover its views. Variable (state) tensors live over every step, so no
other buffer ever shares their bytes and they survive from invoke to invoke.

An op whose kernel declares a trail for an input it reads for the last time (KernelCall.trails, see
overlap.py) lets its output buffer overlap that input's, the output starting at least the trail
below the input (Buffer.trails); the planners decide whether they do."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UnsupportedError, where
from ..ir import Graph, Tensor


@dataclass
class Buffer:
    name: str
    size: int
    align: int
    first: int
    last: int
    tensor: Tensor | None = None      # None for scratch
    pool: str = "arena"
    trails: dict[str, int] = field(default_factory=dict)   # buffer name -> bytes: this buffer may
                                      # overlap that one if it starts at least that far below it

    def room_below(self, other: "Buffer") -> int:
        """Bytes this buffer needs below `other`'s start to share addresses with it: its size, or
        the trail when it may overlap `other` (see overlap.py)."""
        return self.trails.get(other.name, self.size)

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass
class Liveness:
    buffers: list[Buffer]
    views: dict[Tensor, tuple[Tensor, int]]    # tensor -> (owner tensor, byte offset in the owner)
    elided: set[int] = field(default_factory=set)          # steps whose op needs no code
    reuses: list[dict] = field(default_factory=list)       # what each in-place / concat rule did


def round_up(n: int, align: int) -> int:
    return (n + align - 1) // align * align


class _Views:
    """Union of tensors into owners with byte offsets."""

    def __init__(self):
        self.parent: dict[Tensor, tuple[Tensor, int]] = {}

    def find(self, t: Tensor) -> tuple[Tensor, int]:
        off = 0
        while t in self.parent:
            t, d = self.parent[t]
            off += d
        return t, off

    def owner(self, t: Tensor) -> Tensor:
        return self.find(t)[0]

    def attach(self, t: Tensor, owner: Tensor, offset: int = 0) -> None:
        self.parent[t] = (owner, offset)


def _spans(graph: Graph, calls, views: _Views) -> dict[Tensor, list[int]]:
    last_step = max(len(calls) - 1, 0)
    span: dict[Tensor, list[int]] = {}

    def touch(t: Tensor | None, step: int) -> None:
        if t is None or t.is_const:
            return
        t = views.owner(t)
        s = span.setdefault(t, [step, step])
        s[0], s[1] = min(s[0], step), max(s[1], step)

    for t in graph.inputs:
        touch(t, 0)
    for step, call in enumerate(calls):
        for t in call.op.inputs:
            touch(t, step)
        for t in call.op.outputs:
            touch(t, step)
    for t in graph.outputs:
        touch(t, last_step)
    for t in list(span):
        if t.variable:
            span[t] = [0, last_step]
    return span


def _concat_slices(call) -> list[int] | None:
    """Byte offsets of each input in the output when a CONCATENATION only stacks contiguous blocks
    (every dimension before the axis is 1) and changes no value (same type and quantization)."""
    from ..ops.registry import same_quant
    op = call.op
    y = op.outputs[0]
    axis = op.attrs.get("axis", 0)
    axis = axis + len(y.shape) if axis < 0 else axis
    if any(d != 1 for d in y.shape[:axis]) or op.attrs.get("activation", "NONE") != "NONE":
        return None
    offsets, off = [], 0
    for t in op.inputs:
        if t is None or t.is_const or t.variable or t.dtype != y.dtype or not same_quant(t, y):
            return None
        offsets.append(off)
        off += t.nbytes
    return offsets if off == y.nbytes else None


def liveness(graph: Graph, calls, align: int, reuse: bool = True, given_views=None) -> Liveness:
    """Buffers and views for `calls` in schedule order. With `reuse`, apply the in-place and
    concatenation rules; aliases (views that need no code) always apply, and so do `given_views`
    (tensor -> (owner, byte offset), from patch-based execution)."""
    views = _Views()
    for t, (owner, offset) in (given_views or {}).items():
        views.attach(t, owner, offset)
    for call in calls:
        if call.alias:
            src = views.owner(call.op.inputs[0])
            if src.is_const:  # nothing would ever write the output's bytes in the arena
                raise UnsupportedError(f"{where(call.op, call.op.outputs[0])}: output views constant data "
                                       "(a graph output that is a reshaped constant is not supported)")
            views.attach(call.op.outputs[0], src)
    elided: set[int] = set()
    reuses: list[dict] = []
    if reuse:
        # graph inputs belong to the caller (or to the copy-in), graph outputs must keep their value
        pinned = {views.owner(t) for t in list(graph.inputs) + list(graph.outputs)}
        span = _spans(graph, calls, views)
        for step, call in enumerate(calls):
            if call.inplace and not call.alias:
                _try_inplace(step, call, views, span, pinned, reuses, frozenset(graph.outputs))
            elif call.op.kind == "CONCATENATION" and not call.alias:
                if _try_concat(step, call, views, span, pinned, reuses):
                    elided.add(step)
    span = _spans(graph, calls, views)
    bufs = [Buffer(f"t{t.index}" if t.index >= 0 else t.name, t.nbytes, align, s[0], s[1], tensor=t)
            for t, s in span.items()]
    if reuse:
        _overlaps(calls, views, bufs, align, frozenset(graph.inputs) | frozenset(graph.outputs), reuses)
    for step, call in enumerate(calls):
        if call.scratch_bytes:
            bufs.append(Buffer(f"scratch{step}", call.scratch_bytes, align, step, step))
    all_views = {t: views.find(t) for t in views.parent}
    return Liveness(bufs, all_views, elided, reuses)


def _overlaps(calls, views: _Views, bufs: list[Buffer], align: int, io, reuses) -> None:
    """Buffer.trails from the kernels' trails: the input must be its own buffer, read for the last
    time by this op, and neither it nor the output the caller's or state."""
    by_tensor = {b.tensor: b for b in bufs}
    pinned = {views.owner(t) for t in io}
    for step, call in enumerate(calls):
        y = call.op.outputs[0] if call.op.outputs else None
        if not call.trails or y is None or not _free(y, views, pinned) or y not in by_tensor:
            continue
        out = by_tensor[y]
        for i, trail in call.trails.items():
            x = call.op.inputs[i]
            if x is None or not _free(x, views, pinned) or x not in by_tensor:
                continue
            src = by_tensor[x]
            trail = round_up(trail, align)
            if src.last != step or out.first != step or trail >= out.size:
                continue
            out.trails[src.name] = trail
            reuses.append({"step": step, "kind": call.op.kind, "rule": "overlap", "tensor": y.index,
                           "over": x.index, "bytes": out.size - trail})


def _merge_spans(span, owner: Tensor, viewed) -> None:
    """Tensors that became views of `owner` give it their lifetimes: storage lives from the first
    write of any tensor in it to the last read of any (a concatenation input read after the
    concatenation kept its output alive too briefly, and an in-place op then took its bytes)."""
    s = span[owner]
    for t in viewed:
        first, last = span.pop(t)
        s[0], s[1] = min(s[0], first), max(s[1], last)


def _free(t: Tensor, views: _Views, pinned: set) -> bool:
    return not (t.is_const or t.variable or t in pinned or t in views.parent)


def _try_inplace(step, call, views: _Views, span, pinned, reuses, graph_outputs=frozenset()) -> None:
    """The output takes over an input's bytes at the input's last use. Normally the output becomes a
    view of the input; when the output is the larger one (DEQUANTIZE int8 -> float) or a graph output
    (whose storage may be the caller's buffer), the input becomes a view of the output instead, so
    its producer writes straight into the output's storage."""
    y = call.op.outputs[0]
    y_output = y in graph_outputs and not (y.is_const or y.variable or y in views.parent)
    if not (_free(y, views, pinned) or y_output):
        return
    for i in call.inplace:
        x = call.op.inputs[i]
        src, off = views.find(x)
        if off or not _free(src, views, pinned) or span[src][1] != step:
            continue   # a slice of something, someone else's, or still read after this op
        if y_output or y.nbytes > src.nbytes:
            if src.nbytes > y.nbytes or any(t is src for t in call.op.outputs):
                continue
            views.attach(src, y)
            _merge_spans(span, y, [src])
            rule = "into-output" if y_output else "in-place"
        else:
            views.attach(y, src)
            _merge_spans(span, src, [y])
            rule = "in-place"
        reuses.append({"step": step, "kind": call.op.kind, "rule": rule,
                       "tensor": y.index, "over": src.index, "bytes": max(y.nbytes, src.nbytes)})
        return


def _try_concat(step, call, views: _Views, span, pinned, reuses) -> bool:
    y = call.op.outputs[0]
    offsets = _concat_slices(call)
    if offsets is None or not _free(y, views, pinned):
        return False
    ins = call.op.inputs
    if len(set(map(id, ins))) != len(ins) or not all(_free(t, views, pinned) for t in ins):
        return False
    for t, off in zip(ins, offsets):
        views.attach(t, y, off)
    _merge_spans(span, y, ins)
    reuses.append({"step": step, "kind": call.op.kind, "rule": "concat-in-place",
                   "tensor": y.index, "over": [t.index for t in ins], "bytes": y.nbytes})
    return True


def lower_bound(bufs: list[Buffer]) -> int:
    """The largest total of (aligned) sizes live at one step: no placement can use less."""
    return max(live_bytes(bufs), default=0)


def live_bytes(bufs: list[Buffer]) -> list[int]:
    """Bytes live at each step, each buffer aligned. A buffer that may overlap another live at the
    same step (trails) counts only what it must hold apart: together the two span at least
    max(own size, trail + other's size). Summed as differences at the steps where lifetimes begin
    and end, so the work is linear in buffers and steps."""
    if not bufs:
        return []
    names = {b.name: b for b in bufs}
    steps = max(b.last for b in bufs) + 1
    delta = [0] * (steps + 1)

    def add(first: int, last: int, n: int) -> None:
        delta[first] += n
        delta[last + 1] -= n
    for b in bufs:
        add(b.first, b.last, round_up(b.size, b.align))
        for other, trail in b.trails.items():
            o = names.get(other)
            first, last = (max(b.first, o.first), min(b.last, o.last)) if o is not None else (1, 0)
            if first <= last:   # both live: the overlap they may share is not counted twice
                add(first, last, -min(round_up(o.size, o.align), round_up(b.size, b.align) - trail))
    totals, running = [], 0
    for s in range(steps):
        running += delta[s]
        totals.append(running)
    return totals
