"""The compiler, top to bottom: one line a stage."""
from __future__ import annotations

import dataclasses
import errno
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import codegen, codesize, memory, passes, reader, reports, staging
from .memory import patches
from . import target as targets
from .backends import BACKENDS, KernelCall
from .errors import ModelError, UnsupportedError, UsageError, where
from .ir import Graph
from .resources import resource_dir

ROUNDINGS = ("litert", "tflm")


@dataclass
class Options:
    target: str = "generic"
    rounding: str = "litert"           # follow LiteRT's or TFLM's arithmetic where they differ: litert | tflm
    planner: str = "best"              # arena planner (aotc.memory.PLANNERS) or "best" of them
    schedule: str = "search"           # search: the op order with the smallest peak; given: the file's order
    pools: str | None = None           # several memory pools: "target" (the target's [[pools]]) or
                                       # "fast=65536,slow" (fastest first); None: one arena
    patches: str = "off"               # "auto[:P]": run stages of row-local ops band by band while that
                                       # shrinks the arena, adding at most P% work (default 50);
                                       # "K:B": the first K windowed ops in bands of B output rows
    name: str | None = None            # C symbol prefix; default from the file name
    source_name: str = "model.tflite"  # for comments and the report (never a full path)
    measure_code: bool = True          # compile once with the host compiler to report code size
    arena_limit: int | None = None     # bytes the arena may use (default: the target's ram_bytes, if any)
    target_info: targets.Target | None = None  # the loaded target, set by compile_graph for the backends
    exact: str | None = None           # "litert": ops whose library kernels differ from LiteRT go to generic_c
    features: tuple[str, ...] | None = None  # CPU features the kernel library is built for (default: the target's)
    backends: tuple[str, ...] | None = None  # restrict/reorder the target's backends (e.g. ("generic_c",))
    io: str = "caller"                 # caller: zero-copy I/O in the caller's buffers; arena: copied in/out
    disabled_passes: tuple[str, ...] = ()  # graph passes not to run (see `aotc compile --passes`)


@dataclass
class Compiled:
    graph: Graph
    calls: list[KernelCall]
    plan: memory.Plan
    files: dict[str, str]
    report: dict
    options: Options
    out_dir: Path | None = None

    @property
    def name(self) -> str:
        return self.options.name or self.graph.name


def lower(graph: Graph, target, options: Options) -> list[KernelCall]:
    """Each op -> a KernelCall from the first backend of the target that supports it."""
    return [lower_op(op, target, options) for op in graph.ops]


def lower_op(op, target, options: Options) -> KernelCall:
    reasons = []
    for bname in target.backends:
        if bname not in BACKENDS:
            reasons.append(f"backend {bname} is not available in this aotc")
            continue
        ok, why = BACKENDS[bname].supports(op)
        if ok:
            try:
                call = BACKENDS[bname].lower(op, options)
            except (OverflowError, ZeroDivisionError) as e:
                # quantization parameters the checks let through but the arithmetic cannot use
                # (a scale of 3e38 makes an infinite multiplier): the model's fault, said as such
                t = op.outputs[0] if op.outputs else None
                raise ModelError(f"{where(op, t)}: its scales give an unusable requantization ({e})") from None
            if reasons:  # a fallback: the report says why the preferred backends were not used
                call.note = "; ".join(reasons + ([call.note] if call.note else []))
            return call
        reasons.append(why)
    t = op.outputs[0] if op.outputs else None
    raise UnsupportedError(f"{where(op, t)}: not supported on target {target.name}: {'; '.join(reasons)}")


def plan_memory(graph: Graph, calls, target, options: Options):
    """Schedule, then plan the arena; with patches "auto[:P]", also run stages of row-local ops band
    by band while that shrinks the arena ("K:B" forces the first K ops in bands of B rows; see
    memory/patches.py).
    Returns (calls, plan, patches.Patches or None)."""
    calls = memory.schedule(graph, calls, target.alignment, options.schedule, options.io)
    pools = memory.pools.parse(options.pools, target.raw.get("pools")) if options.pools else None
    if pools and options.planner == "unshared":
        pools = None   # per-layer verification: every tensor in its own place, one arena
    plan = memory.plan(graph, calls, target.alignment, options.planner, options.io, pools=pools)
    if options.planner == "unshared":
        return calls, plan, None

    before = plan.arena_size + sum(plan.pool_sizes.values())
    chosen = patches.choose(graph, calls, options.patches,
                            lambda c, v: memory.peak(graph, c, target.alignment, options.io, v),
                            lambda op: lower_op(op, target, options))
    if chosen is None:
        return calls, plan, None
    new_calls, views, stages = chosen
    patched = memory.plan(graph, new_calls, target.alignment, options.planner, options.io, views, pools)
    after = patched.arena_size + sum(patched.pool_sizes.values())
    if after >= before and patches.parse_mode(options.patches)[0] == "auto":
        return calls, plan, None   # the bound dropped but no placement reaches it
    return new_calls, patched, patches.Patches(stages, before, after)


def library_includes(calls) -> list:
    """Include folders of the kernel libraries the calls use, where the user has pointed aotc at them."""
    dirs = []
    if any(c.backend == "cmsis_nn" for c in calls) and os.environ.get("CMSIS_NN_PATH"):
        from .backends.cmsis_nn import sources
        try:
            dirs += sources()[1]
        except UsageError:
            pass  # no usable checkout: the report then has no code size
    return dirs


def compile_graph(graph: Graph, options: Options) -> Compiled:
    # float32 scale arithmetic mirrors C: it may overflow to inf, which the op checks then reject
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _compile_graph(graph, options)


