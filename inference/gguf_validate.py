"""Pre-flight validation of GGUF model files, in pure Python, before llama.cpp opens them.

llama.cpp aborts the whole process on some malformed files (GGML_ASSERT on inconsistent head
counts) and its GGUF loader has had memory-corruption CVEs on hostile ones (huge counts,
oversized strings and arrays, layer indices past block_count). This module reads only the
header region with strict bounds and raises `ModelFileError` with a message a user can act
on. gguf-py's own reader is not used on untrusted input: deeply nested arrays make it recurse
until RecursionError and huge counts make it allocate without limit.

Used by both the GUI and the engine process, so it imports neither Qt nor llama_cpp.
Any thread may call `inspect_gguf`; it holds no state.
"""

from __future__ import annotations

import mmap
import re
import struct
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType, LlamaFileType

__all__ = ["GGUFInfo", "ModelFileError", "inspect_gguf"]

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
HEADER_SIZE = 24  # magic(4) + version(4) + n_tensors(8) + n_kv(8)
# Smallest possible records, used to bound counts by the file size before looping over them:
# a tensor info is name length(8) + n_dims(4) + type(4) + offset(8); a key/value is key
# length(8) + type(4) + at least one value byte... rounded down to 12.
MIN_TENSOR_INFO_BYTES = 24
MIN_KV_BYTES = 12
MAX_ARRAY_DEPTH = 2  # array of arrays of scalars; anything deeper is hostile
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_TENSOR_NAME_BYTES = 63  # GGML_MAX_NAME (64) including the terminating NUL
MAX_LAYERS = 512  # LLAMA_MAX_LAYERS: more layers write past fixed-size arrays in llama.cpp
DEFAULT_ALIGNMENT = 32
# Per-layer hyper-parameter arrays (head counts, ...) are kept for checks up to this length;
# longer arrays (the vocabulary) are walked for bounds only.
MAX_KEPT_ARRAY = MAX_LAYERS
INT64_MAX = (1 << 63) - 1

_ARCH_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_BLOCK_RE = re.compile(r"^blk\.(\d+)\.")

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
class GGUFInfo:
    """What the header of a validated GGUF file says. Only scalar and string metadata is kept
    (no vocabulary arrays), so the object is small enough to pass between processes."""

    path: Path
    file_size: int
    version: int
    n_tensors: int
    architecture: str
    name: str | None
    context_length: int | None
    block_count: int | None
    chat_template: str | None
    quantization: str | None
    bos_token: str | None
    eos_token: str | None
    metadata: dict[str, MetadataValue] = field(default_factory=dict)


@dataclass(frozen=True)
class _TensorInfo:
    name: str
    dims: tuple[int, ...]
    type_id: int
    offset: int
    n_bytes: int


