"""GGUF model files: one bounds-checked header reader (`reader`) and the pre-flight
validation built on it (`validate`). The layout and metadata views of app.models read
headers with the same reader.

Import from this package; its modules are how the code is arranged, not the interface.
Imports neither Qt nor llama_cpp; any thread may call it.
"""

from inference.gguf.reader import (
    GGUF_MAGIC,
    HEADER_SIZE,
    MAX_ARRAY_DEPTH,
    Cursor,
    MetadataValue,
    ModelFileError,
    TensorInfo,
    TruncatedError,
    map_file,
    read_array,
    read_key_values,
    read_scalar,
    read_tensor_infos,
)
from inference.gguf.validate import GGUFInfo, human_size, inspect_gguf, inspect_header

__all__ = [
    "GGUF_MAGIC",
    "HEADER_SIZE",
    "MAX_ARRAY_DEPTH",
    "Cursor",
    "GGUFInfo",
    "MetadataValue",
    "ModelFileError",
    "TensorInfo",
    "TruncatedError",
    "human_size",
    "inspect_gguf",
    "inspect_header",
    "map_file",
    "read_array",
    "read_key_values",
    "read_scalar",
    "read_tensor_infos",
]
