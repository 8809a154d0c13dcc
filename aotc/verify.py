"""Verify: build the generated C on the host with cffi and compare it with a reference interpreter.

Integer outputs must be identical to the reference. float32 outputs must satisfy
|ours - ref| <= FLOAT_ATOL + FLOAT_RTOL * |ref| elementwise.

Inputs are deterministic: input set k uses numpy default_rng(seed + k). Even k draw uniformly over
the whole type range (the saturation edges); odd k draw "realistic" values, a normal distribution
centred on the zero point with a standard deviation of 1/8 of the range (what a sensor feeding the
model's input scale produces); user .npy/.bin files come first when given.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import reader, staging
from .compiler import Options, compile_graph
from .errors import BuildError, UsageError
from .ir import Graph, Tensor, c_type, np_dtype
from .quant import QRANGE
from .references import captured_fds, choose_reference, open_reference
from .resources import resource_dir
from .target import load as load_target

FLOAT_ATOL = 1e-5
FLOAT_RTOL = 1e-4
HOST_CFLAGS = ["-std=c99", "-O1", "-fno-strict-aliasing"]


# ---- result types -----------------------------------------------------------------------------

@dataclass
class OutputDiff:
    index: int            # position in the graph's outputs
    name: str
    dtype: str
    max_abs_diff: float
    mismatches: int       # elements outside tolerance (integers: not identical), over all inputs
    total: int            # elements compared, over all inputs

    @property
    def bit_exact(self) -> bool:
        return self.dtype != "float32" and self.mismatches == 0

    @property
    def ok(self) -> bool:
        return self.mismatches == 0


@dataclass
class LayerDiff:
    step: int
    op_index: int
    kind: str
    tensor: str
    max_abs_diff: float
    mismatches: int


@dataclass
class VerifyResult:
    model: str
    target: str
    reference: str
    rounding: str
    inputs_run: int
    outputs: list[OutputDiff]
    first_mismatch: LayerDiff | None = None
    layers_compared: int = 0
    input_kinds: list[str] = field(default_factory=list)
    sanitized: bool = False   # every input also ran clean under ASan + UBSan

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outputs)

    @property
    def bit_exact(self) -> bool:
        return all(o.bit_exact for o in self.outputs)

    def __bool__(self) -> bool:
        return self.ok

    def summary(self) -> str:
        lines = [f"{self.model}: target {self.target} vs {self.reference} (rounding {self.rounding}), "
                 f"{self.inputs_run} inputs"]
        for o in self.outputs:
            status = ("bit-exact" if o.bit_exact else "within tolerance") if o.ok else "MISMATCH"
            lines.append(f"  output {o.index} \"{o.name}\" {o.dtype}: {status}, max abs diff {o.max_abs_diff:g}, "
                         f"{o.mismatches}/{o.total} differ")
        if self.first_mismatch is not None:
            m = self.first_mismatch
            lines.append(f"  first differing op: step {m.step}, op {m.op_index} {m.kind}, tensor \"{m.tensor}\": "
                         f"max abs diff {m.max_abs_diff:g}, {m.mismatches} elements differ")
        elif self.layers_compared:
            lines.append(f"  per-layer: {self.layers_compared} intermediate tensors compared, all agree")
        if self.sanitized:
            lines.append("  AddressSanitizer + UndefinedBehaviorSanitizer build: clean, same outputs")
        lines.append("PASS" if self.ok else "FAIL")
        return "\n".join(lines)


# ---- inputs -------------------------------------------------------------------------------------

def make_input(t: Tensor, rng: np.random.Generator, realistic: bool) -> np.ndarray:
    dt = np_dtype(t.dtype)
    if t.dtype == "float32":
        x = rng.normal(0.0, 1.0, t.shape) if realistic else rng.uniform(-4.0, 4.0, t.shape)
        return x.astype(dt)
    if t.dtype == "bool":
        return rng.integers(0, 2, t.shape).astype(dt)
    lo, hi = QRANGE.get(t.dtype, (-1000, 1000))
    if not realistic:
        return rng.integers(lo, hi + 1, t.shape, dtype=np.int64).astype(dt)
    centre = t.quant.zp if t.quant else 0
    x = np.rint(rng.normal(centre, (hi - lo) / 8.0, t.shape))
    return np.clip(x, lo, hi).astype(dt)


def load_input_file(path: Path, t: Tensor) -> np.ndarray:
    if path.suffix == ".npy":
        arr = np.load(path)
        if arr.size != t.size:
            raise UsageError(f"{path.name}: {arr.size} elements, input \"{t.name}\" needs {t.size}")
        return arr.astype(np_dtype(t.dtype), copy=False).reshape(t.shape)
    raw = path.read_bytes()
    if len(raw) != t.nbytes:
        raise UsageError(f"{path.name}: {len(raw)} bytes, input \"{t.name}\" needs {t.nbytes}")
    return np.frombuffer(raw, dtype=np_dtype(t.dtype)).reshape(t.shape).copy()


def input_sets(graph: Graph, n: int, seed: int, files=()) -> list[tuple[str, dict[int, np.ndarray]]]:
    sets = []
    for f in files:
        f = Path(f)
        if len(graph.inputs) != 1:
            raise UsageError("input files are supported for single-input models only")
        t = graph.inputs[0]
        sets.append((f.name, {t.index: load_input_file(f, t)}))
    for k in range(n):
        rng = np.random.default_rng(seed + k)
        realistic = k % 2 == 1
        sets.append(("realistic" if realistic else "uniform",
                     {t.index: make_input(t, rng, realistic) for t in graph.inputs}))
    return sets


# ---- host build -----------------------------------------------------------------------------------

def cache_dir() -> Path:
    root = os.environ.get("AOTC_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "aotc")
    return Path(root)


SHIM_DECL = ("int aotc_host_run(void *ctx_mem, void *arena, size_t arena_size, void **pools, size_t *pool_sizes, "
             "void **ins, void **outs, int first);")
CTX_BYTES = 256   # room for the generated context struct (a few pointers), kept by Python between runs


def _shim(name: str, graph: Graph, n_pools: int) -> str:
    ins = ", ".join(f"(const {c_type(t.dtype)} *)ins[{i}]" for i, t in enumerate(graph.inputs))
    outs = ", ".join(f"({c_type(t.dtype)} *)outs[{i}]" for i, t in enumerate(graph.outputs))
    pools = "".join(f", pools[{i}], pool_sizes[{i}]" for i in range(n_pools))
    # init only before the first run: a stateful model continues from the previous invoke, as the
    # reference interpreter does
    return (f'#include "{name}.h"\n'
            f"typedef char aotc_ctx_fits[sizeof({name}_ctx_t) <= {CTX_BYTES} ? 1 : -1];\n"
            f"{SHIM_DECL[:-1]}\n{{\n"
            f"    {name}_ctx_t *ctx = ({name}_ctx_t *)ctx_mem;\n"
            f"    (void)pools; (void)pool_sizes;\n"
            f"    if (first) {{\n"
            f"        int rc = {name}_init(ctx, arena, arena_size{pools});\n"
            f"        if (rc != 0) return rc;\n"
            f"    }}\n"
            f"    return {name}_invoke(ctx, {ins}{', ' if ins else ''}{outs});\n}}\n")


def build(compiled, extra_cflags=(), lib: "HostLib | None" = None) -> object:
    """Compile the model with cffi into a Python extension (cached by a hash of sources and flags).
    `lib`: an external kernel library (include dirs + a static archive) to compile and link with."""
    import cffi
    name = compiled.name
    flags = HOST_CFLAGS + list(extra_cflags)
    shim = _shim(name, compiled.graph, len(compiled.plan.pool_sizes))
    h = hashlib.sha256()
    runtime_files = sorted((resource_dir("runtime") / "aotc").glob("*.h"))
    for key, text in sorted(compiled.files.items()):
        h.update(key.encode() + b"\0" + text.encode() + b"\0")
    for p in runtime_files:
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    h.update(shim.encode() + repr(flags).encode() + cffi.__version__.encode() + sys.version.encode())
    if lib is not None:
        h.update(b"lib\0" + lib.digest.encode())
    digest = h.hexdigest()[:20]
    modname = f"_aotc_{name}_{digest}"
    entry = cache_dir() / digest
    lib_path = _find_extension(entry, modname)
    if lib_path is None:
        lib_path = _build_entry(compiled, name, modname, shim, flags, entry, runtime_files, lib)
    spec = importlib.util.spec_from_file_location(modname, lib_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _find_extension(entry: Path, modname: str) -> Path | None:
    """The cached extension if the entry is complete and intact, else None. An entry is complete
    when its OK file exists (written last, then the folder renamed into place) and intact when the
    extension still has the SHA-256 recorded there; a damaged entry is removed so it is rebuilt."""
    if not entry.exists():
        return None
    ok = entry / "OK"
    found = sorted(entry.glob(f"{modname}*.so")) + sorted(entry.glob(f"{modname}*.pyd"))
    if ok.is_file() and found and hashlib.sha256(found[0].read_bytes()).hexdigest() == ok.read_text().strip():
        return found[0]
    shutil.rmtree(entry, ignore_errors=True)   # entries appear whole (renamed into place): this one is damaged
    return None


def cache_staging(entry: Path, prefix: str) -> Path:
    """A staging folder for a cache entry, after sweeping the ones killed builds left."""
    staging.sweep(entry.parent, prefix)
    return staging.make(entry.parent, prefix)


def _build_entry(compiled, name, modname, shim, flags, entry: Path, runtime_files, lib=None) -> Path:
    import cffi
    entry.parent.mkdir(parents=True, exist_ok=True)
    work = cache_staging(entry, f".{entry.name}.aotc-")
    try:
        src = work / "src"
        (src / "aotc").mkdir(parents=True)
        for fname, text in compiled.files.items():
            (src / fname).write_text(text)
        for p in runtime_files:
            shutil.copy(p, src / "aotc" / p.name)
        ffi = cffi.FFI()
        ffi.cdef(SHIM_DECL)
        include_dirs = [str(src)] + ([str(d) for d in lib.include_dirs] if lib is not None else [])
        objects = [str(lib.archive)] if lib is not None else []
        ffi.set_source(modname, shim, sources=[str(src / f"{name}.c")], include_dirs=include_dirs,
                       extra_compile_args=flags, extra_objects=objects, libraries=["m"])
        log: list[str] = []
        try:
            with captured_fds(log):  # the compiler writes to fd 2 directly
                built = ffi.compile(tmpdir=str(work / "build"), verbose=False)
        except Exception as e:  # distutils/setuptools raise their own CompileError types
            first = next((ln for ln in "".join(log).splitlines() if "error" in ln), str(e).strip().splitlines()[-1])
            raise BuildError(f"host build of the generated C failed: {first.strip()}") from None
        final = work / "out"
        final.mkdir()
        shutil.copy(built, final / Path(built).name)
        (final / "OK").write_text(hashlib.sha256(Path(built).read_bytes()).hexdigest() + "\n")
        try:
            final.rename(entry)
        except OSError:  # another process finished the same build first: use its entry if intact
            if _find_extension(entry, modname) is None:
                final.rename(entry)
        return _find_extension(entry, modname)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class HostLib:
    """An external kernel library built for the host: include dirs and a static archive."""
    include_dirs: list[Path]
    archive: Path
    digest: str


def cmsis_nn_host_lib(path=None, cc: str | None = None) -> HostLib:
    """CMSIS-NN's integer sources compiled for the host (its portable C path: no DSP, no MVE) into a
    static archive, cached by a hash of the sources and flags. UsageError if the path is missing or wrong."""
    from concurrent.futures import ThreadPoolExecutor

    from .backends.cmsis_nn import sources
    files, incs = sources(path)
    cc = cc or os.environ.get("CC", "gcc")
    flags = ["-std=c99", "-O1", "-fPIC", "-fno-strict-aliasing", "-w"]
    h = hashlib.sha256(repr((cc, flags)).encode())
    root = incs[0].parent
    for p in files + sorted(q for d in incs for q in d.rglob("*.h")):
        h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    digest = h.hexdigest()[:20]
    entry = cache_dir() / f"cmsis-nn-{digest}"
    archive = entry / "libcmsisnn.a"
    if (entry / "OK").is_file() and archive.is_file():
        return HostLib(list(incs), archive, digest)
    entry.parent.mkdir(parents=True, exist_ok=True)
    work = cache_staging(entry, f".cmsis-nn-{digest}.aotc-")
    try:
        def compile_one(i_p):
            i, p = i_p
            obj = work / f"{i:04d}_{p.stem}.o"
            r = subprocess.run([cc, *flags, *[f"-I{d}" for d in incs], "-c", str(p), "-o", str(obj)],
                               capture_output=True, text=True)
            if r.returncode != 0:
                msg = (r.stderr.strip().splitlines() or ["?"])[-1]
                raise BuildError(f"host build of CMSIS-NN failed on {p.name}: {msg}")
            return obj
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            objs = list(pool.map(compile_one, enumerate(files)))
        out = work / "out"
        out.mkdir()
        r = subprocess.run(["ar", "rcs", str(out / "libcmsisnn.a"), *map(str, objs)], capture_output=True, text=True)
        if r.returncode != 0:
            raise BuildError(f"ar failed: {r.stderr.strip()}")
        (out / "OK").write_text("ok\n")
        try:
            out.rename(entry)
        except OSError:   # built concurrently by another process
            if not (entry / "OK").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return HostLib(list(incs), archive, digest)


class HostModel:
    """The compiled model, callable from Python: outputs = m.run({tensor index: array})."""

    def __init__(self, compiled, extra_cflags=(), lib: "HostLib | None" = None):
        self.compiled = compiled
        self.module = build(compiled, extra_cflags, lib)
        ffi = self.module.ffi
        align = compiled.plan.align
        self.arena = ffi.new("uint8_t[]", compiled.plan.arena_size + align)
        addr = int(ffi.cast("uintptr_t", self.arena))
        self.pad = (-addr) % align
        self.ctx = ffi.new("uint64_t[]", CTX_BYTES // 8)
        sizes = list(compiled.plan.pool_sizes.values())
        self.pools = [ffi.new("uint8_t[]", s + align) for s in sizes]   # kept alive with the model
        self.pool_ptrs = ffi.new("void *[]", [p + (-int(ffi.cast("uintptr_t", p))) % align for p in self.pools]
                                 or [ffi.NULL])
        self.pool_sizes = ffi.new("size_t[]", sizes or [0])
        self.started = False

    def run(self, inputs: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
        ffi, lib = self.module.ffi, self.module.lib
        g = self.compiled.graph
        ins = [np.ascontiguousarray(inputs[t.index], dtype=np_dtype(t.dtype)) for t in g.inputs]
        outs = [np.zeros(t.shape, dtype=np_dtype(t.dtype)) for t in g.outputs]
        in_ptrs = ffi.new("void *[]", [ffi.from_buffer(a) for a in ins] or [ffi.NULL])
        out_ptrs = ffi.new("void *[]", [ffi.from_buffer(a) for a in outs])
        rc = lib.aotc_host_run(self.ctx, self.arena + self.pad, self.compiled.plan.arena_size, self.pool_ptrs,
                               self.pool_sizes, in_ptrs, out_ptrs, int(not self.started))
        self.started = True
        if rc != 0:
            raise BuildError(f"generated init/invoke returned {rc}")
        return {t.index: a for t, a in zip(g.outputs, outs)}

    def tensor(self, t: Tensor) -> np.ndarray | None:
        """Read a tensor from the arena after run() (meaningful with the 'unshared' planner);
        None for tensors kept in the caller's buffers."""
        where, pos = self.compiled.plan.location(t)
        if where != "arena":
            return None
        off = self.pad + pos
        raw = bytes(self.module.ffi.buffer(self.arena + off, t.nbytes))
        return np.frombuffer(raw, dtype=np_dtype(t.dtype)).reshape(t.shape)


