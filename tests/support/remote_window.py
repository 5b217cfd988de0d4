"""The window with a remote server as the chat's backend (issue 14): built with its pages but
never started, so no local engine process runs unless something asks one for work; a
connection added on the Models page's Servers tab, and its model picked in the chat."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.config.paths import resolve_paths
from app.config.settings import Settings, save_settings
from app.gui.main import build_app
from tests.support.app_parts import AppParts
from ui.models.page import ModelsPage

CONNECT_MS = 30_000


@contextmanager
def unstarted_app(qtbot: QtBot, local_model: Path, **settings: object) -> Iterator[AppParts]:
    """The real app with every page, `local_model` and `settings` in the settings, not
    started (`controller.start()` would load the local model)."""
    paths = resolve_paths()
    save_settings(paths.settings_file, Settings(model_path=str(local_model), **settings))  # type: ignore[arg-type]
    window, controller, database = build_app(paths, pages=True)
    qtbot.addWidget(window)
    window.show()
    try:
        yield window, controller, database
    finally:
        controller.shutdown()
        database.close()


def models_page(window: object) -> ModelsPage:
    [page] = window.findChildren(ModelsPage)  # type: ignore[attr-defined]
    return page


def add_connection(qtbot: QtBot, window: object, name: str, url: str, key: str = "") -> None:
    """Type a connection into the Servers tab and press Add, as a user does; returns once
    the server's models reached the chat's model choice."""
    panel = models_page(window).connections
    panel.clear_form()
    qtbot.keyClicks(panel.name_edit, name)
    qtbot.keyClicks(panel.url_edit, url)
    if key:
        qtbot.keyClicks(panel.key_edit, key)
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    picker = window.model_picker  # type: ignore[attr-defined]
    qtbot.waitUntil(
        lambda: any(picker.itemText(i).endswith(f" · {name}") for i in range(picker.count())),
        timeout=CONNECT_MS,
    )


def pick_remote(qtbot: QtBot, window: object, controller: object, label: str) -> None:
    """Choose `label` ("model · connection") in the chat's model choice; returns once the
    session has the server's model."""
    picker = window.model_picker  # type: ignore[attr-defined]
    index = picker.findText(label)
    assert index >= 0, [picker.itemText(i) for i in range(picker.count())]
    with qtbot.waitSignal(controller.session.loaded, timeout=CONNECT_MS):  # type: ignore[attr-defined]
        picker.setCurrentIndex(index)
        picker.activated.emit(index)
