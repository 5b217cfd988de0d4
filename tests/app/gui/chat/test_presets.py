"""Presets: create, edit, duplicate, delete, import/export JSON, use in a chat."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from app.chat.presets_io import PresetFileError, export_presets, read_presets
from app.config.settings import Settings
from app.gui.chat.presets import PresetsController
from app.gui.settings_store import SettingsStore
from storage.chats import ConversationRepository
from storage.database import Database
from storage.presets import PresetRepository
from tests.support.app_parts import AppParts
from tests.support.qt_user import answer_file_dialog
from tests.support.umask import mode, umask
from ui.chat.presets_dialog import PresetsDialog

MakeApp = Callable[..., AppParts]


def click(qtbot: QtBot, button: object) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # type: ignore[arg-type]


def test_presets_are_made_shared_and_used_as_a_user_would(
    qtbot: QtBot,
    make_app: MakeApp,
    tiny_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    controller.new_chat()
    click(qtbot, window.presets_button)
    dialog = window.presets_dialog
    assert dialog.isVisible() and dialog.list.count() == 0

    click(qtbot, dialog.new_button)
    qtbot.keyClicks(dialog.name, "Pirate")
    qtbot.keyClicks(dialog.prompt, "Talk like a pirate.")
    dialog.fields["temperature"].setValue(0.3)
    click(qtbot, dialog.save_button)
    assert [p.name for p in PresetRepository(db).list()] == ["Pirate"]
    assert "Saved" in dialog.status.text()

    click(qtbot, dialog.duplicate_button)
    assert [dialog.list.item(i).text() for i in range(dialog.list.count())] == [
        "Pirate",
        "Pirate copy",
    ]
    # Renaming the copy to a taken name is refused in plain words, nothing changes.
    dialog.name.setText("Pirate")
    click(qtbot, dialog.save_button)
    assert "already exists" in dialog.status.text()

    out = tmp_path / "mine.json"
    answer_file_dialog(monkeypatch, "getSaveFileName", str(out))
    click(qtbot, dialog.export_button)
    assert json.loads(out.read_text())["format"] == "hearth-presets"

    click(qtbot, dialog.delete_button)  # the copy
    assert dialog.list.count() == 1
    answer_file_dialog(monkeypatch, "getOpenFileName", str(out))
    click(qtbot, dialog.import_button)
    names = sorted(p.name for p in PresetRepository(db).list())
    assert names == ["Pirate", "Pirate (2)", "Pirate copy"]  # imports never overwrite

    dialog.list.setCurrentRow(0)
    click(qtbot, dialog.apply_button)
    conversation = ConversationRepository(db).get(controller.current_conversation)  # type: ignore[arg-type]
    assert conversation is not None and conversation.system_prompt == "Talk like a pirate."
    # The preset's sampling belongs to this chat; the app-wide settings stay as they were.
    assert conversation.sampling["temperature"] == pytest.approx(0.3)
    assert controller.store.settings.temperature == pytest.approx(0.7)


def test_the_dialog_opens_with_nothing_to_edit_until_new_and_closes_with_close(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    """No preset chosen: no editable fields at temperature 0.00 / top-p 0.00 / a 1-token
    reply. New fills in the app's sampling; Close closes."""
    window, _controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=300)
    click(qtbot, window.presets_button)
    dialog = window.presets_dialog
    assert dialog.isVisible() and dialog.list.count() == 0
    assert not dialog.editor.isEnabled() and not dialog.save_button.isEnabled()
    assert not dialog.name.isEnabled() and not dialog.fields["temperature"].isEnabled()
    assert "New" in dialog.status.text()

    click(qtbot, dialog.new_button)
    assert dialog.editor.isEnabled() and dialog.save_button.isEnabled()
    values = {key: box.value() for key, box in dialog.fields.items()}
    assert values["temperature"] == pytest.approx(0.7)
    assert values["top_p"] == pytest.approx(0.95) and values["top_k"] == 40
    assert values["max_tokens"] == 300  # the app's longest reply, not the minimum of 1
    qtbot.keyClicks(dialog.name, "Terse")
    click(qtbot, dialog.save_button)
    assert [p.name for p in PresetRepository(db).list()] == ["Terse"]

    # Reopened, it shows the preset (enabled), not an empty form.
    close = dialog.buttons.button(QDialogButtonBox.StandardButton.Close)
    click(qtbot, close)
    assert not dialog.isVisible()
    click(qtbot, window.presets_button)
    assert dialog.list.currentItem().text() == "Terse" and dialog.editor.isEnabled()
    assert dialog.name.text() == "Terse"
    click(qtbot, dialog.delete_button)
    assert dialog.list.count() == 0 and not dialog.editor.isEnabled()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe not utf8", "not UTF-8"),
        (b"{", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nests lists or objects too deeply"),
        (b'{"format": "other"}', "not a Hearth preset file"),
        (b'{"format": "hearth-presets", "version": 9, "presets": []}', "version 9"),
        (b'{"format": "hearth-presets", "version": 1, "presets": [{"name": ""}]}', "no usable"),
        (
            b'{"format": "hearth-presets", "version": 1, "presets": '
            b'[{"name": "a", "sampling": {"top_k": "ten"}}]}',
            "must be a number",
        ),
        (
            b'{"format": "hearth-presets", "version": 1, "presets": '
            b'[{"name": "a", "sampling": {"temperature": 1e308}}]}',
            "temperature must be between 0 and 2",
        ),
        (
            b'{"format": "hearth-presets", "version": 1, "presets": '
            b'[{"name": "a", "sampling": {"max_tokens": -1}}]}',
            "max_tokens must be between 1 and 32768, not -1",
        ),
        (
            b'{"format": "hearth-presets", "version": 1, "presets": [{"name": "a", '
            b'"sampling": {"top_k": ' + b"9" * 5_000 + b"}}]}",
            "a number too large to use",
        ),
    ],
)
def test_hostile_preset_files_are_refused_with_a_plain_message(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(PresetFileError, match=message):
        read_presets(path)


def test_a_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(6 * 1024 * 1024)
    with pytest.raises(PresetFileError, match="too large"):
        read_presets(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_export_to_a_read_only_folder_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PresetFileError, match="Cannot write"):
            export_presets([], folder / "x.json")
    finally:
        folder.chmod(0o700)


def test_export_to_a_missing_folder_says_so_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(PresetFileError, match=r"Cannot write to .*missing"):
        export_presets([], tmp_path / "missing" / "x.json")
    assert not (tmp_path / "missing").exists()


def test_a_preset_is_edited_in_place_and_its_file_round_trips_every_field(
    qtbot: QtBot,
    make_app: MakeApp,
    tiny_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, _controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    repository = PresetRepository(db)
    repository.save("Editor", "Fix typos.", {"temperature": 0.2, "top_k": 10})
    click(qtbot, window.presets_button)
    dialog = window.presets_dialog
    assert dialog.list.currentItem().text() == "Editor"

    # Edit: a new name, more instructions, and a temperature typed into its box.
    dialog.name.selectAll()
    qtbot.keyClicks(dialog.name, "Copy editor")
    dialog.prompt.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(dialog.prompt, " Keep the tone.")
    temperature = dialog.fields["temperature"]
    temperature.selectAll()
    qtbot.keyClicks(temperature, "0.45")
    qtbot.keyClick(temperature, Qt.Key.Key_Tab)
    click(qtbot, dialog.save_button)
    [edited] = repository.list()  # the same preset, changed: not a second one
    assert (edited.name, edited.system_prompt) == ("Copy editor", "Fix typos. Keep the tone.")
    assert edited.sampling["temperature"] == pytest.approx(0.45)
    assert edited.sampling["top_k"] == 10
    assert dialog.list.item(0).text() == "Copy editor"

    out = tmp_path / "presets.json"
    answer_file_dialog(monkeypatch, "getSaveFileName", str(out))
    click(qtbot, dialog.export_button)
    click(qtbot, dialog.delete_button)
    assert repository.list() == [] and dialog.list.count() == 0
    answer_file_dialog(monkeypatch, "getOpenFileName", str(out))
    click(qtbot, dialog.import_button)
    [back] = repository.list()
    assert (back.name, back.system_prompt, back.sampling) == (
        edited.name,
        edited.system_prompt,
        edited.sampling,
    )
    assert "Imported 1 preset" in dialog.status.text()


def test_exporting_presets_into_a_folder_nobody_may_write_says_so(
    qtbot: QtBot,
    make_app: MakeApp,
    tiny_model: Path,
    unwritable_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, _controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    PresetRepository(db).save("Kept", "Stay.", {})
    click(qtbot, window.presets_button)
    dialog = window.presets_dialog
    answer_file_dialog(monkeypatch, "getSaveFileName", str(unwritable_folder / "presets.json"))
    click(qtbot, dialog.export_button)
    assert f"Cannot write to {unwritable_folder}" in dialog.status.text()
    assert not (unwritable_folder / "presets.json").exists()
    assert [p.name for p in PresetRepository(db).list()] == ["Kept"]


def test_an_exported_preset_file_follows_the_umask(tmp_path: Path) -> None:
    with umask(0o022):
        export_presets([], tmp_path / "presets.json")
    assert mode(tmp_path / "presets.json") == 0o644  # not mkstemp's private 0600


class OpenChat:
    """A stand-in for the chat page: the presets presenter only asks which chat is open."""

    generating = False

    def __init__(self, conversation_id: int | None) -> None:
        self.current_conversation = conversation_id

    def open_conversation(self, conversation_id: int) -> None:
        raise AssertionError("presets never open a chat")

    def refresh_list(self) -> None:
        raise AssertionError("presets never change the list")


def test_presets_need_no_chat_presenter_only_the_open_chat_and_the_stores(
    qtbot: QtBot, tmp_path: Path
) -> None:
    database, _note = Database.open(tmp_path / "history.db")
    try:
        conversations, presets = ConversationRepository(database), PresetRepository(database)
        pirate = presets.save("Pirate", "Talk like a pirate.", {"temperature": 0.3})
        dialog = PresetsDialog()
        qtbot.addWidget(dialog)
        chat = OpenChat(None)
        changed: list[None] = []
        store = SettingsStore(tmp_path / "settings.json", Settings(temperature=0.4))
        controller = PresetsController(
            dialog, presets, store, chat, conversations, lambda: changed.append(None)
        )
        controller.open()
        dialog.new_button.click()
        assert dialog.fields["temperature"].value() == pytest.approx(0.4)  # the app's own

        controller.apply(pirate.id)
        assert "Open a chat first" in dialog.status.text() and not changed

        chat.current_conversation = conversations.create().id
        controller.apply(pirate.id)
        record = conversations.get(chat.current_conversation)
        assert record is not None and record.system_prompt == "Talk like a pirate."
        assert record.sampling == {"temperature": 0.3} and len(changed) == 1
    finally:
        database.close()