class SanitizedHostModel:
    """The compiled model as a standalone executable built with AddressSanitizer and
    UndefinedBehaviorSanitizer (any report aborts the run), fed all input sets in one process."""

    FLAGS = ["-std=c99", "-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
             "-fno-sanitize-recover=all"]

    def __init__(self, compiled, cc: str | None = None, lib_sources=None):
        self.compiled = compiled
        self.cc = cc or os.environ.get("CC", "gcc")
        self.work = Path(tempfile.mkdtemp(prefix="aotc-sanitize-"))
        g = compiled.graph
        name = compiled.name
        for fname, text in compiled.files.items():
            (self.work / fname).write_text(text)
        shutil.copytree(resource_dir("runtime") / "aotc", self.work / "aotc",
                        ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        self.in_offsets, self.out_offsets = _packed(g.inputs), _packed(g.outputs)
        ins = ", ".join(f"(const {c_type(t.dtype)} *)(in + {o})" for t, o in zip(g.inputs, self.in_offsets))
        outs = ", ".join(f"({c_type(t.dtype)} *)(out + {o})" for t, o in zip(g.outputs, self.out_offsets))
        in_bytes = max(sum(_pad16(t.nbytes) for t in g.inputs), 16)
        out_bytes = max(sum(_pad16(t.nbytes) for t in g.outputs), 16)
        N = name.upper()
        pool_names = list(compiled.plan.pool_sizes)
        pool_defs = "".join(f"{N}_{p.upper()}_DEFINE(pool_{p});\n" for p in pool_names)
        pool_args = "".join(f", pool_{p}, sizeof pool_{p}" for p in pool_names)
        (self.work / "main.c").write_text(f"""#include <stdio.h>
#include <stdlib.h>
#include "{name}.h"
{N}_ARENA_DEFINE(arena);
{pool_defs}static uint8_t in[{in_bytes}] __attribute__((aligned(16)));
static uint8_t out[{out_bytes}] __attribute__((aligned(16)));
int main(int argc, char **argv)
{{
    {name}_ctx_t ctx;
    FILE *fi, *fo;
    if (argc != 3 || !(fi = fopen(argv[1], "rb")) || !(fo = fopen(argv[2], "wb"))) return 3;
    if ({name}_init(&ctx, arena, sizeof arena{pool_args}) != {N}_OK) return 4;
    while (fread(in, 1, sizeof in, fi) == sizeof in) {{
        if ({name}_invoke(&ctx{", " if ins else ""}{ins}, {outs}) != {N}_OK) return 5;
        if (fwrite(out, 1, sizeof out, fo) != sizeof out) return 6;
    }}
    fclose(fi);
    fclose(fo);
    return 0;
}}
""")
        self.in_bytes, self.out_bytes = in_bytes, out_bytes
        self.exe = self.work / "model_asan"
        cmd = [self.cc, *self.FLAGS, "-I", str(self.work), str(self.work / "main.c"), str(self.work / f"{name}.c"),
               "-o", str(self.exe), "-lm"]
        if lib_sources is not None:   # (C files, include dirs) of an external kernel library
            files, incs = lib_sources
            cmd[-3:-3] = [*[f"-I{d}" for d in incs], *map(str, files)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise BuildError(f"sanitizer build failed: {(r.stderr.strip().splitlines() or ['?'])[-1]}")

    def run_many(self, feeds: list[dict[int, np.ndarray]]) -> list[dict[int, np.ndarray]]:
        g = self.compiled.graph
        blob = bytearray()
        for feed in feeds:
            chunk = bytearray(self.in_bytes)
            for t, off in zip(g.inputs, self.in_offsets):
                raw = np.ascontiguousarray(feed[t.index], dtype=np_dtype(t.dtype)).tobytes()
                chunk[off:off + len(raw)] = raw
            blob += chunk
        (self.work / "in.bin").write_bytes(bytes(blob))
        r = subprocess.run([str(self.exe), str(self.work / "in.bin"), str(self.work / "out.bin")],
                           capture_output=True, text=True, env={**os.environ, "ASAN_OPTIONS": "detect_leaks=0"})
        if r.returncode != 0:
            lines = [ln for ln in r.stderr.splitlines() if "runtime error" in ln or "ERROR:" in ln] or [r.stderr.strip()]
            raise BuildError(f"sanitizer run failed (exit {r.returncode}): {lines[0] if lines else ''}")
        data = (self.work / "out.bin").read_bytes()
        results = []
        for k in range(len(feeds)):
            chunk = data[k * self.out_bytes:(k + 1) * self.out_bytes]
            results.append({t.index: np.frombuffer(chunk[off:off + t.nbytes], dtype=np_dtype(t.dtype)).reshape(t.shape)
                            for t, off in zip(g.outputs, self.out_offsets)})
        return results

    def close(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def _pad16(n: int) -> int:
    return (n + 15) // 16 * 16


def _packed(tensors) -> list[int]:
    offs, end = [], 0
    for t in tensors:
        offs.append(end)
        end += _pad16(t.nbytes)
    return offs


# ---- comparison -----------------------------------------------------------------------------------

def _diff(ours: np.ndarray, ref: np.ndarray, dtype: str) -> tuple[float, int]:
    ref = np.asarray(ref).reshape(ours.shape)
    if dtype == "float32":
        a, b = ours.astype(np.float64), ref.astype(np.float64)
        with np.errstate(invalid="ignore"):   # inf - inf
            close = (np.abs(a - b) <= FLOAT_ATOL + FLOAT_RTOL * np.abs(b)) & np.isfinite(a) & np.isfinite(b)
            bad = ~(close | (a == b) | (np.isnan(a) & np.isnan(b)))   # equal infinities agree
            diff = np.where(a == b, 0.0, np.abs(a - b))
        return float(np.nanmax(diff)) if diff.size else 0.0, int(bad.sum())
    d = np.abs(ours.astype(np.int64) - ref.astype(np.int64))
    return float(d.max()) if d.size else 0.0, int((d != 0).sum())


def check_input_count(inputs: int, input_files=()) -> None:
    """A verification must compare something: a negative count is a usage error, and so is no input
    at all (0 generated sets and no files), which would otherwise pass having checked nothing."""
    if inputs < 0:
        raise UsageError(f"inputs {inputs}: the number of generated input sets cannot be negative")
    if inputs == 0 and not input_files:
        raise UsageError("no inputs: 0 generated input sets and no input files, so nothing would be compared")


def verify(model, target: str = "generic", inputs: int = 10, seed: int = 0, reference: str | None = None,
           rounding: str | None = None, per_layer: bool = False, input_files=(), reference_model=None,
           extra_cflags=(), sanitize: bool = False, cmsis_nn=None, **compile_options) -> VerifyResult:
    """Compile `model`, run it on the host and compare with the reference. See the module docstring.
    A target whose backends include cmsis_nn is built with CMSIS-NN from `cmsis_nn` (default: env
    CMSIS_NN_PATH) on its portable C path, so its scratch is planned for no DSP/MVE features.
    The reference, unless named, follows the build's arithmetic (references.choose_reference)."""
    if isinstance(model, (str, os.PathLike)) and not Path(model).is_file():
        raise UsageError(f"{model}: no such file")
    check_input_count(inputs, input_files)
    target_backends = load_target(target).backends
    calls_cmsis_nn = "cmsis_nn" in (compile_options.get("backends") or target_backends)
    reference, rounding = choose_reference(reference, rounding, calls_cmsis_nn, compile_options.get("exact"))
    graph = reader.read(model, name=compile_options.pop("name", None))
    options = Options(target=target, rounding=rounding, measure_code=False, **compile_options)
    if isinstance(model, (str, os.PathLike)):
        options.source_name = Path(model).name
    if per_layer:
        options.planner = "unshared"
    lib = None
    if "cmsis_nn" in target_backends:
        if options.features is None:
            options.features = ()      # the host build of CMSIS-NN takes its plain C path
    compiled = compile_graph(graph, options)
    if any(c.backend == "cmsis_nn" for c in compiled.calls):
        lib = cmsis_nn_host_lib(cmsis_nn or os.environ.get("CMSIS_NN_PATH"))
    host = HostModel(compiled, extra_cflags, lib)
    ref = open_reference(reference, reference_model or model, graph, preserve_all_tensors=per_layer)

    sets = input_sets(compiled.graph, inputs, seed, input_files)
    outs = compiled.graph.outputs
    acc = [[0.0, 0, 0] for _ in outs]
    first: LayerDiff | None = None
    layers = 0
    ours_all = []
    for _, feed in sets:   # in order, once each: a stateful model carries its state from set to set
        ours = host.run(feed)
        ours_all.append(ours)
        theirs = ref.run(feed)
        for i, t in enumerate(outs):
            mad, bad = _diff(ours[t.index], theirs[t.index], t.dtype)
            acc[i][0] = max(acc[i][0], mad)
            acc[i][1] += bad
            acc[i][2] += t.size
        if per_layer and first is None:
            for step, call in enumerate(compiled.calls):
                for t in call.op.outputs:
                    expected = ref.tensor(t.index)
                    if expected is None or expected.size != t.size:
                        continue
                    ours_t = host.tensor(t)
                    if ours_t is None:
                        continue
                    layers += 1
                    mad, bad = _diff(ours_t, expected, t.dtype)
                    if bad:
                        first = LayerDiff(step, call.op.index, call.op.kind, t.name, mad, bad)
                        break
                if first is not None:
                    break
    if sanitize:  # every input set once more through the ASan/UBSan build; must agree with the cffi build
        lib_sources = None
        if lib is not None:
            from .backends.cmsis_nn import sources
            lib_sources = sources(cmsis_nn or os.environ.get("CMSIS_NN_PATH"))
        checked = SanitizedHostModel(compiled, lib_sources=lib_sources)
        try:
            for got, want in zip(checked.run_many([f for _, f in sets]), ours_all):
                for t in outs:
                    if not np.array_equal(got[t.index], want[t.index], equal_nan=t.dtype == "float32"):
                        raise BuildError(f'sanitizer build and host build disagree on output "{t.name}"')
        finally:
            checked.close()
    diffs = [OutputDiff(i, t.name, t.dtype, a[0], a[1], a[2]) for i, (t, a) in enumerate(zip(outs, acc))]
    name = Path(model).name if isinstance(model, (str, os.PathLike)) else compiled.name
    return VerifyResult(name, target, reference, rounding, len(sets), diffs, first, layers,
                        [k for k, _ in sets], sanitized=sanitize)
