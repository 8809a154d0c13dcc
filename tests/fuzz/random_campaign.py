"""The long differential campaign over random valid models (random_models.py): each seed's model is
compiled with the seed's random options, run on the host and compared with LiteRT (and, every Nth
seed, with TFLM too).

    python3 tests/fuzz/random_campaign.py --seeds 0-1999,100000-101999 --jobs 2 --dump findings/ [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

from random_models import random_model, run_case  # noqa: E402


def parse_seeds(spec: str) -> list[int]:
    seeds = []
    for part in spec.split(","):
        a, _, b = part.partition("-")
        seeds.extend(range(int(a), int(b or a) + 1))
    return seeds


def _one(args):
    seed, tflm = args
    recs = [run_case(seed)]
    if tflm and recs[0]["outcome"] == "ok":
        recs.append(run_case(seed, reference="tflm"))
    return recs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", required=True, help="ranges A-B, comma separated (inclusive)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--tflm-every", type=int, default=10, help="also compare every Nth seed with TFLM (0: never)")
    ap.add_argument("--dump", type=Path, default=None, help="write each failure's model and record here")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    seeds = parse_seeds(a.seeds)
    work = [(s, bool(a.tflm_every) and s % a.tflm_every == 0) for s in seeds]
    t0 = time.perf_counter()
    counts = {"models": 0, "compiled": 0, "rejected": 0, "failures": 0, "tflm_compared": 0, "tflm_failures": 0}
    failures, rejections = [], []
    with multiprocessing.get_context("fork").Pool(a.jobs, maxtasksperchild=200) as pool:
        for recs in pool.imap_unordered(_one, work, chunksize=4):
            main_rec = recs[0]
            counts["models"] += 1
            counts["compiled"] += main_rec["outcome"] != "rejected"
            if main_rec["outcome"] == "rejected":
                counts["rejected"] += 1
                rejections.append({k: main_rec[k] for k in ("seed", "detail")})
            for rec in recs:
                if rec["reference"] == "tflm":
                    counts["tflm_compared"] += 1
                if rec["outcome"] == "failure":
                    counts["failures"] += 1
                    counts["tflm_failures"] += rec["reference"] == "tflm"
                    failures.append(rec)
                    print(f"FAILURE seed {rec['seed']} vs {rec['reference']}: {rec['detail'][:400]}", flush=True)
                    if a.dump is not None:
                        a.dump.mkdir(parents=True, exist_ok=True)
                        (a.dump / f"seed_{rec['seed']}.tflite").write_bytes(random_model(rec["seed"])[0])
                        (a.dump / f"seed_{rec['seed']}_{rec['reference']}.json").write_text(json.dumps(rec, indent=2))
            if counts["models"] % 250 == 0:
                print(f"... {counts} in {time.perf_counter() - t0:.0f}s", flush=True)
    secs = round(time.perf_counter() - t0, 1)
    print(f"seeds {a.seeds}: {counts['models']} models in {secs}s, {counts['compiled']} compiled, "
          f"{counts['rejected']} rejected, {counts['failures']} failures "
          f"({counts['tflm_compared']} also against TFLM, {counts['tflm_failures']} TFLM failures)")
    for f in sorted(failures, key=lambda r: r["seed"]):
        print(f"  seed {f['seed']} vs {f['reference']} {f['options']}: {f['detail'].splitlines()[0][:200]}")
    if a.json:
        a.json.write_text(json.dumps({"seeds": a.seeds, "seconds": secs, **counts, "failures": failures,
                                      "rejections": rejections}, indent=2) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
