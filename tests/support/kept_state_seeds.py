"""Kept KV state files made by hand for the window's tests (issue 13): the window only lists,
sizes and deletes them, so their contents need not be a real state."""

from __future__ import annotations

import os
from pathlib import Path

from inference.state_files import StateFiles, slot_for


def seed_state(
    folder: Path, key: str, size: int, *, model: str = "/models/m.gguf", used_at: float = 0.0
) -> Path:
    """A state file of `size` bytes for `key` and `model`, where the engine would write it;
    `used_at`: its last use (time.time() seconds; 0: now)."""
    path = StateFiles(folder).path_for(key, slot_for(model))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        out.truncate(size)  # sparse: the size is what is listed, the disk stays free
    if used_at:
        os.utime(path, (used_at, used_at))
    return path
