"""Patch-based execution: a stretch of row-local ops runs band by band of output rows, so the large
activations inside it only ever exist a few rows at a time.

A *stage* is a run of consecutive scheduled ops with one activation input X and one output W: windowed
ops (CONV_2D, DEPTHWISE_CONV_2D, MAX/AVERAGE_POOL_2D) and elementwise ops whose activation inputs
have the output's shape (the ADD closing a residual block). Every tensor made inside the stage is read
only inside it, so only X and W ever exist in full. The bands run one of two ways:

- "stream" (line buffers): each tensor inside the stage lives in a buffer of the rows its readers
  still need. A band computes only rows no earlier band computed, after moving the rows it keeps to
  the buffer's start (one memmove per buffer and band). Nothing is recomputed.
- "recompute" (as MCUNetV2): every band recomputes all the rows its receptive field needs (the halo),
  in tensors of their own that live for two ops, so the planner overlaps them.

Every kernel runs on its sub-window with the padding made explicit, so each output element comes from
the same arithmetic: bit-exact. X is read in place (views of its rows) and W's bands are written into
W, which takes X's storage when X dies in the stage, no band reads a row of X that an earlier band
has overwritten (a streamed residual block of 3x3 convolutions: the band writing row r is the last
to read row r) and the kernel writing W may run in place. When the last op is elementwise (the ADD
of a block with a projection shortcut), the producer of one of its inputs writes its band straight
into W's rows and the ADD runs in place there.

`choose` ("auto[:P]") adds stages one at a time: among the stages covering the steps where the arena
peaks, every band height and both ways, the one with the smallest lower bound of the arena, then the
least work (recomputed MACs, added calls and moved bytes in MAC equivalents), while the bound drops
and the work of all stages stays within P% of the model's MACs. It changes nothing when no banding
pays."""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..backends.base import KernelCall, TensorRef
from ..errors import UsageError
from ..ir import Graph, Op, Tensor
from ..ops.registry import window_padding

WINDOWED = ("CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D")
BAND_HEIGHTS = (1, 2, 4, 8, 16)
WAYS = ("stream", "recompute")
MAX_EXTRA_WORK = 0.5  # "auto" never adds more work than this share of the model's MACs
MAX_STAGE_OPS = 12    # longest stage "auto" tries
# The work a stage adds, in MAC equivalents, as measured on the emulated M55 with CMSIS-NN: a band
# call costs 250 to 400 instructions more than its share of the op (the kernel's set-up), the price
# of ~1,000 MACs at 0.4 instructions per MAC; a line-buffer move about 0.2 instructions per byte.
CALL_MACS = 1000
MOVE_MACS_PER_BYTE = 0.5


@dataclass
class Stage:
    ops: list[int]          # model op indices of the stage, in order
    band: int               # output rows of the stage per band
    bands: int
    way: str                # "stream" or "recompute"
    extra_macs: int         # MACs recomputed in halos ("recompute")
    moved_bytes: int = 0    # bytes the line buffers move per inference ("stream")
    added_calls: int = 0    # calls the model has more than without the stage
    in_place: bool = False  # the stage's output takes its input's storage


@dataclass
class Patches:
    """The stages a model runs in bands, and the arena (all pools) without and with them."""
    stages: list[Stage]
    arena_before: int
    arena_after: int

    def report(self, total_macs: int) -> dict:
        """The report's "patches" entry; `total_macs` counts the banded calls."""
        total_macs -= sum(s.extra_macs for s in self.stages)
        return {"arena_without": self.arena_before, "arena_with": self.arena_after,
                "extra_macs": sum(s.extra_macs for s in self.stages),
                "extra_work_pct": round(100 * sum(extra_work(s) for s in self.stages)
                                        / max(total_macs, 1), 2),
                "stages": [{"ops": s.ops, "way": s.way, "band_rows": s.band, "bands": s.bands,
                            "extra_macs": s.extra_macs, "moved_bytes": s.moved_bytes,
                            "added_calls": s.added_calls, "in_place": s.in_place} for s in self.stages]}


def _is_4d(t: Tensor | None) -> bool:
    return t is not None and len(t.shape) == 4 and t.shape[0] == 1


def _activations(op: Op) -> list[Tensor]:
    return [t for t in op.inputs if t is not None and not t.is_const]


