"""Interrupted and concurrent compiles, with real processes and signals.

Found with hostile signals: SIGTERM or SIGKILL while the output was written left a hidden sibling
(`.out.XXXX` with a truncated .c) that no later compile removed, the code-size step left
`aotc-size-XXXX` in TMPDIR, SIGINT during start-up printed a traceback, and 4 concurrent compiles
into one folder sometimes failed with `No such file or directory`."""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from aotc.demo import build_demo_model
from test_cli import REPO, cli_env

# what the console script runs (pyproject's [project.scripts])
CONSOLE = [sys.executable, "-c", "import sys; from aotc_console import main; sys.exit(main())"]


@pytest.fixture
def work(tmp_path) -> Path:
    (tmp_path / "tmp").mkdir()
    (tmp_path / "m.tflite").write_bytes(build_demo_model())
    return tmp_path


def start(work: Path, out: str = "out") -> subprocess.Popen:
    env = dict(cli_env(), TMPDIR=str(work / "tmp"))
    return subprocess.Popen([*CONSOLE, "compile", "m.tflite", "-o", out], cwd=work, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def strays(work: Path) -> list[str]:
    """Anything but the model and a complete output folder, here or in TMPDIR."""
    left = [p.name for p in work.iterdir() if p.name not in ("m.tflite", "out", "tmp")]
    out = work / "out"
    if out.exists() and not (out / "report.json").is_file():
        left.append("out (incomplete)")
    return left + [f"tmp/{p.name}" for p in (work / "tmp").iterdir()]


def timed_run(work: Path) -> float:
    t0 = time.monotonic()
    p = start(work)
    assert p.wait(timeout=120) == 0, p.stderr.read()
    return time.monotonic() - t0


def test_sigterm_at_any_moment_leaves_nothing_partial_and_says_one_line(work):
    duration = timed_run(work)
    rng = np.random.default_rng(0)
    statuses = set()
    for delay in rng.uniform(0.4, duration, 8):   # from when the interpreter runs aotc's code
        p = start(work)
        time.sleep(delay)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=120)
        statuses.add(p.returncode)
        assert p.returncode in (0, 143), (delay, p.returncode, err)
        if p.returncode == 143:
            assert err == "aotc: interrupted (SIGTERM)\n", err
        assert not strays(work), (delay, strays(work))
    assert 143 in statuses


def test_sigkill_leftovers_are_swept_by_the_next_compile(work):
    duration = timed_run(work)
    rng = np.random.default_rng(1)
    for delay in rng.uniform(0.5 * duration, duration, 6):
        p = start(work)
        time.sleep(delay)
        p.kill()
        p.wait(timeout=60)
    timed_run(work)
    assert not strays(work), strays(work)


def test_a_live_compiles_staging_folder_is_not_swept(work):
    """The sweep removes only what dead processes left: a concurrent compile's folder stays."""
    from aotc import staging
    live = staging.make(work, ".out.aotc-")      # this (live) process's
    timed_run(work)
    assert live.is_dir()


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
@pytest.mark.parametrize("delay", [0.4, 0.6, 0.8])
def test_signal_during_start_up_is_one_line(work, sig, status, delay):
    p = start(work)
    time.sleep(delay)   # the interpreter is up (about 0.25 s here), aotc's modules are being imported
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == status, (p.returncode, err)
    assert err == f"aotc: interrupted ({sig.name})\n", err
    assert not strays(work)


def test_concurrent_compiles_into_one_folder_all_succeed(work):
    reference = work / "ref"
    assert subprocess.run([*CONSOLE, "compile", "m.tflite", "-o", "ref"], cwd=work, env=cli_env()).returncode == 0
    files = sorted(str(p.relative_to(reference)) for p in reference.rglob("*"))
    for _ in range(3):
        procs = [start(work) for _ in range(4)]
        for p in procs:
            _, err = p.communicate(timeout=180)
            assert p.returncode == 0 and err == "", err
        out = work / "out"
        assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == files
        assert json.loads((out / "report.json").read_text())["arena_bytes"] > 0
        assert not [p for p in work.iterdir() if p.name.startswith(".")]


def _write_loop(out: str, rounds: int, tag: int) -> None:
    from aotc.compiler import write
    for k in range(rounds):
        write({"a.c": f"/* writer {tag} round {k} */\n", "report.json": "{}"}, Path(out))


def test_concurrent_writers_replace_the_folder_atomically(tmp_path):
    """Four processes replacing one folder 40 times each: every replacement succeeds, and the
    folder that remains is one writer's whole output."""
    out = tmp_path / "out"
    ctx = multiprocessing.get_context("spawn")
    sys.path.insert(0, str(REPO))
    procs = [ctx.Process(target=_write_loop, args=(str(out), 40, i)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert sorted(p.name for p in out.iterdir()) == ["a.c", "aotc", "report.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
