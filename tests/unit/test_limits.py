"""A model that does not fit is a clear error saying by how much and which buffer is largest."""
import pytest

import aotc
from oputil import fc_chain


def test_arena_limit_error_names_the_overflow_and_the_largest_buffer():
    need = aotc.compile(fc_chain()).report["arena_bytes"]
    with pytest.raises(aotc.ModelError, match=rf"needs {need:,} bytes, 1 more than the {need - 1:,}") as e:
        aotc.compile(fc_chain(), arena_limit=need - 1)
    assert "largest buffer is tensor" in str(e.value)
    assert aotc.compile(fc_chain(), arena_limit=need).report["arena_bytes"] == need
