"""The curated list of recommended models (issue 15): instruction-tuned GGUFs from small to
large, each naming an exact Hugging Face repository and file, read from a JSON data file.

The list is data (app/models/recommended.json, shipped as package data): updating it needs no
code change. The loader checks every entry and skips a damaged one with a logged reason, so a
bad edit costs that entry only; an unreadable file gives an empty list, never an exception.
The size written in an entry is what the fit estimate uses before anything is downloaded; the
download itself takes the size and SHA-256 from the Hub's metadata (app.models.download).
Pure Python: any thread may call it.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath

log = logging.getLogger(__name__)

DEFAULT_LIST = Path(__file__).with_name("recommended.json")
# owner/name as the Hub spells repository ids: letters, digits, "-", "_" and ".".
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TEXT_FIELDS = ("name", "repo_id", "filename", "parameters", "licence", "licence_url")
_POSITIVE_INT_FIELDS = ("size_bytes", "context_length")


@dataclass(frozen=True)
class RecommendedModel:
    name: str  # as people call it: "Qwen2.5 7B Instruct"
    repo_id: str  # owner/name on Hugging Face
    filename: str  # the exact GGUF file in that repository (a Q4_K_M one)
    size_bytes: int  # the file's size, for the fit estimate before the Hub is asked
    parameters: str  # "7.6B"
    licence: str  # SPDX identifier where there is one ("Apache-2.0"), else the licence's name
    licence_url: str  # https link to the licence text
    context_length: int  # tokens the model was trained for
    description: str  # one line

    @property
    def key(self) -> str:
        """One entry among the others: its repository and file."""
        return f"{self.repo_id}/{self.filename}"


@dataclass(frozen=True)
class RecommendedList:
    models: tuple[RecommendedModel, ...]
    skipped: tuple[str, ...]  # why each skipped entry was skipped (also logged)


def _entry_problem(entry: object) -> str:
    """Why `entry` cannot be offered ("" when it can)."""
    if not isinstance(entry, dict):
        return "it is not an object"
    for name in (*_TEXT_FIELDS, "description"):
        value = entry.get(name)
        if not isinstance(value, str) or (name != "description" and not value.strip()):
            return f"{name!r} is missing or not text"
    for name in _POSITIVE_INT_FIELDS:
        value = entry.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            return f"{name!r} is missing or not a positive whole number"
    if not _REPO_ID.match(entry["repo_id"]):
        return f"repo_id {entry['repo_id']!r} is not of the form owner/name"
    filename = PurePosixPath(entry["filename"])
    if filename.is_absolute() or ".." in filename.parts or "\\" in entry["filename"]:
        return f"filename {entry['filename']!r} is not a path inside the repository"
    if filename.suffix.lower() != ".gguf":
        return f"filename {entry['filename']!r} is not a .gguf file"
    if not entry["licence_url"].startswith("https://"):
        return "licence_url is not an https link"
    return ""


def _label(entry: object, index: int) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    return f"entry {index + 1}" + (f" ({name})" if isinstance(name, str) and name else "")


def load_recommended(path: Path | None = None) -> RecommendedList:
    """The valid entries of the list at `path` (default: the one shipped with Hearth), in
    the file's order; an entry naming the same repository and file as an earlier one is
    skipped too."""
    path = path or DEFAULT_LIST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        reason = f"{path}: the recommended models list cannot be read ({exc})"
        log.warning("%s", reason)
        return RecommendedList((), (reason,))
    entries = data.get("models") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        reason = f"{path}: the recommended models list has no 'models' array"
        log.warning("%s", reason)
        return RecommendedList((), (reason,))
    models: list[RecommendedModel] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        problem = _entry_problem(entry)
        if not problem:
            model = RecommendedModel(**{f.name: entry[f.name] for f in fields(RecommendedModel)})
            if model.key in seen:
                problem = f"{model.key} is listed twice"
            else:
                seen.add(model.key)
                models.append(model)
                continue
        reason = f"{path}: {_label(entry, index)} skipped: {problem}"
        log.warning("%s", reason)
        skipped.append(reason)
    return RecommendedList(tuple(models), tuple(skipped))
