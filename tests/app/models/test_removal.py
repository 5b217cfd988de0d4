"""Deleting a model's files: only inside Hearth's models folder, every part and leftover."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config.paths import HearthPaths
from app.models.catalog import describe, import_model, list_installed
from app.models.registry import load_imports
from app.models.removal import delete_model_files
from inference.gguf import ModelFileError
from tests.support.tiny_gguf import build_tiny_model


def test_a_split_model_loses_every_part_and_partial(paths: HearthPaths) -> None:
    first = build_tiny_model(paths.models_dir / "big-Q8_0.gguf", split_max_tensors=8)
    parts = sorted(first.parent.glob("big-Q8_0-*.gguf"))
    partial = first.with_name(first.name + ".part")
    partial.write_bytes(b"GGUF")
    other = build_tiny_model(paths.models_dir / "other.gguf")
    (entry,) = [e for e in list_installed(paths) if e.path == first]
    assert entry.files == tuple(parts) and len(parts) == 3

    expected = sum(p.stat().st_size for p in [*parts, partial])
    assert delete_model_files(paths, entry) == expected
    assert not any(p.exists() for p in [*parts, partial])
    assert other.exists() and paths.models_dir.is_dir()


def test_files_outside_the_models_folder_are_never_deleted(
    paths: HearthPaths, tmp_path: Path
) -> None:
    elsewhere = build_tiny_model(tmp_path / "mine" / "kept.gguf")
    import_model(paths, elsewhere)
    with pytest.raises(ModelFileError, match="Remove from list"):
        delete_model_files(paths, describe([elsewhere], "imported"))
    assert elsewhere.exists() and load_imports(paths.data_dir) == [elsewhere.resolve()]
