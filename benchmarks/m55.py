"""aotc on an emulated Cortex-M55 against TFLM: `aotc bench --target m55` for every shared model with
aotc's generic kernels (and with CMSIS-NN when a checkout is given), next to TFLM's figures.

    python3 benchmarks/m55.py [--models DIR] [--cmsis-nn PATH] [--out FILE] [--per-op] [--patches MODE]

Prints retired instructions for one inference after a warm-up, cold start (init + first inference,
against TFLM's construction + AllocateTensors + first Invoke),
RAM (arena + stack high-water + static data), flash (text + rodata + data), the outputs' agreement
with the reference, and the ratios to TFLM; writes benchmarks/results/m55.json.

The generic kernels are compared with TFLM's reference kernels (goal: at most 0.3x the
instructions), CMSIS-NN builds with TFLM + CMSIS-NN (goal: fewer instructions, RAM at most 0.6x
TFLM's arena, flash never above TFLM's). CMSIS-NN builds run with --rounding tflm (CMSIS-NN
follows TFLM's requantization) and are checked against TFLM; generic builds against LiteRT.

Every build uses patch-based execution with a budget of 0.5% extra work (`--patches auto:0.5`,
recorded in the results): what a user short of RAM would pass. `--patches off` gives the
layer-by-layer figures.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from aotc.bench import bench  # noqa: E402
from aotc.errors import AotcError  # noqa: E402

DEFAULT_MODELS = HERE.parent.parent / "shared" / "models"

# TFLM on the same emulator and compiler, from issue 4 ("Cortex-M55 target: CMSIS-NN calls, exact
# scratch planning, and an emulated-M55 benchmark in one command"): QEMU mps3-an547 (-icount
# shift=5, instructions read from the SSE-300 system counter), arm-none-eabi-gcc 12.2,
# -mcpu=cortex-m55 -mfloat-abi=hard, TFLM's release build (tflite-micro 90b983c2 with the CMSIS-NN
# it pins, 4ab83cc3; framework -Os, kernels -O2), one Invoke after a warm-up.
# model: (TFLM+CMSIS-NN instructions, TFLM reference-kernel instructions,
#         TFLM arena bytes (CMSIS-NN build), flash bytes (text+rodata+data))
TFLM = {
    "kws_ref_model": (1_813_136, 41_919_414, 27_348, 134_992),
    "vww_96_int8": (6_558_344, 95_679_417, 100_772, 414_352),
    "pretrainedResnet_quant": (4_913_241, 97_432_257, 55_028, 173_512),
    "ad01_int8": (150_003, 1_692_777, 9_268, 310_120),
    "person_detect": (6_508_095, 91_472_830, 82_356, 371_272),
    "micro_speech_quantized": (1_008_213, 9_831_127, 7_812, 80_048),
    "hello_world_int8": (2_146, 5_057, 916, 35_848),
    "seanet_conv4_int16x8": (165_437, 2_937_414, 15_796, 53_640),
}
# TFLM + CMSIS-NN cold start on the same emulator, measured by us with the same commits and flags
# (interpreter construction + AllocateTensors + first Invoke, input at its zero point; the warm
# Invoke agreed with the table above within 0.24%):
# model: (construction + AllocateTensors, first Invoke)
TFLM_COLD = {
    "kws_ref_model": (265_901, 1_817_419),
    "vww_96_int8": (1_056_190, 6_558_346),
    "pretrainedResnet_quant": (222_764, 4_913_695),
    "ad01_int8": (203_039, 150_005),
    "person_detect": (1_055_150, 6_508_103),
    "micro_speech_quantized": (40_363, 1_007_932),
    "hello_world_int8": (23_922, 2_148),
    "seanet_conv4_int16x8": (22_429, 165_439),
}
SKIP = {"person_detect_fixed"}          # the LiteRT-loadable copy: reference for person_detect only
REFERENCE_MODEL = {"person_detect": "person_detect_fixed.tflite"}


def run_one(path: Path, models: Path, cmsis_nn: str | None, per_op: bool, patches: str = "off") -> dict:
    ref = REFERENCE_MODEL.get(path.stem)
    ref_path = models / ref if ref and (models / ref).is_file() else None
    t0 = time.perf_counter()
    r = bench(path, target="m55", cmsis_nn=cmsis_nn, per_op=per_op,
              rounding="tflm" if cmsis_nn else "litert", reference_model=ref_path, patches=patches)
    d = r.to_dict()
    d["seconds"] = round(time.perf_counter() - t0, 2)
    tf = TFLM.get(path.stem)
    if tf is not None:
        cmsis_i, ref_i, arena, flash = tf
        base = cmsis_i if cmsis_nn else ref_i
        d["tflm"] = {"cmsis_nn_instructions": cmsis_i, "reference_instructions": ref_i,
                     "arena_bytes": arena, "flash_bytes": flash}
        d["ratio"] = {"instructions": r.instructions / base, "ram_vs_tflm_arena": r.ram_bytes / arena,
                      "flash": r.flash_bytes / flash,
                      "non_weight_flash": (r.flash_bytes - r.weights_bytes) / max(flash - r.weights_bytes, 1)}
        cold = TFLM_COLD.get(path.stem)
        if cold is not None and cmsis_nn:
            d["tflm"]["cold_start_instructions"] = sum(cold)
            d["ratio"]["cold_start"] = r.cold_start_instructions / sum(cold)
    return d


def table(rows: list[dict], title: str, base: str) -> str:
    head = (f"{'model':<24} {'instructions':>13} {'init':>6} {'RAM':>8} {'flash':>9} {'exact':>6} "
            f"{'TFLM ' + base:>16} {'x':>6} {'RAM/arena':>9} {'flash x':>7} {'non-w':>6} {'cold x':>6}")
    lines = [title, head, "-" * len(head)]
    for d in rows:
        if "error" in d:
            lines.append(f"{d['name']:<24} error: {d['error']}")
            continue
        tf, ra = d.get("tflm"), d.get("ratio")
        exact = {True: "yes", False: "NO", None: "-"}[d["bit_exact"]]
        ref_i = (tf["cmsis_nn_instructions"] if base == "CMSIS-NN" else tf["reference_instructions"]) if tf else None
        lines.append(f"{d['name']:<24} {d['instructions']:>13,} {d['init_instructions']:>6,} {d['ram_bytes']:>8,} "
                     f"{d['flash_bytes']:>9,} {exact:>6} "
                     + (f"{ref_i:>16,} {ra['instructions']:>6.2f} {ra['ram_vs_tflm_arena']:>9.2f} {ra['flash']:>7.2f}"
                        f" {ra['non_weight_flash']:>6.2f} {ra.get('cold_start', float('nan')):>6.2f}" if tf else ""))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=str(DEFAULT_MODELS))
    ap.add_argument("--cmsis-nn", default=os.environ.get("CMSIS_NN_PATH"), metavar="PATH")
    ap.add_argument("--out", default=str(HERE / "results" / "m55.json"))
    ap.add_argument("--per-op", action="store_true")
    ap.add_argument("--patches", default="auto:0.5",
                    help="patch-based execution for every build (off, auto[:P], K:B; default auto:0.5)")
    a = ap.parse_args(argv)
    models = Path(a.models)
    paths = sorted(p for p in models.glob("*.tflite") if p.stem not in SKIP)
    if not paths:
        print(f"no models in {models}", file=sys.stderr)
        return 2
    results = {"tflm_source": "issue 4 (TFLM 90b983c2 + CMSIS-NN 4ab83cc3, same QEMU and gcc); cold start "
                              "measured by us with the same build", "patches": a.patches, "generic": []}
    configs = [("generic", None, "reference kernels")]
    if a.cmsis_nn:
        results["cmsis_nn"] = []
        configs.append(("cmsis_nn", a.cmsis_nn, "CMSIS-NN"))
    status = 0
    for key, path_nn, base in configs:
        for p in paths:
            try:
                d = run_one(p, models, path_nn, a.per_op, a.patches)
            except AotcError as e:
                d = {"error": str(e)}
                status = 1
            d["name"] = p.stem
            results[key].append(d)
            if d.get("bit_exact") is False:
                status = 1
        title = f"aotc {key} kernels on QEMU mps3-an547 (Cortex-M55), vs TFLM with {base}"
        print(table(results[key], title, "CMSIS-NN" if path_nn else "ref"))
        print()
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
