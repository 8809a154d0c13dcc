"""`aotc plan`: the plan as a table, and as SVG and PNG pictures a user can open."""
from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

from oputil import fc_chain
from test_cli import aotc, assert_clean_error


def test_plan_prints_buffers_and_draws_them(tmp_path: Path):
    model = tmp_path / "m.tflite"
    model.write_bytes(fc_chain("TANH"))
    r = aotc("plan", model, "--io", "arena", "--svg", "plan.svg", "--png", "plan.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "lower bound" in r.stdout and "planners: greedy_by_size" in r.stdout
    assert 't6 "z"' in r.stdout and 't0 "x"' in r.stdout   # one line per buffer, by offset
    assert "TANH into-output" in r.stdout                  # h lives inside z, the TANH runs in place
    root = ET.parse(tmp_path / "plan.svg").getroot()
    rects = [e for e in root.iter() if e.tag.endswith("rect")]
    titles = [e.text for e in root.iter() if e.tag.endswith("title")]
    assert len(rects) >= 3 and any('"z"' in (t or "") for t in titles)
    png = (tmp_path / "plan.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    (idat_len,) = struct.unpack(">I", png[33:37])
    raw = zlib.decompress(png[41:41 + idat_len])
    assert len(raw) == height * (1 + 3 * width)
    assert raw.count(b"\xff") < len(raw)   # not blank


def test_plan_into_a_missing_folder_is_a_clean_error(tmp_path: Path):
    model = tmp_path / "m.tflite"
    model.write_bytes(fc_chain())
    r = aotc("plan", model, "--svg", tmp_path / "nope" / "p.svg", cwd=tmp_path)
    assert_clean_error(r, "folder does not exist")