def human_size(n_bytes: int) -> str:
    """Sizes as a user reads them in a file manager (decimal units)."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n_bytes >= scale:
            value = n_bytes / scale
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    return f"{n_bytes} bytes"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _damaged(detail: str) -> ModelFileError:
    return ModelFileError(f"The model file is damaged or not a valid GGUF file: {detail}.")


class _Truncated(Exception):
    """Internal: a read ran past the end of the file."""


class _Cursor:
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
            raise _Truncated

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
def _mapped(path: Path) -> Iterator[mmap.mmap]:
    # mmap reads only the pages we touch: a multi-gigabyte model costs a few megabytes of I/O.
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        yield mm


def inspect_gguf(path: Path) -> GGUFInfo:
    """Validate the GGUF header at `path` and return what it describes.

    Raises ModelFileError (with a user-facing message) for a missing, unreadable, truncated,
    malformed, vocabulary-only or internally inconsistent file. Reads the header region only.
    """
    path = Path(path)
    try:
        file_size = path.stat().st_size
    except FileNotFoundError:
        raise ModelFileError(f"The file could not be found: {path}") from None
    except OSError as exc:
        raise ModelFileError(f"The file could not be read: {path} ({exc.strerror})") from None
    if path.is_dir():
        raise ModelFileError(f"This is a folder, not a model file: {path}")
    if file_size == 0:
        raise ModelFileError("The model file is empty (0 bytes). The download may have failed.")
    if file_size < HEADER_SIZE:
        raise ModelFileError(
            "This file is not a GGUF model (it is too small to hold a GGUF header)."
        )
    try:
        with _mapped(path) as mm:
            return _inspect(path, file_size, _Cursor(mm))
    except PermissionError:
        raise ModelFileError(f"The file could not be read (permission denied): {path}") from None
    except OSError as exc:
        raise ModelFileError(f"The file could not be read: {path} ({exc.strerror})") from None


def _inspect(path: Path, file_size: int, cur: _Cursor) -> GGUFInfo:
    magic = bytes(cur.buf[:4])
    if magic != GGUF_MAGIC:
        raise ModelFileError(
            "This file is not a GGUF model (it does not start with the GGUF signature)."
        )
    cur.pos = 4
    version = cur.u32()
    if version not in SUPPORTED_VERSIONS:
        if version & 0xFFFF == 0 and (version >> 24) in SUPPORTED_VERSIONS:
            raise ModelFileError(
                "This GGUF file is in big-endian byte order, which this computer cannot use."
            )
        if version == 1:
            raise ModelFileError(
                "This GGUF file uses version 1 of the format, which is no longer supported. "
                "Download a newer conversion of the model."
            )
        raise ModelFileError(
            f"This GGUF file uses format version {version}, which this app does not support."
        )
    n_tensors = cur.u64()
    n_kv = cur.u64()
    available = file_size - HEADER_SIZE
    if n_tensors > available // MIN_TENSOR_INFO_BYTES:
        raise _damaged(
            f"its header claims {n_tensors:,} tensors, more than a {human_size(file_size)} "
            "file can hold"
        )
    if n_kv > available // MIN_KV_BYTES:
        raise _damaged(
            f"its header claims {n_kv:,} metadata entries, more than a "
            f"{human_size(file_size)} file can hold"
        )
    if n_tensors * MIN_TENSOR_INFO_BYTES + n_kv * MIN_KV_BYTES > available:
        raise _damaged("its header describes more entries than the file can hold")

    try:
        metadata, arrays, token_offsets = _read_metadata(cur, n_kv)
        tensors = _read_tensor_infos(cur, n_tensors)
    except _Truncated:
        raise ModelFileError(
            f"The model file is incomplete: it is {human_size(file_size)} and ends inside its "
            "header. The download may have been interrupted."
        ) from None

    if n_tensors == 0:
        raise ModelFileError(
            "This GGUF contains only a tokenizer vocabulary and no model weights, "
            "so it cannot generate text."
        )

    architecture = metadata.get("general.architecture")
    if not isinstance(architecture, str) or not architecture:
        raise _damaged("it does not say which model architecture it is (general.architecture)")
    if not _ARCH_RE.match(architecture):
        raise _damaged("its architecture name is not a valid identifier")

    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if (
        not isinstance(alignment, int)
        or isinstance(alignment, bool)
        or alignment <= 0
        or alignment & (alignment - 1)
    ):
        raise _damaged("its data alignment is not a power of two")
    _check_tensor_data(cur, file_size, tensors, alignment)
    _check_hparams(architecture, metadata, arrays, tensors)

    def _uint(key: str) -> int | None:
        value = metadata.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def _token(key: str) -> str | None:
        token_id = _uint(key)
        if token_id is None or token_offsets is None or not 0 <= token_id < len(token_offsets):
            return None
        cur.pos = token_offsets[token_id]
        return cur.string()

    name = metadata.get("general.name")
    template = metadata.get("tokenizer.chat_template")
    return GGUFInfo(
        path=path,
        file_size=file_size,
        version=version,
        n_tensors=n_tensors,
        architecture=architecture,
        name=name if isinstance(name, str) else None,
        context_length=_uint(f"{architecture}.context_length"),
        block_count=_uint(f"{architecture}.block_count"),
        chat_template=template if isinstance(template, str) and template.strip() else None,
        quantization=_quantization(_uint("general.file_type"), tensors),
        bos_token=_token("tokenizer.ggml.bos_token_id"),
        eos_token=_token("tokenizer.ggml.eos_token_id"),
        metadata=metadata,
    )


def _read_metadata(
    cur: _Cursor, n_kv: int
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
            raise _damaged(f"the metadata key {key!r} appears twice")
        value_type = cur.u32()
        if value_type == GGUFValueType.ARRAY:
            want_offsets = key == "tokenizer.ggml.tokens"
            kept, offsets = _read_array(cur, depth=1, keep_strings=want_offsets)
            if offsets is not None:
                token_offsets = offsets
            if kept is not None:
                arrays[key] = kept
        else:
            metadata[key] = _read_scalar(cur, value_type)
    return metadata, arrays, token_offsets


def _read_scalar(cur: _Cursor, value_type: int) -> MetadataValue:
    if value_type == GGUFValueType.STRING:
        return cur.string()
    fmt = _SCALAR_FORMATS.get(value_type)
    if fmt is None:
        raise _damaged(f"it uses an unknown metadata type ({value_type})")
    value = cur.unpack(fmt, _SCALAR_SIZES[value_type])
    if value_type == GGUFValueType.BOOL:
        return bool(value)
    return value


def _read_array(
    cur: _Cursor, *, depth: int, keep_strings: bool = False
) -> tuple[tuple[int | float, ...] | None, array | None]:
    """Walk one array value with bounds checks; keep short numeric arrays and, on request, the
    offsets of string elements. Nesting deeper than MAX_ARRAY_DEPTH is rejected outright."""
    if depth > MAX_ARRAY_DEPTH:
        raise _damaged("its metadata nests arrays too deeply")
    elem_type = cur.u32()
    count = cur.u64()
    if elem_type == GGUFValueType.ARRAY:
        # Each nested array header is at least 12 bytes (type + count).
        if count > cur.remaining() // 12:
            raise _Truncated
        for _ in range(count):
            _read_array(cur, depth=depth + 1)
        return None, None
    if elem_type == GGUFValueType.STRING:
        if count > cur.remaining() // 8:
            raise _Truncated
        offsets = array("Q") if keep_strings else None
        # Tight loop without method calls: the Gemma vocabulary has 262,144 entries.
        buf, pos, end = cur.buf, cur.pos, cur.size
        unpack_from = struct.unpack_from
        for _ in range(count):
            if pos + 8 > end:
                raise _Truncated
            (length,) = unpack_from("<Q", buf, pos)
            pos += 8
            if length > end - pos:
                raise _Truncated
            if offsets is not None:
                offsets.append(pos - 8)
            pos += length
        cur.pos = pos
        return None, offsets
    size = _SCALAR_SIZES.get(elem_type)
    if size is None:
        raise _damaged(f"it uses an unknown metadata array type ({elem_type})")
    if count > cur.remaining() // size:
        raise _Truncated
    start = cur.pos
    cur.pos += count * size
    if count > MAX_KEPT_ARRAY:
        return None, None
    fmt = "<" + _SCALAR_FORMATS[elem_type][1] * count
    values = struct.unpack_from(fmt, cur.buf, start)
    return tuple(values), None


def _read_tensor_infos(cur: _Cursor, n_tensors: int) -> list[_TensorInfo]:
    tensors: list[_TensorInfo] = []
    names: set[str] = set()
    for _ in range(n_tensors):
        raw_name = cur.raw_string()
        if not raw_name or len(raw_name) > MAX_TENSOR_NAME_BYTES:
            raise _damaged("a tensor name is empty or too long")
        name = raw_name.decode("utf-8", errors="replace")
        if name in names:
            raise _damaged(f"the tensor {name!r} appears twice")
        names.add(name)
        n_dims = cur.u32()
        if not 1 <= n_dims <= MAX_DIMS:
            raise _damaged(f"the tensor {name!r} has {n_dims} dimensions")
        dims = tuple(cur.i64() for _ in range(n_dims))
        type_id = cur.u32()
        offset = cur.u64()
        if any(d < 0 for d in dims):
            raise _damaged(f"the tensor {name!r} has a negative dimension")
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
            raise _damaged(f"the tensor {name!r} is impossibly large")
        if dims[0] % block_size:
            raise _damaged(f"the tensor {name!r} does not fit its quantization block size")
        n_bytes = n_elements // block_size * type_size
        tensors.append(_TensorInfo(name, dims, type_id, offset, n_bytes))
    return tensors


def _check_tensor_data(
    cur: _Cursor, file_size: int, tensors: list[_TensorInfo], alignment: int
) -> None:
    """Tensor data starts at the next alignment boundary after the header; each tensor must
    be packed in order (llama.cpp requires it) and lie inside the file."""
    data_start = -(-cur.pos // alignment) * alignment
    expected = 0
    for tensor in tensors:
        if tensor.offset != expected:
            raise _damaged(f"the tensor {tensor.name!r} is not where the header says")
        expected += -(-tensor.n_bytes // alignment) * alignment
    if not tensors:
        return
    last = tensors[-1]
    needed = data_start + last.offset + last.n_bytes
    if needed > file_size:
        raise ModelFileError(
            f"The model file is incomplete: it is {human_size(file_size)} but its header "
            f"describes {human_size(needed)} of data. The download may have been interrupted."
        )


def _as_layers(value: object, n_layers: int, key: str) -> list[int] | None:
    """A hyper-parameter given either once or per layer, as a per-layer list of ints."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | tuple):
        raise _damaged(f"{key} has the wrong type")
    if isinstance(value, int):
        return [value] * max(n_layers, 1)
    if not all(isinstance(v, int) for v in value):
        raise _damaged(f"{key} has the wrong type")
    if len(value) != n_layers:
        raise _damaged(f"{key} lists {len(value)} layers but the model has {n_layers}")
    return [int(v) for v in value]


