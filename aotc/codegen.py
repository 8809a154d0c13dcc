"""Codegen: render the model's C sources, header and CMake glue from jinja2 templates.

Everything numeric is decided before this point (quant.py, the backends, the plan); this module only
turns values into C text and places them in codegen_templates/ with StrictUndefined."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import jinja2
import numpy as np

from . import __version__
from .backends.base import ConstArray, KernelCall, ScratchRef, TensorRef, c_literal
from .ir import Graph, Tensor, c_type
from .memory import Plan
from .quant import f32
from .resources import resource_dir

_ENV = None


def env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        # templates are part of the installed package: loaded once, never checked for changes
        _ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(str(resource_dir("codegen_templates"))),
                                  undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                                  trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    return _ENV


@dataclass
class Array:
    symbol: str
    ctype: str
    count: int
    body: str
    comment: str


def comment_text(text: str) -> str:
    """Text safe inside a C block comment on one line (names come from the model file)."""
    text = "".join("?" if ord(ch) < 32 else ch for ch in str(text))
    return text.replace("*/", "*_/").replace("/*", "/_*")


def format_values(values: np.ndarray, ctype: str, per_line: int = 16) -> str:
    flat = np.asarray(values).reshape(-1)
    if ctype in ("float", "double"):
        items = [c_literal(v) if ctype == "float" else repr(float(v)) for v in flat.tolist()]
    elif ctype == "int64_t":
        items = [f"INT64_C({int(v)})" for v in flat.tolist()]
    elif ctype == "int32_t":
        items = [c_literal(int(v)) for v in flat.tolist()]
    else:
        items = [str(int(v)) for v in flat.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n    ".join(lines)


class _Names:
    """C symbols for constant tensors and per-op tables, stable across runs."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.weights: dict[Tensor, Array] = {}
        self.tables: list[Array] = []
        self._table_symbols: dict[tuple, str] = {}   # content -> symbol: equal tables are emitted once

    def weight(self, t: Tensor) -> str:
        if t not in self.weights:
            ident = t.index if t.index >= 0 else len(self.weights)
            sym = f"{self.prefix}_w{ident}"
            self.weights[t] = Array(sym, c_type(t.dtype), max(t.size, 1),
                                    format_values(t.data, c_type(t.dtype)) if t.size else "0",
                                    comment_text(f'{t.name} {list(t.shape)} {t.dtype}'))
        return self.weights[t].symbol

    def table(self, step: int, c: ConstArray) -> str:
        key = c.key
        if key not in self._table_symbols:
            sym = f"{self.prefix}_op{step}_{c.suffix}"
            self._table_symbols[key] = sym
            self.tables.append(Array(sym, c.ctype, max(c.values.size, 1), format_values(c.values, c.ctype),
                                     f"op step {step}"))
        return self._table_symbols[key]


def render_arg(arg, step: int, plan: Plan, names: _Names) -> str:
    if isinstance(arg, TensorRef):
        t = arg.tensor
        if t.is_const:
            return names.weight(t)
        qual = "const " if arg.const else ""
        return f"({qual}{arg.ctype} *){storage(plan, t)}"
    if isinstance(arg, ScratchRef):
        where, off = plan.scratch_location(step)
        return f"({arg.ctype} *)({c_base(where)} + {off})"
    if isinstance(arg, ConstArray):
        return names.table(step, arg)
    if isinstance(arg, (int, np.integer, float, np.floating)):
        return c_literal(arg)
    return str(arg)


def storage(plan: Plan, t: Tensor) -> str:
    """C expression of the address holding t: in the arena, or the caller's input/output buffer."""
    where, pos = plan.location(t)
    if where == "arena" or where.startswith("pool:"):
        return f"({c_base(where)} + {pos})"
    off = plan.view_offset(t)   # a band of rows of the caller's buffer (patch-based execution)
    qual = "const " if where == "input" else ""
    return f"(({qual}uint8_t *){where}{pos} + {off})" if off else f"{where}{pos}"


STEPS_PER_FUNCTION = 100   # above this many steps, invoke calls static functions of this many each


def step_functions(name: str, steps: list[dict]) -> list[dict]:
    """The steps of a large model in static functions of STEPS_PER_FUNCTION steps each, named by
    their first and last step ({name}_steps_<first>_<last>); [] when invoke holds them all. A C
    compiler's optimiser takes time superlinear in the size of a function: one function of 2,000
    steps took 138 s to build at -O1, twenty of 100 steps 6 s. Small models keep their steps in
    invoke, where they read top to bottom."""
    if len(steps) <= STEPS_PER_FUNCTION:
        return []
    return [{"fn": f"{name}_steps_{chunk[0]['step']}_{chunk[-1]['step']}", "steps": chunk}
            for chunk in (steps[k:k + STEPS_PER_FUNCTION] for k in range(0, len(steps), STEPS_PER_FUNCTION))]


def c_base(where: str) -> str:
    """The C pointer a memory pool is addressed through inside invoke: arena, or pool_<name>."""
    return "arena" if where == "arena" else f"pool_{where.split(':', 1)[1]}"


