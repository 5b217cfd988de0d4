"""KV cache types on the Models page (issue 13): chosen per model, the memory each saves shown
in the fit estimate, a combination llama.cpp refuses named in plain words before the load, and
a reload with the saved types giving a smaller KV cache in the real engine."""

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
from inference.kv_cache_rules import QUANTIZED_V_NEEDS_FLASH
from tests.support.models_page import wait_fit
from tests.support.tiny_gguf import build_tiny_model
from ui.models.page import ModelsPage

GIB = 1 << 30
Parts = tuple[ChatController, ModelsPage]


@pytest.fixture
def wide_model(tmp_path: Path) -> Path:
    # 32-wide heads: q8_0 blocks fit a head, so flash attention can hold a quantized cache.
    return build_tiny_model(tmp_path / "wide-heads.gguf", n_head=2, n_head_kv=2)


@pytest.fixture
def parts(make_app: Callable[..., tuple], qtbot: QtBot, wide_model: Path) -> Iterator[Parts]:
    window, chat, _database = make_app(wide_model)
    page = ModelsPage()
    window.add_page("Models", page)
    controller = ModelsController(
        window, chat.session, chat.store, chat.paths, page, machine=MachineMemory(12 * GIB)
    )
    qtbot.waitUntil(lambda: bool(page.rows()))
    window.show_page(page)
    yield chat, page
    controller.shutdown()


def _choose(qtbot: QtBot, combo: object, value: str) -> None:
    combo.setFocus()  # type: ignore[attr-defined]
    combo.setCurrentIndex(combo.findData(value))  # type: ignore[attr-defined]


def test_cache_types_show_their_saving_warn_plainly_and_reach_the_engine(
    parts: Parts, qtbot: QtBot, wide_model: Path
) -> None:
    chat, page = parts
    form = page.settings_form
    page.table.clearSelection()
    paths = [Path(r.path).resolve() for r in page.rows()]
    page.table.selectRow(paths.index(wide_model.resolve()))
    shown = wait_fit(qtbot, form)
    assert "KV cache 2.0 MiB," in form.breakdown_label.text()  # f16: nothing saved
    assert form.cache_warning.isHidden()

    _choose(qtbot, form.flash_combo, "off")
    _choose(qtbot, form.type_v_combo, "q8_0")
    qtbot.waitUntil(lambda: not form.cache_warning.isHidden())
    assert form.cache_warning.text() == QUANTIZED_V_NEEDS_FLASH + "."
    _choose(qtbot, form.flash_combo, "auto")  # auto turns it on for a quantized V
    qtbot.waitUntil(form.cache_warning.isHidden)
    _choose(qtbot, form.type_k_combo, "q8_0")
    wait_fit(qtbot, form, shown)
    qtbot.waitUntil(lambda: "q8_0/q8_0: saves" in form.breakdown_label.text())
    assert (
        "KV cache 1.1 MiB (q8_0/q8_0: saves 960.0 KiB against f16)" in form.breakdown_label.text()
    )

    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    stored = ModelSettingsStore(resolve_paths().data_dir).get(wide_model)
    # Automatic is the global setting: nothing of the model's own to store.
    assert (stored.type_k, stored.type_v, stored.flash_attn) == ("q8_0", "q8_0", None)
    assert "KV cache type of keys" in form.reload_bar.label.text()
    before = chat.session.info
    assert before is not None
    with qtbot.waitSignal(chat.session.loaded, timeout=60_000):
        qtbot.mouseClick(form.reload_bar.action_button, Qt.MouseButton.LeftButton)
    after = chat.session.info
    assert after is not None
    # Automatic became on (a quantized V needs it) and the form says so.
    assert after.flash_attn == "on"
    assert form.flash_combo.itemText(form.flash_combo.findData("auto")) == "Automatic (now on)"
    assert after.memory.kv_ram == pytest.approx(
        before.memory.kv_ram * 34 / 64, abs=0.01 * (1 << 20)
    )
