"""The public GGUF header reader: reads what a real file holds, and on cut or hostile bytes
stops at the end of the buffer with TruncatedError (or ModelFileError), never reading past
it, looping on a claimed count or failing with an unrelated exception."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from gguf import GGUFValueType

from inference.gguf import (
    HEADER_SIZE,
    Cursor,
    ModelFileError,
    TruncatedError,
    inspect_gguf,
    map_file,
    read_array,
    read_key_values,
    read_tensor_infos,
)
from tests.support.tiny_gguf import build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("reader") / "tiny.gguf", n_layer=2)


def read_header(buf: bytes) -> tuple[dict[str, object], list[str], int]:
    """Metadata, tensor names and the header's length, as app.models.gguf_layout reads them."""
    cur = Cursor(buf)
    cur.pos = 8
    n_tensors = cur.u64()
    n_kv = cur.u64()
    metadata, _arrays, _offsets = read_key_values(cur, n_kv)
    tensors = read_tensor_infos(cur, n_tensors)
    return dict(metadata), [t.name for t in tensors], cur.pos


def test_reads_the_metadata_and_tensor_table_of_a_real_file(tiny: Path) -> None:
    info = inspect_gguf(tiny)
    with map_file(tiny) as mm:
        metadata, names, end = read_header(bytes(mm[: 1 << 20]))
    assert metadata["general.architecture"] == info.architecture == "llama"
    assert len(names) == info.n_tensors
    assert {"token_embd.weight", "blk.0.attn_q.weight", "blk.1.attn_q.weight"} <= set(names)
    assert HEADER_SIZE < end < info.file_size


def test_header_bytes_cut_anywhere_end_in_truncated_error(tiny: Path) -> None:
    with map_file(tiny) as mm:
        whole = bytes(mm[: 1 << 20])
    end = read_header(whole)[2]
    # Every cut in the fixed header and the first keys, then a sample through the rest
    # (the vocabulary's strings, the tensor table).
    cuts = [*range(HEADER_SIZE, 400), *range(400, end, 37)]
    for cut in cuts:
        with pytest.raises(TruncatedError):
            read_header(whole[:cut])


def hostile(value_type: int, payload: bytes) -> bytes:
    """A header with one key/value and no tensors, the value given raw."""
    key = b"general.evil"
    return (
        b"GGUF"
        + struct.pack("<IQQ", 3, 0, 1)
        + struct.pack("<Q", len(key))
        + key
        + struct.pack("<I", value_type)
        + payload
    )


@pytest.mark.parametrize(
    "payload",
    [
        struct.pack("<IQ", GGUFValueType.UINT8, 1 << 63),  # a numeric array past the end
        struct.pack("<IQ", GGUFValueType.STRING, 1 << 62),  # a vocabulary past the end
        struct.pack("<IQ", GGUFValueType.ARRAY, 1 << 60),  # nested arrays past the end
    ],
    ids=["numbers", "strings", "nested"],
)
def test_claimed_counts_beyond_the_bytes_stop_at_the_end(payload: bytes) -> None:
    with pytest.raises(TruncatedError):
        read_header(hostile(GGUFValueType.ARRAY, payload))


def test_arrays_nested_deeper_than_allowed_are_refused() -> None:
    nested = struct.pack("<IQ", GGUFValueType.ARRAY, 1) * 50 + struct.pack(
        "<IQ", GGUFValueType.UINT8, 0
    )
    cur = Cursor(nested)
    with pytest.raises(ModelFileError, match="nests arrays too deeply"):
        read_array(cur, depth=1)
