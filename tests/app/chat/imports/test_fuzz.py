"""Property: any one field of a good export replaced by any JSON value either imports or is
refused with a ChatImportError, all or nothing; never another exception, never a hang."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.chat.importer import ChatImportError
from app.chat.imports.sources import import_path
from storage.database import Database
from tests.support.chat_samples import open_database
from tests.support.foreign_exports import (
    chatgpt_export,
    lm_studio_conversation,
    open_webui_export,
    row_counts,
)
from tests.support.fuzzing import JSON, json_paths, replaced


@pytest.fixture(scope="module")
def db() -> Iterator[Database]:
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(Path(folder) / "hearth.db")
        yield database
        database.close()


@pytest.mark.parametrize("build", [chatgpt_export, open_webui_export, lm_studio_conversation])
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_one_damaged_field_imports_or_is_refused_whole(
    db: Database, tmp_path: Path, build: Callable[[], Any], data: st.DataObject
) -> None:
    document = build()
    path = data.draw(st.sampled_from(list(json_paths(document))))
    damaged = replaced(document, path, data.draw(JSON))
    file = tmp_path / "export.json"
    file.write_text(json.dumps(damaged), encoding="utf-8")
    before = row_counts(db)
    try:
        summary = import_path(db, file)
    except ChatImportError:
        assert row_counts(db) == before
    else:
        assert row_counts(db) == (
            before[0] + len(summary.conversation_ids),
            before[1] + summary.messages,
        )
