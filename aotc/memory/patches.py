"""Patch-based execution of the first layers (as MCUNetV2 does): a chain of windowed ops at the start
of the network (convolutions, depthwise convolutions, pools) runs band by band of output rows, so the
large early activations only ever exist one band at a time. Each band recomputes the rows of the
earlier layers its receptive field needs (the halo), and every kernel is called on its sub-window
with the padding adjusted, so the arithmetic per output element is unchanged and the result is
bit-exact.

The stage's input is read in place (a view of rows of the graph input), every intermediate band is
a tensor of its own that lives for two ops (so the planner overlaps them like any other buffers),
and the stage's last op writes its band straight into its full output. `apply` tries stage lengths and band heights and keeps the plan with the smallest arena;
it changes nothing when no patching pays."""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import UsageError
from ..ir import Graph, Op, Tensor
from ..ops.registry import window_padding

WINDOWED = ("CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D")
BAND_HEIGHTS = (1, 2, 4, 8, 16)
MAX_RECOMPUTE = 0.5   # "auto" never recomputes more than this share of the model's MACs in halos


@dataclass
class Stage:
    ops: list[int]          # model op indices of the chain, in order
    band: int               # output rows of the last op per band
    bands: int
    extra_macs: int         # MACs recomputed in halos
    arena_before: int = 0
    arena_after: int = 0


def _window(op: Op) -> tuple[int, int, int, int]:
    """(kernel height, stride, dilation, top padding) along H."""
    a = op.attrs
    k = a["filter_h"] if op.kind.endswith("POOL_2D") else op.inputs[1].shape[1]
    kw = a["filter_w"] if op.kind.endswith("POOL_2D") else op.inputs[1].shape[2]
    top, _ = window_padding(op, k, kw)
    return k, a["stride_h"], a.get("dilation_h", 1), top


def chain(graph: Graph, calls) -> list[int]:
    """The longest run of windowed ops from a graph input, each reading only the previous one's
    output, which nothing else reads (4-D, batch 1)."""
    readers: dict[Tensor, list[int]] = {}
    for i, c in enumerate(calls):
        for t in c.op.inputs:
            if t is not None:
                readers.setdefault(t, []).append(i)
    outputs = set(graph.outputs)
    steps: list[int] = []
    cur = graph.inputs[0] if len(graph.inputs) == 1 else None
    while cur is not None and len(readers.get(cur, [])) == 1:
        i = readers[cur][0]
        c = calls[i]
        op = c.op
        if (op.kind not in WINDOWED or c.alias or op.inputs[0] is not cur or len(cur.shape) != 4
                or cur.shape[0] != 1 or len(op.outputs) != 1):
            break
        steps.append(i)
        cur = op.outputs[0]
        if cur in outputs:
            break
    return steps


def rows_needed(op: Op, a: int, b: int) -> tuple[int, int]:
    """Input rows [s, e) that output rows [a, b) of `op` read (clipped to the input)."""
    k, stride, dil, top = _window(op)
    in_h = op.inputs[0].shape[1]
    s = a * stride - top
    e = (b - 1) * stride - top + (k - 1) * dil + 1
    return max(s, 0), min(e, in_h)


def _band_op(op: Op, x: Tensor, y: Tensor, a: int, s: int) -> Op:
    """`op` computing output rows [a, a + y rows) from input rows [s, s + x rows) held in x."""
    k, stride, dil, top = _window(op)
    kw = op.attrs["filter_w"] if op.kind.endswith("POOL_2D") else op.inputs[1].shape[2]
    _, left = window_padding(op, k, kw)
    in_w, out_w = op.inputs[0].shape[2], op.outputs[0].shape[2]
    right = (out_w - 1) * op.attrs["stride_w"] + (kw - 1) * op.attrs.get("dilation_w", 1) + 1 - in_w - left
    new_top = s + top - a * stride
    bottom = (y.shape[1] - 1) * stride + (k - 1) * dil + 1 - x.shape[1] - new_top
    attrs = {**op.attrs, "padding": "EXPLICIT", "explicit_padding": (new_top, left, max(bottom, 0), max(right, 0))}
    return replace(op, inputs=[x, *op.inputs[1:]], outputs=[y], attrs=attrs)


