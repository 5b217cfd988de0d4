"""Tensor sizes and per-layer hyper-parameters of a GGUF file, for parameter counts and the
memory-fit estimate.

`inspect_gguf` validates the header but keeps no tensor list. gguf-py's GGUFReader would give
one, but it takes ~13 s on a 262k-token vocabulary and is not safe on hostile files, so this
module reuses the validator's bounds-checked reader (inference.gguf) on
a file `inspect_gguf` has accepted first, or over header bytes fetched from the Hub
(`layout_from_headers`). A split model's layout sums the tensors of all its parts. Any thread
may call these functions.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.models.filenames import split_name
from inference.gguf import (  # the bounded reader the validator uses
    GGUF_MAGIC,
    HEADER_SIZE,
    Cursor,
    GGUFInfo,
    ModelFileError,
    TensorInfo,
    TruncatedError,
    inspect_gguf,
    inspect_header,
    map_file,
    read_key_values,
    read_tensor_infos,
)

_BLOCK_RE = re.compile(r"^blk\.(\d+)\.")
# Tensors llama.cpp keeps with the output layer (offloaded only when every block is).
_OUTPUT_TENSORS = ("output.weight", "output_norm.weight", "output.bias", "output_norm.bias")
_EMBEDDING = "token_embd.weight"
_Arrays = dict[str, tuple[int | float, ...]]


@dataclass(frozen=True)
class ModelLayout:
    """Byte sizes by where llama.cpp places them, plus the hyper-parameters the estimator
    needs. `layer_bytes[i]` is block i's weights."""

    info: GGUFInfo
    layer_bytes: tuple[int, ...]
    embedding_bytes: int  # token_embd: llama.cpp keeps the input embedding on the CPU
    output_bytes: int  # output head + final norm (0 extra when tied to the embedding)
    other_bytes: int  # anything else outside blocks (rope factors, vision bits, ...)
    tied_output: bool  # no output.weight: the head reuses token_embd
    n_parameters: int
    n_vocab: int | None
    arrays: dict[str, tuple[int | float, ...]] = field(default_factory=dict)

    @property
    def n_layers(self) -> int:
        return len(self.layer_bytes)

    @property
    def total_bytes(self) -> int:
        return sum(self.layer_bytes) + self.embedding_bytes + self.output_bytes + self.other_bytes

    def hparam(self, key: str) -> int | float | tuple[int | float, ...] | None:
        """`{arch}.{key}` as stored: a scalar, a per-layer tuple, or None."""
        full = f"{self.info.architecture}.{key}"
        value = self.info.metadata.get(full, self.arrays.get(full))
        if isinstance(value, bool | str):
            return None
        return value


class HeaderIncompleteError(Exception):
    """The bytes end inside the GGUF header: read more of the file and try again."""


def _tensor_table(buf: mmap.mmap | bytes) -> tuple[_Arrays, list[TensorInfo], int]:
    """Short per-layer arrays, the tensor list and the header's length in bytes. Every read
    is bounds-checked, so a hostile count only runs to the end of `buf`. Raises TruncatedError,
    or ModelFileError for bytes that are not GGUF."""
    if len(buf) >= 4 and buf[:4] != GGUF_MAGIC:
        # A later part of a split model is not validated before this: an HTML error page
        # saved in its place must not be read as a tensor table.
        raise ModelFileError(
            "This file is not a GGUF model (it does not start with the GGUF signature)."
        )
    cur = Cursor(buf)
    cur.pos = 8
    n_tensors = cur.u64()
    n_kv = cur.u64()
    _, arrays, _ = read_key_values(cur, n_kv)
    tensors = read_tensor_infos(cur, n_tensors)
    return arrays, tensors, cur.pos


def header_length(buf: bytes) -> int:
    """Bytes of GGUF header (metadata and tensor table) at the start of `buf`. Raises
    HeaderIncompleteError when `buf` ends inside it, ModelFileError when it is not GGUF."""
    try:
        return _tensor_table(buf)[2]
    except TruncatedError:
        raise HeaderIncompleteError from None


