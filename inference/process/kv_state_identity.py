"""What a kept KV state's meaning depends on, besides its tokens (issue 13): a state is used
only by an engine whose identity is equal, field for field. Engine process; computed once
per model load (it reads the model file's first MiB: about a millisecond)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from inference.protocol import EngineSettings

_HEAD_BYTES = 1 << 20


def model_identity(
    settings: EngineSettings, n_ctx: int, chat_format: str, library: str, system: str
) -> dict[str, str | int | bool]:
    """The model file (path, size, mtime_ns and the SHA-256 of its first MiB, so a file
    replaced under the same name is told apart), the context size llama.cpp really made, the
    KV cache types, flash attention, the chat format (a custom template by its text's hash),
    the llama-cpp-python version and llama.cpp's system info (build features).
    Raises OSError when the model file cannot be read."""
    path = Path(settings.model_path)
    stat = path.stat()
    with open(path, "rb") as source:
        head = hashlib.sha256(source.read(_HEAD_BYTES)).hexdigest()
    template = hashlib.sha256(settings.chat_format.encode("utf-8")).hexdigest()[:16]
    return {
        "model_path": str(path),
        "model_size": int(stat.st_size),
        "model_mtime_ns": int(stat.st_mtime_ns),
        "model_head_sha256": head,
        "n_ctx": int(n_ctx),
        "type_k": settings.type_k,
        "type_v": settings.type_v,
        # Resolved by llama.cpp ("on"/"off", not auto: the caller passes ModelInfo's); a bool,
        # as in the states saved before flash attention had three settings.
        "flash_attn": settings.flash_attn == "on",
        "chat_format": f"{chat_format}:{template}",
        "llama_cpp_python": library,
        "llama_cpp_system": system,
    }


def differences(stored: dict[str, object], current: dict[str, str | int | bool]) -> list[str]:
    """The identity fields that differ (for the one log line saying why a state was stale)."""
    names = sorted(set(stored) | set(current))
    return [name for name in names if stored.get(name) != current.get(name)]