def _compile_graph(graph: Graph, options: Options) -> Compiled:
    target = targets.load(options.target)
    if options.backends:
        unknown = [b for b in options.backends if b not in BACKENDS]
        if unknown:
            raise UsageError(f"unknown backend {', '.join(unknown)} (known: {', '.join(sorted(BACKENDS))})")
        target = dataclasses.replace(target, backends=tuple(options.backends))
    options.target_info = target
    if options.rounding not in ROUNDINGS:
        raise UsageError(f"unknown rounding '{options.rounding}' (known: {', '.join(ROUNDINGS)})")
    if options.exact not in (None, "litert"):
        raise UsageError(f"unknown --exact '{options.exact}' (known: litert)")
    graph = passes.run(graph, target, disabled=tuple(options.disabled_passes or ()))
    calls = lower(graph, target, options)
    calls, plan, banded = plan_memory(graph, calls, target, options)
    limit = options.arena_limit if options.arena_limit is not None else target.raw.get("ram_bytes")
    memory.check_fits(plan, limit, "--arena-limit" if options.arena_limit is not None else f"target {target.name}'s RAM")
    files = codegen.emit(graph, calls, plan, target, options)
    code = codesize.measure(files, options.name or graph.name, library_includes(calls)) if options.measure_code else None
    report = reports.build(graph, calls, plan, target, options, code, banded)
    files["report.json"] = reports.to_json(report)
    files["report.txt"] = reports.to_text(report)
    return Compiled(graph, calls, plan, files, report, options)


def compile(model, target: str = "generic", out_dir: str | os.PathLike | None = None, **kw) -> Compiled:
    """Compile a .tflite file (path or bytes). With out_dir, write the sources there atomically."""
    options = Options(target=target, **kw)
    model_path = Path(model) if isinstance(model, (str, os.PathLike)) else None
    if model_path is not None:
        options.source_name = model_path.name
    if out_dir is not None:
        check_output_folder(Path(out_dir), model_path)
    graph = reader.read(model, name=options.name)
    compiled = compile_graph(graph, options)
    if out_dir is not None:
        compiled.out_dir = write(compiled.files, Path(out_dir))
    return compiled


def check_output_folder(path: Path, model: Path | None = None) -> None:
    """The output folder is replaced as a whole, so it must be new, empty, or an earlier aotc output.
    Anything else (the current folder or a parent, the model's folder, a folder of the user's
    files, a file) is refused before any work is done."""
    if not (path.exists() or path.is_symlink()):
        return
    if not path.is_dir():
        raise UsageError(f"{path}: exists and is not a folder")
    resolved, cwd = path.resolve(), Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise UsageError(f"{path}: is the current folder or one of its parents; choose a new output folder")
    if model is not None and resolved in model.resolve().parents:
        raise UsageError(f"{path}: holds the model file; choose another output folder")
    if any(True for _ in path.iterdir()) and not (path / "report.json").is_file():
        raise UsageError(f"{path}: exists and is not an aotc output folder (no report.json); refusing to replace it")


def write(files: dict[str, str], out_dir: Path, runtime_into: tuple[str, ...] = (".",)) -> Path:
    """Write into a temporary sibling folder, then rename it into place: a failure leaves nothing.
    `files` may name subfolders ("kws/kws.c"); the runtime headers go into each of `runtime_into`.
    Siblings that killed earlier runs left behind are swept first (aotc/staging.py)."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{out_dir.name}.aotc-"
    staging.sweep(out_dir.parent, prefix)
    tmp = staging.make(out_dir.parent, prefix)
    umask = os.umask(0)
    os.umask(umask)
    try:
        tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; the output is an ordinary folder
        for fname, text in files.items():
            (tmp / fname).parent.mkdir(parents=True, exist_ok=True)
            (tmp / fname).write_text(text)
        for folder in runtime_into:
            shutil.copytree(resource_dir("runtime") / "aotc", tmp / folder / "aotc",
                            ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        _swap_into_place(tmp, out_dir, prefix)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


SWAP_ATTEMPTS = 100
_TARGET_EXISTS = (errno.EEXIST, errno.ENOTEMPTY)


def _swap_into_place(tmp: Path, out_dir: Path, prefix: str) -> None:
    """Rename tmp to out_dir, moving an existing out_dir aside (to a staging name) first. Concurrent
    compiles into the same folder may put theirs there or move it away between any two steps: each
    rename that loses such a race is retried, so the last writer's complete folder is what remains."""
    for _ in range(SWAP_ATTEMPTS):
        try:
            tmp.rename(out_dir)
            return
        except OSError as e:
            if e.errno not in _TARGET_EXISTS:
                raise
        aside = staging.name(out_dir.parent, prefix, "old")
        try:
            out_dir.rename(aside)
        except FileNotFoundError:
            continue   # another writer moved it first
        try:
            tmp.rename(out_dir)
        except OSError as e:
            if e.errno not in _TARGET_EXISTS:
                _restore(aside, out_dir)
                raise
            shutil.rmtree(aside, ignore_errors=True)   # another writer's output took the place: retry
            continue
        except BaseException:   # interrupted between the two renames: put the previous output back
            _restore(aside, out_dir)
            raise
        shutil.rmtree(aside, ignore_errors=True)
        return
    raise OSError(errno.EBUSY, f"{SWAP_ATTEMPTS} concurrent replacements in a row", str(out_dir))


def _restore(aside: Path, out_dir: Path) -> None:
    try:
        aside.rename(out_dir)
    except OSError:
        shutil.rmtree(aside, ignore_errors=True)   # something took its place meanwhile
