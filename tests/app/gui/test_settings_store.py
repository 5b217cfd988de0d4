"""The settings store: one place that changes, saves and announces the app's settings."""

from __future__ import annotations

import json
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.config.settings import Settings, load_settings
from app.gui.settings_store import SettingsStore


def test_an_update_is_saved_and_announced_once(tmp_path: Path, qtbot: QtBot) -> None:
    path = tmp_path / "settings.json"
    store = SettingsStore(path)
    seen: list[Settings] = []
    store.changed.connect(seen.append)

    new = store.update(auto_titles=True, context_policy="keep_ends")
    store.update(auto_titles=True)  # no change: nothing written or announced again

    assert store.settings == new and new.auto_titles and new.context_policy == "keep_ends"
    assert seen == [new]
    assert load_settings(path) == new


def test_a_failed_save_keeps_the_change_and_says_so(tmp_path: Path, qtbot: QtBot) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    store = SettingsStore(blocker / "settings.json", Settings())
    errors: list[str] = []
    store.saveFailed.connect(errors.append)

    store.update(max_tokens=64)

    assert store.settings.max_tokens == 64
    assert len(errors) == 1 and "could not be saved" in errors[0]


def test_it_starts_from_the_file(tmp_path: Path, qtbot: QtBot) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"n_ctx": 2048}))
    assert SettingsStore(path).settings.n_ctx == 2048
