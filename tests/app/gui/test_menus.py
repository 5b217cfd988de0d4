"""The window-wide commands on the real app (issue 15): Settings (Ctrl+,) changes go through
the settings store and persist, theme and text size apply at once, a failed save says so;
About's diagnostics carry the versions and the engine's build, never chat content."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QComboBox
from pytestqt.qtbot import QtBot

from app.config.settings import Settings, load_settings
from app.gui.about import AboutPresenter
from app.gui.appearance import Appearance, is_dark
from app.gui.settings_dialog import SettingsPresenter
from app.gui.settings_store import SettingsStore
from tests.support.app_parts import MakeApp
from tests.support.chat_window import type_and_send
from ui.main_window import MainWindow

GIB = 1 << 30


@pytest.fixture(autouse=True)
def restore_appearance(qapp: QApplication) -> Iterator[None]:
    """The theme and text size are the whole application's: later tests get them back."""
    appearance = Appearance(qapp)
    yield
    appearance.apply(Settings(theme="light"))  # forces a change, then back to the desktop's
    appearance.apply(Settings())


def parts(window: MainWindow) -> tuple[SettingsPresenter, AboutPresenter, SettingsStore]:
    settings = window.findChild(SettingsPresenter)
    about = window.findChild(AboutPresenter)
    assert settings is not None and about is not None
    return settings, about, settings.store


def press(qtbot: QtBot, window: MainWindow, key: Qt.Key) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.message_input, key, Qt.KeyboardModifier.ControlModifier)


def choose(box: QComboBox, value: str) -> None:
    """Pick an entry as the user does (activated, not a programmatic change)."""
    index = box.findData(value)
    assert index >= 0, value
    box.setCurrentIndex(index)
    box.activated.emit(index)


def test_settings_apply_at_once_through_the_store_and_persist(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, qapp: QApplication
) -> None:
    window, _controller, _db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    settings, _about, store = parts(window)
    press(qtbot, window, Qt.Key.Key_Comma)  # Ctrl+,
    dialog = settings.dialog
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.folder_label.text() == str(store.path.parent)
    assert "HEARTH_HOME" in dialog.folder_note.text()
    assert dialog.model_box.currentData() == str(tiny_model.resolve())

    choose(dialog.theme_box, "dark")
    assert is_dark(qapp.palette()) and store.settings.theme == "dark"
    choose(dialog.theme_box, "light")
    assert not is_dark(qapp.palette())

    dialog.font_box.setValue(15)
    assert QApplication.font().pointSize() == 15
    qtbot.waitUntil(lambda: window.chat_view.font().pointSize() == 15)  # the window follows
    choose(dialog.policy_box, "keep_ends")
    assert window.context_policy.policy() == "keep_ends"  # the chat page's box follows
    qtbot.mouseClick(dialog.auto_titles_box, Qt.MouseButton.LeftButton)
    assert window.auto_title_action.isChecked()
    dialog.budget_box.setValue(2.5)

    saved = load_settings(store.path)
    assert (saved.theme, saved.font_size, saved.context_policy) == ("light", 15, "keep_ends")
    assert saved.auto_titles and saved.kv_states_budget_bytes == round(2.5 * GIB)

    # A change made elsewhere shows in the open dialog.
    window.context_policy.setCurrentIndex(window.context_policy.findData("drop_oldest"))
    window.context_policy.activated.emit(window.context_policy.currentIndex())
    assert dialog.policy_box.currentData() == "drop_oldest"

    # Back to the desktop's size: the spin box's lowest entry.
    dialog.font_box.setValue(dialog.font_box.minimum())
    assert store.settings.font_size == 0
    assert dialog.font_box.text() == "Desktop size"


def test_zoom_keys_change_the_text_size_setting(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, _controller, _db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    _settings, _about, store = parts(window)
    start = QApplication.font().pointSize()
    press(qtbot, window, Qt.Key.Key_Equal)  # Ctrl+= is Ctrl++ without Shift
    press(qtbot, window, Qt.Key.Key_Plus)
    assert store.settings.font_size == start + 2 == QApplication.font().pointSize()
    press(qtbot, window, Qt.Key.Key_Minus)
    assert load_settings(store.path).font_size == start + 1
    press(qtbot, window, Qt.Key.Key_0)
    assert store.settings.font_size == 0 and QApplication.font().pointSize() == start


def test_a_settings_file_that_cannot_be_written_is_said_in_the_dialog(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, unwritable_folder: Path
) -> None:
    window, _controller, _db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    settings, _about, store = parts(window)
    store.path = unwritable_folder / "settings.json"
    settings.open()
    dialog = settings.dialog
    choose(dialog.theme_box, "dark")
    assert dialog.error_label.isVisible()
    assert dialog.error_label.text().startswith("Your settings could not be saved")
    assert store.settings.theme == "dark"  # it still applies for this run


def test_about_and_its_diagnostics_name_the_versions_and_the_engine_not_the_chats(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, _db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "my secret recipe for soup")
    settings, about, _store = parts(window)
    window.menus.about_action.trigger()
    dialog = about.dialog
    assert dialog.isVisible()
    shown = dialog.details.toPlainText()
    for label in ("Hearth", "llama-cpp-python", "llama.cpp build", "Qt", "PySide6", "Python"):
        assert label in shown
    assert "CPU" in shown and str(settings.paths.database) in shown

    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    text = QGuiApplication.clipboard().text()
    info = controller.session.info
    assert info is not None
    for line in (
        "Hearth: 0.1.0",
        f"llama-cpp-python: {info.llama_cpp_version}",
        "llama.cpp build: CPU",
        f"Qt: {qVersion()}",
        "Runs the model on: CPU",
        "Operating system: ",
        "RAM: ",
    ):
        assert line in text, line
    assert "llama.cpp system info: " in text and "CPU :" in text  # the engine's own line
    assert "soup" not in text and "tiny-test" in text  # the model, never the chat
    assert "Copied" in dialog.copied_label.text()


def test_settings_show_the_api_server_and_open_its_dialog(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    """Every setting has its place in the one dialog: the API server's is its state and the
    way to its own dialog (where it is switched and configured)."""
    from ui.server.dialog import ApiServerDialog
    from ui.server.settings_entry import OFF_TEXT, ServerSettingsEntry

    window, _controller, _db = make_app(tiny_model, n_ctx=512, max_tokens=4)
    settings, _about, _store = parts(window)
    settings.open()
    entry = settings.dialog.findChild(ServerSettingsEntry)
    assert entry is not None and entry.isVisible()
    assert entry.status_label.text() == OFF_TEXT
    qtbot.mouseClick(entry.open_button, Qt.MouseButton.LeftButton)
    server_dialog = window.findChild(ApiServerDialog)
    assert server_dialog is not None
    qtbot.waitUntil(server_dialog.isVisible)
    server_dialog.hide()
    settings.dialog.hide()
