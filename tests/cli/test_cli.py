"""The command line as a user runs it: `python -m aotc.cli ...` in a subprocess.

Errors are one line on stderr starting with "aotc: error:", exit status 2, no traceback, and no
output (or temporary) folder left behind; an existing output folder survives a failed compile."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from oputil import fc_chain

REPORT_KEYS = {"arena_bytes", "lower_bound_bytes", "weights_bytes", "target", "aotc_version", "ops"}
REPO = Path(__file__).resolve().parents[2]


def cli_env() -> dict:
    """The environment of a CLI subprocess: this checkout's aotc first on the path (the subprocess
    runs in another folder, where `-m aotc.cli` would otherwise find whichever aotc is installed)."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    return dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=path)


def aotc(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aotc.cli", *map(str, args)], cwd=cwd, env=cli_env(),
                          capture_output=True, text=True, timeout=120)


def listing(folder: Path) -> dict[str, bytes]:
    """Every file (hidden ones too) under `folder`, with its contents."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(folder.rglob("*"))}


def assert_clean_error(r: subprocess.CompletedProcess, *needles: str) -> str:
    lines = r.stderr.splitlines()
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("aotc: error: "), r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def work(tmp_path) -> Path:
    (tmp_path / "fc.tflite").write_bytes(fc_chain())
    return tmp_path


# ---- success paths ------------------------------------------------------------------------------

def test_compile_writes_the_documented_files(work):
    r = aotc("compile", "fc.tflite", "-o", "build/fc", cwd=work)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert "fc.c" in r.stdout and "arena" in r.stdout
    out = work / "build" / "fc"
    names = {p.name for p in out.iterdir()}
    assert {"fc.c", "fc.h", "CMakeLists.txt", "report.json", "report.txt", "aotc"} <= names
    assert not any(n.startswith(".") for n in names)
    assert (out / "aotc" / "common.h").is_file() and (out / "aotc" / "fully_connected.h").is_file()
    assert not list((out / "aotc").glob("*.py"))
    report = json.loads((out / "report.json").read_text())
    assert REPORT_KEYS <= set(report)
    assert report["target"] == "generic" and report["model"] == "fc.tflite"
    assert report["arena_bytes"] >= report["lower_bound_bytes"] > 0
    assert report["weights_bytes"] == 48 + 24 + 24
    assert [o["kind"] for o in report["ops"]] == ["FULLY_CONNECTED"] * 2
    assert [o["source_ops"] for o in report["ops"]] == [[0], [1]]
    assert all(o["backend"] == "generic_c" for o in report["ops"])
    assert "arena" in (out / "report.txt").read_text()
    header = (out / "fc.h").read_text()
    assert "FC_ARENA_SIZE" in header and "fc_invoke" in header
    # the only things in the parent: the output folder (no temporary or .old folders)
    assert [p.name for p in (work / "build").iterdir()] == ["fc"]
    # no full path of this machine in the generated files
    for f in ("fc.c", "fc.h", "report.json", "report.txt", "CMakeLists.txt"):
        assert str(work) not in (out / f).read_text()


def test_compile_again_replaces_the_output_folder(work):
    assert aotc("compile", "fc.tflite", "-o", "out", cwd=work).returncode == 0
    (work / "out" / "stale.txt").write_text("from an earlier run")
    r = aotc("compile", "fc.tflite", "-o", "out", "--name", "net", cwd=work)
    assert r.returncode == 0, r.stderr
    names = {p.name for p in (work / "out").iterdir()}
    assert {"net.c", "net.h", "report.json", "aotc"} <= names
    assert not names & {"fc.c", "fc.h", "stale.txt"}
    assert sorted(p.name for p in work.iterdir()) == ["fc.tflite", "out"]


def test_verify_passes(work):
    r = aotc("verify", "fc.tflite", "--inputs", "4", cwd=work)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PASS" in r.stdout and "bit-exact" in r.stdout
    assert "Traceback" not in r.stderr
    assert sorted(p.name for p in work.iterdir()) == ["fc.tflite"]


def test_verify_with_no_inputs_is_an_error_not_a_pass(work):
    """A CI gate with a mistyped count must not go green having compared nothing."""
    assert_clean_error(aotc("verify", "fc.tflite", "--inputs", "0", cwd=work), "no inputs", "nothing would be compared")
    assert_clean_error(aotc("verify", "fc.tflite", "--inputs", "-3", cwd=work), "inputs -3", "negative")
    assert sorted(p.name for p in work.iterdir()) == ["fc.tflite"]


def test_verify_inputs_0_with_an_input_file_compares_that_file(work):
    np.save(work / "x.npy", np.arange(-4, 4, dtype=np.int8).reshape(1, 8))
    r = aotc("verify", "fc.tflite", "--inputs", "0", "--input", "x.npy", cwd=work)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 inputs" in r.stdout and "0/4 differ" in r.stdout and "PASS" in r.stdout


def test_verify_names_the_reference_it_follows(work):
    """--rounding tflm compares with TFLM unless --reference names LiteRT."""
    r = aotc("verify", "fc.tflite", "--inputs", "2", "--rounding", "tflm", cwd=work)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "vs tflm (rounding tflm)" in r.stdout
    r = aotc("verify", "fc.tflite", "--inputs", "2", "--rounding", "tflm", "--reference", "litert", cwd=work)
    assert "vs litert (rounding tflm)" in r.stdout


def test_inspect(work):
    r = aotc("inspect", "fc.tflite", cwd=work)
    assert r.returncode == 0, r.stderr
    assert "2 ops, 6 tensors" in r.stdout
    assert r.stdout.count("FULLY_CONNECTED") == 2
    for name in ("w1", "b1", "w2", "per-channel axis 0"):
        assert name in r.stdout
    assert "weights 96 bytes" in r.stdout


def test_targets_and_version(work):
    r = aotc("targets", cwd=work)
    assert r.returncode == 0 and "generic" in r.stdout
    r = aotc("--version", cwd=work)
    assert r.returncode == 0 and r.stdout.startswith("aotc ")


# ---- bad input ----------------------------------------------------------------------------------

BAD_MODELS = {
    "missing": (None, "no such file"),
    "truncated": (lambda: fc_chain()[:300], "malformed"),
    "wrong_identifier": (lambda: fc_chain()[:4] + b"XYZ3" + fc_chain()[8:], "identifier"),
    "unsupported_op": (lambda: fc_chain("LSH_PROJECTION"), "op 2 LSH_PROJECTION"),
    "empty_file": (lambda: b"", "too short"),
}


@pytest.mark.parametrize("case", list(BAD_MODELS))
@pytest.mark.parametrize("command", ["compile", "inspect", "verify"])
def test_bad_model_is_one_clean_line(work, case, command):
    make, needle = BAD_MODELS[case]
    if make is not None:
        (work / f"{case}.tflite").write_bytes(make())
    before = listing(work)
    args = [command, f"{case}.tflite"] + (["-o", "out"] if command == "compile" else [])
    assert_clean_error(aotc(*args, cwd=work), f"{case}.tflite" if case == "missing" else needle)
    assert listing(work) == before        # no output folder, no temporary folder


def test_unknown_target(work):
    before = listing(work)
    assert_clean_error(aotc("compile", "fc.tflite", "-o", "out", "--target", "no_such_chip", cwd=work),
                       "unknown target 'no_such_chip'", "generic")
    assert_clean_error(aotc("verify", "fc.tflite", "--target", "no_such_chip", cwd=work), "unknown target")
    assert listing(work) == before


def test_unknown_planner(work):
    before = listing(work)
    assert_clean_error(aotc("compile", "fc.tflite", "-o", "out", "--planner", "magic", cwd=work),
                       "unknown planner 'magic'")
    assert listing(work) == before


def test_bad_symbol_name(work):
    before = listing(work)
    assert_clean_error(aotc("compile", "fc.tflite", "-o", "out", "--name", "my-net", cwd=work),
                       "not a C identifier")
    assert listing(work) == before


def test_failed_compile_leaves_existing_output_folder_intact(work):
    assert aotc("compile", "fc.tflite", "-o", "out", cwd=work).returncode == 0
    (work / "bad.tflite").write_bytes(fc_chain("LSH_PROJECTION"))
    before = listing(work)
    assert_clean_error(aotc("compile", "bad.tflite", "-o", "out", cwd=work), "LSH_PROJECTION")
    assert_clean_error(aotc("compile", "fc.tflite", "-o", "out", "--target", "nope", cwd=work), "nope")
    assert listing(work) == before


def test_output_folder_under_a_file(work):
    (work / "notadir").write_text("user data")
    before = listing(work)
    assert_clean_error(aotc("compile", "fc.tflite", "-o", "notadir/out", cwd=work), "notadir")
    assert listing(work) == before


def test_output_that_is_a_file_is_not_replaced(work):
    (work / "result").write_text("user data")
    before = listing(work)
    assert_clean_error(aotc("compile", "fc.tflite", "-o", "result", cwd=work), "not a folder")
    assert listing(work) == before


@pytest.mark.parametrize("out", [".", ".."])
def test_current_folder_is_never_replaced(work, out):
    sub = work / "sub"
    sub.mkdir()
    (sub / "fc.tflite").write_bytes(fc_chain())
    (sub / "notes.txt").write_text("user data")
    before = listing(work)
    assert_clean_error(aotc("compile", "fc.tflite", "-o", out, cwd=sub), "current folder")
    assert listing(work) == before


def test_folder_of_user_files_is_not_replaced(work):
    src = work / "src"
    src.mkdir()
    (src / "main.c").write_text("int main(void) { return 0; }\n")
    before = listing(work)
    assert_clean_error(aotc("compile", "fc.tflite", "-o", "src", cwd=work), "not an aotc output folder")
    assert listing(work) == before


def test_folder_holding_the_model_is_not_replaced(work):
    assert aotc("compile", "fc.tflite", "-o", "out", cwd=work).returncode == 0
    (work / "out" / "fc.tflite").write_bytes(fc_chain())
    before = listing(work)
    assert_clean_error(aotc("compile", "out/fc.tflite", "-o", "out", cwd=work), "holds the model")
    assert listing(work) == before


def test_empty_existing_folder_is_used(work):
    (work / "out").mkdir()
    assert aotc("compile", "fc.tflite", "-o", "out", cwd=work).returncode == 0
    assert (work / "out" / "fc.c").is_file()


def test_bad_arguments_exit_2_without_traceback(work):
    r = aotc("compile", "fc.tflite", cwd=work)          # -o missing: argparse's usage message
    assert r.returncode == 2 and "Traceback" not in r.stderr and "-o" in r.stderr
    r = aotc("frobnicate", cwd=work)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_overflowing_scales_are_one_line_without_numpy_warnings(work):
    """float32 scale arithmetic that overflows (as in C) must not leak a RuntimeWarning to stderr."""
    from oputil import ModelBuilder
    mb = ModelBuilder()
    a = mb.tensor("a", (1, 4), "int8", scale=3.4e38, zero_point=0)
    b = mb.tensor("b", (1, 4), "int8", scale=3.4e38, zero_point=0)
    y = mb.tensor("y", (1, 4), "int8", scale=1.0, zero_point=0)
    mb.op("ADD", [a, b], [y], {"FusedActivationFunction": 0})
    (work / "huge.tflite").write_bytes(mb.build([a, b], [y]))
    r = aotc("compile", "huge.tflite", "-o", "out", cwd=work)
    assert_clean_error(r, "op 0 ADD")


# ---- names from an untrusted file ---------------------------------------------------------------

def non_utf8_model() -> bytes:
    """A one-op model whose tensor names are not UTF-8 (a bit flip in a name does this)."""
    import numpy as np
    from aotc.tflite_writer import ModelBuilder
    mb = ModelBuilder()
    x = mb.tensor(b"in\xff\xfe put", (1, 8), "int8", scale=0.05, zero_point=-3)
    w = mb.tensor(b"w\xc3", (4, 8), "int8", data=np.arange(32).reshape(4, 8) - 16, scale=0.01)
    y = mb.tensor(b"\x80out*/", (1, 4), "int8", scale=0.08, zero_point=1)
    mb.op("FULLY_CONNECTED", [x, w, -1], [y], {}, version=4)
    return mb.build([x], [y])


@pytest.mark.parametrize("reference", ["litert", "tflm"])
def test_non_utf8_tensor_names_compile_verify_and_inspect(work, reference):
    (work / "odd.tflite").write_bytes(non_utf8_model())
    r = aotc("compile", "odd.tflite", "-o", "out", cwd=work)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert "out*_/" in (work / "out" / "odd.h").read_text()   # replaced, and no comment ends early
    r = aotc("verify", "odd.tflite", "--inputs", "3", "--reference", reference, "--per-layer", cwd=work)
    assert r.returncode == 0 and r.stderr == "", (r.stdout, r.stderr)
    assert "bit-exact" in r.stdout and "PASS" in r.stdout
    r = aotc("inspect", "odd.tflite", cwd=work)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert "\ufffdout*_/" in r.stdout
