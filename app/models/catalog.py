"""Installed models: GGUF files in the models folder, imported paths (referenced, never
copied) and the built-in model, each described from its header without loading it.

Header reads are cached by (path, size, mtime), so listing again after a download costs only
the new file. Any thread may call these functions; the cache is guarded by a lock.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from app.config.paths import HearthPaths
from app.models.default_model import (
    DEFAULT_MODEL_FILE,
    DefaultModelError,
    default_model_path,
    packaged_layout,
)
from app.models.filenames import group_split_files, quantization_from_name, split_name
from app.models.gguf_layout import ModelLayout, read_layout
from app.models.known_folders import known_folders
from app.models.names import display_name
from app.models.registry import load_imports, save_imports
from inference.gguf import ModelFileError, inspect_gguf

SOURCE_FOLDER = "models folder"
SOURCE_IMPORTED = "imported"
SOURCE_BUILTIN = "built-in"
_SIZE_LABEL_RE = re.compile(r"^(?:(\d+)x)?(\d+(?:\.\d+)?)([KMBT])$", re.IGNORECASE)
_SCALE = {"K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}


@dataclass(frozen=True)
class ModelEntry:
    """One model as the Models page and `hearth models list` show it. `error` is set (and the
    metadata fields are empty) when the file cannot be used."""

    name: str
    path: Path  # the file to load (first part of a split model)
    files: tuple[Path, ...]
    source: str
    file_size: int
    architecture: str | None = None
    parameters: int | None = None
    parameters_label: str | None = None
    quantization: str | None = None
    context_length: int | None = None
    has_chat_template: bool = False
    error: str | None = None
    # The built-in model before its first start unpacked it: described from the header in
    # its Python package; `path` is where it will be.
    packaged: bool = False

    @property
    def usable(self) -> bool:
        return self.error is None

    @property
    def display_name(self) -> str:
        """The name the app shows for this model everywhere (app/models/names.py)."""
        return display_name(self.name, self.quantization, self.path.name)


_cache: dict[tuple[str, int, int], ModelEntry] = {}
_cache_lock = threading.Lock()


def parse_size_label(label: str) -> int | None:
    """`general.size_label` ("270M", "7B", "8x7B") as a parameter count; None if unreadable."""
    match = _SIZE_LABEL_RE.match(label.strip())
    if match is None:
        return None
    experts = int(match.group(1) or 1)
    return int(experts * float(match.group(2)) * _SCALE[match.group(3).upper()])


def format_parameters(count: int) -> str:
    if count >= 10**9:
        return f"{count / 10**9:.1f}B"
    if count >= 10**6:
        return f"{count / 10**6:.0f}M"
    return f"{count / 10**3:.0f}K"


def describe(files: Iterable[Path], source: str) -> ModelEntry:
    """Read one model's header (cached) and describe it; never raises for a bad file."""
    files = tuple(Path(f) for f in files)
    first = files[0]
    try:
        stats = [f.stat() for f in files]
    except OSError as exc:
        return ModelEntry(
            first.name, first, files, source, 0, error=f"The file cannot be read ({exc.strerror})."
        )
    key = (str(first), sum(s.st_size for s in stats), max(s.st_mtime_ns for s in stats))
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return replace(cached, source=source)
    entry = _describe_uncached(files, source, key[1])
    with _cache_lock:
        _cache[key] = entry
    return entry


def _describe_uncached(files: tuple[Path, ...], source: str, size: int) -> ModelEntry:
    first = files[0]
    split = split_name(first.name)
    fallback_name = split.stem if split else first.stem
    try:
        info = inspect_gguf(first)
    except ModelFileError as exc:
        return ModelEntry(fallback_name, first, files, source, size, error=str(exc))
    label = info.metadata.get("general.size_label")
    parameters = parse_size_label(label) if isinstance(label, str) else None
    if parameters is None and len(files) == 1:
        # No label: count from tensor shapes (a header read; the weights are not touched).
        try:
            parameters = read_layout(first, info).n_parameters
        except ModelFileError:
            parameters = None
    if parameters is not None and not isinstance(label, str):
        label = format_parameters(parameters)
    return ModelEntry(
        name=info.name or fallback_name,
        path=first,
        files=files,
        source=source,
        file_size=size,
        architecture=info.architecture,
        parameters=parameters,
        parameters_label=label if isinstance(label, str) else None,
        quantization=info.quantization or quantization_from_name(first.name),
        context_length=info.context_length,
        has_chat_template=info.chat_template is not None,
    )


