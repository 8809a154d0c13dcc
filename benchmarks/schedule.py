"""Schedule search per model: its time, and the compile time and lower bound with the searched order
against the file's order (`--schedule given`, the baseline, measured in the same run). Models: the
shared ones and Keras-style unrolled LSTM/GRU layers (tests/rnn_models.py, 110-190 ops, recurrent
weights shared by every step). Prints a table and writes benchmarks/results/schedule.json.

    python3 benchmarks/schedule.py [--models DIR] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import aotc
from aotc import passes, reader
from aotc import target as targets
from aotc.compiler import Options, lower
from aotc.memory.schedule import search

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from rnn_models import unrolled_rnn  # noqa: E402

DEFAULT_MODELS = HERE.parent.parent / "shared" / "models"


def _median_time(fn, repeats: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def measure(name: str, model: bytes, target: str) -> dict:
    tgt = targets.load(target)
    graph = passes.run(reader.read(model), tgt)
    opts = Options(target=target)
    opts.target_info = tgt
    calls = lower(graph, tgt, opts)
    search_s, _ = _median_time(lambda: search(graph, calls, tgt.alignment))
    given_s, given = _median_time(lambda: aotc.compile(model, target=target, schedule="given", measure_code=False))
    searched_s, searched = _median_time(lambda: aotc.compile(model, target=target, measure_code=False))
    return {"model": name, "target": target, "ops": len(calls), "search_s": round(search_s, 4),
            "compile_s": round(searched_s, 4), "compile_given_s": round(given_s, 4),
            "compile_x_given": round(searched_s / given_s, 2),
            "bound": searched.plan.lower_bound, "bound_given": given.plan.lower_bound,
            "arena": searched.plan.arena_size, "arena_given": given.plan.arena_size}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=DEFAULT_MODELS)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "schedule.json")
    a = ap.parse_args(argv)
    models = [(p.name, p.read_bytes()) for p in sorted(a.models.glob("*.tflite")) if p.name != "person_detect_fixed.tflite"]
    models += [(f"keras_{kind}_{steps}steps", unrolled_rnn(kind, steps=steps, n_h=16))
               for kind in ("lstm", "gru") for steps in (8, 12)]
    rows = []
    for name, model in models:
        for target in ("generic", "m55"):
            try:
                rows.append(measure(name, model, target))
            except aotc.AotcError as e:
                rows.append({"model": name, "target": target, "error": str(e)})
    print(f"{'model':<32} {'target':<8} {'ops':>4} {'search s':>8} {'compile s':>9} {'x given':>7} "
          f"{'bound':>7} {'given':>7} {'arena':>7} {'given':>7}")
    for r in rows:
        if "error" in r:
            print(f"{r['model']:<32} {r['target']:<8} error: {r['error']}")
            continue
        print(f"{r['model']:<32} {r['target']:<8} {r['ops']:>4} {r['search_s']:>8.3f} {r['compile_s']:>9.3f} "
              f"{r['compile_x_given']:>7} {r['bound']:>7,} {r['bound_given']:>7,} {r['arena']:>7,} {r['arena_given']:>7,}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps({"aotc_version": aotc.__version__, "rows": rows}, indent=2) + "\n")
    print(f"wrote {a.out.relative_to(Path.cwd()) if a.out.is_relative_to(Path.cwd()) else a.out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