def _other_parts(path: Path, info: GGUFInfo) -> list[Path]:
    """The later parts of the split model whose first part is `path` (none for one file)."""
    split = split_name(path.name)
    count = info.metadata.get("split.count")
    if split is None or split.part != 1 or not isinstance(count, int) or count < 2:
        return []
    return [
        path.with_name(f"{split.stem}-{i:05d}-of-{split.total:05d}.gguf")
        for i in range(2, split.total + 1)
    ]


def read_layout(path: Path, info: GGUFInfo | None = None) -> ModelLayout:
    """Validate `path` (unless `info` from inspect_gguf is given) and read its tensor table,
    with the tensors of the other parts when it is the first part of a split model.
    Raises ModelFileError like inspect_gguf."""
    path = Path(path)
    info = inspect_gguf(path) if info is None else info
    tensors: list[TensorInfo] = []
    arrays: _Arrays = {}
    for i, part in enumerate([path, *_other_parts(path, info)]):
        if i and not part.exists():
            raise ModelFileError(f"A part of this split model is missing: {part}")
        try:
            if part.stat().st_size < HEADER_SIZE:  # mmap refuses an empty file (ValueError)
                raise ModelFileError(f"A part of this split model is empty or cut short: {part}")
            with map_file(part) as mm:
                part_arrays, part_tensors, _ = _tensor_table(mm)
        except (TruncatedError, OSError) as exc:  # changed since validated, or a part is missing
            raise ModelFileError(f"The model file could not be read: {part} ({exc})") from None
        if i == 0:
            arrays = part_arrays
        tensors += part_tensors
    return _layout(info, arrays, tensors)


def layout_from_headers(
    name: str, first: bytes, file_size: int, other_parts: Sequence[bytes] = ()
) -> ModelLayout:
    """The layout of a model known only by the headers of its file(s), e.g. read from the Hub
    with Range requests: `first` holds at least the first part's header, `file_size` is that
    part's full size. Validated like a local file; raises ModelFileError."""
    try:
        header_length(first)
    except HeaderIncompleteError:
        raise ModelFileError(f"The header of {name} could not be read completely.") from None
    info = inspect_header(Path(name), file_size, Cursor(first))
    arrays, tensors, _ = _tensor_table(first)
    for part in other_parts:
        try:
            tensors += _tensor_table(part)[1]
        except TruncatedError:
            raise ModelFileError(
                f"The header of a later part of {name} could not be read completely."
            ) from None
    return _layout(info, arrays, tensors)


def _layout(info: GGUFInfo, arrays: _Arrays, tensors: list[TensorInfo]) -> ModelLayout:
    n_layers = info.block_count or 0
    layer_bytes = [0] * n_layers
    embedding = output = other = 0
    n_parameters = 0
    n_vocab: int | None = None
    names = set()
    for tensor in tensors:
        names.add(tensor.name)
        count = 1
        for dim in tensor.dims:
            count *= dim
        n_parameters += count
        match = _BLOCK_RE.match(tensor.name)
        if match is not None and int(match.group(1)) < n_layers:
            layer_bytes[int(match.group(1))] += tensor.n_bytes
        elif tensor.name == _EMBEDDING:
            embedding += tensor.n_bytes
            n_vocab = tensor.dims[1] if len(tensor.dims) > 1 else None
        elif tensor.name in _OUTPUT_TENSORS:
            output += tensor.n_bytes
        else:
            other += tensor.n_bytes
    return ModelLayout(
        info=info,
        layer_bytes=tuple(layer_bytes),
        embedding_bytes=embedding,
        output_bytes=output,
        other_bytes=other,
        tied_output="output.weight" not in names,
        n_parameters=n_parameters,
        n_vocab=n_vocab,
        arrays=arrays,
    )