def _gguf_files(folder: Path) -> list[Path]:
    """GGUF files under `folder` (following the HF cache's symlinks), vision projectors
    excluded: they are not chat models on their own."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*.gguf")):
        if path.name.lower().startswith("mmproj") or not path.is_file():
            continue
        found.append(path)
    return found


def _entries(paths: list[Path], source: str) -> list[ModelEntry]:
    groups = group_split_files(str(p) for p in paths)
    return [describe([Path(f) for f in group.files], source) for group in groups]


def _split_parts(path: Path) -> list[Path]:
    """All existing parts of the split model `path` belongs to (or just `path`)."""
    split = split_name(path.name)
    if split is None:
        return [path]
    parts = [
        path.with_name(f"{split.stem}-{i:05d}-of-{split.total:05d}.gguf")
        for i in range(1, split.total + 1)
    ]
    return [p for p in parts if p.exists()]


def source_text(entry: ModelEntry) -> str:
    """Where a model comes from, as the Models page and `hearth models list` say it."""
    if entry.packaged:
        return f"{SOURCE_BUILTIN}, unpacked on first use"
    return entry.source


def builtin_entry(models_dir: Path) -> ModelEntry:
    """The built-in model, unpacked or not: it is always there to be used (the first start
    assembles it from its package), so it is always listed."""
    target = default_model_path(models_dir)
    if target.exists():
        return describe([target], SOURCE_BUILTIN)
    try:
        layout = packaged_layout()
    except DefaultModelError as exc:
        return ModelEntry(target.stem, target, (target,), SOURCE_BUILTIN, 0, error=str(exc))
    info = layout.info
    label = info.metadata.get("general.size_label")
    if not isinstance(label, str):
        label = format_parameters(layout.n_parameters)
    return ModelEntry(
        name=info.name or target.stem,
        path=target,
        files=(target,),
        source=SOURCE_BUILTIN,
        file_size=info.file_size,
        architecture=info.architecture,
        parameters=layout.n_parameters,
        parameters_label=label,
        quantization=info.quantization,
        context_length=info.context_length,
        has_chat_template=info.chat_template is not None,
        packaged=True,
    )


def name_for(path: str | Path, models_dir: Path | None = None) -> str:
    """The display name of the model at `path` (a header read, cached), for texts such as
    "Loading …" that are shown before the engine has read the file itself. With
    `models_dir`, the built-in model is named before it is unpacked too."""
    path = Path(path)
    if models_dir is not None and not path.exists() and path == default_model_path(models_dir):
        return builtin_entry(models_dir).display_name
    return describe(_split_parts(path), "file").display_name if path.exists() else path.name


def model_layout(path: Path, models_dir: Path) -> ModelLayout:
    """`path`'s layout (layers, tensor sizes) for the fit and the settings form; the built-in
    model's comes from its package while it is not unpacked yet. Raises ModelFileError."""
    path = Path(path)
    if not path.exists() and path == default_model_path(models_dir):
        try:
            return packaged_layout()
        except DefaultModelError as exc:
            raise ModelFileError(str(exc)) from None
    return read_layout(path)


