"""Presets as a JSON file the user can share: a small, versioned, validated format.

{"format": "hearth-presets", "version": 1,
 "presets": [{"name": str, "system_prompt": str, "sampling": {"temperature": 0.7, ...}}]}

A file from elsewhere is untrusted: size, nesting, types and lengths are checked, and a bad
file is refused whole with a plain message (nothing half-imported).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from app.util.atomic_write import PendingFile
from app.util.untrusted_json import JsonFileError, parse, read_limited
from storage.presets import SAMPLING_KEYS, Preset
from storage.sampling_values import out_of_range

FORMAT, VERSION = "hearth-presets", 1
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_PRESETS = 1_000
MAX_NAME = 200
MAX_PROMPT = 100_000


class PresetFileError(Exception):
    """A preset file that cannot be read or written; the message says why in plain words."""


@dataclass(frozen=True)
class PresetData:
    name: str
    system_prompt: str
    sampling: dict[str, float | int]


def export_presets(presets: list[Preset], path: Path) -> None:
    data = {
        "format": FORMAT,
        "version": VERSION,
        "presets": [
            {"name": p.name, "system_prompt": p.system_prompt, "sampling": p.sampling}
            for p in presets
        ],
    }
    try:
        pending = PendingFile(path.parent, prefix=".presets-")
    except OSError as exc:
        raise PresetFileError(f"Cannot write to {path.parent}: {exc.strerror}.") from exc
    try:
        with pending:
            pending.write(json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))
            pending.commit(path)
    except OSError as exc:
        raise PresetFileError(f"Cannot write {path}: {exc.strerror}.") from exc


def read_presets(path: Path) -> list[PresetData]:
    try:
        raw = read_limited(path, MAX_FILE_BYTES)  # its messages name the path
    except JsonFileError as exc:
        raise PresetFileError(str(exc)) from exc
    try:
        data = parse(raw)
    except JsonFileError as exc:
        raise PresetFileError(f"{path.name}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PresetFileError(f"{path.name} is not a Hearth preset file.")
    if data.get("version") != VERSION:
        raise PresetFileError(
            f"{path.name} uses preset format version {data.get('version')!r}; this Hearth "
            f"reads version {VERSION}."
        )
    items = data.get("presets")
    if not isinstance(items, list) or len(items) > MAX_PRESETS:
        raise PresetFileError(f"{path.name} has no valid list of presets.")
    return [_preset(item, number) for number, item in enumerate(items, start=1)]


def _preset(item: object, number: int) -> PresetData:
    if not isinstance(item, dict):
        raise PresetFileError(f"Preset {number} is not an object.")
    name, prompt, sampling = item.get("name"), item.get("system_prompt", ""), item.get("sampling")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise PresetFileError(f"Preset {number} has no usable name.")
    if not isinstance(prompt, str) or len(prompt) > MAX_PROMPT:
        raise PresetFileError(f"Preset “{name}” has an unusable system prompt.")
    if sampling is None:
        sampling = {}
    if not isinstance(sampling, dict):
        raise PresetFileError(f"Preset “{name}” has unusable sampling settings.")
    clean: dict[str, float | int] = {}
    for key, value in sampling.items():
        if key not in SAMPLING_KEYS:
            continue  # a newer Hearth's setting: ignored, not an error
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PresetFileError(f"Preset “{name}”: {key} must be a number.")
        problem = out_of_range(key, value)
        if problem is not None:
            raise PresetFileError(f"Preset “{name}”: {problem}.")
        clean[key] = value
    return PresetData(" ".join(name.split()), prompt, clean)
