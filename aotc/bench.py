"""`aotc bench`: cross-compile a compiled model for an emulated board, run one inference in QEMU and
count retired instructions.

For the m55 target (board mps3-an547): the generated C, a generated bench main.c and aotc's own
startup code and linker script (targets/boards/mps3-an547/) are built with the target's
cross-compiler and flags, then run in `qemu-system-arm -M mps3-an547` with `-icount` and
semihosting. main.c paints the stack, reads the SSE-300 system counter around init, runs one
warm-up invoke and one measured invoke, and prints the counter readings, the stack high-water mark
and the output bytes. With `-icount shift=S` every retired instruction advances the virtual clock by
2^S ns and the system counter ticks at 32 MHz of that clock, so a reading of `t` ticks is
ceil(t * 125 / 2^(S+2)) instructions; each reading is converted before two are subtracted.

The outputs printed by the emulated target are compared with the reference for the same input: the
one named, else the interpreter whose arithmetic the build follows (references.choose_reference:
TFLM for CMSIS-NN builds and rounding tflm, LiteRT for the generic kernels with rounding litert).
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .errors import AotcError, UsageError
from .ir import c_type, np_dtype
from .resources import resource_dir

ICOUNT_SHIFT = 5
DEFAULT_TIMEOUT = 600.0
STACK_BYTES = 64 * 1024
BENCH_FLAGS = ["-ffunction-sections", "-fdata-sections"]
BENCH_LDFLAGS = ["-nostartfiles", "-Wl,--gc-sections"]


# ---- errors -----------------------------------------------------------------------------------------

class BenchError(AotcError):
    """The benchmark could not be built or run."""


class ToolMissingError(BenchError):
    """The cross-compiler or the emulator is not installed."""


class CrossBuildError(BenchError):
    """The cross-compiler rejected the generated code or the harness."""


class LinkOverflowError(CrossBuildError):
    """The program does not fit in the board's memories."""


class EmulatorTimeout(BenchError):
    """QEMU did not finish within the time limit."""


class EmulatorError(BenchError):
    """QEMU failed, or the program on it crashed or printed something unexpected."""


# ---- result -----------------------------------------------------------------------------------------

@dataclass
class BenchResult:
    model: str
    target: str
    board: str
    backend: str                  # "generic_c", "cmsis_nn+generic_c", ...
    instructions: int             # one invoke after a warm-up
    init_instructions: int
    first_invoke_instructions: int
    arena_bytes: int
    stack_bytes: int              # high-water mark over init and both invokes (main's frame included)
    data_bytes: int
    bss_bytes: int                # .bss without the arena
    ram_bytes: int                # arena + stack + data + bss
    text_bytes: int
    rodata_bytes: int
    flash_bytes: int              # text + rodata + data
    weights_bytes: int
    harness_bytes: int            # the harness's own input/output buffers, left out of flash and RAM
    bit_exact: bool | None        # None: no reference could run this model
    reference: str
    rounding: str
    max_abs_diff: float | None = None
    reference_error: str | None = None
    ops: int = 0
    per_op: list[dict] | None = None
    profile_instructions: int | None = None  # one invoke of the -D<NAME>_PROFILE build the per-op counts come from
    cflags: list[str] = field(default_factory=list)
    compiler: str = ""
    icount_shift: int = ICOUNT_SHIFT
    notes: list[str] = field(default_factory=list)

    @property
    def cold_start_instructions(self) -> int:
        return self.init_instructions + self.first_invoke_instructions

    def to_dict(self) -> dict:
        d = asdict(self)
        d["cold_start_instructions"] = self.cold_start_instructions
        return d

    def summary(self) -> str:
        exact = {True: "bit-exact", False: "MISMATCH", None: "not checked"}[self.bit_exact]
        if self.bit_exact is False and self.max_abs_diff is not None:
            exact += f" (max abs diff {self.max_abs_diff:g})"
        if self.bit_exact is None and self.reference_error:
            exact += f" ({self.reference_error})"
        rows = [
            ("instructions (1 invoke)", f"{self.instructions:,}"),
            ("init instructions", f"{self.init_instructions:,}"),
            ("cold start (init + 1st)", f"{self.cold_start_instructions:,}"),
            ("RAM bytes", f"{self.ram_bytes:,}  (arena {self.arena_bytes:,} + stack {self.stack_bytes:,} "
                          f"+ data {self.data_bytes:,} + bss {self.bss_bytes:,})"),
            ("flash bytes", f"{self.flash_bytes:,}  (text {self.text_bytes:,} + rodata {self.rodata_bytes:,} "
                            f"+ data {self.data_bytes:,}; weights {self.weights_bytes:,})"),
            (f"outputs vs {self.reference}", exact),
        ]
        lines = [f"{self.model}: target {self.target} on {self.board} (QEMU -icount shift={self.icount_shift}), "
                 f"{self.ops} ops, kernels {self.backend}"]
        lines += [f"  {k:<25} {v}" for k, v in rows]
        if self.per_op:
            lines.append("  per step:")
            total = sum(p["instructions"] for p in self.per_op) or 1
            for p in self.per_op:
                lines.append(f"    {p['step']:>3} {p['kind']:<22} {p['instructions']:>12,}  "
                             f"{100.0 * p['instructions'] / total:5.1f}%  {p['backend']}")
        for n in self.notes:
            lines.append(f"  note: {n}")
        return "\n".join(lines)


