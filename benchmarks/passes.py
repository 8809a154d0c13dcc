"""Graph passes: per shared model and per pattern model, op count, arena bytes and host run time
(median of a few runs of the generic-target build) with all default passes and with none, in one run.

    python3 benchmarks/passes.py [--models DIR] [--runs N]

Prints a table with ratios (none / all) and writes benchmarks/results/passes.json.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "models"))

from aotc import passes  # noqa: E402
from aotc.compiler import Options, compile_graph  # noqa: E402
from aotc.reader import read  # noqa: E402
from aotc.verify import HostModel, input_sets  # noqa: E402

SHARED = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8", "person_detect_fixed",
          "micro_speech_quantized", "hello_world_int8", "seanet_conv4_int16x8"]
ALL_OFF = tuple(p.name for p in passes.PASSES if p.default and p.name != "fold_constants")


def measure(model, disabled, runs: int) -> dict:
    c = compile_graph(read(model), Options(measure_code=False, disabled_passes=disabled))
    host = HostModel(c)
    feed = input_sets(c.graph, 1, 0)[0][1]
    host.run(feed)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        host.run(feed)
        times.append(time.perf_counter() - t0)
    acts = [a for a in c.graph.pass_log["actions"] if a["action"] != "kept"]
    return {"ops": len(c.graph.ops), "arena_bytes": c.plan.arena_size, "run_us": statistics.median(times) * 1e6,
            "applied": len(acts), "kept": len(c.graph.pass_log["actions"]) - len(acts),
            "actions": [f"{a['pass']}: {a['action']} {a['detail']}" for a in c.graph.pass_log["actions"]]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=str(ROOT / ".." / "shared" / "models"))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--json", default=str(HERE / "results" / "passes.json"))
    a = ap.parse_args(argv)
    from test_passes_models import PATTERNS
    cases = [(n, str(Path(a.models) / f"{n}.tflite")) for n in SHARED if (Path(a.models) / f"{n}.tflite").is_file()]
    cases += [(f"pattern:{n}", PATTERNS[n][0]()) for n in sorted(PATTERNS)]
    rows = []
    print(f"{'model':<28} {'ops all/none':>12} {'arena all/none':>17} {'run us all/none':>17} {'time ratio':>10}")
    for name, model in cases:
        on = measure(model, (), a.runs)
        off = measure(model, ALL_OFF, a.runs)
        ratio = off["run_us"] / on["run_us"] if on["run_us"] else float("nan")
        rows.append({"model": name, "all_passes": on, "no_passes": off, "ops_ratio": off["ops"] / max(on["ops"], 1),
                     "arena_ratio": off["arena_bytes"] / max(on["arena_bytes"], 1), "time_ratio": ratio})
        print(f"{name:<28} {on['ops']:>5}/{off['ops']:<6} {on['arena_bytes']:>8}/{off['arena_bytes']:<8} "
              f"{on['run_us']:>8.1f}/{off['run_us']:<8.1f} {ratio:>9.2f}x")
    out = {"note": "no_passes disables every default pass except fold_constants (the reader's shape "
                   "arithmetic needs it); run_us is the median host run of the generic build",
           "disabled_for_none": list(ALL_OFF), "runs": a.runs, "results": rows}
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {Path(a.json).relative_to(ROOT) if Path(a.json).is_relative_to(ROOT) else a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
