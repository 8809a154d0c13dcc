"""Code size for the report: compile the generated model with the host C compiler at -Os and read
the ELF object's section sizes. On the generic target this is an estimate of the code a C compiler
makes of it (the figure for a real MCU comes from that target's cross-compiler)."""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

from . import staging
from .resources import resource_dir

SIZE_PREFIX = "aotc-size-"

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHT_NOBITS = 8


def host_compiler() -> str | None:
    for cc in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cc and shutil.which(cc):
            return cc
    return None


def elf_sections(data: bytes) -> dict[str, int]:
    """{'text', 'rodata', 'data', 'bss'} byte totals of an ELF32/ELF64 little-endian object."""
    if data[:4] != b"\x7fELF" or data[5] != 1:
        raise ValueError("not a little-endian ELF file")
    is64 = data[4] == 2
    if is64:
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    else:
        shoff, = struct.unpack_from("<I", data, 0x20)
        shentsize, shnum = struct.unpack_from("<HH", data, 0x2E)
    totals = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    for i in range(shnum):
        base = shoff + i * shentsize
        if is64:
            _, sh_type, flags = struct.unpack_from("<IIQ", data, base)
            size, = struct.unpack_from("<Q", data, base + 0x20)
        else:
            _, sh_type, flags = struct.unpack_from("<III", data, base)
            size, = struct.unpack_from("<I", data, base + 0x14)
        if not flags & SHF_ALLOC:
            continue
        if flags & SHF_EXECINSTR:
            totals["text"] += size
        elif sh_type == SHT_NOBITS:
            totals["bss"] += size
        elif flags & SHF_WRITE:
            totals["data"] += size
        else:
            totals["rodata"] += size
    return totals


def measure(files: dict[str, str], name: str, include_dirs=()) -> dict | None:
    """Section sizes of <name>.c compiled with the host compiler at -Os (the model's own code: kernel
    libraries it calls are not counted), or None without a compiler or the library's headers."""
    cc = host_compiler()
    if cc is None:
        return None
    tmp_root = Path(tempfile.gettempdir())
    staging.sweep(tmp_root, SIZE_PREFIX)   # folders of runs that were killed (SIGKILL cannot be caught)
    work = staging.make(tmp_root, SIZE_PREFIX)
    try:
        for fname, text in files.items():
            (work / fname).write_text(text)
        shutil.copytree(resource_dir("runtime") / "aotc", work / "aotc",
                        ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        obj = work / "model.o"
        incs = [f"-I{d}" for d in include_dirs]
        # the compiler's own temporaries go in the work folder too: killed, it cannot remove them
        r = subprocess.run([cc, "-std=c99", "-Os", "-c", str(work / f"{name}.c"), "-I", str(work), *incs,
                            "-o", str(obj)], capture_output=True, text=True, env=dict(os.environ, TMPDIR=str(work)))
        if r.returncode != 0:
            return None
        sizes = elf_sections(obj.read_bytes())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sizes["compiler"] = f"{Path(cc).name} -Os (host)"
    return sizes