# ---- helpers ------------------------------------------------------------------------------------------

def ticks_to_instructions(ticks: int, shift: int = ICOUNT_SHIFT) -> int:
    """A system counter reading -> retired instructions since the counter started (exact)."""
    den = 1 << (shift + 2)
    return -(-(ticks * 125) // den)


def board_dir(board: str) -> Path:
    path = resource_dir("targets") / "boards" / board
    if not path.is_dir():
        raise UsageError(f"no board support for '{board}' in targets/boards/")
    return path


def _need(tool: str, what: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise ToolMissingError(f"{tool} not found: `aotc bench` needs {what} on PATH")
    return found


def _c_bytes(raw: bytes) -> str:
    if not raw:
        return "0"
    lines = []
    for i in range(0, len(raw), 24):
        lines.append("    " + ", ".join(f"0x{b:02x}" for b in raw[i:i + 24]))
    return ",\n".join(lines)


def _cmsis_nn_module():
    try:
        from .backends import cmsis_nn  # noqa: F401  (written separately; optional)
    except ImportError:
        return None
    return cmsis_nn


# ---- main.c -------------------------------------------------------------------------------------------

def bench_main(compiled, feed: dict[int, np.ndarray], profile: bool) -> str:
    g = compiled.graph
    name = compiled.name
    N = name.upper()
    steps = len(compiled.calls)
    pool_args = "".join(f", bench_pool_{p}, sizeof bench_pool_{p}" for p in compiled.plan.pool_sizes)
    parts = [f"""/* aotc bench harness for {name}: generated by aotc. */
#include <stdint.h>
#include <string.h>
#include "{name}.h"
#include "board.h"

#define BENCH_RODATA __attribute__((section(".bench_rodata"), aligned(16)))
#define BENCH_BSS __attribute__((section(".bench_bss"), aligned(16)))

{N}_ARENA_DEFINE(bench_arena);
""" + "".join(f"{N}_{p.upper()}_DEFINE(bench_pool_{p});\n" for p in compiled.plan.pool_sizes)]
    for i, t in enumerate(g.inputs):
        raw = np.ascontiguousarray(feed[t.index], dtype=np_dtype(t.dtype)).tobytes()
        parts.append(f"/* input {i}: \"{t.name}\" {t.dtype} {list(t.shape)} */\n"
                     f"static const uint8_t bench_in{i}[{max(len(raw), 1)}] BENCH_RODATA = {{\n{_c_bytes(raw)}\n}};\n")
    for i, t in enumerate(g.outputs):
        parts.append(f"static uint8_t bench_out{i}[{max(t.nbytes, 1)}] BENCH_BSS;\n")
    if profile:
        parts.append(f"""
static uint64_t bench_profile[{max(steps, 1)}][2] BENCH_BSS;

void {name}_profile(int step, int begin)
{{
    bench_profile[step][begin ? 0 : 1] = aotc_board_counter();
}}
""")
    ins = "".join(f", (const {c_type(t.dtype)} *)bench_in{i}" for i, t in enumerate(g.inputs))
    outs = "".join(f", ({c_type(t.dtype)} *)bench_out{i}" for i, t in enumerate(g.outputs))
    out_print = "".join(f"""    aotc_board_put_str("aotc-bench output {i} ");
    for (i = 0; i < sizeof bench_out{i}; i++) {{
        aotc_board_put_byte_hex(bench_out{i}[i]);
    }}
    aotc_board_put_str("\\n");
""" for i, _ in enumerate(g.outputs))
    prof_print = f"""    for (i = 0; i < {steps}u; i++) {{
        aotc_board_put_str("aotc-bench step ");
        aotc_board_put_dec((uint32_t)i);
        aotc_board_put_str(" ");
        aotc_board_put_hex64(bench_profile[i][0]);
        aotc_board_put_str(" ");
        aotc_board_put_hex64(bench_profile[i][1]);
        aotc_board_put_str("\\n");
    }}
""" if profile else ""
    parts.append(f"""
static void put_reading(const char *label, uint64_t ticks)
{{
    aotc_board_put_str(" ");
    aotc_board_put_str(label);
    aotc_board_put_str(" ");
    aotc_board_put_hex64(ticks);
}}

int main(void)
{{
    {name}_ctx_t ctx;
    uint64_t t_init0, t_init1, t_first0, t_first1, t_inv0, t_inv1;
    int rc_init, rc_first, rc_inv;
    size_t i;

    aotc_board_paint_stack();
    t_init0 = aotc_board_counter();
    rc_init = {name}_init(&ctx, bench_arena, sizeof bench_arena{pool_args});
    t_init1 = aotc_board_counter();
    if (rc_init != {N}_OK) {{
        aotc_board_put_str("aotc-bench error init ");
        aotc_board_put_dec((uint32_t)-rc_init);
        aotc_board_put_str("\\n");
        return 4;
    }}
    t_first0 = aotc_board_counter();
    rc_first = {name}_invoke(&ctx{ins}{outs});
    t_first1 = aotc_board_counter();
    t_inv0 = aotc_board_counter();
    rc_inv = {name}_invoke(&ctx{ins}{outs});
    t_inv1 = aotc_board_counter();
    if (rc_first != {N}_OK || rc_inv != {N}_OK) {{
        aotc_board_put_str("aotc-bench error invoke\\n");
        return 5;
    }}
    aotc_board_put_str("aotc-bench counter");
    put_reading("init0", t_init0);
    put_reading("init1", t_init1);
    put_reading("first0", t_first0);
    put_reading("first1", t_first1);
    put_reading("inv0", t_inv0);
    put_reading("inv1", t_inv1);
    aotc_board_put_str("\\n");
    aotc_board_put_str("aotc-bench stack ");
    aotc_board_put_dec(aotc_board_stack_used());
    aotc_board_put_str(" of ");
    aotc_board_put_dec(aotc_board_stack_size());
    aotc_board_put_str("\\n");
{out_print}{prof_print}    aotc_board_put_str("aotc-bench done\\n");
    return 0;
}}
""")
    return "".join(parts)


# ---- ELF sections -------------------------------------------------------------------------------------

def _named_sections(data: bytes) -> dict[str, int]:
    """{section name: size} of an ELF32 little-endian file (allocated sections only)."""
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    str_base = shoff + shstrndx * shentsize
    str_off, = struct.unpack_from("<I", data, str_base + 0x10)
    out = {}
    for i in range(shnum):
        base = shoff + i * shentsize
        name_off, _, flags = struct.unpack_from("<III", data, base)
        size, = struct.unpack_from("<I", data, base + 0x14)
        if not flags & 0x2:
            continue
        end = data.index(b"\0", str_off + name_off)
        out[data[str_off + name_off:end].decode()] = out.get(data[str_off + name_off:end].decode(), 0) + size
    return out


def elf_sizes(elf: bytes) -> dict[str, int]:
    """text/rodata/data/bss of the linked program, without the harness's .bench_* sections."""
    from .codesize import elf_sections
    sizes = elf_sections(elf)
    named = _named_sections(elf)
    harness_ro = named.get(".bench_rodata", 0)
    harness_bss = named.get(".bench_bss", 0)
    sizes["rodata"] -= harness_ro
    sizes["bss"] -= harness_bss
    sizes["harness"] = harness_ro + harness_bss
    return sizes


# ---- build and run ------------------------------------------------------------------------------------

def _run_cc(cmd: list[str], what: str) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode == 0:
        return
    text = r.stderr.strip()
    overflow = re.search(r"(region `?\w+'? overflowed by \d+ bytes|aotc: DTCM overflow[^\n\"]*)", text)
    if overflow:
        raise LinkOverflowError(f"the program does not fit the board: {overflow.group(1)}")
    errs = [ln for ln in text.splitlines() if "error" in ln.lower()] or text.splitlines() or ["?"]
    raise CrossBuildError(f"cross {what} failed: {errs[0].strip()}")


def _compile_all(cc: str, flags: list[str], pairs) -> None:
    def one(pair):
        s, o = pair
        _run_cc([cc, *flags, "-c", str(s), "-o", str(o)], f"compile of {Path(s).name}")

    with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for fut in [pool.submit(one, pair) for pair in pairs]:
            fut.result()


def library_objects(sources, include_dirs, cc: str, cflags: list[str]) -> list[Path]:
    """Objects of an external kernel library (CMSIS-NN), cross-compiled once and cached by a hash
    of the compiler, the flags and every source and header."""
    import hashlib

    from .verify import cache_staging, cache_dir
    sources = [Path(s) for s in sources]
    if not sources:
        return []
    h = hashlib.sha256()
    h.update(repr([cc, subprocess.run([cc, "--version"], capture_output=True, text=True).stdout, cflags]).encode())
    for s in sources:
        h.update(str(s).encode() + b"\0" + s.read_bytes())
    for d in include_dirs:
        for hdr in sorted(Path(d).rglob("*.h")):
            h.update(str(hdr).encode() + b"\0" + hdr.read_bytes())
    entry = cache_dir() / f"cross-{h.hexdigest()[:20]}"
    objs = [entry / f"{i:04d}_{s.stem}.o" for i, s in enumerate(sources)]

    def complete() -> bool:
        return (entry / "OK").is_file() and all(o.is_file() for o in objs)

    if complete():
        return objs
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_staging(entry, f".{entry.name}.aotc-")
    try:
        incs = [f"-I{d}" for d in include_dirs]
        _compile_all(cc, list(cflags) + BENCH_FLAGS + incs, [(s, tmp / o.name) for s, o in zip(sources, objs)])
        (tmp / "OK").write_text("ok\n")
        try:
            tmp.rename(entry)
        except OSError:   # another run finished first (keep its entry: it may be linking from it) or a damaged one
            if not complete():
                shutil.rmtree(entry, ignore_errors=True)
                tmp.rename(entry)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return objs


def cross_build(compiled, main_c: str, work: Path, cc: str, cflags: list[str], board: Path,
                lib_objs=(), include_dirs=(), defines=(), stack_bytes: int = STACK_BYTES) -> Path:
    """Compile the model, main.c and the board support; link them with any library objects into app.elf."""
    src = work / "src"
    (src / "aotc").mkdir(parents=True, exist_ok=True)
    for fname, text in compiled.files.items():
        if fname.endswith((".c", ".h")):
            (src / fname).write_text(text)
    for p in (resource_dir("runtime") / "aotc").glob("*.h"):
        shutil.copy(p, src / "aotc" / p.name)
    (src / "main.c").write_text(main_c)
    sources = [src / f"{compiled.name}.c", src / "main.c", board / "startup.c", board / "board.c"]
    incs = [f"-I{src}", f"-I{board}"] + [f"-I{d}" for d in include_dirs]
    flags = list(cflags) + BENCH_FLAGS + [f"-D{d}" for d in defines]
    obj_dir = work / "obj"
    obj_dir.mkdir(exist_ok=True)
    objs = [obj_dir / f"{i:04d}_{s.stem}.o" for i, s in enumerate(sources)]
    _compile_all(cc, flags + incs, list(zip(sources, objs)))
    objs += [Path(o) for o in lib_objs]
    elf = work / "app.elf"
    _run_cc([cc, *cflags, *BENCH_LDFLAGS, f"-T{board / 'link.ld'}", f"-Wl,--defsym=__aotc_stack_size={stack_bytes}",
             f"-Wl,-Map={work / 'app.map'}", *map(str, objs), "-lm", "-lc", "-lgcc", "-o", str(elf)], "link")
    return elf


def run_qemu(elf: Path, machine: str, timeout: float, shift: int = ICOUNT_SHIFT) -> str:
    qemu = _need("qemu-system-arm", "QEMU (Debian package qemu-system-arm)")
    cmd = [qemu, "-M", machine, "-nographic", "-monitor", "none", "-serial", "null",
           "-semihosting-config", "enable=on,target=native",
           "-icount", f"shift={shift},align=off,sleep=off", "-kernel", str(elf)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise EmulatorTimeout(f"QEMU {machine} did not finish within {timeout:g} s (raise --timeout)") from None
    out = r.stdout + r.stderr   # QEMU writes semihosting output to stderr
    fault = re.search(r"aotc-bench (fault .*|error .*)", out)
    if fault:
        raise EmulatorError(f"the program failed on the emulated board: {fault.group(1).strip()}")
    if r.returncode != 0 or "aotc-bench done" not in out:
        msg = ([ln for ln in out.splitlines() if ln.strip() and not ln.startswith("aotc-bench ")]
               or ["no output"])[0]
        raise EmulatorError(f"QEMU {machine} exited with status {r.returncode}: {msg}")
    return out


def parse_output(text: str, compiled, shift: int = ICOUNT_SHIFT) -> dict:
    """Counter readings (converted to instructions), stack, outputs and per-step readings."""
    res: dict = {"outputs": {}, "steps": {}}
    for line in text.splitlines():
        if not line.startswith("aotc-bench "):
            continue
        words = line.split()[1:]
        if words[0] == "counter":
            vals = dict(zip(words[1::2], (ticks_to_instructions(int(v, 16), shift) for v in words[2::2])))
            res["init_instructions"] = vals["init1"] - vals["init0"]
            res["first_invoke_instructions"] = vals["first1"] - vals["first0"]
            res["instructions"] = vals["inv1"] - vals["inv0"]
        elif words[0] == "stack":
            res["stack_bytes"] = int(words[1])
            res["stack_reserved"] = int(words[3])
        elif words[0] == "output":
            k = int(words[1])
            t = compiled.graph.outputs[k]
            raw = bytes.fromhex(words[2] if len(words) > 2 else "")
            res["outputs"][t.index] = np.frombuffer(raw[:t.nbytes], dtype=np_dtype(t.dtype)).reshape(t.shape)
        elif words[0] == "step":
            b, e = (ticks_to_instructions(int(v, 16), shift) for v in words[2:4])
            res["steps"][int(words[1])] = e - b
    if "instructions" not in res:
        raise EmulatorError("the emulated program printed no counter readings")
    return res


def _compare(ours: dict[int, np.ndarray], ref: dict[int, np.ndarray], graph) -> tuple[bool, float]:
    exact, worst = True, 0.0
    for t in graph.outputs:
        a = ours[t.index]
        b = np.asarray(ref[t.index]).reshape(a.shape)
        if t.dtype == "float32":
            same = a.tobytes() == b.astype(a.dtype).tobytes()
            diff = float(np.nanmax(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0
        else:
            d = np.abs(a.astype(np.int64) - b.astype(np.int64))
            same = not d.any()
            diff = float(d.max()) if d.size else 0.0
        exact = exact and same
        worst = max(worst, diff)
    return exact, worst


# ---- the command --------------------------------------------------------------------------------------

def bench(model, target: str = "m55", cmsis_nn: str | os.PathLike | None = None, per_op: bool = False,
          seed: int = 0, rounding: str | None = None, reference: str | None = None, reference_model=None,
          timeout: float = DEFAULT_TIMEOUT, keep: str | os.PathLike | None = None, name: str | None = None,
          shift: int = ICOUNT_SHIFT, stack_bytes: int = STACK_BYTES, exact: str | None = None,
          patches: str = "off", pools: str | None = None) -> BenchResult:
    """Compile `model` (path or bytes), run it on the target's emulated board, measure and verify.
    exact="litert" routes the ops where CMSIS-NN differs from LiteRT to the generic kernels."""
    from . import target as targets
    from .compiler import compile as compile_model
    from .references import choose_reference, open_reference
    from .verify import input_sets

    if isinstance(model, (str, os.PathLike)) and not Path(model).is_file():
        raise UsageError(f"{model}: no such file")
    if not 5 <= shift <= 10:
        raise UsageError(f"icount shift must be 5..10, not {shift}")
    tgt = targets.load(target)
    raw = tgt.raw
    board_name = raw.get("board", "none")
    if board_name in (None, "", "none"):
        raise UsageError(f"target {target} has no emulated board (board = \"none\" in its TOML)")
    board = board_dir(board_name)
    cc_name = raw.get("cc")
    if not cc_name:
        raise UsageError(f"target {target} names no cross-compiler (cc in its TOML)")
    cc = _need(cc_name, f"the cross-compiler {cc_name} (Debian packages gcc-arm-none-eabi, libnewlib-arm-none-eabi)")
    _need("qemu-system-arm", "QEMU (Debian package qemu-system-arm)")

    cmsis_path = cmsis_nn or os.environ.get("CMSIS_NN_PATH") or None
    notes = []
    extra_sources, include_dirs = [], []
    mod = _cmsis_nn_module()
    if cmsis_path:
        if not Path(cmsis_path).is_dir():
            raise UsageError(f"{cmsis_path}: CMSIS-NN folder not found")
        if mod is not None and hasattr(mod, "sources"):
            srcs, incs = mod.sources(cmsis_path)
            extra_sources, include_dirs = [str(s) for s in srcs], [str(d) for d in incs]
        else:
            notes.append("CMSIS-NN path given but this aotc has no cmsis_nn backend: generic kernels only")

    calls_cmsis_nn = bool(extra_sources) and "cmsis_nn" in tgt.backends
    named = reference is not None
    reference, rounding = choose_reference(reference, rounding, calls_cmsis_nn, exact)
    if not named:
        notes.append(f"outputs compared with {reference}, whose arithmetic this build follows "
                     "(--reference names another)")
    if extra_sources:
        compiled = compile_model(model, target=target, rounding=rounding, name=name, measure_code=False,
                                 exact=exact, patches=patches, pools=pools)
    else:
        if "generic_c" not in tgt.backends:
            raise UsageError(f"target {target} has no generic_c backend: pass --cmsis-nn PATH")
        if tuple(tgt.backends) != ("generic_c",):
            notes.append(f"no CMSIS-NN path: every op uses aotc's generic kernels "
                         f"(target {target} restricted to backend generic_c)")
        compiled = compile_model(model, target=target, rounding=rounding, name=name, measure_code=False,
                                 backends=("generic_c",), patches=patches, pools=pools)
    backends = sorted({c.backend for c in compiled.calls if not c.alias})
    g = compiled.graph
    _, feed = input_sets(g, 1, seed)[0]
    cflags = list(raw.get("cflags", []))
    model_name = Path(model).name if isinstance(model, (str, os.PathLike)) else f"{compiled.name} (bytes)"

    lib_objs = library_objects(extra_sources, include_dirs, cc, cflags)
    work = Path(tempfile.mkdtemp(prefix="aotc-bench-"))
    try:
        elf = cross_build(compiled, bench_main(compiled, feed, False), work / "plain", cc, cflags, board,
                          lib_objs, include_dirs, stack_bytes=stack_bytes)
        out = parse_output(run_qemu(elf, board_name, timeout, shift), compiled, shift)
        sizes = elf_sizes(elf.read_bytes())
        steps = profile_total = None
        if per_op:
            pelf = cross_build(compiled, bench_main(compiled, feed, True), work / "profile", cc, cflags, board,
                               lib_objs, include_dirs, defines=[f"{compiled.name.upper()}_PROFILE"],
                               stack_bytes=stack_bytes)
            pout = parse_output(run_qemu(pelf, board_name, timeout, shift), compiled, shift)
            profile_total = pout["instructions"]
            steps = []
            for step, op in enumerate(compiled.report["ops"]):
                steps.append({"step": step, "kind": op["kind"], "backend": op.get("backend", ""),
                              "function": op.get("function", ""), "macs": op.get("macs", 0),
                              "instructions": pout["steps"].get(step, 0)})
            notes.append(f"per-step counts come from a -D{compiled.name.upper()}_PROFILE build "
                         f"({pout['instructions']:,} instructions with the hooks)")
        if out["stack_bytes"] >= out["stack_reserved"] - 64:
            notes.append("the stack high-water mark reached the reserved stack: the figure is a lower bound")
        if keep is not None:
            dest = Path(keep)
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(work, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    bit_exact, max_diff, ref_error = None, None, None
    try:
        ref = open_reference(reference, reference_model or model, g)
        theirs = ref.run(feed)
        bit_exact, max_diff = _compare(out["outputs"], theirs, g)
    except UsageError as e:
        ref_error = str(e) if len(str(e)) <= 160 else str(e)[:157] + "..."

    arena = compiled.plan.arena_size
    bss = max(sizes["bss"] - arena, 0)
    ram = arena + out["stack_bytes"] + sizes["data"] + bss
    flash = sizes["text"] + sizes["rodata"] + sizes["data"]
    return BenchResult(
        model=model_name, target=target, board=board_name, backend="+".join(backends) or "none",
        instructions=out["instructions"], init_instructions=out["init_instructions"],
        first_invoke_instructions=out["first_invoke_instructions"],
        arena_bytes=arena, stack_bytes=out["stack_bytes"], data_bytes=sizes["data"], bss_bytes=bss,
        ram_bytes=ram, text_bytes=sizes["text"], rodata_bytes=sizes["rodata"], flash_bytes=flash,
        weights_bytes=int(compiled.report.get("weights_bytes", 0)), harness_bytes=sizes["harness"],
        bit_exact=bit_exact, reference=reference, rounding=rounding, max_abs_diff=max_diff,
        reference_error=ref_error, ops=len(compiled.calls), per_op=steps, profile_instructions=profile_total, cflags=cflags + BENCH_FLAGS,
        compiler=Path(cc).name, icount_shift=shift, notes=notes)


def write_json(result: BenchResult, path) -> None:
    Path(path).write_text(json.dumps(result.to_dict(), indent=1) + "\n")
