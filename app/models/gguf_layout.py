"""Tensor sizes and per-layer hyper-parameters of a GGUF file, for parameter counts and the
memory-fit estimate.

`inspect_gguf` validates the header but keeps no tensor list. gguf-py's GGUFReader would give
one, but it takes ~13 s on a 262k-token vocabulary and is not safe on hostile files, so this
module reuses the validator's bounds-checked reader (private helpers of the same project) on
a file `inspect_gguf` has accepted first. Any thread may call `read_layout`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from inference.gguf_validate import (  # bounded reader shared with the validator
    HEADER_SIZE,
    GGUFInfo,
    ModelFileError,
    _Cursor,
    _mapped,
    _read_metadata,
    _read_tensor_infos,
    _Truncated,
    inspect_gguf,
)

_BLOCK_RE = re.compile(r"^blk\.(\d+)\.")
# Tensors llama.cpp keeps with the output layer (offloaded only when every block is).
_OUTPUT_TENSORS = ("output.weight", "output_norm.weight", "output.bias", "output_norm.bias")
_EMBEDDING = "token_embd.weight"


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


def read_layout(path: Path, info: GGUFInfo | None = None) -> ModelLayout:
    """Validate `path` (unless `info` from inspect_gguf is given) and read its tensor table.
    Raises ModelFileError like inspect_gguf."""
    path = Path(path)
    info = inspect_gguf(path) if info is None else info
    try:
        with _mapped(path) as mm:
            cur = _Cursor(mm)
            cur.pos = 16
            n_kv = cur.u64()
            cur.pos = HEADER_SIZE
            _, arrays, _ = _read_metadata(cur, n_kv)
            tensors = _read_tensor_infos(cur, info.n_tensors)
    except (_Truncated, OSError) as exc:  # the file changed since it was validated
        raise ModelFileError(f"The model file could not be read: {path} ({exc})") from None

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
