"""Property: Hearth's own chat export and preset files, with one field replaced by any JSON
value or with their bytes damaged, either import or are refused with ChatImportError /
PresetFileError, all or nothing; never another exception, never a hang. (The foreign chat
formats have their own property in tests/app/chat/imports/test_fuzz.py.)"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.chat.importer import ChatImportError, import_file
from app.chat.presets_io import PresetFileError, read_presets
from app.gui.chat.export import export_chats
from storage.database import Database
from tests.support.chat_samples import build_sample, open_database
from tests.support.foreign_exports import row_counts
from tests.support.fuzzing import FUZZ, JSON, json_paths, mutated, replaced

pytestmark = pytest.mark.timeout(180)

PRESETS: dict[str, Any] = {
    "format": "hearth-presets",
    "version": 1,
    "presets": [
        {"name": "Terse", "system_prompt": "Answer briefly.", "sampling": {"temperature": 0.2}},
        {"name": "Wide", "sampling": {"top_p": 0.9, "top_k": 60, "repeat_penalty": 1.1}},
    ],
}


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@pytest.fixture(scope="module")
def export(folder: Path) -> Any:
    """A Hearth JSON export of the sample chats (branches, versions, stats, sampling)."""
    source = open_database(folder / "source" / "hearth.db")
    build_sample(source)
    path = folder / "export.json"
    export_chats(source, path, "json")
    source.close()
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def db(folder: Path) -> Iterator[Database]:
    database = open_database(folder / "target" / "hearth.db")
    yield database
    database.close()


def _imports_whole_or_nothing(db: Database, file: Path) -> None:
    before = row_counts(db)
    try:
        summary = import_file(db, file)
    except ChatImportError as exc:
        assert str(exc)
        assert row_counts(db) == before
    else:
        assert row_counts(db) == (
            before[0] + len(summary.conversation_ids),
            before[1] + summary.messages,
        )


@FUZZ
@given(data=st.data())
def test_a_chat_export_with_one_damaged_field_imports_or_is_refused_whole(
    db: Database, export: Any, tmp_path: Path, data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(list(json_paths(export))), label="field")
    file = tmp_path / "chats.json"
    file.write_text(json.dumps(replaced(export, path, data.draw(JSON))), encoding="utf-8")
    _imports_whole_or_nothing(db, file)


@FUZZ
@given(data=st.data())
def test_a_chat_export_with_damaged_bytes_imports_or_is_refused_whole(
    db: Database, export: Any, tmp_path: Path, data: st.DataObject
) -> None:
    file = tmp_path / "chats.json"
    file.write_bytes(mutated(data, json.dumps(export, indent=1).encode()))
    _imports_whole_or_nothing(db, file)


def _reads_or_refuses(file: Path) -> None:
    try:
        presets = read_presets(file)
    except PresetFileError as exc:
        assert str(exc)
    else:
        assert all(preset.name for preset in presets)


@FUZZ
@given(data=st.data())
def test_a_preset_file_with_one_damaged_field_reads_or_is_refused(
    tmp_path: Path, data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(list(json_paths(PRESETS))), label="field")
    file = tmp_path / "presets.json"
    file.write_text(json.dumps(replaced(PRESETS, path, data.draw(JSON))), encoding="utf-8")
    _reads_or_refuses(file)


@FUZZ
@given(data=st.data())
def test_a_preset_file_with_damaged_bytes_reads_or_is_refused(
    tmp_path: Path, data: st.DataObject
) -> None:
    file = tmp_path / "presets.json"
    file.write_bytes(mutated(data, json.dumps(PRESETS).encode()))
    _reads_or_refuses(file)