def _row_local(call: KernelCall) -> bool:
    """Output row r depends on a window of input rows (windowed op) or on row r only (elementwise)."""
    op = call.op
    if call.alias or len(op.outputs) != 1 or not _is_4d(op.outputs[0]):
        return False
    acts = _activations(op)
    if op.kind in WINDOWED:
        return len(acts) == 1 and op.inputs[0] is acts[0] and _is_4d(acts[0])
    y = op.outputs[0]
    consts = [t for t in op.inputs if t is not None and t.is_const]
    # call.inplace: the backend declared an elementwise kernel; constants must not vary along rows
    return (bool(call.inplace) and all(t.shape == y.shape for t in acts)
            and all(len(t.shape) < 3 or t.shape[-3] == 1 for t in consts))


def _window(op: Op) -> tuple[int, int, int, int]:
    """(kernel height, stride, dilation, top padding) along H."""
    a = op.attrs
    k = a["filter_h"] if op.kind.endswith("POOL_2D") else op.inputs[1].shape[1]
    kw = a["filter_w"] if op.kind.endswith("POOL_2D") else op.inputs[1].shape[2]
    top, _ = window_padding(op, k, kw)
    return k, a["stride_h"], a.get("dilation_h", 1), top


def rows_needed(op: Op, a: int, b: int) -> tuple[int, int]:
    """Input rows [s, e) that output rows [a, b) of `op` read (clipped to the input)."""
    if op.kind not in WINDOWED:
        return a, b
    k, stride, dil, top = _window(op)
    in_h = op.inputs[0].shape[1]
    s = a * stride - top
    e = (b - 1) * stride - top + (k - 1) * dil + 1
    return max(s, 0), min(e, in_h)


def _band_op(op: Op, ins: list, y: Tensor, a: int, s: int) -> Op:
    """`op` computing output rows [a, a + y rows) into y; a windowed op reads input rows [s, ...)
    held in ins[0], with its padding made explicit."""
    if op.kind not in WINDOWED:
        return replace(op, inputs=ins, outputs=[y])
    x = ins[0]
    k, stride, dil, top = _window(op)
    kw = op.attrs["filter_w"] if op.kind.endswith("POOL_2D") else op.inputs[1].shape[2]
    _, left = window_padding(op, k, kw)
    in_w, out_w = op.inputs[0].shape[2], op.outputs[0].shape[2]
    right = (out_w - 1) * op.attrs["stride_w"] + (kw - 1) * op.attrs.get("dilation_w", 1) + 1 - in_w - left
    new_top = s + top - a * stride
    bottom = (y.shape[1] - 1) * stride + (k - 1) * dil + 1 - x.shape[1] - new_top
    attrs = {**op.attrs, "padding": "EXPLICIT", "explicit_padding": (new_top, left, max(bottom, 0), max(right, 0))}
    return replace(op, inputs=ins, outputs=[y], attrs=attrs)


def _row_bytes(t: Tensor) -> int:
    return t.nbytes // t.shape[1]


def _readers(calls) -> dict[Tensor, list[int]]:
    readers: dict[Tensor, list[int]] = {}
    for i, c in enumerate(calls):
        for t in c.op.inputs:
            if t is not None:
                readers.setdefault(t, []).append(i)
    return readers


def stage_io(graph: Graph, calls, i: int, j: int, readers=None) -> tuple[Tensor, Tensor] | None:
    """(X, W) when steps i..j form a stage: row-local ops with one activation input X from outside,
    whose tensors other than the last op's output W are read only inside the stage."""
    part = calls[i:j + 1]
    if not all(_row_local(c) for c in part):
        return None
    readers = readers if readers is not None else _readers(calls)
    made = {c.op.outputs[0] for c in part}
    outside = {t for c in part for t in _activations(c.op) if t not in made}
    if len(outside) != 1:
        return None
    x, w = outside.pop(), part[-1].op.outputs[0]
    if not _is_4d(x) or w.shape[1] < 2:
        return None
    outputs = set(graph.outputs)
    for t in made - {w}:
        steps = readers.get(t, [])
        if t in outputs or not steps or any(s < i or s > j for s in steps):
            return None
    return x, w


@dataclass
class _Band:
    new: list                 # per stage op: output rows [lo, hi) it computes in this band, or None
    reads: list               # per stage op: {input tensor: rows [s, e) it reads}
    hold: dict                # tensor -> rows [lo, hi) it holds while the band runs


