from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.config.paths import resolve_paths
from app.config.settings import Settings, save_settings
from app.gui.main import build_app
from tests.support.app_parts import AppParts


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
            with qtbot.waitSignal(controller.session.loaded, timeout=60_000):
                controller.start()
        else:
            controller.start()
        return window, controller, database

    yield make
    for _window, controller, database in built:
        controller.shutdown()
        database.close()


@pytest.fixture
def unwritable_folder(tmp_path: Path) -> Iterator[Path]:
    """A real folder this process may not write into: a locked one, or for root (whom
    permissions do not stop) sysfs, which refuses new files to everyone."""
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        yield locked
        locked.chmod(0o700)
        return
    sysfs = Path("/sys")
    try:
        handle, name = tempfile.mkstemp(dir=sysfs)
    except PermissionError:
        yield sysfs
        return
    os.close(handle)
    os.unlink(name)
    pytest.skip("no folder here refuses root's writes")