def list_installed(paths: HearthPaths) -> list[ModelEntry]:
    """The built-in model (unpacked or not), then the models folder, then imports (missing
    imports included, with an error, so the user can see and remove them)."""
    builtin = default_model_path(paths.models_dir)
    entries: list[ModelEntry] = [builtin_entry(paths.models_dir)]
    seen: set[Path] = {builtin.resolve()}
    folder_files = [p for p in _gguf_files(paths.models_dir) if p.resolve() not in seen]
    for entry in _entries(folder_files, SOURCE_FOLDER):
        entries.append(entry)
        seen.update(f.resolve() for f in entry.files)
    for imported in load_imports(paths.data_dir):
        if imported.resolve() in seen:
            continue
        if not imported.exists():
            entries.append(
                ModelEntry(
                    imported.name,
                    imported,
                    (imported,),
                    SOURCE_IMPORTED,
                    0,
                    error=f"The imported file is no longer there: {imported}",
                )
            )
            continue
        entry = describe(_split_parts(imported), SOURCE_IMPORTED)
        entries.append(entry)
        seen.update(f.resolve() for f in entry.files)
    return entries


def import_model(paths: HearthPaths, path: Path) -> ModelEntry:
    """Register a GGUF file elsewhere on disk (no copy). The header is validated first: a bad
    file raises ModelFileError and nothing is registered."""
    path = Path(path).expanduser().resolve()
    parts = _split_parts(path)
    split = split_name(path.name)
    if split is not None:
        if len(parts) != split.total:
            raise ModelFileError(
                f"This model is split into {split.total} files, but only {len(parts)} "
                "of them are in the folder. Download the missing parts first."
            )
        path = parts[0]
    inspect_gguf(path)
    entry = describe(parts, SOURCE_IMPORTED)
    if entry.error is not None:
        raise ModelFileError(entry.error)
    imports = load_imports(paths.data_dir)
    if path not in imports:
        save_imports(paths.data_dir, [*imports, path])
    return entry


def remove_import(paths: HearthPaths, path: Path) -> bool:
    """Forget an imported path (the file itself is left alone). True if it was registered."""
    path = Path(path).expanduser().resolve()
    imports = load_imports(paths.data_dir)
    kept = [p for p in imports if p != path]
    if len(kept) == len(imports):
        return False
    save_imports(paths.data_dir, kept)
    return True


def scan_known_folders(paths: HearthPaths | None = None) -> list[ModelEntry]:
    """GGUF models that other apps already downloaded (nothing is copied or registered).
    With `paths`, models already installed in Hearth are left out."""
    installed: set[Path] = set()
    if paths is not None:
        for entry in list_installed(paths):
            installed.update(f.resolve() for f in entry.files)
    entries: list[ModelEntry] = []
    seen: set[Path] = set()
    for label, folder in known_folders():
        files = []
        for path in _gguf_files(folder):
            real = path.resolve()
            if real in seen or real in installed:
                continue
            seen.add(real)
            files.append(path)
        entries.extend(e for e in _entries(files, label) if e.usable)
    return entries


def find_model(paths: HearthPaths, name_or_path: str) -> ModelEntry:
    """An installed model by name, file name or stem (case-insensitive), or any GGUF path.
    Raises ModelFileError when nothing matches or the name is ambiguous."""
    candidate = Path(name_or_path).expanduser()
    if candidate.exists():
        return describe(_split_parts(candidate.resolve()), "file")
    wanted = name_or_path.casefold()
    matches = [
        entry
        for entry in list_installed(paths)
        if wanted
        in {
            entry.name.casefold(),
            entry.display_name.casefold(),
            entry.path.name.casefold(),
            entry.path.stem.casefold(),
        }
    ]
    if not matches:
        builtin_names = {"builtin", "built-in", "default", DEFAULT_MODEL_FILE.casefold()}
        if wanted in builtin_names:
            return builtin_entry(paths.models_dir)
        raise ModelFileError(
            f"No installed model is called {name_or_path!r}. "
            "`hearth models list` shows the installed models."
        )
    if len(matches) > 1:
        where = ", ".join(str(m.path) for m in matches)
        raise ModelFileError(f"More than one model is called {name_or_path!r}: {where}")
    return matches[0]