def band_plan(ops: list[Op], w: Tensor, band: int, stream: bool) -> list[_Band]:
    """Which rows every op computes and reads in each band. Streaming, a tensor's rows are computed
    once (the band after keeps what its readers still need); recomputing, every band computes all
    the rows its readers need."""
    done = {op.outputs[0]: 0 for op in ops}
    plan = []
    for a in range(0, w.shape[1], band):
        hold = {w: (a, min(a + band, w.shape[1]))}
        new, reads = [None] * len(ops), [{} for _ in ops]
        for k in reversed(range(len(ops))):
            op, y = ops[k], ops[k].outputs[0]
            if y not in hold:
                continue
            lo, hi = hold[y]
            if stream:
                lo = max(lo, done[y])
            if lo >= hi:
                continue
            new[k] = (lo, hi)
            for t in _activations(op):
                s, e = rows_needed(op, lo, hi)
                reads[k][t] = (s, e)
                hs, he = hold.get(t, (s, e))
                hold[t] = (min(hs, s), max(he, e))
        for k, r in enumerate(new):
            if r is not None:
                done[ops[k].outputs[0]] = max(done[ops[k].outputs[0]], r[1])
        plan.append(_Band(new, reads, hold))
    return plan


def _view(views: dict, owner: Tensor, name: str, rows: int, first_row: int, like: Tensor) -> Tensor:
    """A tensor of `rows` rows shaped like `like`, stored in `owner` from row `first_row` on."""
    t = Tensor(name, (1, rows) + tuple(like.shape[2:]), like.dtype, like.quant, index=-1)
    views[t] = (owner, first_row * _row_bytes(like))
    return t


def _move_call(src_op: Op, views: dict, lines: Tensor, like: Tensor, rows: int, from_row: int, n: int) -> KernelCall:
    """A copy of the `rows` rows kept in a line buffer from row `from_row` to its start."""
    dst = _view(views, lines, f"{lines.name}_keep{n}", rows, 0, like)
    src = _view(views, lines, f"{lines.name}_kept{n}", rows, from_row, like)
    op = Op("MOVE_ROWS", [src], [dst], {}, src_op.index, sources=src_op.sources)
    return KernelCall(op, "generic_c", "aotc_data_move_down",
                      [TensorRef(dst), TensorRef(src, True), f"{dst.nbytes}u"])


def _into_output(x: Tensor, part) -> Tensor | None:
    """An input of the stage's last op that its producer may write straight into the stage output's
    rows: the last op is elementwise, may run in place over it, and is its only reader (so it
    needs the same rows in every band); not when the last op also reads X, whose storage the output
    may take."""
    last = part[-1]
    if last.op.kind in WINDOWED or x in last.op.inputs:
        return None
    made = {c.op.outputs[0] for c in part[:-1]}
    for pos, t in enumerate(last.op.inputs):
        if (t in made and pos in last.inplace and last.op.inputs.count(t) == 1
                and t.dtype == last.op.outputs[0].dtype
                and not any(t in c.op.inputs for c in part[:-1])):
            return t
    return None


class Unbandable(Exception):
    """This stage cannot run in bands of this height."""


