"""Memory planning, per shared model: the arena each planner gives, the chosen ("best") plan, the
layer-by-layer lower bound over the chosen schedule, what schedule search and the in-place rules
save, and TFLM's arena for the same model measured in the same run (the tflite-micro host
interpreter). RAM compared with TFLM is aotc's arena plus the caller's input and output buffers,
which TFLM keeps in its arena. Prints a table and writes benchmarks/results/memory.json.

    python3 benchmarks/memory.py [--models DIR] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import aotc
from aotc import memory, reader
from aotc.compiler import Options, compile_graph
from aotc.memory.planners import HEURISTICS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compile_stats import DEFAULT_MODELS, HERE, tflm_arena  # noqa: E402


def arena(graph, options: Options) -> int:
    return compile_graph(graph, options).plan.arena_size


def measure(path: Path) -> dict:
    graph = reader.read(path)
    t0 = time.perf_counter()
    c = compile_graph(graph, Options(measure_code=False))
    plan_s = time.perf_counter() - t0
    p = c.plan
    io_bytes = sum(t.nbytes for t in list(c.graph.inputs) + list(c.graph.outputs))
    given = arena(reader.read(path), Options(measure_code=False, schedule="given"))
    # the in-place and concatenation rules off: the same liveness with every tensor in its own buffer
    no_reuse = memory.liveness(c.graph, c.calls, p.align, reuse=False)
    bufs = [b for b in no_reuse.buffers if b.tensor is None or b.tensor not in p.external]
    no_reuse_bound = memory.lower_bound(bufs)
    patched = compile_graph(reader.read(path), Options(measure_code=False, patches="auto"))
    stage = patched.report["patches"]
    tflm = tflm_arena(path)
    ram = p.arena_size + io_bytes
    return {"model": path.name, "arena_bytes": p.arena_size, "planner": p.planner,
            "planners": p.candidates, "lower_bound_bytes": p.lower_bound,
            "gap_pct": round(100.0 * (p.arena_size - p.lower_bound) / p.lower_bound, 2) if p.lower_bound else 0.0,
            "arena_given_schedule": given, "lower_bound_without_reuse": no_reuse_bound,
            "reuses": len(p.reuses), "io_bytes": io_bytes, "plan_seconds": round(plan_s, 3),
            "arena_patches_auto": patched.plan.arena_size,
            "patches_extra_macs_pct": round(100.0 * stage["extra_macs"] / c.report["total_macs"], 1) if stage else 0.0,
            "tflm_arena": tflm["total"] if tflm else None,
            "ram_vs_tflm": round(ram / tflm["total"], 3) if tflm else None,
            "ram_vs_tflm_patches": round((patched.plan.arena_size + io_bytes) / tflm["total"], 3) if tflm else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=DEFAULT_MODELS)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "memory.json")
    a = ap.parse_args(argv)
    rows = []
    for path in sorted(a.models.glob("*.tflite")):
        if path.name == "person_detect_fixed.tflite":
            continue  # same model as person_detect.tflite
        try:
            rows.append(measure(path))
        except aotc.AotcError as e:
            rows.append({"model": path.name, "error": str(e)})
    names = list(HEURISTICS)
    short = {"greedy_by_size": "size", "greedy_by_size_late_first": "late", "greedy_by_conflicts": "conflicts",
             "hill_climb": "hill", "branch_and_bound": "exact"}
    print(f"{'model':<30} " + " ".join(f"{short[n]:>9}" for n in names)
          + f" {'best':>9} {'bound':>9} {'gap %':>6} {'given':>9} {'no reuse':>9} {'patches':>9} {'+MAC%':>6}"
            f" {'TFLM':>9} {'x TFLM':>7} {'patched':>7}")
    for r in rows:
        if "error" in r:
            print(f"{r['model']:<30} error: {r['error']}")
            continue
        print(f"{r['model']:<30} " + " ".join(f"{r['planners'][n]:>9,}" for n in names)
              + f" {r['arena_bytes']:>9,} {r['lower_bound_bytes']:>9,} {r['gap_pct']:>6} "
                f"{r['arena_given_schedule']:>9,} {r['lower_bound_without_reuse']:>9,} "
                f"{r['arena_patches_auto']:>9,} {r['patches_extra_macs_pct']:>6} "
                f"{r['tflm_arena'] or 0:>9,} {r['ram_vs_tflm'] or '-':>7} {r['ram_vs_tflm_patches'] or '-':>7}")
    ok = [r for r in rows if r.get("ram_vs_tflm")]
    summary = {}
    if ok:
        summary["geomean_ram_vs_tflm"] = round(float(np.exp(np.mean([np.log(r["ram_vs_tflm"]) for r in ok]))), 3)
        summary["geomean_ram_vs_tflm_patches"] = round(float(np.exp(np.mean(
            [np.log(r["ram_vs_tflm_patches"]) for r in ok]))), 3)
        summary["max_gap_pct"] = max(r["gap_pct"] for r in rows if "gap_pct" in r)
        print(f"\n(arena + input/output buffers) / TFLM arena, geometric mean: {summary['geomean_ram_vs_tflm']} "
              f"({summary['geomean_ram_vs_tflm_patches']} with --patches auto); "
              f"largest gap to the lower bound: {summary['max_gap_pct']}%")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps({"aotc_version": aotc.__version__, "rows": rows, "summary": summary}, indent=2) + "\n")
    print(f"wrote {a.out.relative_to(Path.cwd()) if a.out.is_relative_to(Path.cwd()) else a.out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
