"""Property: a GGUF file with damaged header bytes is either accepted or refused with
ModelFileError by the pre-flight check, and its header bytes read alone (as fetched from the
Hub) end in TruncatedError or ModelFileError; never another exception, never a hang."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inference.gguf import (
    Cursor,
    ModelFileError,
    TruncatedError,
    inspect_gguf,
    read_key_values,
    read_tensor_infos,
)
from tests.support.fuzzing import FUZZ, mutated
from tests.support.tiny_gguf import build_tiny_model

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, int]:
    """The bytes of a tiny model and the length of its header."""
    path = build_tiny_model(tmp_path_factory.mktemp("gguf") / "tiny.gguf", n_layer=2)
    whole = path.read_bytes()
    return whole, _read_header(whole)


def _read_header(buf: bytes) -> int:
    """The header's length, read as app.models.gguf_layout reads it."""
    cur = Cursor(buf)
    cur.pos = 8
    n_tensors = cur.u64()
    n_kv = cur.u64()
    read_key_values(cur, n_kv)
    read_tensor_infos(cur, n_tensors)
    return cur.pos


@FUZZ
@given(data=st.data())
def test_a_damaged_header_is_accepted_or_refused_with_model_file_error(
    model: tuple[bytes, int], tmp_path: Path, data: st.DataObject
) -> None:
    whole, header = model
    file = tmp_path / "damaged.gguf"
    file.write_bytes(mutated(data, whole, within=header))
    try:
        inspect_gguf(file)
    except ModelFileError as exc:
        assert str(exc)


@FUZZ
@given(data=st.data())
def test_damaged_header_bytes_read_alone_end_in_the_reader_errors(
    model: tuple[bytes, int], data: st.DataObject
) -> None:
    whole, header = model
    try:
        _read_header(mutated(data, whole[:header], within=header))
    except (TruncatedError, ModelFileError):
        pass
