"""Pre-flight validation of GGUF model files, in pure Python, before llama.cpp opens them.

llama.cpp aborts the whole process on some malformed files (GGML_ASSERT on inconsistent head
counts) and its GGUF loader has had memory-corruption CVEs on hostile ones (huge counts,
oversized strings and arrays, layer indices past block_count). This module reads only the
header region, with the bounds-checked reader of inference.gguf.reader (which says why not
gguf-py's own reader), and raises `ModelFileError` with a message a user can act on.

Used by both the GUI and the engine process, so it imports neither Qt nor llama_cpp.
Any thread may call `inspect_gguf`; it holds no state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from gguf import GGMLQuantizationType, LlamaFileType

from inference.gguf.reader import (
    GGUF_MAGIC,
    HEADER_SIZE,
    MAX_LAYERS,
    Cursor,
    MetadataValue,
    ModelFileError,
    TensorInfo,
    TruncatedError,
    damaged,
    map_file,
    read_key_values,
    read_tensor_infos,
)

__all__ = ["GGUFInfo", "ModelFileError", "human_size", "inspect_gguf", "inspect_header"]

SUPPORTED_VERSIONS = (2, 3)
# Smallest possible records, used to bound counts by the file size before looping over them:
# a tensor info is name length(8) + n_dims(4) + type(4) + offset(8); a key/value is key
# length(8) + type(4) + at least one value byte... rounded down to 12.
MIN_TENSOR_INFO_BYTES = 24
MIN_KV_BYTES = 12
DEFAULT_ALIGNMENT = 32

_ARCH_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_BLOCK_RE = re.compile(r"^blk\.(\d+)\.")


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


def human_size(n_bytes: int) -> str:
    """Sizes as a user reads them in a file manager (decimal units)."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n_bytes >= scale:
            value = n_bytes / scale
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    return f"{n_bytes} bytes"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


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
        with map_file(path) as mm:
            return inspect_header(path, file_size, Cursor(mm))
    except PermissionError:
        raise ModelFileError(f"The file could not be read (permission denied): {path}") from None
    except OSError as exc:
        raise ModelFileError(f"The file could not be read: {path} ({exc.strerror})") from None


def inspect_header(path: Path, file_size: int, cur: Cursor) -> GGUFInfo:
    """Validate the header under `cur` (a whole mapped file, or header bytes fetched from the
    Hub) of a file `file_size` bytes long; `path` names it in the result. Raises
    ModelFileError like inspect_gguf."""
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
        raise damaged(
            f"its header claims {n_tensors:,} tensors, more than a {human_size(file_size)} "
            "file can hold"
        )
    if n_kv > available // MIN_KV_BYTES:
        raise damaged(
            f"its header claims {n_kv:,} metadata entries, more than a "
            f"{human_size(file_size)} file can hold"
        )
    if n_tensors * MIN_TENSOR_INFO_BYTES + n_kv * MIN_KV_BYTES > available:
        raise damaged("its header describes more entries than the file can hold")

    try:
        metadata, arrays, token_offsets = read_key_values(cur, n_kv)
        tensors = read_tensor_infos(cur, n_tensors)
    except TruncatedError:
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
        raise damaged("it does not say which model architecture it is (general.architecture)")
    if not _ARCH_RE.match(architecture):
        raise damaged("its architecture name is not a valid identifier")

    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if (
        not isinstance(alignment, int)
        or isinstance(alignment, bool)
        or alignment <= 0
        or alignment & (alignment - 1)
    ):
        raise damaged("its data alignment is not a power of two")
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


def _check_tensor_data(
    cur: Cursor, file_size: int, tensors: list[TensorInfo], alignment: int
) -> None:
    """Tensor data starts at the next alignment boundary after the header; each tensor must
    be packed in order (llama.cpp requires it) and lie inside the file."""
    data_start = -(-cur.pos // alignment) * alignment
    expected = 0
    for tensor in tensors:
        if tensor.offset != expected:
            raise damaged(f"the tensor {tensor.name!r} is not where the header says")
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
        raise damaged(f"{key} has the wrong type")
    if isinstance(value, int):
        return [value] * max(n_layers, 1)
    if not all(isinstance(v, int) for v in value):
        raise damaged(f"{key} has the wrong type")
    if len(value) != n_layers:
        raise damaged(f"{key} lists {len(value)} layers but the model has {n_layers}")
    return [int(v) for v in value]


def _check_hparams(
    arch: str,
    metadata: dict[str, MetadataValue],
    arrays: dict[str, tuple[int | float, ...]],
    tensors: list[TensorInfo],
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
            raise damaged("block_count has the wrong type")
        if not 0 < block_count <= MAX_LAYERS:
            raise damaged(
                f"it claims {_count(block_count, 'layer')} (at most {MAX_LAYERS} are possible)"
            )
        if layer_indices and max(layer_indices) >= block_count:
            raise damaged(
                f"it has weights for layer number {max(layer_indices)} but says it has only "
                f"{_count(block_count, 'layer')} (numbered from 0)"
            )
        # A split model's first file (-00001-of-0000N) holds only some layers; llama.cpp
        # loads the rest from the other parts.
        split_count = metadata.get("split.count")
        is_split = isinstance(split_count, int) and split_count > 1
        if layer_indices and max(layer_indices) + 1 < block_count and not is_split:
            raise damaged(
                f"it says it has {block_count} layers but contains weights for only "
                f"{max(layer_indices) + 1}"
            )
    elif layer_indices and max(layer_indices) >= MAX_LAYERS:
        raise damaged(f"it has more than {MAX_LAYERS} layers")

    n_layers = block_count if isinstance(block_count, int) else 0
    heads = _as_layers(get("attention.head_count"), n_layers, "attention.head_count")
    if heads is None:
        return  # not an attention model (e.g. a pure state-space model): nothing to check
    kv_heads = _as_layers(get("attention.head_count_kv"), n_layers, "attention.head_count_kv")
    if kv_heads is None:
        kv_heads = heads  # llama.cpp's default: no grouped-query attention
    if any(h < 0 for h in heads) or not any(h > 0 for h in heads):
        raise damaged("its attention head count must be positive")
    for h, kv in zip(heads, kv_heads, strict=True):
        # Hybrid models list 0 heads for recurrent layers; only attention layers must divide.
        if h == 0:
            continue
        if kv <= 0 or kv > h or h % kv:
            raise damaged(
                f"its attention head counts do not fit together ({h} heads cannot be shared "
                f"by {kv} key/value heads)"
            )

    n_embd = get("embedding_length")
    if n_embd is not None and (isinstance(n_embd, bool) or not isinstance(n_embd, int)):
        raise damaged("embedding_length has the wrong type")
    if isinstance(n_embd, int) and n_embd <= 0:
        raise damaged("its embedding length must be positive")
    key_length = get("attention.key_length")
    if key_length is not None:
        # Gemma and others set the head size explicitly; it need not be n_embd / n_head.
        if isinstance(key_length, bool) or not isinstance(key_length, int) or key_length <= 0:
            raise damaged("attention.key_length must be a positive number")
    elif isinstance(n_embd, int):
        for h in set(heads):
            if h and n_embd % h:
                raise damaged(
                    f"its embedding length ({n_embd}) cannot be split evenly across {h} "
                    "attention heads"
                )


def _quantization(file_type: int | None, tensors: list[TensorInfo]) -> str | None:
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
