"""Property: the views built on the GGUF header reader, beyond the reader itself
(tests/fuzz/test_gguf_header.py), end in their documented errors on damaged files: the
metadata list of the model details view (app.models.metadata.read_metadata), the layout for
the fit estimate from a local file, split parts included (app.models.gguf_layout.read_layout),
and from header bytes as the Hub serves them (header_length, layout_from_headers):
a result or ModelFileError (HeaderIncompleteError for header bytes that stop short); never
another exception, never a hang (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.models.gguf_layout import (
    HeaderIncompleteError,
    ModelLayout,
    header_length,
    layout_from_headers,
    read_layout,
)
from app.models.metadata import read_metadata
from inference.gguf import ModelFileError
from tests.support.fuzzing import FUZZ, mutated
from tests.support.tiny_gguf import build_tiny_model

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, int]:
    """A tiny model's bytes and the length of its header."""
    path = build_tiny_model(tmp_path_factory.mktemp("gguf") / "tiny.gguf", n_layer=2)
    whole = path.read_bytes()
    return whole, header_length(whole)


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """The parts of a tiny model split as gguf-split does, in order."""
    first = build_tiny_model(
        tmp_path_factory.mktemp("split") / "tiny.gguf", n_layer=2, split_max_tensors=8
    )
    parts = sorted(first.parent.glob("*-of-*.gguf"))
    assert len(parts) > 2 and parts[0] == first
    return [part.read_bytes() for part in parts]


def _used(layout: ModelLayout) -> None:
    """What the Models page reads of a layout."""
    assert layout.total_bytes >= 0
    layout.hparam("attention.head_count")
    layout.hparam("embedding_length")
    assert len(layout.layer_bytes) == layout.n_layers


@FUZZ
@given(data=st.data())
def test_a_damaged_header_lists_its_metadata_or_is_refused(
    model: tuple[bytes, int], tmp_path: Path, data: st.DataObject
) -> None:
    whole, header = model
    file = tmp_path / "damaged.gguf"
    file.write_bytes(mutated(data, whole, within=header))
    try:
        items = read_metadata(file)
    except ModelFileError as exc:
        assert str(exc)
    else:
        assert all(isinstance(item.key, str) and item.value is not None for item in items)


@FUZZ
@given(data=st.data())
def test_a_damaged_header_gives_a_layout_or_is_refused(
    model: tuple[bytes, int], tmp_path: Path, data: st.DataObject
) -> None:
    whole, header = model
    file = tmp_path / "damaged.gguf"
    file.write_bytes(mutated(data, whole, within=header))
    try:
        _used(read_layout(file))
    except ModelFileError as exc:
        assert str(exc)


def _write_parts(folder: Path, parts: list[bytes]) -> Path:
    total = len(parts)
    paths = [folder / f"tiny-{i:05d}-of-{total:05d}.gguf" for i in range(1, total + 1)]
    for path, content in zip(paths, parts, strict=True):
        path.write_bytes(content)
    return paths[0]


@FUZZ
@given(data=st.data())
def test_a_split_model_with_a_damaged_later_part_gives_a_layout_or_is_refused(
    split: list[bytes], tmp_path: Path, data: st.DataObject
) -> None:
    index = data.draw(st.integers(1, len(split) - 1), label="part")
    parts = list(split)
    damage = data.draw(st.sampled_from(["bytes", "empty", "missing"]), label="damage")
    if damage == "bytes":
        parts[index] = mutated(data, parts[index], within=header_length(parts[index]))
    else:
        parts[index] = b""
    first = _write_parts(tmp_path, parts)
    if damage == "missing":
        first.with_name(first.name.replace("00001-of", f"{index + 1:05d}-of")).unlink()
    try:
        _used(read_layout(first))
    except ModelFileError as exc:
        assert str(exc)


@FUZZ
@given(data=st.data())
def test_damaged_header_bytes_give_a_length_or_the_documented_errors(
    model: tuple[bytes, int], data: st.DataObject
) -> None:
    """As the Hub reader grows its read: each prefix is complete (its length is the same
    when read again from exactly that many bytes), incomplete, or not GGUF."""
    whole, header = model
    damaged = mutated(data, whole[:header], within=header)
    prefix = damaged[: data.draw(st.integers(0, len(damaged)), label="fetched")]
    try:
        length = header_length(prefix)
    except (HeaderIncompleteError, ModelFileError):
        return
    assert 0 < length <= len(prefix)
    assert header_length(prefix[:length]) == length


@FUZZ
@given(data=st.data())
def test_damaged_hub_headers_give_a_layout_or_are_refused(
    split: list[bytes], data: st.DataObject
) -> None:
    """layout_from_headers with the first part's header bytes, its claimed size, and the
    later parts' header bytes, any of them damaged or cut short."""
    headers = [part[: header_length(part)] for part in split]
    victim = data.draw(st.integers(0, len(headers) - 1), label="part")
    headers[victim] = mutated(data, headers[victim], within=len(headers[victim]))
    size = data.draw(st.sampled_from([len(split[0]), 0, 2**63]) | st.integers(0, 2**64))
    try:
        _used(layout_from_headers("tiny-00001-of-00003.gguf", headers[0], size, headers[1:]))
    except ModelFileError as exc:
        assert str(exc)
