"""A bounds-checked reader of GGUF headers (metadata and tensor table), safe on hostile files.

Every read checks the end of the buffer first, so no count or length taken from the file can
make it read past the end, loop beyond what the bytes can hold, allocate without limit or
recurse: a count is bounded by the bytes left before it is looped over, arrays may nest
MAX_ARRAY_DEPTH deep and no deeper, only short numeric arrays are kept (the vocabulary is
walked for bounds and, on request, the offsets of its strings) and only the pages touched
are read from a memory-mapped file. It works the same over a mapped local file and over
header bytes fetched from the Hub with Range requests (TruncatedError then means "fetch more").

Why not gguf-py's `gguf.GGUFReader` (the gguf package is used here for its type enums and
quantization block sizes only): it is not written for untrusted input. It maps the whole file
with numpy and trusts the counts and lengths it finds: a string or array length past the end
gives a silently short slice instead of an error, an array count of 2**64 is looped over
element by element, nested arrays recurse without a depth limit until RecursionError, and
every field and vocabulary string becomes its own numpy array, which takes ~13 s on a
262,144-token vocabulary and allocates in proportion to whatever the header claims.

Callers: `inference.gguf.validate` (the pre-flight check before llama.cpp opens a file),
app.models.gguf_layout (tensor sizes for the memory-fit estimate) and app.model_metadata (every
metadata entry for the details view), the last two on a file the validator has accepted.
Imports neither Qt nor llama_cpp; holds no state, so any thread may use it.
"""

from __future__ import annotations

import mmap
import struct
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType

GGUF_MAGIC = b"GGUF"
HEADER_SIZE = 24  # magic(4) + version(4) + n_tensors(8) + n_kv(8)
MAX_ARRAY_DEPTH = 2  # array of arrays of scalars; anything deeper is hostile
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_TENSOR_NAME_BYTES = 63  # GGML_MAX_NAME (64) including the terminating NUL
MAX_LAYERS = 512  # LLAMA_MAX_LAYERS: more layers write past fixed-size arrays in llama.cpp
# Per-layer hyper-parameter arrays (head counts, ...) are kept for checks up to this length;
# longer arrays (the vocabulary) are walked for bounds only.
MAX_KEPT_ARRAY = MAX_LAYERS
INT64_MAX = (1 << 63) - 1

_SCALAR_FORMATS: dict[int, str] = {
    GGUFValueType.UINT8: "<B",
    GGUFValueType.INT8: "<b",
    GGUFValueType.UINT16: "<H",
    GGUFValueType.INT16: "<h",
    GGUFValueType.UINT32: "<I",
    GGUFValueType.INT32: "<i",
    GGUFValueType.FLOAT32: "<f",
    GGUFValueType.BOOL: "<B",
    GGUFValueType.UINT64: "<Q",
    GGUFValueType.INT64: "<q",
    GGUFValueType.FLOAT64: "<d",
}
_SCALAR_SIZES: dict[int, int] = {t: struct.calcsize(f) for t, f in _SCALAR_FORMATS.items()}

MetadataValue = str | int | float | bool


class ModelFileError(Exception):
    """The file cannot be used as a model; `str(error)` is a plain-words message for the user."""


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dims: tuple[int, ...]
    type_id: int
    offset: int
    n_bytes: int


def damaged(detail: str) -> ModelFileError:
    return ModelFileError(f"The model file is damaged or not a valid GGUF file: {detail}.")


class TruncatedError(Exception):
    """A read ran past the end of the buffer: the file, or the header bytes fetched so far,
    ends inside the header."""


class Cursor:
    """Bounds-checked little-endian reader over the mapped file. Every read checks the end of
    the file first, so a hostile length can never make us allocate or read beyond it."""

    def __init__(self, buf: mmap.mmap | bytes) -> None:
        self.buf = buf
        self.size = len(buf)
        self.pos = 0

    def remaining(self) -> int:
        return self.size - self.pos

    def need(self, n: int) -> None:
        if n < 0 or n > self.size - self.pos:
            raise TruncatedError

    def unpack(self, fmt: str, size: int) -> int | float:
        self.need(size)
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return value

    def u32(self) -> int:
        return int(self.unpack("<I", 4))

    def u64(self) -> int:
        return int(self.unpack("<Q", 8))

    def i64(self) -> int:
        return int(self.unpack("<q", 8))

    def raw_string(self) -> bytes:
        length = self.u64()
        self.need(length)
        start = self.pos
        self.pos += length
        return bytes(self.buf[start : self.pos])

    def string(self) -> str:
        # GGUF strings are UTF-8; a bad byte is not a reason to reject the model.
        return self.raw_string().decode("utf-8", errors="replace")

    def skip_string(self) -> int:
        """Skip one string, returning where its bytes start (for lazy decoding)."""
        length = self.u64()
        self.need(length)
        start = self.pos
        self.pos += length
        return start


@contextmanager
def map_file(path: Path) -> Iterator[mmap.mmap]:
    # mmap reads only the pages we touch: a multi-gigabyte model costs a few megabytes of I/O.
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        yield mm