def _row_bytes(t: Tensor) -> int:
    return t.nbytes // t.shape[1]


def split(graph: Graph, calls, steps: list[int], band: int, lower_op):
    """The calls with `steps` replaced by band calls. Returns (calls, views, stage) where views maps
    each band tensor that lives inside another tensor to (owner, byte offset)."""
    ops = [calls[i].op for i in steps]
    last = ops[-1].outputs[0]
    out_h = last.shape[1]
    band_calls, views = [], {}
    extra = 0
    plans = []
    for a in range(0, out_h, band):
        b = min(a + band, out_h)
        ranges = [(a, b)]
        for op in reversed(ops):
            ranges.insert(0, rows_needed(op, *ranges[0]))
        plans.append(ranges)    # ranges[j] = rows of layer j's input; ranges[-1] = the band's output rows
    for n, ranges in enumerate(plans):
        prev = None   # the band the previous layer computed: a tensor of its own, live for two ops
        for j, op in enumerate(ops):
            (s, e), (a, b) = ranges[j], ranges[j + 1]
            x0, y0 = op.inputs[0], op.outputs[0]
            if prev is None:   # rows [s, e) of the stage's input, read in place
                x = Tensor(f"{x0.name}_b{n}_in", (1, e - s) + tuple(x0.shape[2:]), x0.dtype, x0.quant, index=-1)
                views[x] = (x0, s * _row_bytes(x0))
            else:
                x = prev
            y = Tensor(f"{y0.name}_b{n}", (1, b - a) + tuple(y0.shape[2:]), y0.dtype, y0.quant, index=-1)
            if j == len(ops) - 1:   # the stage's output band goes straight into the full output
                views[y] = (last, a * _row_bytes(last))
            prev = y
            call = lower_op(_band_op(op, x, y, a, s))
            band_calls.append(call)
            extra += call.macs
    extra -= sum(calls[i].macs for i in steps)
    stage = Stage([calls[i].op.index for i in steps], band, len(plans), extra)
    new_calls = calls[:steps[0]] + band_calls + calls[steps[-1] + 1:]
    return new_calls, views, stage


def parse_mode(mode: str) -> tuple[int, int] | None:
    """"off" / "auto" -> None; "K:B" -> (K ops, B rows per band)."""
    if mode in ("off", "auto"):
        return None
    try:
        k, b = (int(v) for v in mode.split(":"))
    except ValueError:
        k = b = 0
    if k < 1 or b < 1:
        raise UsageError(f"unknown patches mode '{mode}' (known: off, auto, or K:B for the first K "
                         "windowed ops in bands of B output rows)")
    return k, b


def candidates(graph: Graph, calls):
    """(number of chain ops, band height) pairs worth trying, shortest stage and smallest band first."""
    steps = chain(graph, calls)
    if steps != list(range(steps[0], steps[0] + len(steps))) if steps else True:
        return steps, []
    out = []
    for k in range(1, len(steps) + 1):
        out_h = calls[steps[k - 1]].op.outputs[0].shape[1]
        out += [(k, band) for band in BAND_HEIGHTS if band < out_h]
    return steps, out


def choose(graph: Graph, calls, mode: str, base_bytes: int, bytes_of, lower_op):
    """(calls, views, stage) of the banding `mode` asks for, or None. "auto": the smallest memory
    (`bytes_of(calls, views)`) below `base_bytes`, then the fewest recomputed MACs, among the options
    that recompute at most MAX_RECOMPUTE of the model's MACs; "K:B": exactly that."""
    forced = parse_mode(mode)
    if mode == "off":
        return None
    steps, tries = candidates(graph, calls)
    if forced is not None:
        if forced[0] > len(steps):
            raise UsageError(f"--patches {mode}: the model starts with a chain of {len(steps)} "
                             "windowed ops that can run in bands")
        tries = [forced]
    budget = MAX_RECOMPUTE * sum(c.macs for c in calls)
    best, best_key = None, (base_bytes, 0)
    for k, band in tries:
        new_calls, views, stage = split(graph, calls, steps[:k], band, lower_op)
        if forced is None and stage.extra_macs > budget:
            continue
        key = (bytes_of(new_calls, views), stage.extra_macs)
        if forced is not None or key < best_key:
            best, best_key = (new_calls, views, stage), key
    return best
