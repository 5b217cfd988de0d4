from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.chat_controller import ChatController
from app.gui import build_app
from app.paths import resolve_paths
from app.settings import Settings, save_settings
from storage.database import Database
from ui.main_window import MainWindow

AppParts = tuple[MainWindow, ChatController, Database]


@pytest.fixture
def make_app(qtbot: QtBot) -> Iterator[Callable[..., AppParts]]:
    """Build the real app (engine process, SQLite file, widgets) with the given settings;
    chat only unless `pages=True`."""
    built: list[AppParts] = []

    def make(
        model: Path, *, wait_loaded: bool = True, pages: bool = False, **settings: object
    ) -> AppParts:
        paths = resolve_paths()
        save_settings(paths.settings_file, Settings(model_path=str(model), **settings))
        window, controller, database = build_app(paths, pages=pages)
        qtbot.addWidget(window)
        built.append((window, controller, database))
        window.show()
        if wait_loaded:
            with qtbot.waitSignal(controller.modelReady, timeout=60_000):
                controller.start()
        else:
            controller.start()
        return window, controller, database

    yield make
    for _window, controller, database in built:
        controller.shutdown()
        database.close()
