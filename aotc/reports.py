"""report.json (a stable interface for users' CI) and a short human summary.

report.json, schema version 1:
  aotc_version, target, model, arena_bytes, lower_bound_bytes, weights_bytes, tables_bytes,
  planner, planners {name: arena bytes}, memory_reuse [{step, kind, rule, tensor, over, bytes}],
  rounding, total_macs, code_bytes, code_size {text, rodata, data, bss, compiler},
  inputs/outputs [{name, dtype, shape, scale, zero_point}],
  ops [{step, kind, source_ops, backend, function, alias, elided, input_shapes, output_shapes, macs,
        weight_bytes, table_bytes, scratch_bytes, note}]
New keys may be added; existing keys keep their meaning.
"""
from __future__ import annotations

import json

from . import __version__
from .backends.base import table_bytes

SCHEMA_VERSION = 2


def _io(t) -> dict:
    return {"name": t.name, "dtype": t.dtype, "shape": list(t.shape),
            "scale": t.quant.s if t.quant else None, "zero_point": t.quant.zp if t.quant else None}


def build(graph, calls, plan, target, options, code: dict | None = None, patches=None) -> dict:
    ops = []
    weights = {}
    for step, call in enumerate(calls):
        consts = [t for t in call.op.inputs if t is not None and t.is_const]
        for t in consts:
            weights[id(t)] = t.nbytes
        ops.append({
            "step": step,
            "kind": call.op.kind,
            "source_ops": list(call.op.sources),
            "backend": call.backend,
            "function": call.function or None,
            "alias": call.alias,
            "elided": step in plan.elided,
            "input_shapes": [list(t.shape) for t in call.op.inputs if t is not None],
            "output_shapes": [list(t.shape) for t in call.op.outputs],
            "macs": call.macs,
            "weight_bytes": sum(t.nbytes for t in consts),
            "table_bytes": call.const_bytes,
            "scratch_bytes": call.scratch_bytes,
            "note": call.note,
        })
    return {
        "schema_version": SCHEMA_VERSION,
        "aotc_version": __version__,
        "target": target.name,
        "model": options.source_name,
        "name": options.name or graph.name,
        "arena_bytes": plan.arena_size,
        "lower_bound_bytes": plan.lower_bound,
        "weights_bytes": sum(weights.values()),
        "tables_bytes": table_bytes(calls),
        "planner": plan.planner,
        "planners": plan.candidates,
        "pools": {plan.arena_pool: plan.arena_size, **plan.pool_sizes} if plan.pool_sizes else None,
        "memory_reuse": plan.reuses,
        "patches": None if patches is None else patches.report(sum(c.macs for c in calls)),
        "rounding": options.rounding,
        "total_macs": sum(c.macs for c in calls),
        "code_bytes": code["text"] if code else None,
        "code_size": code,
        "inputs": [_io(t) for t in graph.inputs],
        "outputs": [_io(t) for t in graph.outputs],
        "ops": ops,
        "passes": _passes(graph),
    }


def _patch_lines(p: dict | None) -> list[str]:
    if not p:
        return []
    lines = [f"patches      arena {p['arena_without']:,} -> {p['arena_with']:,} bytes, "
             f"extra work {p['extra_work_pct']}% of the MACs ({p['extra_macs']:,} MACs recomputed)"]
    for s in p["stages"]:
        how = ("streamed, nothing recomputed" if s["way"] == "stream"
               else f"{s['extra_macs']:,} MACs recomputed")
        lines.append(f"  stage      ops {s['ops'][0]}-{s['ops'][-1]} in {s['bands']} bands of {s['band_rows']} rows "
                     f"({how}; +{s['added_calls']} calls, {s['moved_bytes']:,} bytes moved"
                     f"{'; output over its input' if s['in_place'] else ''})")
    return lines


def _passes(graph) -> dict:
    """What each graph pass did: the pipeline with op counts, and every fusion, removal, rewrite and
    every pattern it looked at but kept (with the reason)."""
    log = getattr(graph, "pass_log", None) or {"passes": [], "actions": []}
    return {"pipeline": [dict(p) for p in log["passes"]], "actions": [dict(a) for a in log["actions"]]}


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=False) + "\n"


def to_text(r: dict) -> str:
    lines = [f"aotc {r['aotc_version']}: {r['model']} -> target {r['target']}",
             f"{'step':>4}  {'op':<22} {'kind':<20} {'backend':<10} {'out shape':<18} {'MACs':>10} {'weights':>9}"]
    for o in r["ops"]:
        src = "+".join(map(str, o["source_ops"]))
        shape = "x".join(map(str, o["output_shapes"][0])) if o["output_shapes"] else "-"
        lines.append(f"{o['step']:>4}  {src:<22} {o['kind']:<20} {'alias' if o['alias'] else 'in place' if o.get('elided') else o['backend']:<10} "
                     f"{shape:<18} {o['macs']:>10,} {o['weight_bytes']:>9,}")
    gap = sum((r.get("pools") or {"arena": r["arena_bytes"]}).values()) - r["lower_bound_bytes"]
    lines += ["",
              f"arena        {r['arena_bytes']:>10,} bytes ({r['planner']}; lower bound {r['lower_bound_bytes']:,}, gap {gap:,})",
              *(["pools        " + ", ".join(f"{k} {v:,}" for k, v in r["pools"].items())] if r.get("pools") else []),
              *(["planners     " + ", ".join(f"{k} {v:,}" for k, v in r["planners"].items())] if r.get("planners") else []),
              *[f"reuse        step {u['step']} {u['kind']}: {u['rule']}, {u['bytes']:,} bytes" for u in r.get("memory_reuse", [])],
              *_patch_lines(r.get("patches")),
              f"weights      {r['weights_bytes']:>10,} bytes (+ {r['tables_bytes']:,} bytes of compile-time tables)",
              f"MACs         {r['total_macs']:>10,}"]
    p = r.get("passes") or {}
    for step in p.get("pipeline", []):
        acts = [a for a in p.get("actions", []) if a["pass"] == step["name"]]
        done = sum(1 for a in acts if a["action"] != "kept")
        kept = len(acts) - done
        state = "" if step["enabled"] else " (off)"
        lines.append(f"pass {step['name']:<18} ops {step['ops_before']:>4} -> {step['ops_after']:<4} "
                     f"{done} applied, {kept} kept{state}")
        for a in acts:
            lines.append(f"    {a['action']:<9} {'+'.join(map(str, a['source_ops'])):<10} {a['detail']}")
    if r.get("code_size"):
        c = r["code_size"]
        lines.append(f"code         {c['text']:>10,} bytes of text, {c['rodata']:,} rodata, {c['data']:,} data "
                     f"({c['compiler']})")
    return "\n".join(lines) + "\n"
