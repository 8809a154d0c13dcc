"""Compile time on large synthetic graphs: int8 chains (RELU; ADD of a constant; ADD of the previous
tensor, a residual; CONV_2D + RELU on 1x4x4x4; FULLY_CONNECTED on 16 features) of 1k/4k/10k ops and
wide graphs (one input fanning out to 1k/2k/4k one-op branches, concatenated or added back), built
with ModelBuilder. Per graph: the time of every compiler stage (exclusive: a stage's time does not
include the stages it calls), the host C build of the generated code (the -O1 cffi build aotc.verify
makes, fresh cache), and the time per op against the smallest size of the same graph measured in
the same run (near-linear work keeps that ratio near 1). The schedule is the given order (the
search is measured apart with --search, once per graph). Prints a table and writes
benchmarks/results/scale.json.

    python3 benchmarks/scale.py [--quick] [--only NAME,...] [--no-build] [--search] [--out FILE]
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
import aotc  # noqa: E402
from aotc import codegen, codesize, compiler, memory, passes, reader, reports  # noqa: E402
from aotc.ir import Graph  # noqa: E402
from aotc.memory import patches, planners  # noqa: E402
from aotc.tflite_writer import ModelBuilder  # noqa: E402
from aotc.verify import HOST_CFLAGS, build as host_build  # noqa: E402

CHAIN_SIZES, WIDE_SIZES = (1000, 4000, 10000), (1000, 2000, 4000)
QUICK_CHAIN_SIZES, QUICK_WIDE_SIZES = (250, 1000), (250, 1000)
Q = dict(scale=0.05, zero_point=-3)


# ---- graphs -----------------------------------------------------------------------------------------

def relu_chain(n: int) -> bytes:
    mb = ModelBuilder()
    t = x = mb.tensor("x", (1, 64), "int8", **Q)
    for k in range(n):
        y = mb.tensor(f"r{k}", (1, 64), "int8", **Q)
        mb.op("RELU", [t], [y])
        t = y
    return mb.build([x], [t])


def add_chain(n: int, residual: bool = False) -> bytes:
    """t[k] = t[k-1] + c (one shared constant), or t[k] = t[k-1] + t[k-2] with `residual`."""
    rng = np.random.default_rng(0)
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 64), "int8", **Q)
    c = mb.tensor("c", (1, 64), "int8", data=rng.integers(-8, 9, (1, 64)), **Q)
    prev, t = x, x
    for k in range(n):
        y = mb.tensor(f"a{k}", (1, 64), "int8", scale=0.05, zero_point=-3)
        mb.op("ADD", [t, prev if residual else c], [y], {"FusedActivationFunction": 0})
        prev, t = t, y
    return mb.build([x], [t])


def conv_relu_chain(n: int) -> bytes:
    """n ops: CONV_2D 3x3 SAME 4 -> 4 channels on 4x4, each followed by a RELU (fused by the passes)."""
    rng = np.random.default_rng(1)
    mb = ModelBuilder()
    t = x = mb.tensor("x", (1, 4, 4, 4), "int8", **Q)
    for k in range(n // 2):
        w = mb.tensor(f"w{k}", (4, 3, 3, 4), "int8", data=rng.integers(-127, 128, (4, 3, 3, 4)),
                      scale=[0.004] * 4, axis=0)
        b = mb.tensor(f"b{k}", (4,), "int32", data=rng.integers(-300, 300, 4), scale=[0.0002] * 4)
        h = mb.tensor(f"c{k}", (1, 4, 4, 4), "int8", **Q)
        mb.op("CONV_2D", [t, w, b], [h], {"Padding": 0, "StrideH": 1, "StrideW": 1}, version=3)
        y = mb.tensor(f"r{k}", (1, 4, 4, 4), "int8", **Q)
        mb.op("RELU", [h], [y])
        t = y
    return mb.build([x], [t])


def fc_chain(n: int) -> bytes:
    rng = np.random.default_rng(2)
    mb = ModelBuilder()
    t = x = mb.tensor("x", (1, 16), "int8", **Q)
    for k in range(n):
        w = mb.tensor(f"w{k}", (16, 16), "int8", data=rng.integers(-127, 128, (16, 16)), scale=0.004)
        y = mb.tensor(f"f{k}", (1, 16), "int8", **Q)
        mb.op("FULLY_CONNECTED", [t, w, -1], [y], {}, version=4)
        t = y
    return mb.build([x], [t])


def wide(n: int, join: str) -> bytes:
    """x -> n branches ADD(x, c_i) -> CONCATENATION of all (join "concat"), or summed back one ADD at
    a time (join "add": n - 1 more ops). Every branch runs before the join, so all are live at once."""
    rng = np.random.default_rng(3)
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 16), "int8", **Q)
    branches = []
    for k in range(n):
        c = mb.tensor(f"c{k}", (1, 16), "int8", data=rng.integers(-8, 9, (1, 16)), **Q)
        y = mb.tensor(f"b{k}", (1, 16), "int8", **Q)
        mb.op("ADD", [x, c], [y], {"FusedActivationFunction": 0})
        branches.append(y)
    if join == "concat":
        y = mb.tensor("y", (1, 16 * n), "int8", **Q)
        mb.op("CONCATENATION", branches, [y], {"Axis": 1})
        return mb.build([x], [y])
    acc = branches[0]
    for k, b in enumerate(branches[1:]):
        y = mb.tensor(f"s{k}", (1, 16), "int8", **Q)
        mb.op("ADD", [acc, b], [y], {"FusedActivationFunction": 0})
        acc = y
    return mb.build([x], [acc])


GRAPHS = {
    "relu_chain": ("chain", relu_chain),
    "add_const_chain": ("chain", add_chain),
    "add_residual_chain": ("chain", functools.partial(add_chain, residual=True)),
    "conv_relu_chain": ("chain", conv_relu_chain),
    "fc_chain": ("chain", fc_chain),
    "wide_concat": ("wide", functools.partial(wide, join="concat")),
    "wide_add": ("wide", functools.partial(wide, join="add")),
}


# ---- stage timing -----------------------------------------------------------------------------------

class StageClock:
    """Exclusive time per stage: a stage called inside another is taken out of the outer one."""

    def __init__(self):
        self.totals: dict[str, float] = {}
        self._stack: list[list] = []   # [label, start, time spent in nested stages]

    def wrap(self, label: str, fn):
        @functools.wraps(fn)
        def timed(*args, **kw):
            self._stack.append([label, time.perf_counter(), 0.0])
            try:
                return fn(*args, **kw)
            finally:
                lab, start, nested = self._stack.pop()
                spent = time.perf_counter() - start
                self.totals[lab] = self.totals.get(lab, 0.0) + spent - nested
                if self._stack:
                    self._stack[-1][2] += spent
        return timed


@contextmanager
def patched(obj, name: str, value):
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


@contextmanager
def timed_stages(clock: StageClock):
    """Wrap every stage of the pipeline (module attributes the compiler looks up at call time)."""
    import dataclasses
    from contextlib import ExitStack
    with ExitStack() as stack:
        timed_passes = [dataclasses.replace(p, fn=clock.wrap(f"pass {p.name}", p.fn)) for p in passes.PASSES]
        stack.enter_context(patched(passes, "PASSES", timed_passes))
        stack.enter_context(patched(Graph, "verify", clock.wrap("pass verify", Graph.verify)))
        targets = [(compiler, "lower", "lower"), (memory, "schedule", "schedule"),
                   (memory, "liveness", "liveness"), (memory, "check", "plan check"),
                   (memory, "lower_bound", "lower bound"), (memory, "live_bytes", "lower bound"),
                   (patches, "choose", "patches choose"), (codegen, "emit", "codegen"),
                   (reports, "build", "report"), (reports, "to_json", "report"),
                   (reports, "to_text", "report"), (codesize, "measure", "codesize")]
        for obj, name, label in targets:
            stack.enter_context(patched(obj, name, clock.wrap(label, getattr(obj, name))))
        wrapped = {n: clock.wrap(f"planner {n}", fn) for n, fn in planners.PLANNERS.items()}
        for n, fn in wrapped.items():
            stack.enter_context(_dict_item(planners.PLANNERS, n, fn))
        yield


@contextmanager
def _dict_item(d: dict, key, value):
    old = d[key]
    d[key] = value
    try:
        yield
    finally:
        d[key] = old


def _build_in_child(compiled, cache: str) -> None:
    os.setpgid(0, 0)   # its own process group, so a timeout also stops the compiler it runs
    os.environ["AOTC_CACHE_DIR"] = cache
    host_build(compiled)


def host_build_seconds(compiled, timeout: float) -> float | None:
    """aotc.verify's own cffi build of the generated C (-O1, Python's CFLAGS), into a fresh cache, in
    a forked child; None past `timeout` seconds."""
    import multiprocessing
    import signal
    with tempfile.TemporaryDirectory(prefix="aotc-scale-") as cache:
        child = multiprocessing.get_context("fork").Process(target=_build_in_child, args=(compiled, cache))
        t0 = time.perf_counter()
        child.start()
        child.join(timeout)
        spent = time.perf_counter() - t0
        if child.exitcode is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.join()
            return None
        if child.exitcode != 0:
            raise RuntimeError(f"host build failed (exit {child.exitcode})")
        return spent


def measure(name: str, n: int, build: bool, search: bool, build_timeout: float) -> dict:
    kind, make = GRAPHS[name]
    model = make(n)
    clock = StageClock()
    t0 = time.perf_counter()
    with timed_stages(clock):
        graph = clock.wrap("reader", reader.read)(model, name=name)
        compiled = compiler.compile_graph(graph, compiler.Options(schedule="given", measure_code=False))
    total = time.perf_counter() - t0
    row = {"graph": name, "kind": kind, "ops": n, "ops_after_passes": len(compiled.graph.ops),
           "compile_s": round(total, 3), "stages_s": {k: round(v, 4) for k, v in sorted(clock.totals.items())},
           "c_bytes": len(compiled.files[f"{compiled.name}.c"]), "arena_bytes": compiled.plan.arena_size}
    if build:
        s = host_build_seconds(compiled, build_timeout)
        row["host_build_s"] = None if s is None else round(s, 2)
    if search:
        t0 = time.perf_counter()
        memory.schedule(compiled.graph, compiled.calls, 16, "search")
        row["schedule_search_s"] = round(time.perf_counter() - t0, 3)
    return row


def add_ratios(rows: list[dict]) -> None:
    """Time per op of each size over that of the smallest size of the same graph (same run)."""
    for r in rows:
        base = min((b for b in rows if b["graph"] == r["graph"]), key=lambda b: b["ops"])
        for key in ("compile_s", "host_build_s", "schedule_search_s"):
            if r.get(key) is not None and base.get(key):
                r[f"{key}_per_op_ratio"] = round((r[key] / r["ops"]) / (base[key] / base["ops"]), 2)


def print_table(rows: list[dict]) -> None:
    print(f"{'graph':<20} {'ops':>6} {'compile s':>9} {'x/op':>5} {'build s':>8} {'x/op':>5} {'search s':>8}  "
          "slowest stages (s)")
    for r in rows:
        build = r.get("host_build_s", "-")
        build = "timeout" if build is None else build
        top = sorted(r["stages_s"].items(), key=lambda kv: -kv[1])[:4]
        print(f"{r['graph']:<20} {r['ops']:>6} {r['compile_s']:>9.2f} {r.get('compile_s_per_op_ratio', '-'):>5} "
              f"{build:>8} {r.get('host_build_s_per_op_ratio', '-'):>5} {r.get('schedule_search_s', '-'):>8}  "
              + ", ".join(f"{s} {t:.2f}" for s, t in top))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"chains of {QUICK_CHAIN_SIZES}, wide graphs of "
                    f"{QUICK_WIDE_SIZES} branches")
    ap.add_argument("--only", default="", help="comma-separated graph names (default: all of "
                    f"{', '.join(GRAPHS)})")
    ap.add_argument("--sizes", default="", help="comma-separated op counts overriding the defaults")
    ap.add_argument("--no-build", action="store_true", help="skip the host C build")
    ap.add_argument("--build-timeout", type=float, default=600.0, help="seconds before a host build is abandoned")
    ap.add_argument("--search", action="store_true", help="also time the schedule search (memory/schedule.py)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "scale.json")
    a = ap.parse_args(argv)
    names = [n for n in a.only.split(",") if n] or list(GRAPHS)
    rows = []
    for name in names:
        kind = GRAPHS[name][0]
        sizes = ([int(s) for s in a.sizes.split(",")] if a.sizes else
                 (QUICK_CHAIN_SIZES if kind == "chain" else QUICK_WIDE_SIZES) if a.quick else
                 (CHAIN_SIZES if kind == "chain" else WIDE_SIZES))
        for n in sizes:
            rows.append(measure(name, n, not a.no_build, a.search, a.build_timeout))
            print(f"  {name} {n}: {rows[-1]['compile_s']:.2f} s", file=sys.stderr, flush=True)
    add_ratios(rows)
    print_table(rows)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps({"aotc_version": aotc.__version__, "quick": a.quick, "schedule": "given",
                                 "host_cflags": HOST_CFLAGS, "rows": rows}, indent=2) + "\n")
    print(f"wrote {a.out.relative_to(Path.cwd()) if a.out.is_relative_to(Path.cwd()) else a.out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
