"""aotc.compile(out_dir=...) replaces the folder as a whole, so it refuses folders it did not make."""
import os
import stat

import pytest

import aotc
from aotc.errors import UsageError
from oputil import ModelBuilder


def tiny_model() -> bytes:
    mb = ModelBuilder()
    x = mb.tensor("x", (1, 4), "int8", scale=0.1, zero_point=0)
    y = mb.tensor("y", (1, 4), "int8", scale=0.1, zero_point=0)
    s = mb.tensor("s", (2,), "int32", data=[1, 4])
    mb.op("RESHAPE", [x, s], [y])
    r = mb.tensor("r", (1, 4), "int8", scale=0.1, zero_point=0)
    mb.op("RELU", [y], [r], version=2)
    return mb.build([x], [r])


def test_api_refuses_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(UsageError):
        aotc.compile(tiny_model(), out_dir=".")
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_api_refuses_a_folder_of_user_files(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    with pytest.raises(UsageError):
        aotc.compile(tiny_model(), out_dir=tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").exists()


def test_api_replaces_its_own_output_and_makes_it_readable(tmp_path):
    out = tmp_path / "build"
    aotc.compile(tiny_model(), out_dir=out)
    aotc.compile(tiny_model(), out_dir=out)   # an earlier aotc output is replaced
    assert (out / "report.json").is_file()
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o777 & ~umask  # an ordinary folder, not mkdtemp's 0700
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build"]  # no temporary folders left