def split(graph: Graph, calls, i: int, j: int, band: int, way: str, lower, fold: bool = True):
    """The calls with steps i..j replaced by band calls. `lower(op, original_call)` makes a band's
    call. Returns (calls, views, stage); views maps each band tensor to (owner, byte offset)."""
    x, w = stage_io(graph, calls, i, j)
    part = calls[i:j + 1]
    ops = [c.op for c in part]
    stream = way == "stream"
    plan = band_plan(ops, w, band, stream)
    if any(e <= s for b in plan for reads in b.reads for s, e in reads.values()):
        # rows of a windowed op that read only its padding (a PAD folded into it taller than the
        # window): such a band has no input rows to read, nor a producer band to read them from
        raise Unbandable(f"a band of {band} rows reads no input row")
    views: dict = {}
    lines = {}
    folded = _into_output(x, part) if fold else None
    if stream:   # one line buffer per tensor inside the stage, as tall as the most rows it holds
        for op in ops[:-1]:
            y = op.outputs[0]
            if y is folded:
                continue
            rows = max(b.hold[y][1] - b.hold[y][0] for b in plan if y in b.hold)
            lines[y] = Tensor(f"{y.name}_lines", (1, rows) + tuple(y.shape[2:]), y.dtype, y.quant, index=-1)
    band_calls, first_row, done = [], {}, {y: 0 for y in lines}
    held = {}                # recompute: tensor -> (its band tensor, first row in it)
    moved = 0
    last_calls = []
    for n, b in enumerate(plan):
        for k, op in enumerate(ops):
            y = op.outputs[0]
            if y in lines and y in b.hold:
                lo = b.hold[y][0]
                keep = done[y] - lo
                if y in first_row and lo > first_row[y] and keep > 0:
                    band_calls.append(_move_call(op, views, lines[y], y, keep, lo - first_row[y], n))
                    moved += keep * _row_bytes(y)
                first_row[y] = lo
            if b.new[k] is None:
                continue
            lo, hi = b.new[k]
            ins = []
            for t in op.inputs:
                if t is None or t.is_const:
                    ins.append(t)
                    continue
                s, e = b.reads[k][t]
                name = f"{t.name}_b{n}_{k}"
                if t is x or t is folded:
                    ins.append(_view(views, x if t is x else w, name, e - s, s, t))
                elif stream:
                    ins.append(_view(views, lines[t], name, e - s, s - first_row[t], t))
                else:
                    bt, r0 = held[t]
                    ins.append(bt if (s, e) == (r0, r0 + bt.shape[1]) else _view(views, bt, name, e - s, s - r0, t))
            if y is w or y is folded:
                out = _view(views, w, f"{y.name}_b{n}", hi - lo, lo, y)
            elif stream:
                out = _view(views, lines[y], f"{y.name}_b{n}", hi - lo, lo - first_row[y], y)
                done[y] = hi
            else:
                out = Tensor(f"{y.name}_b{n}", (1, hi - lo) + tuple(y.shape[2:]), y.dtype, y.quant, index=-1)
                held[y] = (out, lo)
            s0 = b.reads[k][op.inputs[0]][0] if op.kind in WINDOWED else lo
            call = lower(_band_op(op, ins, out, lo, s0), part[k])
            band_calls.append(call)
            if y is w:
                last_calls.append(call)
    if folded is not None and any(p not in c.inplace for c in last_calls
                                  for p, t in enumerate(c.op.inputs) if views.get(t, (None,))[0] is w):
        return split(graph, calls, i, j, band, way, lower, fold=False)   # a band kernel may not run in place
    extra = sum(c.macs for c in band_calls) - sum(c.macs for c in part)
    stage = Stage([c.op.index for c in part], band, len(plan), way, extra, moved, len(band_calls) - len(part))
    x_dies = all(i <= s <= j for s in _readers(calls).get(x, []))
    # with a folded input, W's rows are written before the band's last op, maybe before X's last read
    if x_dies and folded is None and _may_take_input_storage(graph, x, w, ops, plan, last_calls, views):
        views[w] = (x, 0)
        stage.in_place = True
    return calls[:i] + band_calls + calls[j + 1:], views, stage


def _may_take_input_storage(graph: Graph, x: Tensor, w: Tensor, ops, plan, last_calls, views) -> bool:
    """W may be written over X (read by nothing after the stage) when X is the model's own (not the
    caller's, not a state), both have the same layout, no band reads a row of X an earlier band
    wrote, and the kernel writing W reads X (if at all) elementwise, with leave to run in place."""
    if (x in graph.inputs or x in graph.outputs or w in graph.outputs or x.variable
            or x.shape != w.shape or x.dtype != w.dtype):
        return False
    if ops[-1].kind in WINDOWED and x in _activations(ops[-1]):
        return False
    written = 0
    for b in plan:
        if any(r[x][0] < written for r in b.reads if x in r):
            return False
        written = b.new[-1][1]
    for call in last_calls:
        for pos, t in enumerate(call.op.inputs):
            if t is not None and views.get(t, (None,))[0] is x and pos not in call.inplace:
                return False
    return True


def chain(graph: Graph, calls) -> list[int]:
    """The longest run of windowed ops from the graph input, each reading only the previous one's
    output (the stages "K:B" picks from)."""
    readers = _readers(calls)
    steps: list[int] = []
    cur = graph.inputs[0] if len(graph.inputs) == 1 else None
    while cur is not None and len(readers.get(cur, [])) == 1:
        i = readers[cur][0]
        op = calls[i].op
        if op.kind not in WINDOWED or not _row_local(calls[i]) or op.inputs[0] is not cur:
            break
        steps.append(i)
        cur = op.outputs[0]
        if cur in graph.outputs:
            break
    return steps


def parse_mode(mode: str) -> tuple[str, float | tuple[int, int]]:
    """"off" -> ("off", 0); "auto" / "auto:P" -> ("auto", budget as a share of the model's MACs);
    "K:B" -> ("forced", (K ops, B rows per band))."""
    if mode == "off":
        return "off", 0.0
    if mode == "auto" or mode.startswith("auto:"):
        try:
            pct = float(mode[5:]) if mode != "auto" else 100 * MAX_EXTRA_WORK
        except ValueError:
            pct = -1.0
        if not 0 <= pct <= 1000:
            raise UsageError(f"--patches {mode}: the budget after 'auto:' is a percentage of the model's "
                             "MACs between 0 and 1000")
        return "auto", pct / 100
    try:
        k, b = (int(v) for v in mode.split(":"))
    except ValueError:
        k = b = 0
    if k < 1 or b < 1:
        raise UsageError(f"unknown patches mode '{mode}' (known: off, auto, auto:PCT for at most PCT% "
                         "extra work, or K:B for the first K windowed ops in bands of B output rows)")
    return "forced", (k, b)