def read_key_values(
    cur: Cursor, n_kv: int
) -> tuple[dict[str, MetadataValue], dict[str, tuple[int | float, ...]], array | None]:
    """Parse the key/value section. Returns scalar/string metadata, short numeric arrays (for
    per-layer hyper-parameters) and the byte offsets of the vocabulary strings (so that only
    the BOS/EOS pieces get decoded)."""
    metadata: dict[str, MetadataValue] = {}
    arrays: dict[str, tuple[int | float, ...]] = {}
    token_offsets: array | None = None
    for _ in range(n_kv):
        key = cur.string()
        if key in metadata or key in arrays:
            raise damaged(f"the metadata key {key!r} appears twice")
        value_type = cur.u32()
        if value_type == GGUFValueType.ARRAY:
            want_offsets = key == "tokenizer.ggml.tokens"
            kept, offsets = read_array(cur, depth=1, keep_strings=want_offsets)
            if offsets is not None:
                token_offsets = offsets
            if kept is not None:
                arrays[key] = kept
        else:
            metadata[key] = read_scalar(cur, value_type)
    return metadata, arrays, token_offsets


def read_scalar(cur: Cursor, value_type: int) -> MetadataValue:
    if value_type == GGUFValueType.STRING:
        return cur.string()
    fmt = _SCALAR_FORMATS.get(value_type)
    if fmt is None:
        raise damaged(f"it uses an unknown metadata type ({value_type})")
    value = cur.unpack(fmt, _SCALAR_SIZES[value_type])
    if value_type == GGUFValueType.BOOL:
        return bool(value)
    return value


def read_array(
    cur: Cursor, *, depth: int, keep_strings: bool = False
) -> tuple[tuple[int | float, ...] | None, array | None]:
    """Walk one array value with bounds checks; keep short numeric arrays and, on request, the
    offsets of string elements. Nesting deeper than MAX_ARRAY_DEPTH is rejected outright."""
    if depth > MAX_ARRAY_DEPTH:
        raise damaged("its metadata nests arrays too deeply")
    elem_type = cur.u32()
    count = cur.u64()
    if elem_type == GGUFValueType.ARRAY:
        # Each nested array header is at least 12 bytes (type + count).
        if count > cur.remaining() // 12:
            raise TruncatedError
        for _ in range(count):
            read_array(cur, depth=depth + 1)
        return None, None
    if elem_type == GGUFValueType.STRING:
        if count > cur.remaining() // 8:
            raise TruncatedError
        offsets = array("Q") if keep_strings else None
        # Tight loop without method calls: the Gemma vocabulary has 262,144 entries.
        buf, pos, end = cur.buf, cur.pos, cur.size
        unpack_from = struct.unpack_from
        for _ in range(count):
            if pos + 8 > end:
                raise TruncatedError
            (length,) = unpack_from("<Q", buf, pos)
            pos += 8
            if length > end - pos:
                raise TruncatedError
            if offsets is not None:
                offsets.append(pos - 8)
            pos += length
        cur.pos = pos
        return None, offsets
    size = _SCALAR_SIZES.get(elem_type)
    if size is None:
        raise damaged(f"it uses an unknown metadata array type ({elem_type})")
    if count > cur.remaining() // size:
        raise TruncatedError
    start = cur.pos
    cur.pos += count * size
    if count > MAX_KEPT_ARRAY:
        return None, None
    fmt = "<" + _SCALAR_FORMATS[elem_type][1] * count
    values = struct.unpack_from(fmt, cur.buf, start)
    return tuple(values), None


def read_tensor_infos(cur: Cursor, n_tensors: int) -> list[TensorInfo]:
    tensors: list[TensorInfo] = []
    names: set[str] = set()
    for _ in range(n_tensors):
        raw_name = cur.raw_string()
        if not raw_name or len(raw_name) > MAX_TENSOR_NAME_BYTES:
            raise damaged("a tensor name is empty or too long")
        name = raw_name.decode("utf-8", errors="replace")
        if name in names:
            raise damaged(f"the tensor {name!r} appears twice")
        names.add(name)
        n_dims = cur.u32()
        if not 1 <= n_dims <= MAX_DIMS:
            raise damaged(f"the tensor {name!r} has {n_dims} dimensions")
        dims = tuple(cur.i64() for _ in range(n_dims))
        type_id = cur.u32()
        offset = cur.u64()
        if any(d < 0 for d in dims):
            raise damaged(f"the tensor {name!r} has a negative dimension")
        try:
            qtype = GGMLQuantizationType(type_id)
            block_size, type_size = GGML_QUANT_SIZES[qtype]
        except (ValueError, KeyError):
            raise ModelFileError(
                f"This model uses a tensor type ({type_id}) that this app does not know. "
                "It may need a newer version of the app."
            ) from None
        n_elements = 1
        for d in dims:
            n_elements *= d
        # Python ints do not overflow; compare against what llama.cpp's int64 math can hold.
        if n_elements > INT64_MAX:
            raise damaged(f"the tensor {name!r} is impossibly large")
        if dims[0] % block_size:
            raise damaged(f"the tensor {name!r} does not fit its quantization block size")
        n_bytes = n_elements // block_size * type_size
        tensors.append(TensorInfo(name, dims, type_id, offset, n_bytes))
    return tensors
