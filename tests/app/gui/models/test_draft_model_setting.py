"""The draft model on the Models page (issue 13): offered from the local models, one with
another vocabulary refused with the mismatch named (when chosen and again on Save), one that
fits saved, its memory added to the estimate, and a reload drafting with it in the engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.config.paths import resolve_paths
from app.gui.chat.controller import ChatController
from app.gui.models.controller import ModelsController
from app.models.machine import MachineMemory
from app.models.settings import ModelSettingsStore
from tests.support.models_page import wait_fit, wait_page_tasks
from tests.support.tiny_gguf import build_tiny_model
from ui.models.page import ModelsPage

GIB = 1 << 30
Parts = tuple[ChatController, ModelsPage, dict[str, Path]]


@pytest.fixture
def parts(make_app: Callable[..., tuple], qtbot: QtBot) -> Iterator[Parts]:
    folder = resolve_paths().ensure().models_dir
    models = {
        "main": build_tiny_model(folder / "main-tiny.gguf"),
        "sibling": build_tiny_model(folder / "sibling.gguf", seed=5, n_layer=1, n_embd=32),
        "wider": build_tiny_model(folder / "wider.gguf", extra_vocab=7),
    }
    window, chat, _database = make_app(models["main"])
    page = ModelsPage()
    window.add_page("Models", page)
    controller = ModelsController(
        window, chat.session, chat.store, chat.paths, page, machine=MachineMemory(12 * GIB)
    )
    qtbot.waitUntil(lambda: len(page.rows()) >= 3)
    window.show_page(page)
    yield chat, page, models
    controller.shutdown()


def _choose(form_combo: object, path: Path) -> None:
    combo = form_combo
    index = next(
        i
        for i in range(combo.count())  # type: ignore[attr-defined]
        if Path(str(combo.itemData(i))).resolve() == path.resolve()  # type: ignore[attr-defined]
    )
    combo.setCurrentIndex(index)  # type: ignore[attr-defined]


def test_a_draft_model_is_checked_saved_estimated_and_loaded(parts: Parts, qtbot: QtBot) -> None:
    chat, page, models = parts
    form = page.settings_form
    page.table.clearSelection()
    paths = [Path(r.path).resolve() for r in page.rows()]
    page.table.selectRow(paths.index(models["main"].resolve()))
    wait_fit(qtbot, form)
    combo = form.draft.combo
    offered = {Path(str(combo.itemData(i))).name for i in range(1, combo.count())}
    assert {"sibling.gguf", "wider.gguf"} <= offered and "main-tiny.gguf" not in offered
    assert combo.currentText() == "None"

    _choose(combo, models["wider"])
    qtbot.waitUntil(lambda: not form.draft.warning.isHidden())
    assert form.draft.warning.text().startswith("Draft model wider.gguf has a vocabulary of")
    assert form.draft.warning.text().endswith(
        "a draft model must share the main model's vocabulary."
    )
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    assert "has a vocabulary of" in page.error_bar.label.text()
    store = ModelSettingsStore(resolve_paths().data_dir)
    assert store.get(models["main"]).draft_model is None

    _choose(combo, models["sibling"])
    qtbot.waitUntil(lambda: "The draft model adds" in form.breakdown_label.text())
    wait_page_tasks(qtbot)
    assert form.draft.warning.isHidden()
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    stored = store.get(models["main"]).draft_model
    assert stored is not None and Path(stored).resolve() == models["sibling"].resolve()
    assert "draft model" in form.reload_bar.label.text()
    with qtbot.waitSignal(chat.session.loaded, timeout=60_000):
        qtbot.mouseClick(form.reload_bar.action_button, Qt.MouseButton.LeftButton)
    info = chat.session.info
    assert info is not None and info.draft_name == "sibling.gguf" and info.draft_note == ""