def stages_around(graph: Graph, calls, peaks: list[int], banded=frozenset()) -> list[tuple[int, int]]:
    """Every stage (i, j) of at most MAX_STAGE_OPS ops that covers all the steps where the arena
    peaks (a stage changes the live bytes of its own steps only, so the bound drops only if it covers
    them all) and no call already running in bands."""
    if not peaks or max(peaks) - min(peaks) >= MAX_STAGE_OPS:
        return []
    readers = _readers(calls)
    first, last = min(peaks), max(peaks)
    found = []
    for i in range(max(last - MAX_STAGE_OPS + 1, 0), first + 1):
        for j in range(last, min(i + MAX_STAGE_OPS, len(calls))):
            if any(id(c) in banded for c in calls[i:j + 1]):
                break
            if stage_io(graph, calls, i, j, readers) is not None:
                found.append((i, j))
    return found


def _sketch(op: Op, call: KernelCall) -> KernelCall:
    """A stand-in for a band call, for ranking: the original call's scratch and rules, its MACs
    scaled to the band's rows."""
    frac = op.outputs[0].shape[1] / call.op.outputs[0].shape[1]
    return replace(call, op=op, macs=int(round(call.macs * frac)), consts=[])


def extra_work(stage: Stage) -> float:
    """What a stage costs in MAC equivalents: recomputed MACs, the calls it adds, the bytes it moves."""
    return stage.extra_macs + CALL_MACS * stage.added_calls + MOVE_MACS_PER_BYTE * stage.moved_bytes


def choose(graph: Graph, calls, mode: str, bound_of, lower_op):
    """(calls, views, stages) of the banding `mode` asks for, or None. `bound_of(calls, views)` ->
    (lower bound of the arena, steps where it is reached).
    "auto[:P]": stage after stage, the stage (covering the steps where the arena peaks), band height and
    way with the smallest lower bound, then the least work, while the bound drops and the work of all
    stages stays within P% of the model's MACs (default MAX_EXTRA_WORK); "K:B": the first K windowed
    ops from the input in bands of B rows, recomputing halos."""
    kind, arg = parse_mode(mode)
    if kind == "off":
        return None
    real = lambda op, call: lower_op(op)   # noqa: E731
    if kind == "forced":
        steps = chain(graph, calls)
        k, band = arg
        if k > len(steps) or not steps or steps[:k] != list(range(steps[0], steps[0] + k)):
            raise UsageError(f"--patches {mode}: the model starts with a chain of {len(steps)} "
                             "windowed ops that can run in bands")
        if stage_io(graph, calls, steps[0], steps[k - 1]) is None:   # e.g. an output of one row
            raise UsageError(f"--patches {mode}: the first {k} windowed ops do not form a stage that "
                             "can run in bands (their output has fewer than 2 rows, or an inner "
                             "tensor is read outside them)")
        try:
            new_calls, views, stage = split(graph, calls, steps[0], steps[k - 1], band, "recompute", real)
        except Unbandable as e:
            raise UsageError(f"--patches {mode}: {e}") from None
        return new_calls, views, [stage]
    allowed = arg * sum(c.macs for c in calls)
    stages, views, banded, spent = [], {}, set(), 0.0
    bound, peaks = bound_of(calls, views)
    while True:
        best = None
        for i, j in stages_around(graph, calls, peaks, banded):
            out_h = calls[j].op.outputs[0].shape[1]
            for band in (h for h in BAND_HEIGHTS if h < out_h):
                for way in WAYS:
                    try:
                        new_calls, new_views, stage = split(graph, calls, i, j, band, way, _sketch)
                    except Unbandable:
                        continue
                    work = extra_work(stage)
                    if spent + work > allowed:
                        continue
                    b, _ = bound_of(new_calls, {**views, **new_views})
                    if b < bound and (best is None or (b, work) < best[0]):
                        best = ((b, work), i, j, band, way)
        if best is None:
            break
        _, i, j, band, way = best
        old = set(map(id, calls))
        calls, new_views, stage = split(graph, calls, i, j, band, way, real)
        views.update(new_views)
        banded |= {id(c) for c in calls if id(c) not in old}
        spent += extra_work(stage)
        stages.append(stage)
        bound, peaks = bound_of(calls, views)
    return (calls, views, stages) if stages else None
