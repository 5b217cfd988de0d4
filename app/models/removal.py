"""Deleting a model's files from Hearth's own models folder: every part of a split model, the
verification markers and any partial download left beside them. Files outside that folder
(imports, other apps' downloads) are never deleted here; they are only forgotten
(catalog.remove_import). Any thread may call these functions.
"""

from __future__ import annotations

from pathlib import Path

from app.config.paths import HearthPaths
from app.models.catalog import SOURCE_BUILTIN, SOURCE_FOLDER, ModelEntry, remove_import
from app.models.download_files import download_leftovers
from inference.gguf import ModelFileError


def in_models_folder(paths: HearthPaths, path: Path) -> bool:
    """True when `path` sits inside Hearth's models folder (a link there counts as inside:
    deleting it removes the link, not what it points to)."""
    try:
        Path(path).parent.resolve().relative_to(paths.models_dir.resolve())
    except ValueError:
        return False
    return True


def why_not_delete(paths: HearthPaths, entry: ModelEntry, model_in_use: str) -> str:
    """Why `entry`'s files must not be deleted, in plain words ("" when they may).
    `model_in_use` is the resolved path of the model loaded or chosen in the settings, ""
    when none is chosen (the built-in model is then the one in use)."""
    name = entry.path.name
    if entry.packaged:
        return "The built-in model is not unpacked yet, so there is no file to delete."
    if entry.source not in (SOURCE_FOLDER, SOURCE_BUILTIN) or not in_models_folder(
        paths, entry.path
    ):
        return (
            f"{name} is not in Hearth's models folder, so Hearth does not delete it. "
            "Use Remove from list to forget it; the file stays where it is."
        )
    in_use = str(entry.path.resolve()) == model_in_use
    if entry.source == SOURCE_BUILTIN and (in_use or not model_in_use):
        return (
            "The built-in model is the one in use, so it cannot be deleted. Use another "
            "model first, then delete this one."
        )
    if in_use:
        return (
            f"{name} is the model in use, so it cannot be deleted. Use another model first, "
            "then delete this one."
        )
    return ""


def files_to_delete(entry: ModelEntry) -> list[Path]:
    """The model's files and the leftovers of downloading them that exist now."""
    found: list[Path] = []
    for part in entry.files:
        found += [p for p in (part, *download_leftovers(part)) if p.is_file() or p.is_symlink()]
    return found


def delete_model_files(paths: HearthPaths, entry: ModelEntry) -> int:
    """Delete `entry`'s files (all parts, markers, partial downloads); return the bytes
    freed. Raises ModelFileError for a model outside the models folder or a file that
    cannot be deleted (what was deleted before that stays deleted)."""
    outside = [f for f in entry.files if not in_models_folder(paths, f)]
    if outside:
        raise ModelFileError(
            f"{outside[0].name} is not in Hearth's models folder, so Hearth does not delete "
            "it. Use Remove from list to forget it; the file stays where it is."
        )
    freed = 0
    for path in files_to_delete(entry):
        try:
            size = path.lstat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ModelFileError(
                f"{path.name} could not be deleted: {exc.strerror or exc}."
            ) from None
        freed += size
    remove_import(paths, entry.path)  # a file both in the folder and registered
    _remove_empty_folders(paths, entry.path.parent)
    return freed


def _remove_empty_folders(paths: HearthPaths, folder: Path) -> None:
    """Drop the per-repository folders a Hub download made, once empty; never the models
    folder itself."""
    root = paths.models_dir.resolve()
    folder = folder.resolve()
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (or not ours to remove)
        folder = folder.parent