def io_info(t: Tensor, plan: Plan, i: int, kind: str) -> dict:
    q = t.quant
    where, pos = plan.location(t)
    own = (where == kind.lower() and pos == i)   # kernels use the caller's buffer itself: no copy
    return {
        "index": i,
        "copy_from": None if own else (f"{c_base(where)} + {pos}" if where == "arena" or where.startswith("pool:")
                                       else f"{where}{pos}"),
        "macro": f"{kind}{i}",
        "ctype": c_type(t.dtype),
        "dtype": t.dtype,
        "shape": list(t.shape) or [1],
        "size": t.size,
        "bytes": t.nbytes,
        "scale": c_literal(f32(q.s)) if q else None,
        "zero_point": q.zp if q else None,
        "name": comment_text(t.name),
    }


class SharedConsts:
    """Parameter structs a template declares with shared(ctype, initializer): one file-scope const
    object per distinct (type, initializer), so the many calls of a banded stage share theirs."""

    def __init__(self, model: str):
        self.model = model
        self.defs: list[dict] = []
        self._by_key: dict[tuple[str, str], str] = {}

    def symbol(self, ctype: str, init: str) -> str:
        key = (ctype, str(init))
        if key not in self._by_key:
            sym = f"{self.model}_k{len(self.defs)}"
            self._by_key[key] = sym
            self.defs.append({"ctype": ctype, "symbol": sym, "init": str(init)})
        return self._by_key[key]


def emit(graph: Graph, calls: list[KernelCall], plan: Plan, target, options) -> dict[str, str]:
    """Return {filename: text} for <name>.h, <name>.c and CMakeLists.txt."""
    name = options.name or graph.name
    names = _Names(name)
    shared = SharedConsts(name)
    steps = []
    for step, call in enumerate(calls):
        if call.alias or step in plan.elided:
            continue
        args = [render_arg(a, step, plan, names) for a in call.args]
        text = env().get_template(f"{call.backend}/{call.template}").render(
            fn=call.function, args=args, scratch_in_arena=any(isinstance(a, ScratchRef) for a in call.args),
            shared=shared.symbol)
        steps.append({"step": step, "kind": call.op.kind, "index": call.op.index,
                      "sources": list(call.op.sources), "code": text.rstrip("\n")})
    parts = step_functions(name, steps)
    scratch_checks = [{"step": step, "kind": call.op.kind, "expr": call.scratch_check, "planned": call.scratch_bytes}
                      for step, call in enumerate(calls) if call.scratch_check]
    headers = sorted({h for call in calls for h in runtime_headers(call)})
    state = [{"name": b.tensor.name, "index": b.tensor.index, "offset": plan.offsets[b.name],
              "base": c_base(plan.pool_of(b)),
              "bytes": b.tensor.nbytes, "fill": state_fill(b.tensor)}
             for b in plan.buffers if b.tensor is not None and b.tensor.variable]
    ctx = {
        "name": name,
        "NAME": name.upper(),
        "version": __version__,
        "target": target.name,
        "source": options.source_name,
        "arena_size": plan.arena_size,
        "pools": [{"name": n, "NAME": n.upper(), "size": s} for n, s in plan.pool_sizes.items()],
        "io_in_arena": plan.io == "arena",
        "align": plan.align,
        "inputs": [io_info(t, plan, i, "INPUT") for i, t in enumerate(graph.inputs)],
        "outputs": [io_info(t, plan, i, "OUTPUT") for i, t in enumerate(graph.outputs)],
        "weights": list(names.weights.values()),
        "tables": names.tables,
        "shared_consts": shared.defs,
        "steps": steps,
        "parts": parts,
        "runtime_headers": headers,
        "backend_includes": sorted({inc for call in calls for inc in call.includes}),
        "requires": sorted({f for call in calls for f in call.requires}),
        "backends": sorted({call.backend for step, call in enumerate(calls)
                            if not call.alias and step not in plan.elided}),
        "scratch_checks": scratch_checks,
        "state": state,
    }
    return {
        f"{name}.h": env().get_template("model.h.j2").render(**ctx),
        f"{name}.c": env().get_template("model.c.j2").render(**ctx),
        "CMakeLists.txt": env().get_template("CMakeLists.txt.j2").render(**ctx),
    }


def state_fill(t) -> int:
    """The byte a state tensor starts from: TFLite's ResetVariableTensor fills int8 state with its
    zero point and everything else with 0."""
    if t.dtype == "int8" and t.quant is not None:
        return t.quant.zp & 0xFF
    return 0


def runtime_headers(call: KernelCall) -> list[str]:
    """The runtime header declaring the call's kernel: aotc_<family>_<type> -> aotc/<family>.h."""
    if call.alias or call.backend != "generic_c":
        return []
    return [_family(call.function)]


@functools.lru_cache(maxsize=None)
def _runtime_families() -> frozenset[str]:
    return frozenset(p.stem for p in (resource_dir("runtime") / "aotc").glob("*.h"))


@functools.lru_cache(maxsize=None)
def _family(function: str) -> str:
    parts = function[len("aotc_"):].split("_")
    known = _runtime_families()
    for n in range(len(parts), 0, -1):
        cand = "_".join(parts[:n])
        if cand in known:
            return f"{cand}.h"
    raise KeyError(f"no runtime header provides {function}")

