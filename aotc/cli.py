"""aotc command line: compile | verify | inspect | bench | demo-model | targets.

Errors aotc raises on purpose (bad model, bad arguments, unsupported op) are one line on stderr and
exit status 2; output folders are written atomically, so a failure leaves nothing behind.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from . import __version__
from .errors import AotcError, UsageError


def _model_path(p: str) -> Path:
    path = Path(p)
    if not path.is_file():
        raise UsageError(f"{p}: no such file")
    return path


def cmd_compile(a) -> int:
    from .compiler import compile as compile_model
    _check_passes(a)
    if a.more_models or a.shared_arena:
        return _compile_shared(a)
    c = compile_model(_model_path(a.model), target=a.target, out_dir=a.output, rounding=a.rounding or "litert",
                      planner=a.planner, schedule=a.schedule, patches=a.patches, pools=a.pools, name=a.name,
                      arena_limit=a.arena_limit, exact=a.exact,
                      backends=a.backends, io=a.io, disabled_passes=tuple(a.disable_pass))
    r = c.report
    print(f"{a.model} -> {a.output}/{c.name}.c, {c.name}.h ({len(c.calls)} ops, arena {r['arena_bytes']:,} bytes, "
          f"lower bound {r['lower_bound_bytes']:,}, weights {r['weights_bytes']:,} bytes)")
    return 0


def _compile_shared(a) -> int:
    from .shared_arena import compile_shared
    if not a.shared_arena:
        raise UsageError("several models are compiled together only with --shared-arena")
    if a.name:
        raise UsageError("--name does not apply to a shared arena (each model is named after its file)")
    models = [_model_path(m) for m in [a.model, *a.more_models]]
    cs = compile_shared(models, target=a.target, out_dir=a.output, rounding=a.rounding or "litert",
                        planner=a.planner, schedule=a.schedule, patches=a.patches, pools=a.pools, exact=a.exact,
                        backends=a.backends, io=a.io,
                        disabled_passes=tuple(a.disable_pass))
    for c in cs:
        print(f"{c.options.source_name} -> {a.output}/{c.name}/ (arena {c.plan.arena_size:,} bytes)")
    print(f"shared arena {max(c.plan.arena_size for c in cs):,} bytes "
          f"(separately {sum(c.plan.arena_size for c in cs):,}): {a.output}/shared_arena.h")
    return 0


def cmd_verify(a) -> int:
    from .verify import verify
    _check_passes(a)
    res = verify(_model_path(a.model), target=a.target, inputs=a.inputs, seed=a.seed, reference=a.reference,
                 rounding=a.rounding, per_layer=a.per_layer, input_files=[_model_path(p) for p in a.input],
                 reference_model=_model_path(a.reference_model) if a.reference_model else None,
                 sanitize=a.sanitize, cmsis_nn=a.cmsis_nn, exact=a.exact, backends=a.backends, io=a.io,
                 patches=a.patches, pools=a.pools,
                 disabled_passes=tuple(a.disable_pass))
    print(res.summary())
    return 0 if res.ok else 1


def cmd_inspect(a) -> int:
    from .reader import read
    g = read(_model_path(a.model))
    print(f"{a.model}: {len(g.ops)} ops, {len(g.tensors)} tensors, inputs {[t.index for t in g.inputs]}, "
          f"outputs {[t.index for t in g.outputs]}")
    print("\nops:")
    for op in g.ops:
        ins = ",".join("-" if t is None else str(t.index) for t in op.inputs)
        outs = ",".join(str(t.index) for t in op.outputs)
        attrs = " ".join(f"{k}={v}" for k, v in op.attrs.items())
        print(f"  {op.index:>3} {op.kind:<20} v{op.version}  in [{ins}] out [{outs}]  {attrs}")
    print("\ntensors:")
    for t in g.tensors:
        q = ""
        if t.quant is not None:
            q = (f"scale {t.quant.s:.6g} zp {t.quant.zp}" if not t.quant.per_channel
                 else f"per-channel axis {t.quant.axis} ({len(t.quant.scale)} scales)")
        kind = "const" if t.is_const else "act"
        print(f"  {t.index:>3} {t.dtype:<7} {str(list(t.shape)):<18} {t.nbytes:>9,} B {kind:<5} {q:<36} {t.name}")
    weights = sum(t.nbytes for t in g.tensors if t.is_const)
    print(f"\nweights {weights:,} bytes")
    return 0


def cmd_plan(a) -> int:
    from .compiler import Options, compile_graph
    from .memory import picture
    from .reader import read
    _check_passes(a)
    path = _model_path(a.model)
    for dest in (a.svg, a.png):
        if dest and not Path(dest).resolve().parent.is_dir():
            raise UsageError(f"{dest}: its folder does not exist")
    options = Options(target=a.target, rounding=a.rounding or "litert", planner=a.planner, schedule=a.schedule,
                      measure_code=False, io=a.io, backends=a.backends, disabled_passes=tuple(a.disable_pass),
                      patches=a.patches, pools=a.pools,
                      source_name=path.name)
    c = compile_graph(read(path), options)
    print(picture.table(c.plan, c.calls), end="")
    for dest, render in ((a.svg, lambda: picture.svg(c.plan, c.calls, path.name).encode()),
                         (a.png, lambda: picture.png(c.plan, c.calls))):
        if dest:
            Path(dest).write_bytes(render())
            print(f"wrote {dest}")
    return 0


def cmd_ops(a) -> int:
    from .op_table import text
    print(text(a.target), end="")
    return 0


def cmd_demo(a) -> int:
    from .demo import write_demo_model
    path = write_demo_model(Path(a.output))
    print(f"wrote {path}")
    return 0


def cmd_targets(a) -> int:
    from . import target
    for name in target.available():
        t = target.load(name)
        print(f"{t.name:<12} {t.description}  (backends: {', '.join(t.backends)})")
    return 0


def cmd_bench(a) -> int:
    from .bench import DEFAULT_TIMEOUT, bench, write_json
    res = bench(_model_path(a.model), target=a.target, cmsis_nn=a.cmsis_nn, per_op=a.per_op, seed=a.seed,
                rounding=a.rounding, reference=a.reference,
                reference_model=_model_path(a.reference_model) if a.reference_model else None,
                timeout=a.timeout or DEFAULT_TIMEOUT, keep=a.keep, exact=a.exact, patches=a.patches, pools=a.pools)
    print(res.summary())
    if a.json:
        write_json(res, a.json)
    return 1 if res.bit_exact is False else 0


class _ListPasses(argparse.Action):
    """--passes: print the graph passes (name, default on/off, summary) and exit, like --version."""

    def __init__(self, option_strings, dest, **kw):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kw)

    def __call__(self, parser, namespace, values, option_string=None):
        from .passes import describe
        print(describe())
        parser.exit()


def _check_passes(a) -> None:
    """Unknown --disable-pass names are a one-line usage error before any work is done."""
    from .passes import resolve
    resolve(a.disable_pass)


REFERENCE_HELP = ("interpreter the outputs are compared with; default: the one whose arithmetic the build "
                  "follows (tflm for CMSIS-NN calls or --rounding tflm, else litert)")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aotc", description="Ahead-of-time compiler: .tflite -> C99, verified bit-exact")
    p.add_argument("--version", action="version", version=f"aotc {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("model", help="the .tflite file")
        sp.add_argument("--target", default="generic", help="target name (see `aotc targets`)")
        sp.add_argument("--rounding", choices=["litert", "tflm"], default=None,
                        help="arithmetic where the references differ (FULLY_CONNECTED requantization, RELU6, "
                             "TANH, int16 ADD/SUB/SOFTMAX, MUL multipliers): litert or tflm; default: the "
                             "reference's (litert for compile and plan)")
        sp.add_argument("--io", choices=["caller", "arena"], default="caller",
                        help="caller: kernels use your input/output buffers in place (default); "
                             "arena: inputs and outputs are copied through the arena")
        sp.add_argument("--backends", default=None, type=lambda v: tuple(x for x in v.split(",") if x),
                        metavar="LIST", help="comma-separated backends to use instead of the target's, in order "
                                             "(e.g. generic_c)")
        sp.add_argument("--pools", default=None, metavar="SPEC",
                        help="several memory pools, fastest first: 'target' (the target's [[pools]]) or "
                             "NAME=BYTES,...,NAME[=BYTES]; the hottest buffers go to the first pool that fits")
        sp.add_argument("--patches", default="off", metavar="MODE",
                        help="off (default); auto[:P]: run stages of convolutions, pools and residual adds "
                             "band by band (patch-based execution: line buffers or recomputed halos) while that "
                             "shrinks the arena, adding at most P%% of the model's MACs in work (default 50); "
                             "K:B: the first K windowed ops in bands of B output rows")
        sp.add_argument("--passes", action=_ListPasses, help="list the graph passes (default on/off) and exit")
        sp.add_argument("--disable-pass", action="append", default=[], metavar="NAME",
                        help="do not run this graph pass (repeatable; see --passes)")

    c = sub.add_parser("compile", help="compile a model to C")
    common(c)
    c.add_argument("more_models", nargs="*", metavar="MODEL", help="more models, with --shared-arena")
    c.add_argument("-o", "--output", required=True, help="output folder (replaced atomically)")
    c.add_argument("--shared-arena", action="store_true",
                   help="compile several models that run one at a time into one folder with one arena "
                        "(shared_arena.h), each model in its own subfolder")
    c.add_argument("--planner", default="best",
                   help="arena planner: best (default: the smallest arena of all), greedy_by_size, "
                        "greedy_by_size_late_first, greedy_by_conflicts, hill_climb, branch_and_bound")
    c.add_argument("--schedule", choices=["search", "given"], default="search",
                   help="op order: search (default) picks the order with the smallest peak of live bytes; "
                        "given keeps the model's order")
    c.add_argument("--name", default=None, help="C symbol prefix (default: from the file name)")
    c.add_argument("--arena-limit", type=int, default=None, metavar="BYTES",
                   help="fail if the arena needs more than this (default: the target's RAM, if it states one)")
    c.add_argument("--exact", choices=["litert"], default=None,
                   help="litert: lower the ops where a kernel library (CMSIS-NN) differs from LiteRT's reference "
                        "kernels with the generic kernels instead, so the result is bit-exact with LiteRT")
    c.set_defaults(func=cmd_compile)

    v = sub.add_parser("verify", help="build on the host and compare with a reference interpreter")
    common(v)
    v.add_argument("--inputs", type=int, default=10, help="number of generated input sets")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--reference", choices=["litert", "tflm"], default=None, help=REFERENCE_HELP)
    v.add_argument("--reference-model", default=None,
                   help="run the reference on this file instead (e.g. a copy LiteRT accepts)")
    v.add_argument("--input", action="append", default=[], help="a .npy or raw .bin input (repeatable)")
    v.add_argument("--per-layer", action="store_true", help="on mismatch, report the first differing op")
    v.add_argument("--sanitize", action="store_true",
                   help="also run every input through an AddressSanitizer + UBSan build of the generated C")
    v.add_argument("--exact", choices=["litert"], default=None,
                   help="as for compile: route the ops where CMSIS-NN differs from LiteRT to the generic kernels")
    v.add_argument("--cmsis-nn", default=None, metavar="PATH",
                   help="CMSIS-NN checkout for targets that use it (default: env CMSIS_NN_PATH); built on the host")
    v.set_defaults(func=cmd_verify)

    i = sub.add_parser("inspect", help="ops, tensors, quantization and sizes of a model")
    i.add_argument("model")
    i.set_defaults(func=cmd_inspect)

    d = sub.add_parser("demo-model", help="write the bundled example model (a small int8 keyword spotter)")
    d.add_argument("output", nargs="?", default="examples/demo_kws.tflite")
    d.set_defaults(func=cmd_demo)

    b = sub.add_parser("bench", help="cross-compile, run on the target's emulated board (QEMU), count instructions")
    b.add_argument("model", help="the .tflite file")
    b.add_argument("--target", default="m55", help="target with an emulated board (default m55)")
    b.add_argument("--rounding", choices=["litert", "tflm"], default=None,
                   help="arithmetic where the references differ; default: the reference's if one is named, "
                        "else litert (tflm for a CMSIS-NN build)")
    b.add_argument("--cmsis-nn", default=None, metavar="PATH",
                   help="CMSIS-NN checkout to build with (default: $CMSIS_NN_PATH; none: generic kernels)")
    b.add_argument("--json", default=None, metavar="FILE", help="write the results as JSON")
    b.add_argument("--pools", default=None, metavar="SPEC", help="several memory pools (as for compile)")
    b.add_argument("--patches", default="off", metavar="MODE",
                   help="patch-based execution: off (default), auto[:P], or K:B (as for compile)")
    b.add_argument("--per-op", action="store_true", help="also count instructions per step (profiling build)")
    b.add_argument("--seed", type=int, default=0, help="seed of the one generated input")
    b.add_argument("--reference", choices=["litert", "tflm"], default=None, help=REFERENCE_HELP)
    b.add_argument("--reference-model", default=None,
                   help="run the reference on this file instead (e.g. a copy LiteRT accepts)")
    b.add_argument("--timeout", type=float, default=None, help="seconds QEMU may run (default 600)")
    b.add_argument("--keep", default=None, metavar="DIR", help="keep the build folder (sources, ELF, map) here")
    b.add_argument("--exact", choices=["litert"], default=None,
                   help="litert: the ops where CMSIS-NN differs from LiteRT run on the generic kernels "
                        "(measure what bit-exactness with LiteRT costs)")
    b.set_defaults(func=cmd_bench)

    pl = sub.add_parser("plan", help="the arena plan of a model: buffers, offsets, lifetimes; optional picture")
    common(pl)
    pl.add_argument("--planner", default="best", help="arena planner (as for compile)")
    pl.add_argument("--schedule", choices=["search", "given"], default="search", help="op order (as for compile)")
    pl.add_argument("--svg", default=None, metavar="FILE", help="draw the plan (time x address) as SVG")
    pl.add_argument("--png", default=None, metavar="FILE", help="draw the plan as PNG")
    pl.set_defaults(func=cmd_plan)

    o = sub.add_parser("ops", help="the operator support table: versions, types, backends, or why not")
    o.add_argument("--target", default="generic", help="target name (see `aotc targets`)")
    o.set_defaults(func=cmd_ops)

    t = sub.add_parser("targets", help="list the available targets")
    t.set_defaults(func=cmd_targets)
    return p


STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))
_received: list[int] = []   # the stop signal this run received, if any


def _interrupt(signum, frame):
    """SIGTERM and SIGHUP, like SIGINT, become KeyboardInterrupt, so the cleanup that removes
    temporary folders on any exception runs; further signals are ignored while it does."""
    for s in STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    _received.append(signum)
    raise KeyboardInterrupt(signum)


@contextmanager
def _signals_interrupt():
    if threading.current_thread() is not threading.main_thread():
        yield   # only the main thread may set handlers (main() called from a worker thread)
        return
    saved = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    for s in STOP_SIGNALS:
        signal.signal(s, _interrupt)
    try:
        yield
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


def interrupted(signum: int) -> int:
    """One line and the shell's status for death by that signal (130 for SIGINT, 143 for SIGTERM)."""
    print(f"aotc: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
    return 128 + signum


def main(argv=None) -> int:
    _received.clear()
    with _signals_interrupt():
        try:
            return _run(argv)
        except KeyboardInterrupt as e:   # also while parsing arguments or importing a command's modules
            return interrupted(e.args[0] if e.args and isinstance(e.args[0], int) else signal.SIGINT)


def _run(argv) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except AotcError as e:
        print(f"aotc: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # the file system refused (output under a file, disk full, no permission)
        where = f"{e.filename}: " if e.filename else ""
        print(f"aotc: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except Exception as e:  # a bug in aotc: still one line (AOTC_DEBUG=1 shows the traceback)
        if _received:   # an interrupt that a C extension turned into another error (numpy's import does)
            return interrupted(_received[0])
        if os.environ.get("AOTC_DEBUG"):
            raise
        print(f"aotc: internal error: {type(e).__name__}: {e} (a bug in aotc; rerun with AOTC_DEBUG=1 and "
              "report it)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
