"""A split model's later parts are read for the layout without the validator's pre-flight
check, so read_layout refuses a bad part itself (found by tests/fuzz/test_gguf_views.py,
issue 15): an empty part (mmap raised ValueError) and a part that is not GGUF at all (its
bytes were read as a tensor table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.models.gguf_layout import layout_from_headers, read_layout
from inference.gguf import ModelFileError
from tests.support.tiny_gguf import build_tiny_model


@pytest.fixture
def parts(tmp_path: Path) -> list[Path]:
    first = build_tiny_model(tmp_path / "big.gguf", n_layer=2, split_max_tensors=8)
    found = sorted(first.parent.glob("*-of-*.gguf"))
    assert found[0] == first and len(found) == 3
    return found


def test_a_whole_split_model_is_read(parts: list[Path]) -> None:
    assert read_layout(parts[0]).n_layers == 2


@pytest.mark.parametrize("content", [b"", b"GGUF"], ids=["empty", "cut-short"])
def test_an_empty_or_cut_short_later_part_is_refused(parts: list[Path], content: bytes) -> None:
    parts[1].write_bytes(content)
    with pytest.raises(ModelFileError, match="empty or cut short"):
        read_layout(parts[0])


def test_a_later_part_that_is_not_gguf_is_refused(parts: list[Path]) -> None:
    # What a failed download can leave: the server's error page, long enough to hold the
    # counts a tensor table starts with (here: none, so it was read as an empty part).
    parts[2].write_bytes(b"<html>\x00\x00" + bytes(16) + b"</html>" * 10)
    with pytest.raises(ModelFileError, match="not a GGUF model"):
        read_layout(parts[0])


def test_a_later_header_from_the_hub_that_is_not_gguf_is_refused(parts: list[Path]) -> None:
    first = parts[0].read_bytes()
    with pytest.raises(ModelFileError, match="not a GGUF model"):
        layout_from_headers(parts[0].name, first, len(first), [b"<html>" + bytes(32)])