def _check_hparams(
    arch: str,
    metadata: dict[str, MetadataValue],
    arrays: dict[str, tuple[int | float, ...]],
    tensors: list[_TensorInfo],
) -> None:
    """Consistency checks whose violation makes llama.cpp assert (abort) or write out of
    bounds, instead of failing with an error it could report."""

    def get(key: str) -> object:
        full = f"{arch}.{key}"
        return metadata.get(full, arrays.get(full))

    block_count = get("block_count")
    layer_indices = {int(m.group(1)) for t in tensors if (m := _BLOCK_RE.match(t.name))}
    if block_count is not None:
        if isinstance(block_count, bool) or not isinstance(block_count, int):
            raise _damaged("block_count has the wrong type")
        if not 0 < block_count <= MAX_LAYERS:
            raise _damaged(
                f"it claims {_count(block_count, 'layer')} (at most {MAX_LAYERS} are possible)"
            )
        if layer_indices and max(layer_indices) >= block_count:
            raise _damaged(
                f"it has weights for layer number {max(layer_indices)} but says it has only "
                f"{_count(block_count, 'layer')} (numbered from 0)"
            )
        # A split model's first file (-00001-of-0000N) holds only some layers; llama.cpp
        # loads the rest from the other parts.
        split_count = metadata.get("split.count")
        is_split = isinstance(split_count, int) and split_count > 1
        if layer_indices and max(layer_indices) + 1 < block_count and not is_split:
            raise _damaged(
                f"it says it has {block_count} layers but contains weights for only "
                f"{max(layer_indices) + 1}"
            )
    elif layer_indices and max(layer_indices) >= MAX_LAYERS:
        raise _damaged(f"it has more than {MAX_LAYERS} layers")

    n_layers = block_count if isinstance(block_count, int) else 0
    heads = _as_layers(get("attention.head_count"), n_layers, "attention.head_count")
    if heads is None:
        return  # not an attention model (e.g. a pure state-space model): nothing to check
    kv_heads = _as_layers(get("attention.head_count_kv"), n_layers, "attention.head_count_kv")
    if kv_heads is None:
        kv_heads = heads  # llama.cpp's default: no grouped-query attention
    if any(h < 0 for h in heads) or not any(h > 0 for h in heads):
        raise _damaged("its attention head count must be positive")
    for h, kv in zip(heads, kv_heads, strict=True):
        # Hybrid models list 0 heads for recurrent layers; only attention layers must divide.
        if h == 0:
            continue
        if kv <= 0 or kv > h or h % kv:
            raise _damaged(
                f"its attention head counts do not fit together ({h} heads cannot be shared "
                f"by {kv} key/value heads)"
            )

    n_embd = get("embedding_length")
    if n_embd is not None and (isinstance(n_embd, bool) or not isinstance(n_embd, int)):
        raise _damaged("embedding_length has the wrong type")
    if isinstance(n_embd, int) and n_embd <= 0:
        raise _damaged("its embedding length must be positive")
    key_length = get("attention.key_length")
    if key_length is not None:
        # Gemma and others set the head size explicitly; it need not be n_embd / n_head.
        if isinstance(key_length, bool) or not isinstance(key_length, int) or key_length <= 0:
            raise _damaged("attention.key_length must be a positive number")
    elif isinstance(n_embd, int):
        for h in set(heads):
            if h and n_embd % h:
                raise _damaged(
                    f"its embedding length ({n_embd}) cannot be split evenly across {h} "
                    "attention heads"
                )


def _quantization(file_type: int | None, tensors: list[_TensorInfo]) -> str | None:
    """A short quantization label such as "Q4_K_M". general.file_type is authoritative; files
    without it are labelled by the tensor type holding the most bytes."""
    if file_type is not None:
        try:
            name = LlamaFileType(file_type).name
        except ValueError:
            name = None
        if name is not None:
            return name.removeprefix("MOSTLY_").removeprefix("ALL_")
    totals: dict[int, int] = {}
    for tensor in tensors:
        if len(tensor.dims) >= 2:
            totals[tensor.type_id] = totals.get(tensor.type_id, 0) + tensor.n_bytes
    if not totals:
        return None
    return GGMLQuantizationType(max(totals, key=totals.__getitem__)).name
