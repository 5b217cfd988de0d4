"""The list of imported model paths: a small JSON file in the data folder. Imports are
references to files elsewhere on disk, never copies. Written atomically."""

from __future__ import annotations

import json
from pathlib import Path

from app.util.atomic_write import write_atomic

REGISTRY_FILE = "imported_models.json"


def registry_path(data_dir: Path) -> Path:
    return data_dir / REGISTRY_FILE


def load_imports(data_dir: Path) -> list[Path]:
    """Imported paths in the order they were added; a missing or damaged file is empty."""
    try:
        raw = json.loads(registry_path(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    paths = raw.get("paths") if isinstance(raw, dict) else None
    if not isinstance(paths, list):
        return []
    return [Path(p) for p in paths if isinstance(p, str) and p]


def save_imports(data_dir: Path, paths: list[Path]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    unique = list(dict.fromkeys(str(p) for p in paths))
    write_atomic(registry_path(data_dir), json.dumps({"version": 1, "paths": unique}, indent=2))
