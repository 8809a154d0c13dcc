"""Random *valid* models for differential testing: every graph is one LiteRT accepts, compiled with
random options and compared with LiteRT (bit-exact for integer models).

    buf, options, description = random_model(seed)

A seed picks a family (int8, int16x8 or float32), one or two graph inputs and 2 to 25 ops drawn from
the families aotc supports: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, SUB, MUL, AVERAGE_POOL_2D,
MAX_POOL_2D, CONCATENATION, RESHAPE, RELU, RELU6, LOGISTIC, TANH, SOFTMAX, MEAN, PAD, SPLIT,
STRIDED_SLICE, TRANSPOSE and QUANTIZE (a requantization in the family's type). The graph is built to
stress the compiler's own logic rather than the kernels: branches and joins (ADD / CONCATENATION of two
branches), tensors read by several ops, graph outputs that later ops also read, ops reading one
tensor twice (ADD(x, x), MUL(x, x), CONCATENATION(x, x)), constant weights shared by two ops,
RESHAPE chains (views of views) and concatenations of views and of SPLIT outputs. The options are
drawn from what `aotc.compile` accepts: every planner, schedule search/given, patches off/auto/forced,
io caller/arena, one arena or two pools.

Conventions LiteRT enforces, followed here: quantization-preserving ops (pools, PAD, RESHAPE,
TRANSPOSE, SPLIT, STRIDED_SLICE, CONCATENATION) have the same scale and zero point on inputs and
outputs (a CONCATENATION input of another quantization goes through a QUANTIZE first, as converters
do); LOGISTIC/SOFTMAX int8 outputs are (1/256, -128), TANH int8 (1/128, 0), int16 ones (1/32768, 0);
int16 tensors have zero point 0; weights are symmetric int8, biases int32 (int64 for int16x8) at
input scale x weight scale.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aotc.memory import PLANNERS
from aotc.tflite_writer import ModelBuilder

FAMILIES = ("int8", "int16", "float32")
ACT_DTYPE = {"int8": "int8", "int16": "int16", "float32": "float32"}
MAX_ELEMS = 1536          # keep every activation small: a verify stays well under a second


@dataclass
class T:
    idx: int
    shape: tuple
    q: tuple | None       # (scale, zero point) or None for float32


class Gen:
    def __init__(self, seed: int):
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.family = FAMILIES[int(self.rng.choice(3, p=[0.5, 0.2, 0.3]))]
        self.dtype = ACT_DTYPE[self.family]
        self.mb = ModelBuilder()
        self.live: list[T] = []           # activations later ops may read
        self.reads: dict[int, int] = {}   # tensor -> number of ops reading it
        self.shared: dict[tuple, tuple] = {}   # weights kept for reuse: key -> (index, scales)
        self.ops: list[str] = []
        self.notes: list[str] = []
        self.n = 0

    # -- tensors -------------------------------------------------------------------------------------
    def name(self, base):
        self.n += 1
        return f"{base}{self.n}"

    def rand_q(self):
        r = self.rng
        if self.family == "int8":
            return float(10 ** r.uniform(-2.3, -0.7)), int(r.integers(-30, 31))
        if self.family == "int16":
            return float(10 ** r.uniform(-4.3, -2.7)), 0
        return None

    def act(self, shape, q, base="t"):
        shape = tuple(int(d) for d in shape)
        if q is None:
            idx = self.mb.tensor(self.name(base), shape, self.dtype)
        else:
            idx = self.mb.tensor(self.name(base), shape, self.dtype, scale=q[0], zero_point=q[1])
        return T(idx, shape, q)

    def i32(self, values, shape=None, base="p"):
        arr = np.asarray(values, np.int32)
        return self.mb.tensor(self.name(base), arr.shape if shape is None else shape, "int32", data=arr)

    def emit(self, kind, ins, outs, opts=None, version=1):
        for t in ins:
            if isinstance(t, T):
                self.reads[t.idx] = self.reads.get(t.idx, 0) + 1
        self.mb.op(kind, [t.idx if isinstance(t, T) else t for t in ins], [o.idx for o in outs],
                   opts or {}, version=version)
        self.ops.append(kind)
        self.live.extend(outs)
        return outs[0] if len(outs) == 1 else outs

    # -- picking inputs ----------------------------------------------------------------------------
    def pick(self, pred=lambda t: True):
        cands = [t for t in self.live if pred(t)]
        if not cands:
            return None
        unread = [t for t in cands if t.idx in self.inputs and not self.reads.get(t.idx)]
        if unread:
            return unread[0]
        if self.rng.random() < 0.6:      # mostly the newest: depth; else any: branches, multi-consumers
            return cands[-1]
        return cands[int(self.rng.integers(len(cands)))]

    # -- weights ----------------------------------------------------------------------------------------
    def weights(self, shape, axis, key):
        """Constant weights, shared with an earlier op of the same shape half of the time."""
        if key in self.shared and self.rng.random() < 0.5:
            self.notes.append("shared-weights")
            return self.shared[key]
        r = self.rng
        if self.family == "float32":
            w = self.mb.tensor(self.name("w"), shape, "float32", data=r.normal(0, 0.5, shape).astype(np.float32))
            scales = None
        else:
            n = shape[axis]
            per_channel = r.random() < 0.7
            scales = [float(s) for s in (10 ** r.uniform(-2.7, -1.7, n) if per_channel
                                         else [10 ** r.uniform(-2.7, -1.7)] * n)]
            if not per_channel:
                scales = scales[:1]
            w = self.mb.tensor(self.name("w"), shape, "int8", data=r.integers(-127, 128, shape),
                               scale=scales, axis=axis)
        self.shared[key] = (w, scales)
        return w, scales

    def bias(self, n, in_q, scales, optional=False):
        r = self.rng
        if optional and r.random() < 0.15:   # LiteRT's CONV_2D needs its bias; FULLY_CONNECTED does not
            return -1
        if self.family == "float32":
            return self.mb.tensor(self.name("b"), (n,), "float32", data=r.normal(0, 0.3, n).astype(np.float32))
        dt = "int32" if self.family == "int8" else "int64"
        lim = 3000 if self.family == "int8" else 30000
        return self.mb.tensor(self.name("b"), (n,), dt, data=r.integers(-lim, lim + 1, n),
                              scale=[in_q[0] * s for s in scales])   # per tensor when the weights are

    def acc_q(self, in_q, scales, taps):
        """An output quantization that keeps a weighted sum of `taps` products mostly in range."""
        if in_q is None:
            return None
        spread = in_q[0] * float(np.mean(scales)) * np.sqrt(taps) * (60 * 60 if self.family == "int8" else 60 * 8000)
        lim = 100 if self.family == "int8" else 25000
        q = self.rand_q()
        return float(spread / lim * 10 ** self.rng.uniform(-0.4, 0.4)), q[1]

    # -- ops ----------------------------------------------------------------------------------------------
    def fused(self):
        return int(self.rng.choice([0, 0, 1, 3]))

    def conv(self, x, depthwise=False):
        r = self.rng
        nb, h, w, c = x.shape
        k = (int(r.integers(1, min(h, 3) + 1)), int(r.integers(1, min(w, 3) + 1)))
        stride = (int(r.integers(1, 3)), int(r.integers(1, 3)))
        dil = (1, 1)
        if r.random() < 0.15 and h >= 5 and w >= 5:
            dil = (2, 2)
        pad = int(r.integers(2))   # 0 SAME, 1 VALID
        eff = [(k[i] - 1) * dil[i] + 1 for i in range(2)]
        if pad == 1:
            oh, ow = (h - eff[0]) // stride[0] + 1, (w - eff[1]) // stride[1] + 1
        else:
            oh, ow = -(-h // stride[0]), -(-w // stride[1])
        if oh < 1 or ow < 1:
            return None
        if depthwise:
            mult = int(r.choice([1, 1, 2]))
            oc = c * mult
            wshape, axis, taps = (1, k[0], k[1], oc), 3, k[0] * k[1]
        else:
            oc = int(r.integers(1, 9))
            wshape, axis, taps = (oc, k[0], k[1], c), 0, k[0] * k[1] * c
        if nb * oh * ow * oc > MAX_ELEMS:
            return None
        kind = "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D"
        wt, scales = self.weights(wshape, axis, (kind, wshape))
        b = self.bias(oc, x.q, scales)
        y = self.act((nb, oh, ow, oc), self.acc_q(x.q, scales, taps) if x.q else None)
        opts = {"Padding": pad, "StrideH": stride[0], "StrideW": stride[1], "DilationHFactor": dil[0],
                "DilationWFactor": dil[1], "FusedActivationFunction": self.fused()}
        if depthwise:
            opts["DepthMultiplier"] = mult
            version = {"int8": 3, "int16": 5, "float32": 1}[self.family]
        else:
            version = {"int8": 3, "int16": 4, "float32": 1}[self.family]
        return self.emit(kind, [x, wt, b], [y], opts, version)

    def fc(self, x):
        r = self.rng
        if len(x.shape) != 2:
            x = self.reshape(x, (1, int(np.prod(x.shape))))
        batches, depth = x.shape
        units = int(r.integers(1, 17))
        wt, scales = self.weights((units, depth), 0, ("FC", units, depth))
        b = self.bias(units, x.q, scales, optional=True)
        y = self.act((batches, units), self.acc_q(x.q, scales, depth) if x.q else None)
        version = {"int8": 4, "int16": 7, "float32": 1}[self.family]
        return self.emit("FULLY_CONNECTED", [x, wt, b], [y], {"FusedActivationFunction": self.fused()}, version)

    def binary(self, x, kind):
        r = self.rng
        roll = r.random()
        if roll < 0.2:
            other = x                                   # one tensor read twice
            self.notes.append(f"{kind}(x,x)")
        elif roll < 0.6:
            other = self.pick(lambda t: t.shape == x.shape and t.idx != x.idx)
            if other is not None:
                self.notes.append("join")
        else:
            other = None
        if other is None:                               # a constant, broadcast over the last axis or whole
            shape = x.shape if r.random() < 0.5 else (1,) * (len(x.shape) - 1) + (x.shape[-1],)
            q = self.rand_q()
            if self.family == "float32":
                idx = self.mb.tensor(self.name("k"), shape, "float32", data=r.normal(0, 1, shape).astype(np.float32))
            else:
                info = np.iinfo(self.dtype)
                idx = self.mb.tensor(self.name("k"), shape, self.dtype, data=r.integers(info.min, info.max + 1, shape),
                                     scale=q[0], zero_point=q[1])
            other = T(idx, shape, q)
            if r.random() < 0.5:
                x, other = other, x
        out_shape = tuple(max(a, b) for a, b in zip(x.shape, other.shape))
        q = self.rand_q()
        if q is not None and kind == "MUL":   # an output scale near the product's: not all saturated
            spread = 128 if self.family == "int8" else 8000
            q = (float(x.q[0] * other.q[0] * spread * 10 ** r.uniform(-0.5, 0.5)), q[1])
        y = self.act(out_shape, q)
        version = {("ADD", "int8"): 2, ("ADD", "int16"): 3, ("SUB", "int8"): 2, ("SUB", "int16"): 3,
                   ("MUL", "int8"): 2, ("MUL", "int16"): 5}.get((kind, self.family), 1)
        return self.emit(kind, [x, other], [y], {"FusedActivationFunction": self.fused()}, version)

    def pool(self, x, kind):
        r = self.rng
        nb, h, w, c = x.shape
        f = (int(r.integers(1, min(h, 3) + 1)), int(r.integers(1, min(w, 3) + 1)))
        s = (int(r.integers(1, 3)), int(r.integers(1, 3)))
        pad = int(r.integers(2))
        if pad == 1:
            oh, ow = (h - f[0]) // s[0] + 1, (w - f[1]) // s[1] + 1
        else:
            oh, ow = -(-h // s[0]), -(-w // s[1])
        y = self.act((nb, oh, ow, c), x.q)
        version = 3 if self.family == "int16" else (2 if self.family == "int8" else 1)
        return self.emit(kind, [x], [y], {"Padding": pad, "StrideH": s[0], "StrideW": s[1],
                                          "FilterHeight": f[0], "FilterWidth": f[1]}, version)

    def unary(self, x, kind):
        r = self.rng
        fam = self.family
        if kind in ("RELU", "RELU6"):
            q = x.q if (x.q is None or r.random() < 0.3) else self.rand_q()
        elif kind == "LOGISTIC":
            q = {"int8": (1 / 256, -128), "int16": (1 / 32768, 0)}.get(fam)
        elif kind == "TANH":
            q = {"int8": (1 / 128, 0), "int16": (1 / 32768, 0)}.get(fam)
        elif kind == "SOFTMAX":
            q = {"int8": (1 / 256, -128), "int16": (1 / 32768, 0)}.get(fam)
        else:   # QUANTIZE: a requantization in the family's type
            q = self.rand_q()
        y = self.act(x.shape, q)
        version = {"int8": 2, "int16": 3, "float32": 1}[fam]
        opts = {"Beta": float(r.choice([1.0, 1.0, 0.5]))} if kind == "SOFTMAX" else None
        if kind == "QUANTIZE":
            version = 3 if fam == "int16" else 2
        return self.emit(kind, [x], [y], opts, version)

    def reshape(self, x, shape=None):
        r = self.rng
        if shape is None:
            size = int(np.prod(x.shape))
            dims = []
            rest = size
            for _ in range(int(r.integers(1, 4))):
                divs = [d for d in range(1, rest + 1) if rest % d == 0]
                d = int(r.choice(divs))
                dims.append(d)
                rest //= d
            dims.append(rest)
            r.shuffle(dims)
            shape = tuple(dims) if len(dims) <= 4 else (1, size)
            if r.random() < 0.3 and size <= MAX_ELEMS and len(shape) != 4:
                shape = (1, size)
        y = self.act(shape, x.q)
        ns = self.i32(list(shape))
        self.notes.append("reshape")
        return self.emit("RESHAPE", [x, ns], [y], {"NewShape": list(shape)})

    def pad(self, x):
        r = self.rng
        p = [[0, 0]] + [[int(r.integers(0, 3)), int(r.integers(0, 3))] for _ in x.shape[1:]]
        shape = tuple(d + a + b for d, (a, b) in zip(x.shape, p))
        if np.prod(shape) > MAX_ELEMS:
            return None
        y = self.act(shape, x.q)
        pt = self.i32(p)
        return self.emit("PAD", [x, pt], [y], {}, version=4 if self.family == "int16" else 2)

    def mean(self, x):
        r = self.rng
        rank = len(x.shape)
        if rank == 4 and r.random() < 0.6:
            axes = [1, 2]
        else:
            k = int(r.integers(1, rank)) if rank > 1 else 1
            axes = sorted(int(a) for a in r.choice(np.arange(1, rank) if rank > 1 else [0], size=min(k, max(rank - 1, 1)), replace=False))
        keep = bool(r.random() < 0.6)
        shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape)) if keep else \
            tuple(d for i, d in enumerate(x.shape) if i not in axes)
        if not shape:
            return None
        q = self.rand_q()
        y = self.act(shape, q)
        at = self.i32(axes)
        return self.emit("MEAN", [x, at], [y], {"KeepDims": keep}, version=3 if self.family == "int16" else 2)

    def concat(self, x):
        r = self.rng
        rank = len(x.shape)
        axis = int(r.integers(rank)) if rank > 1 else 0
        if r.random() < 0.25:
            other = x
            self.notes.append("concat(x,x)")
        else:
            other = self.pick(lambda t: len(t.shape) == rank and t.idx != x.idx and
                              all(a == b for i, (a, b) in enumerate(zip(t.shape, x.shape)) if i != axis))
            if other is None:
                return None
            self.notes.append("concat-join")
        shape = tuple(d + (other.shape[i] if i == axis else 0) for i, d in enumerate(x.shape))
        if np.prod(shape) > MAX_ELEMS:
            return None
        if other.q != x.q:   # LiteRT: int8/int16 inputs share the output's quantization
            oq = self.act(other.shape, x.q)
            other = self.emit("QUANTIZE", [other], [oq], None, 3 if self.family == "int16" else 2)
        y = self.act(shape, x.q)
        neg = axis - rank if r.random() < 0.3 else axis
        return self.emit("CONCATENATION", [x, other], [y], {"Axis": neg, "FusedActivationFunction": 0},
                         version={"int8": 2, "int16": 3, "float32": 1}[self.family])

    def split(self, x):
        r = self.rng
        axes = [(i, n) for i, d in enumerate(x.shape) for n in (2, 3) if d % n == 0 and d > 1]
        if not axes:
            return None
        axis, n = axes[int(r.integers(len(axes)))]
        shape = tuple(d // n if i == axis else d for i, d in enumerate(x.shape))
        outs = [self.act(shape, x.q) for _ in range(n)]
        at = self.i32(axis, ())
        self.notes.append("split")
        res = self.emit("SPLIT", [at, x], outs, {"NumSplits": n}, version=3 if self.family == "int16" else 2)
        return res[int(r.integers(n))]

    def strided_slice(self, x):
        r = self.rng
        b, e, s, shape = [], [], [], []
        for d in x.shape:
            lo = int(r.integers(0, d))
            hi = int(r.integers(lo + 1, d + 1))
            st = int(r.choice([1, 1, 2]))
            b.append(lo), e.append(hi), s.append(st)
            shape.append(-(-(hi - lo) // st))
        y = self.act(shape, x.q)
        return self.emit("STRIDED_SLICE", [x, self.i32(b), self.i32(e), self.i32(s)], [y], {},
                         version=4 if self.family == "int16" else 2)

    def transpose(self, x):
        perm = [int(p) for p in self.rng.permutation(len(x.shape))]
        y = self.act(tuple(x.shape[p] for p in perm), x.q)
        return self.emit("TRANSPOSE", [x, self.i32(perm)], [y], {},
                         version=5 if self.family == "int16" else 2)

    # -- the graph --------------------------------------------------------------------------------------
    def step(self):
        r = self.rng
        fam = self.family
        kinds = ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL", "AVERAGE_POOL_2D",
                 "MAX_POOL_2D", "CONCATENATION", "RESHAPE", "RELU", "RELU6", "LOGISTIC", "TANH", "SOFTMAX",
                 "MEAN", "PAD", "SPLIT", "STRIDED_SLICE", "TRANSPOSE"]
        if fam != "float32":
            kinds.append("QUANTIZE")
        kind = kinds[int(r.integers(len(kinds)))]
        four_d = kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D")
        x = self.pick((lambda t: len(t.shape) == 4) if four_d else (lambda t: True))
        if x is None:
            return None
        if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            return self.conv(x, kind == "DEPTHWISE_CONV_2D")
        if kind == "FULLY_CONNECTED":
            return self.fc(x)
        if kind in ("ADD", "SUB", "MUL"):
            return self.binary(x, kind)
        if kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            return self.pool(x, kind)
        if kind in ("RELU", "RELU6", "LOGISTIC", "TANH", "SOFTMAX", "QUANTIZE"):
            return self.unary(x, kind)
        return {"CONCATENATION": self.concat, "RESHAPE": self.reshape, "MEAN": self.mean, "PAD": self.pad,
                "SPLIT": self.split, "STRIDED_SLICE": self.strided_slice, "TRANSPOSE": self.transpose}[kind](x)

    def build(self):
        r = self.rng
        if r.random() < 0.75:
            shape = (1, int(r.integers(2, 9)), int(r.integers(2, 9)), int(r.integers(1, 7)))
        else:
            shape = (int(r.integers(1, 3)), int(r.integers(2, 33)))
        ins = [self.act(shape, self.rand_q(), "x")]
        if r.random() < 0.3:
            ins.append(self.act(shape if r.random() < 0.7 else (1, 4, 4, 3), self.rand_q(), "x"))
        self.inputs = {t.idx for t in ins}
        self.live.extend(ins)
        target = int(r.integers(2, 26))
        tries = 0
        while len(self.ops) < target and tries < 200:
            tries += 1
            self.step()
        for t in ins:   # every graph input is read
            if not self.reads.get(t.idx):
                self.live.remove(t)
                self.live.append(t)
                self.unary(t, "RELU")
        produced = [t for t in self.live if t.idx not in self.inputs]
        outs = [t for t in produced if not self.reads.get(t.idx)]
        read = [t for t in produced if self.reads.get(t.idx)]
        if read and r.random() < 0.35:   # a graph output later ops also read
            outs.insert(int(r.integers(len(outs) + 1)), read[int(r.integers(len(read)))])
            self.notes.append("output-also-intermediate")
        buf = self.mb.build([t.idx for t in ins], [t.idx for t in outs],
                            description=f"aotc random model seed {self.seed}")
        return buf, ins, outs


def random_options(rng) -> dict:
    opts = {"planner": str(rng.choice(sorted(PLANNERS) + ["best", "best"])),
            "schedule": str(rng.choice(["search", "given"])),
            "io": str(rng.choice(["caller", "arena"]))}
    p = rng.random()
    if p < 0.3:
        opts["patches"] = "auto"
    elif p < 0.4:
        opts["patches"] = f"auto:{int(rng.choice([10, 100, 300]))}"
    elif p < 0.45:
        opts["patches"] = f"{int(rng.integers(1, 3))}:{int(rng.choice([1, 2]))}"
    if rng.random() < 0.25:
        opts["pools"] = f"fast={int(rng.choice([256, 1024, 4096]))},slow"
    return opts


def random_model(seed: int):
    """(model bytes, compile options, one-line description) for `seed`."""
    g = Gen(seed)
    buf, ins, outs = g.build()
    options = random_options(np.random.default_rng([seed, 1]))
    notes = sorted(set(g.notes))
    desc = (f"seed {seed}: {g.family}, {len(ins)} input(s), {len(g.ops)} ops "
            f"[{' '.join(g.ops)}], {len(outs)} output(s); {', '.join(notes) or '-'}; options {options}")
    return buf, options, desc


# -- one differential case ----------------------------------------------------------------------------

TIME_LIMIT_S = 120


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def _matches_litert_unshared(buf, inputs, seed, options) -> bool:
    """The same comparison against LiteRT with experimental_preserve_all_tensors (every tensor its own
    memory in LiteRT), aotc compiled with the same options."""
    import importlib

    import aotc
    mod = importlib.import_module("aotc.verify")
    orig = mod.open_reference
    mod.open_reference = lambda *a, **k: orig(*a, **{**k, "preserve_all_tensors": True})
    try:
        res = aotc.verify(buf, inputs=inputs, seed=seed, **options)
    finally:
        mod.open_reference = orig
    integer = all(o.dtype != "float32" for o in res.outputs)
    return res.ok and (res.bit_exact or not integer)


def run_case(seed: int, reference: str = "litert", inputs: int = 2) -> dict:
    """Generate, compile with the seed's options, run on the host and compare with `reference`.
    outcome: "ok"; "rejected" (aotc.ModelError, or a UsageError for an option that does not apply to
    this graph, such as forced patches on a graph that does not start with a windowed op); "failure"
    (a mismatch, any other exception, a hang)."""
    import signal

    import aotc
    from aotc.errors import UsageError

    buf, options, desc = random_model(seed)
    rec = {"seed": seed, "reference": reference, "options": options, "description": desc}
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT_S)
    try:
        res = aotc.verify(buf, inputs=inputs, seed=seed, reference=reference, **options)
        integer = all(o.dtype != "float32" for o in res.outputs)
        if res.ok and (res.bit_exact or not integer):
            rec["outcome"] = "ok"
        elif reference == "litert" and _matches_litert_unshared(buf, inputs, seed, options):
            # LiteRT's own arena planner overwrote a tensor still to be read (its answer changes with
            # experimental_preserve_all_tensors; seed 367): aotc agrees with LiteRT run that way
            rec["outcome"], rec["detail"] = "litert-arena", res.summary()
        else:
            rec["outcome"], rec["detail"] = "failure", res.summary()
    except aotc.ModelError as e:
        rec["outcome"], rec["detail"] = "rejected", f"ModelError: {e}"
    except UsageError as e:
        if "--patches" in str(e):
            rec["outcome"], rec["detail"] = "rejected", f"UsageError: {e}"
        else:
            rec["outcome"], rec["detail"] = "failure", f"UsageError: {e}"
    except _Timeout:
        rec["outcome"], rec["detail"] = "failure", f"hang > {TIME_LIMIT_S}s"
    except Exception as e:  # noqa: BLE001 - any other exception is a finding
        rec["outcome"], rec["detail"] = "failure", f"{type(e).__name__}: {e}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return rec
