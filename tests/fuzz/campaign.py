"""The fuzz campaign over reader + passes + planner + codegen.

Every mutant of a seed model must either compile (and the plan checker accepts the plan) or raise
aotc.ModelError; through the command line it must exit 0, or exit 2 with one `aotc: error:` line on
stderr, no traceback, and no output folder. Anything else — another exception, a hang past the time
limit, a leftover folder — is a finding.

    python3 tests/fuzz/campaign.py --iterations 20000 --seed 1 [--models ../shared/models] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import aotc  # noqa: E402
from mutators import mutate  # noqa: E402

TIME_LIMIT_S = 20
SMALL_SHARED = ["hello_world_int8.tflite", "micro_speech_quantized.tflite", "kws_ref_model.tflite",
                "seanet_conv4_int16x8.tflite", "pretrainedResnet_quant.tflite"]


@dataclass
class Result:
    cases: int = 0
    compiled: int = 0
    model_errors: int = 0
    cli_cases: int = 0
    seconds: float = 0.0
    findings: list = field(default_factory=list)


def seed_models(models_dir: Path | None) -> dict[str, bytes]:
    from aotc.demo import build_demo_model, build_demo_model_float
    from oputil import fc_chain
    seeds = {"demo_kws": build_demo_model(), "demo_kws_float": build_demo_model_float(), "fc_chain": fc_chain()}
    # one small model per op family (every runtime header): mutations reach every op's checks
    sys.path.insert(0, str(HERE.parent / "unit"))
    from test_codegen_c import FAMILIES
    seeds.update({name: build() for name, build in FAMILIES.items()})
    if models_dir and models_dir.is_dir():
        for name in SMALL_SHARED:
            p = models_dir / name
            if p.is_file():
                seeds[p.stem] = p.read_bytes()
    return seeds


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def one_in_process(buf: bytes, work: Path) -> str:
    """'ok' | 'model_error' | a finding (str starting with 'FINDING')."""
    out = work / "out"
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT_S)
    try:
        aotc.compile(buf, out_dir=out, measure_code=False)
        outcome = "ok"
    except aotc.ModelError:
        outcome = "model_error"
    except _Timeout:
        outcome = f"FINDING hang > {TIME_LIMIT_S}s"
    except Exception as e:  # noqa: BLE001 - any other exception is what the campaign looks for
        outcome = f"FINDING {type(e).__name__}: {e}"
    finally:
        signal.alarm(0)
    left = sorted(p.name for p in work.iterdir() if p.name != "out")
    if left:
        outcome = f"FINDING leftover {left} after {outcome}"
    if outcome == "model_error" and out.exists():
        outcome = "FINDING output folder written although the model was rejected"
    shutil.rmtree(out, ignore_errors=True)
    return outcome


def one_cli(buf: bytes, work: Path) -> str:
    model, out = work / "m.tflite", work / "cli_out"
    model.write_bytes(buf)
    try:
        r = subprocess.run([sys.executable, "-m", "aotc.cli", "compile", str(model), "-o", str(out)],
                           capture_output=True, text=True, timeout=TIME_LIMIT_S * 3)
    except subprocess.TimeoutExpired:
        return "FINDING cli hang"
    finally:
        model.unlink(missing_ok=True)
    lines = r.stderr.strip().splitlines()
    if r.returncode == 0:
        shutil.rmtree(out, ignore_errors=True)
        return "ok"
    if r.returncode != 2 or len(lines) != 1 or not lines[0].startswith("aotc: error:") or "Traceback" in r.stderr:
        return f"FINDING cli exit {r.returncode}: {r.stderr.strip()[:300]}"
    if out.exists() or any(p.name.startswith(".cli_out") for p in work.iterdir()):
        return "FINDING cli left an output folder behind"
    return "model_error"


def run(seeds: dict[str, bytes], iterations: int, seed: int, cli_every: int = 0, dump: Path | None = None) -> Result:
    rng = np.random.default_rng(seed)
    names = sorted(seeds)
    donors = [seeds[n] for n in names]
    res = Result()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aotc-fuzz-") as tmp:
        work = Path(tmp)
        for i in range(iterations):
            name = names[int(rng.integers(len(names)))]
            buf, desc = seeds[name], []
            for _ in range(int(rng.integers(1, 4))):  # 1 to 3 stacked mutations
                try:
                    buf, d = mutate(buf, rng, donors)
                except Exception:  # noqa: BLE001 - a mutant the mutator itself cannot parse further
                    break
                desc.append(d)
            outcome = one_in_process(buf, work)
            if cli_every and i % cli_every == 0:
                res.cli_cases += 1
                cli = one_cli(buf, work)
                if cli.startswith("FINDING"):
                    outcome = cli
            res.cases += 1
            if outcome == "ok":
                res.compiled += 1
            elif outcome == "model_error":
                res.model_errors += 1
            else:
                res.findings.append({"case": i, "seed_model": name, "mutations": desc, "outcome": outcome})
                if dump is not None:  # keep the input so the finding can be replayed
                    dump.mkdir(parents=True, exist_ok=True)
                    (dump / f"finding_{seed}_{i}.tflite").write_bytes(buf)
    res.seconds = round(time.perf_counter() - t0, 1)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cli-every", type=int, default=50, help="also run every Nth case through the CLI")
    ap.add_argument("--models", type=Path, default=HERE.parent.parent.parent / "shared" / "models")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--dump", type=Path, default=None, help="write each finding's input file here")
    a = ap.parse_args(argv)
    res = run(seed_models(a.models), a.iterations, a.seed, a.cli_every, a.dump)
    print(f"{res.cases} cases ({res.cli_cases} also through the CLI) in {res.seconds}s: {res.compiled} compiled, "
          f"{res.model_errors} rejected with ModelError, {len(res.findings)} findings")
    for f in res.findings[:20]:
        print(f"  case {f['case']} ({f['seed_model']}: {'; '.join(f['mutations'])}): {f['outcome']}")
    if a.json:
        a.json.write_text(json.dumps(asdict(res), indent=2) + "\n")
    return 1 if res.findings else 0


if __name__ == "__main__":
    sys.exit(main())
