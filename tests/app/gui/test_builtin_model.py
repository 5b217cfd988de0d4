"""The built-in model on a fresh data folder, as a new user meets it: listed on the Models page
(marked built-in, settings open) before and after the first start unpacks it, and called by
one name in the picker, the status bar, the Models page and the loaded-model panel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.config.paths import resolve_paths
from app.gui.chat.controller import ChatController
from app.gui.main import build_app
from app.models.default_model import default_model_path
from storage.database import Database
from ui.main_window import MainWindow
from ui.models.page import IN_USE_MARK, ModelsPage

GEMMA = "Gemma 3 270m · Q4_K_M"
App = tuple[MainWindow, ChatController, Database]


@pytest.fixture
def first_run(qtbot: QtBot) -> Iterator[App]:
    """The whole app on a data folder that has never been used: no settings file, the
    built-in model not unpacked. Not started yet."""
    paths = resolve_paths()
    window, controller, database = build_app(paths)
    qtbot.addWidget(window)
    window.show()
    yield window, controller, database
    controller.shutdown()
    database.close()


def _models_page(window: MainWindow) -> ModelsPage:
    pages = [window.pages.widget(i) for i in range(window.pages.count())]
    (page,) = [p for p in pages if isinstance(p, ModelsPage)]
    return page


def _click_row(qtbot: QtBot, page: ModelsPage, row: int) -> None:
    rect = page.table.visualRect(page.table.model().index(row, 0))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_before_the_first_start_the_builtin_model_is_listed_with_working_settings(
    qtbot: QtBot, first_run: App
) -> None:
    window, _controller, _database = first_run
    page = _models_page(window)
    qtbot.waitUntil(lambda: bool(page.rows()))
    assert not default_model_path(resolve_paths().models_dir).exists()
    assert page.empty_label.isHidden()
    (row,) = page.rows()
    assert page.table.item(0, 0).text() == GEMMA
    assert page.table.item(0, 6).text() == "built-in"
    assert "unpacked on first use" in page.table.item(0, 6).toolTip()
    assert not row.deletable  # no file to delete yet
    form = page.settings_form
    _click_row(qtbot, page, 0)
    qtbot.waitUntil(form.isEnabled)
    assert form.title.text() == f"Settings for {GEMMA}"
    assert form.ctx_spin.maximum() == 32768  # the model's trained context, from its header
    assert form.layers_slider.maximum() == 19
    assert window.model_picker.itemText(0) == GEMMA


@pytest.mark.slow
def test_first_start_shows_one_name_and_opens_the_settings_of_the_model_in_use(
    qtbot: QtBot, first_run: App
) -> None:
    window, controller, _database = first_run
    page = _models_page(window)
    with qtbot.waitSignal(controller.session.loaded, timeout=120_000):
        controller.start()  # unpacks the built-in model, then loads it
    assert default_model_path(resolve_paths().models_dir).is_file()
    picker = window.model_picker
    assert picker.currentText() == GEMMA
    assert [picker.itemText(i) for i in range(picker.count())] == [GEMMA]
    assert window.model_label.text().startswith(f"{GEMMA} · ")
    qtbot.waitUntil(lambda: "unpacked" not in page.table.item(0, 6).toolTip())
    assert page.table.item(0, 6).text() == "built-in"
    assert page.table.item(0, 0).text() == IN_USE_MARK + GEMMA
    assert GEMMA in page.loaded_panel.name_label.text()
    # The model in use is selected, so "choose a larger context" can be followed at once.
    assert page.selected_path() == page.rows()[0].path
    qtbot.waitUntil(page.settings_form.isEnabled)
    assert page.settings_form.title.text() == f"Settings for {GEMMA}"


def test_choosing_the_builtin_model_again_unpacks_it_if_needed(
    qtbot: QtBot, first_run: App, tiny_model: Path
) -> None:
    """The built-in model is remembered as "none chosen", so a later start (or a choice in
    the picker) unpacks it again when its file was deleted."""
    _window, controller, _database = first_run
    controller.session.switch(str(tiny_model))
    assert controller.store.settings.model_path == str(tiny_model)
    controller.session.switch(str(default_model_path(resolve_paths().models_dir)))
    assert controller.store.settings.model_path is None
