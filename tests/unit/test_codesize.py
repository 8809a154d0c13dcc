"""The report's code size comes from a real compile of the generated C."""
import aotc
from aotc.codesize import elf_sections, host_compiler
from oputil import fc_chain


def test_report_has_code_size_and_rodata_holds_the_weights():
    r = aotc.compile(fc_chain()).report
    if host_compiler() is None:
        assert r["code_bytes"] is None
        return
    assert r["code_bytes"] > 0 and r["code_bytes"] == r["code_size"]["text"]
    assert r["code_size"]["rodata"] >= r["weights_bytes"]
    assert r["code_size"]["data"] == 0 and r["code_size"]["bss"] == 0   # no mutable globals
    assert "code" in aotc.compile(fc_chain()).files["report.txt"]


def test_elf_parser_rejects_non_elf():
    import pytest
    with pytest.raises(ValueError):
        elf_sections(b"not an elf file at all")
