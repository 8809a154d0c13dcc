"""The host build cache: shared safely by concurrent runs, and a damaged entry is rebuilt."""
import multiprocessing as mp
import os

import aotc
from oputil import fc_chain


def _verify_in_child(cache: str, q) -> None:
    os.environ["AOTC_CACHE_DIR"] = cache
    try:
        res = aotc.verify(fc_chain(), inputs=2)
        q.put(res.bit_exact)
    except Exception as e:  # noqa: BLE001 - reported to the parent
        q.put(repr(e))


def test_concurrent_verifies_share_one_cache(tmp_path):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_verify_in_child, args=(str(tmp_path), q)) for _ in range(3)]
    for p in procs:
        p.start()
    results = [q.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert results == [True, True, True]
    entries = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert len(entries) == 1 and (entries[0] / "OK").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folders left


def _verify_once(cache) -> object:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_verify_in_child, args=(str(cache), q))
    p.start()
    out = q.get(timeout=300)
    p.join(timeout=60)
    return out


def test_corrupted_entry_is_detected_and_rebuilt(tmp_path):
    """Each run is a fresh process, as two CLI invocations would be (a loaded extension cannot be
    replaced inside one process)."""
    assert _verify_once(tmp_path) is True
    (entry,) = [p for p in tmp_path.iterdir() if (p / "OK").is_file()]
    (so,) = list(entry.glob("*.so"))
    good = so.read_bytes()
    so.write_bytes(good[:100])                 # truncated, as a crash or a full disk would leave it
    assert _verify_once(tmp_path) is True      # detected by its hash, removed and rebuilt
    (so,) = list(entry.glob("*.so"))
    assert len(so.read_bytes()) == len(good)


def test_entry_without_ok_marker_is_ignored(tmp_path):
    assert _verify_once(tmp_path) is True
    (entry,) = [p for p in tmp_path.iterdir() if (p / "OK").is_file()]
    (entry / "OK").unlink()                    # as if the build had stopped before finishing
    assert _verify_once(tmp_path) is True
    assert (entry / "OK").is_file()
