"""The glossaries of the Translate page, one per language pair, kept in a JSON file in the
data folder so they survive restarts. Plain Python; the GUI thread owns the instance."""

from __future__ import annotations

import json
from pathlib import Path

from app.translation.glossary import Glossary, GlossaryError, dump_json, glossary_from_data
from app.util.atomic_write import write_atomic
from app.util.untrusted_json import utf8_size

ANY_SOURCE = "auto"  # the pair's source when the user lets Hearth detect the language


def pair_key(source: str | None, target: str) -> str:
    return f"{source or ANY_SOURCE}>{target}"


def split_pair(key: str) -> tuple[str | None, str]:
    source, _, target = key.partition(">")
    return (None if source == ANY_SOURCE else source), target


class GlossaryStore:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._glossaries = self._read()

    def get(self, key: str) -> Glossary:
        return self._glossaries.get(key, Glossary())

    def put(self, key: str, glossary: Glossary) -> None:
        self._glossaries[key] = glossary

    def save(self) -> None:
        """Write every non-empty glossary; raises OSError when the file cannot be written."""
        if self.path is None:
            return
        data = {
            key: json.loads(dump_json(glossary))
            for key, glossary in self._glossaries.items()
            if glossary
        }
        write_atomic(self.path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")

    def _read(self) -> dict[str, Glossary]:
        """The file's glossaries; a damaged file must not stop the page from opening, and a
        damaged pair does not cost the others."""
        if self.path is None or not self.path.is_file():
            return {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):  # ValueError: bad UTF-8 or JSON
            return {}
        if not isinstance(raw, dict):
            return {}
        glossaries: dict[str, Glossary] = {}
        for key, data in raw.items():
            if utf8_size(key) is None:  # a lone surrogate: the next save could not write it
                continue
            try:
                glossaries[key] = glossary_from_data(data, name=f"the glossary {key!r}")
            except GlossaryError:
                continue
        return glossaries
