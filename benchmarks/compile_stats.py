"""Per shared model: compile time, arena bytes, lower bound, weight bytes, and TFLM's arena for the same
model measured in the same run (the tflite-micro host interpreter's print_allocations), with the
ratio (aotc arena + the caller's input/output buffers) / TFLM arena. Prints a table and writes benchmarks/results/compile_stats.json.

    python3 benchmarks/compile_stats.py [--models DIR] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import aotc
from aotc.references import captured_fds

HERE = Path(__file__).resolve().parent
DEFAULT_MODELS = HERE.parent.parent / "shared" / "models"


def tflm_arena(path: Path) -> dict | None:
    """Run TFLM's host interpreter once and parse print_allocations (C++ prints to fd 1)."""
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        return None
    log: list[str] = []
    try:
        with captured_fds(log):
            runtime.Interpreter.from_file(str(path)).print_allocations()
    except RuntimeError:
        return None
    text = "".join(log)
    total = re.search(r"Arena allocation total (\d+)", text)
    head = re.search(r"Arena allocation head (\d+)", text)
    tail = re.search(r"Arena allocation tail (\d+)", text)
    if not total:
        return None
    return {"total": int(total.group(1)), "head": int(head.group(1)) if head else None,
            "tail": int(tail.group(1)) if tail else None}


def measure(path: Path, repeats: int = 3) -> dict:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        compiled = aotc.compile(path)
        times.append(time.perf_counter() - t0)
    r = compiled.report
    # zero-copy I/O keeps inputs and outputs in the caller's buffers; TFLM's arena holds them, so the
    # comparison counts them: RAM = arena + input and output buffers
    io_bytes = sum(int(np.prod(t["shape"], dtype=np.int64)) * np.dtype(t["dtype"]).itemsize
                   for t in r["inputs"] + r["outputs"])
    row = {"model": path.name, "compile_s": round(statistics.median(times), 4), "ops": len(r["ops"]),
           "arena_bytes": r["arena_bytes"], "io_bytes": io_bytes, "lower_bound_bytes": r["lower_bound_bytes"],
           "weights_bytes": r["weights_bytes"], "tables_bytes": r["tables_bytes"]}
    ram = row["arena_bytes"] + io_bytes
    tflm = tflm_arena(path)
    row["tflm_arena_total"] = tflm["total"] if tflm else None
    row["tflm_arena_head"] = tflm["head"] if tflm else None
    row["ram_vs_tflm_total"] = round(ram / tflm["total"], 3) if tflm else None
    row["ram_vs_tflm_head"] = round(ram / tflm["head"], 3) if tflm and tflm["head"] else None
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=DEFAULT_MODELS)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "compile_stats.json")
    a = ap.parse_args(argv)
    rows = []
    for path in sorted(a.models.glob("*.tflite")):
        if path.name == "person_detect_fixed.tflite":
            continue  # same model as person_detect.tflite
        try:
            rows.append(measure(path))
        except aotc.AotcError as e:
            rows.append({"model": path.name, "error": str(e)})
    print(f"{'model':<32} {'compile s':>9} {'arena':>9} {'+ I/O':>7} {'bound':>9} {'weights':>9} "
          f"{'TFLM arena':>10} {'x TFLM':>7} {'x head':>7}")
    for r in rows:
        if "error" in r:
            print(f"{r['model']:<32} error: {r['error']}")
            continue
        tf = r["tflm_arena_total"]
        print(f"{r['model']:<32} {r['compile_s']:>9.3f} {r['arena_bytes']:>9,} {r['io_bytes']:>7,} "
              f"{r['lower_bound_bytes']:>9,} {r['weights_bytes']:>9,} {tf if tf else '-':>10} "
              f"{r['ram_vs_tflm_total'] or '-':>7} {r['ram_vs_tflm_head'] or '-':>7}")
    ok = [r for r in rows if r.get("ram_vs_tflm_total")]
    summary = {}
    if ok:
        summary["geomean_ram_vs_tflm_total"] = round(float(np.exp(np.mean([np.log(r["ram_vs_tflm_total"]) for r in ok]))), 3)
        print(f"\n(arena + input/output buffers) / TFLM arena (head + tail), geometric mean: "
              f"{summary['geomean_ram_vs_tflm_total']}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps({"aotc_version": aotc.__version__, "rows": rows, "summary": summary}, indent=2) + "\n")
    print(f"wrote {a.out.relative_to(Path.cwd()) if a.out.is_relative_to(Path.cwd()) else a.out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
