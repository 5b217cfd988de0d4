"""The Models page wired to the real app: a tiny model loaded in a real engine, the fake hub on
127.0.0.1 for search/list/download, and the keyring and HF cache inside tmp_path."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import huggingface_hub.constants
import keyring
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.config.paths import resolve_paths
from app.gui.chat.controller import ChatController
from app.gui.models.controller import ModelsController, engine_rss, install_models
from app.gui.models.views import HEADER_NOT_READ, short_fit
from app.models.default_model import default_model_path
from app.models.download import model_folder
from app.models.fit import FitVerdict, auto_gpu_layers, evaluate_fit
from app.models.gguf_layout import read_layout
from app.models.machine import GpuMemory, MachineMemory
from app.models.registry import load_imports
from app.models.settings import ModelSettings, ModelSettingsStore
from inference.gguf import human_size
from inference.process.cpu_threads import default_thread_counts
from inference.protocol import ModelInfo
from tests.support.chat_window import type_and_send
from tests.support.fake_hub import FakeHub
from tests.support.model_hub import hub, isolated_home, tiny_bytes  # noqa: F401 (fixtures)
from tests.support.models_page import (
    header_read,
    wait_download_ended,
    wait_fit,
    wait_header_read,
    wait_listed,
    wait_page_tasks,
    wait_row,
)
from tests.support.qt_user import file_drag
from tests.support.tiny_gguf import build_corrupt_variants, build_tiny_model
from ui.main_window import MainWindow
from ui.models.details import ModelDetailsDialog
from ui.models.page import IN_USE_MARK, ModelsPage

GIB = 1 << 30
REPO = "someone/Tiny-GGUF"
FILE = "tiny-Q4_K_M.gguf"
NO_GPU = MachineMemory(12 * GIB)
WITH_GPU = MachineMemory(12 * GIB, (GpuMemory("Test GPU", 8 * GIB, 8 * GIB),))

Models = tuple[MainWindow, ChatController, ModelsController]


def _models(
    make_app: Callable[..., tuple],
    qtbot: QtBot,
    tiny_model: Path,
    machine: MachineMemory,
    gpu_available: bool | None = None,
) -> Iterator[Models]:
    window, chat, _database = make_app(tiny_model)
    page = ModelsPage()
    window.add_page("Models", page)
    controller = ModelsController(
        window,
        chat.session,
        chat.store,
        chat.paths,
        page,
        machine=machine,
        gpu_available=gpu_available,
        progress_interval=0,
    )
    qtbot.waitUntil(lambda: bool(page.rows()))
    window.show_page(page)
    yield window, chat, controller
    controller.shutdown()


@pytest.fixture
def models(make_app: Callable[..., tuple], qtbot: QtBot, tiny_model: Path) -> Iterator[Models]:
    """The real app with the tiny model loaded and the Models page installed and listed."""
    yield from _models(make_app, qtbot, tiny_model, NO_GPU)


@pytest.fixture
def models_with_gpu(
    make_app: Callable[..., tuple], qtbot: QtBot, tiny_model: Path
) -> Iterator[Models]:
    """As `models`, on a computer with a GPU this llama.cpp can offload to."""
    yield from _models(make_app, qtbot, tiny_model, WITH_GPU, gpu_available=True)


def _page(models: Models) -> ModelsPage:
    return models[2].page


def _row_of(page: ModelsPage, path: Path) -> int:
    paths = [Path(r.path).resolve() for r in page.rows()]
    return paths.index(Path(path).resolve())


def _select(qtbot: QtBot, page: ModelsPage, path: Path) -> None:
    """Click `path`'s row. The model in use starts selected (its settings open at once), so
    the selection is cleared first: the click always selects anew, as in a user's steps."""
    page.table.clearSelection()
    row = _row_of(page, path)
    rect = page.table.visualRect(page.table.model().index(row, 0))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert page.selected_path() == page.rows()[row].path


def _drop(page: ModelsPage, *files: Path) -> None:
    """What the window system delivers when files are dropped on the page."""
    enter, drop = file_drag(files)
    QApplication.sendEvent(page, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(page, drop)


def _second_model() -> Path:
    folder = resolve_paths().ensure().models_dir
    return build_tiny_model(folder / "second-tiny-Q8_0.gguf", seed=3)


# ---- installed models -------------------------------------------------------------------


def test_table_marks_the_model_in_use_and_use_switches_the_chat(
    models: Models, qtbot: QtBot, tiny_model: Path
) -> None:
    _window, chat, controller = models
    page = _page(models)
    second = _second_model()
    controller.refresh()
    wait_listed(qtbot, page, second)
    in_use = [r for r in page.rows() if r.in_use]
    assert [Path(r.path).resolve() for r in in_use] == [tiny_model.resolve()]
    row = _row_of(page, tiny_model)
    assert page.table.item(row, 0).text().startswith(IN_USE_MARK)
    assert page.table.item(row, 1).text() == "llama"
    assert page.table.item(row, 5).text() == "yes"  # the tiny model carries a ChatML template

    _select(qtbot, page, second)
    assert page.use_button.isEnabled()
    with qtbot.waitSignal(chat.session.loaded, timeout=60_000):
        qtbot.mouseClick(page.use_button, Qt.MouseButton.LeftButton)
    assert chat.session.info is not None and Path(chat.session.info.path) == second
    second_row = _row_of(page, second)
    qtbot.waitUntil(lambda: page.table.item(second_row, 0).text().startswith(IN_USE_MARK))
    assert not page.table.item(_row_of(page, tiny_model), 0).text().startswith(IN_USE_MARK)
    assert not page.use_button.isEnabled()  # already in use


def test_a_model_of_an_unknown_architecture_is_refused_in_plain_words(
    models: Models, qtbot: QtBot, tiny_model: Path
) -> None:
    """The header is sound but llama.cpp does not know the architecture: the page says
    that (not "failed to load"), the app keeps running, and another model still loads."""
    window, chat, controller = models
    folder = resolve_paths().ensure().models_dir
    alien = build_tiny_model(folder / "alien-arch.gguf", arch="notarealarch")
    page = _page(models)
    controller.refresh()
    wait_listed(qtbot, page, alien)
    _select(qtbot, page, alien)
    panel = page.loaded_panel
    qtbot.mouseClick(page.use_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "could not be loaded" in panel.name_label.text(), timeout=30_000)
    assert panel.name_label.text() == (
        "tiny-test · F32 (alien-arch.gguf) could not be loaded; no model is loaded."
    )
    reason = panel.gpu_note.text()
    assert "does not know the model architecture 'notarealarch'" in reason, reason
    assert "newer llama-cpp-python" in reason and not panel.gpu_note.isHidden()
    assert "does not know the model architecture" in window.error_bar.label.text()
    _select(qtbot, page, tiny_model)
    assert page.use_button.isEnabled()  # the failed load left no model marked in use
    with qtbot.waitSignal(chat.session.loaded, timeout=60_000):
        qtbot.mouseClick(page.use_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.name_label.text() == "tiny-test · F32")
    assert panel.gpu_note.text() != reason


def test_switching_models_frees_the_old_one(models: Models, qtbot: QtBot) -> None:
    """Each model holds a 128 MiB KV cache (llama.cpp clears it, so its pages are resident):
    after four switches the engine holds one cache, not five."""
    _window, chat, controller = models
    folder = resolve_paths().ensure().models_dir
    store = ModelSettingsStore(resolve_paths().data_dir)
    big = []
    for name in ("kv-a.gguf", "kv-b.gguf"):
        path = build_tiny_model(
            folder / name, n_layer=8, n_embd=256, n_head=4, n_head_kv=4, context_length=16384
        )
        store.put(path, ModelSettings(n_ctx=16384))
        big.append(path)
    page = _page(models)
    controller.refresh()
    wait_listed(qtbot, page, *big)

    def use(path: Path) -> ModelInfo:
        _select(qtbot, page, path)
        with qtbot.waitSignal(chat.session.loaded, timeout=60_000) as ready:
            qtbot.mouseClick(page.use_button, Qt.MouseButton.LeftButton)
        info = ready.args[0]
        assert Path(info.path) == path and info.memory is not None
        # The page hears of the load through its own queued slot: wait for its mark.
        qtbot.waitUntil(lambda: page.rows()[_row_of(page, path)].in_use)
        return info

    first = use(big[0])
    kv = first.memory.kv_ram
    assert kv >= 120 * (1 << 20)  # 8 layers · 2 · 256 · 16,384 cells · 2 bytes
    for path in (big[1], big[0], big[1]):
        use(path)
    last = use(big[0])
    assert last.memory.rss_bytes < first.memory.rss_bytes + kv // 2, (
        human_size(first.memory.rss_bytes),
        human_size(last.memory.rss_bytes),
    )


def _shown_rss(panel_text: str) -> float:
    """The engine's resident memory the panel shows, in MiB."""
    match = re.search(r"engine process: ([\d.]+) (MiB|GiB) resident", panel_text)
    assert match, panel_text
    return float(match.group(1)) * (1024 if match.group(2) == "GiB" else 1)


def _read_on_show(window: MainWindow, page: ModelsPage, pid: int) -> tuple[float, float, float]:
    """(engine RSS just before showing the page, the figure the page then shows, RSS just
    after), in MiB. The engine may still be settling after a reply (freeing buffers, keeping
    its state), so the page's figure is checked against that window, not one later read."""
    before = engine_rss(pid) / (1 << 20)
    window.show_page(page)  # showing the page reads it again
    shown = _shown_rss(page.loaded_panel.memory_label.text())
    after = engine_rss(pid) / (1 << 20)
    return min(before, after), shown, max(before, after)


def _use_a_heavier_model(models: Models, qtbot: QtBot) -> ModelsPage:
    """Install and load a model big enough for a reply to move the engine's memory; the
    Models page, once it shows the engine's resident memory."""
    _window, chat, controller = models
    folder = resolve_paths().ensure().models_dir
    heavy = build_tiny_model(folder / "heavy.gguf", n_layer=8, n_embd=512, n_ff=1536)
    page = _page(models)
    controller.refresh()
    wait_listed(qtbot, page, heavy)
    _select(qtbot, page, heavy)
    with qtbot.waitSignal(chat.session.loaded, timeout=60_000):
        qtbot.mouseClick(page.use_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "engine process" in page.loaded_panel.memory_label.text())
    return page


def test_engine_memory_is_read_again_after_a_reply(models: Models, qtbot: QtBot) -> None:
    """The resident figure is the engine's as it is now, not as it was right after the load
    (a reply adds buffers and reads weights in; long chats grow it further)."""
    window, chat, _controller = models
    page = _use_a_heavier_model(models, qtbot)
    after_load = _shown_rss(page.loaded_panel.memory_label.text())
    window.show_page(window.pages.widget(0))
    with qtbot.waitSignal(chat.replyFinished, timeout=60_000):
        type_and_send(qtbot, window, "read every weight once")
    low, shown, high = _read_on_show(window, page, chat.client.pid)
    if abs(high - after_load) <= 1.0:
        pytest.skip("the engine's memory did not move after the reply on this system")
    assert low - 0.1 <= shown <= high + 0.1, (after_load, low, shown, high)


def test_engine_memory_is_read_again_after_every_reply(models: Models, qtbot: QtBot) -> None:
    """Not only the first re-read counts: the figure follows the engine as a chat goes on."""
    window, chat, _controller = models
    page = _use_a_heavier_model(models, qtbot)
    shown = []
    for words in (20, 60):  # a longer prompt makes the engine hold more
        window.show_page(window.pages.widget(0))
        with qtbot.waitSignal(chat.replyFinished, timeout=60_000):
            type_and_send(qtbot, window, "read every weight once " * words)
        low, figure, high = _read_on_show(window, page, chat.client.pid)
        shown.append(figure)
    if abs(high - shown[0]) <= 1.0:
        pytest.skip("the engine's memory did not move after the first reply on this system")
    assert low - 0.1 <= shown[1] <= high + 0.1, (shown, low, high)


def test_the_chat_page_picker_lists_the_models_and_switches_in_one_choice(
    models: Models, qtbot: QtBot, tiny_model: Path, tmp_path: Path
) -> None:
    window, chat, controller = models
    picker = window.model_picker
    second = _second_model()
    controller.refresh()
    wait_listed(qtbot, _page(models), second)
    listed = [picker.itemData(i) for i in range(picker.count())]
    assert str(second.resolve()) in listed and str(tiny_model.resolve()) in listed
    assert picker.currentData() == str(tiny_model.resolve())  # the model in use
    # Both test models are "tiny-test" in F32: the file name tells them apart.
    labels = [picker.itemText(i) for i in range(picker.count())]
    assert len(set(labels)) == len(labels), labels
    second_label = picker.itemText(picker.findData(str(second.resolve())))
    assert second_label == "tiny-test · F32 (second-tiny-Q8_0.gguf)"

    # A user picks the other one from the drop-down (keyboard: the list is a popup).
    window.show_page(window.pages.widget(0))
    picker.setFocus()
    target = picker.findData(str(second.resolve()))
    with qtbot.waitSignal(chat.session.loaded, timeout=60_000):
        for _ in range(abs(target - picker.currentIndex())):
            key = Qt.Key.Key_Down if target > picker.currentIndex() else Qt.Key.Key_Up
            qtbot.keyClick(picker, key)
    assert chat.session.info is not None and Path(chat.session.info.path) == second
    assert picker.currentData() == str(second.resolve())
    assert Path(chat.store.settings.model_path or "") == second  # remembered for the next start
    with qtbot.waitSignal(chat.replyFinished, timeout=30_000):
        type_and_send(qtbot, window, "hello from the second model")

    # A model that cannot load: the picker stops claiming one is in use.
    broken = build_corrupt_variants(tmp_path / "bad")["truncated"]
    picker.show_models([("broken", str(broken)), ("second", str(second.resolve()))], "")
    picker.set_current(str(second.resolve()))
    qtbot.keyClick(picker, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: "could not be loaded" in window.error_bar.label.text(), timeout=30_000)
    assert picker.currentIndex() == -1 and picker.currentText() == ""


def test_details_show_the_full_metadata_without_loading(
    models: Models, qtbot: QtBot, tiny_model: Path
) -> None:
    page = _page(models)
    _select(qtbot, page, tiny_model)
    qtbot.mouseClick(page.details_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(page.findChildren(ModelDetailsDialog)))
    (dialog,) = page.findChildren(ModelDetailsDialog)
    rows = {
        dialog.table.item(r, 0).text(): (
            dialog.table.item(r, 1).text(),
            dialog.table.item(r, 2).text(),
        )
        for r in range(dialog.table.rowCount())
    }
    assert rows["general.architecture"] == ("string", "llama")
    kind, value = rows["tokenizer.ggml.tokens"]
    assert kind.startswith("array[string] × ") and value.endswith(", …]")
    assert "<|im_start|>" in rows["tokenizer.chat_template"][1]
    qtbot.keyClicks(dialog.filter_edit, "context")
    assert dialog.visible_keys() == ["llama.context_length"]


def test_dropped_gguf_is_imported_and_a_corrupt_one_refused(
    models: Models, qtbot: QtBot, tmp_path: Path
) -> None:
    _window, _chat, _controller = models
    page = _page(models)
    elsewhere = build_tiny_model(tmp_path / "elsewhere" / "dropped-tiny.gguf", seed=5)
    _drop(page, elsewhere)
    wait_listed(qtbot, page, elsewhere)
    row = page.rows()[_row_of(page, elsewhere)]
    assert row.source == "imported" and row.removable and not row.error
    assert load_imports(resolve_paths().data_dir) == [elsewhere.resolve()]
    assert "Imported" in page.info_bar.label.text()

    corrupt = build_corrupt_variants(tmp_path / "bad")["truncated"]
    _drop(page, corrupt)
    qtbot.waitUntil(lambda: "was not imported" in page.error_bar.label.text())
    assert not page.error_bar.isHidden()
    assert "was not imported" in page.error_bar.label.text()
    assert load_imports(resolve_paths().data_dir) == [elsewhere.resolve()]

    # Remove from list forgets the import; the file stays.
    _select(qtbot, page, elsewhere)
    qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    wait_listed(qtbot, page, elsewhere, listed=False)
    assert load_imports(resolve_paths().data_dir) == [] and elsewhere.exists()


def _answer_delete(qtbot: QtBot, page: ModelsPage, answer: str) -> None:
    """Press a button of the confirmation dialog, as the user would."""
    qtbot.waitUntil(lambda: page.delete_dialog is not None and page.delete_dialog.isVisible())
    assert page.delete_dialog is not None
    (button,) = [b for b in page.delete_dialog.buttons() if b.text().replace("&", "") == answer]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_delete_file_removes_a_downloaded_model_and_its_leftovers(
    models: Models, qtbot: QtBot
) -> None:
    _window, _chat, controller = models
    page = _page(models)
    models_dir = resolve_paths().models_dir
    folder = model_folder(models_dir, REPO)
    model = build_tiny_model(folder / FILE, seed=9)
    leftovers = [folder / f"{FILE}{end}" for end in (".sha256.json", ".part", ".part.json")]
    for leftover in leftovers:
        leftover.write_text("{}")
    controller.refresh()
    wait_listed(qtbot, page, model)
    _select(qtbot, page, model)
    assert page.delete_button.isEnabled()

    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.delete_dialog is not None)
    assert page.delete_dialog is not None
    size = sum(p.stat().st_size for p in [model, *leftovers])
    assert page.delete_dialog.text() == f"Delete {FILE} ({human_size(size)})?"
    assert str(folder) in page.delete_dialog.informativeText()
    _answer_delete(qtbot, page, "Cancel")
    assert model.exists()

    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    _answer_delete(qtbot, page, "Delete")
    wait_listed(qtbot, page, model, listed=False)
    assert not model.exists() and not any(p.exists() for p in leftovers)
    assert not folder.exists() and models_dir.is_dir()  # the empty repository folder went too
    assert all(Path(r.path) != model for r in page.rows())
    assert page.info_bar.label.text() == f"Deleted {FILE}; {human_size(size)} freed."


def test_delete_file_refuses_the_model_in_use_and_files_it_did_not_download(
    models: Models, qtbot: QtBot, tmp_path: Path, tiny_model: Path
) -> None:
    _window, chat, controller = models
    page = _page(models)
    # Chosen in the settings from elsewhere on disk, and an import: forget, never delete.
    _select(qtbot, page, tiny_model)
    assert not page.delete_button.isEnabled()
    elsewhere = build_tiny_model(tmp_path / "elsewhere" / "imported-tiny.gguf", seed=5)
    _drop(page, elsewhere)
    wait_listed(qtbot, page, elsewhere)
    _select(qtbot, page, elsewhere)
    assert page.remove_button.isEnabled() and not page.delete_button.isEnabled()

    # The built-in model while it is the one in use.
    builtin = default_model_path(resolve_paths().models_dir)
    builtin.write_bytes(tiny_model.read_bytes())
    controller.refresh()
    # Always listed (from its package, or unusable without it); once unpacked, usable and
    # its file on disk, Delete file is offered for it.
    wait_row(qtbot, page, builtin, lambda row: row.deletable and not row.error)
    _select(qtbot, page, builtin)
    assert page.rows()[_row_of(page, builtin)].source == "built-in"
    with qtbot.waitSignal(chat.session.loaded, timeout=60_000):
        qtbot.mouseClick(page.use_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.rows()[_row_of(page, builtin)].in_use)
    _select(qtbot, page, builtin)
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert "The built-in model is the one in use" in page.error_bar.label.text()
    assert page.delete_dialog is None and builtin.exists()

    # Any other model in use: refused too, until another one is used.
    second = _second_model()
    controller.refresh()
    wait_listed(qtbot, page, second)
    _select(qtbot, page, second)
    with qtbot.waitSignal(chat.session.loaded, timeout=60_000):
        qtbot.mouseClick(page.use_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.rows()[_row_of(page, second)].in_use)
    _select(qtbot, page, second)
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert f"{second.name} is the model in use" in page.error_bar.label.text()
    assert second.exists()
    # The built-in is no longer in use: it may go now.
    _select(qtbot, page, builtin)
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    _answer_delete(qtbot, page, "Delete")
    qtbot.waitUntil(lambda: page.info_bar.label.text().startswith(f"Deleted {builtin.name};"))
    assert not builtin.exists() and second.exists() and elsewhere.exists()


def test_scan_offers_models_other_apps_downloaded(
    models: Models, qtbot: QtBot, tmp_path: Path
) -> None:
    _window, _chat, _controller = models
    page = _page(models)
    snapshot = tmp_path / "hf-home" / "hub" / "models--a--b" / "snapshots" / "c0ffee"
    found = build_tiny_model(snapshot / "cached-tiny-Q4_0.gguf", seed=7)
    qtbot.mouseClick(page.scan_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.found_table.rowCount() == 1)
    assert page.found_table.item(0, 3).text() == "Hugging Face cache"
    qtbot.mouseClick(page.add_found_button, Qt.MouseButton.LeftButton)
    wait_listed(qtbot, page, found)
    assert page.rows()[_row_of(page, found)].source == "imported"
    assert found.exists()  # used where it is, not copied


# ---- fit and per-model settings ---------------------------------------------------------


def test_fit_verdict_follows_the_gpu_layers_slider(
    models_with_gpu: Models, qtbot: QtBot, tiny_model: Path
) -> None:
    models = models_with_gpu
    _window, _chat, _controller = models
    page = _page(models)
    form = page.settings_form
    _select(qtbot, page, tiny_model)
    shown = wait_fit(qtbot, form)
    assert form.layers_slider.maximum() == 3  # 2 blocks + the output layer
    assert form.layers_slider.value() == 0  # the global default: CPU only
    assert form.fit_label.text().startswith("CPU only: needs")
    assert "RAM" in form.fit_label.text()
    form.layers_slider.setFocus()
    qtbot.keyClick(form.layers_slider, Qt.Key.Key_End)
    shown = wait_fit(qtbot, form, shown)
    assert form.fit_label.text().startswith("Fits on GPU")
    assert "VRAM of 8.0 GiB free" in form.fit_label.text()
    qtbot.keyClick(form.layers_slider, Qt.Key.Key_Left)
    shown = wait_fit(qtbot, form, shown)
    assert form.fit_label.text().startswith("Partly on GPU (2 of 3 layers)")
    qtbot.keyClick(form.layers_slider, Qt.Key.Key_Home)
    shown = wait_fit(qtbot, form, shown)
    assert form.fit_label.text().startswith("CPU only: needs")
    # Auto picks the layers itself and the slider follows it.
    qtbot.mouseClick(form.auto_check, Qt.MouseButton.LeftButton)
    wait_fit(qtbot, form, shown)
    assert form.layers_slider.value() == 3 and not form.layers_slider.isEnabled()
    assert "Auto puts 3 of 3 layers on the GPU" in form.breakdown_label.text()


def test_settings_are_saved_per_model_and_ask_for_a_reload(
    models: Models, qtbot: QtBot, tiny_model: Path
) -> None:
    window, chat, _controller = models
    page = _page(models)
    form = page.settings_form
    _select(qtbot, page, tiny_model)
    wait_fit(qtbot, form)
    form.ctx_spin.selectAll()
    qtbot.keyClicks(form.ctx_spin, "2048")
    form.flash_combo.setCurrentIndex(form.flash_combo.findData("off"))
    form.format_combo.setCurrentIndex(form.format_combo.findData("chatml"))
    qtbot.keyClicks(form.system_edit, "You are terse.")
    form.temperature_spin.selectAll()
    qtbot.keyClicks(form.temperature_spin, "0.2")
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)

    stored = ModelSettingsStore(resolve_paths().data_dir).get(tiny_model)
    assert stored.n_ctx == 2048 and stored.flash_attn == "off"
    assert stored.chat_format == "chatml" and stored.system_prompt == "You are terse."
    assert stored.temperature == pytest.approx(0.2)
    assert stored.top_p is None  # unchanged values keep following the global settings
    raw = json.loads((resolve_paths().data_dir / "model_settings.json").read_text())
    assert list(raw["models"]) == [str(tiny_model.resolve())]
    assert not form.reload_bar.isHidden()
    assert "takes effect after reload" in form.reload_bar.label.text()
    assert "context size" in form.reload_bar.label.text()

    # A new page (next start) shows what was saved.
    other = ModelsPage()
    window.add_page("Models 2", other)
    second = ModelsController(window, chat.session, chat.store, chat.paths, other, machine=NO_GPU)
    try:
        qtbot.waitUntil(lambda: bool(other.rows()))
        _select(qtbot, other, tiny_model)
        wait_fit(qtbot, other.settings_form)
        assert other.settings_form.ctx_spin.value() == 2048
        assert other.settings_form.format_combo.currentData() == "chatml"
        assert other.settings_form.system_edit.toPlainText() == "You are terse."
    finally:
        second.shutdown()

    # Reload reloads the model in use.
    with qtbot.waitSignal(chat.session.loaded, timeout=60_000):
        qtbot.mouseClick(form.reload_bar.action_button, Qt.MouseButton.LeftButton)


def test_a_broken_custom_template_is_refused_and_kept_in_the_form(
    models: Models, qtbot: QtBot, tiny_model: Path
) -> None:
    _window, _chat, _controller = models
    page = _page(models)
    form = page.settings_form
    _select(qtbot, page, tiny_model)
    wait_fit(qtbot, form)
    form.format_combo.setCurrentIndex(form.format_combo.findData("custom"))
    assert not form.template_edit.isHidden()
    qtbot.keyClicks(form.template_edit, "{% for m in messages %}{{ m.role }}")
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    assert "custom chat template cannot be used" in page.error_bar.label.text()
    assert form.template_edit.toPlainText() == "{% for m in messages %}{{ m.role }}"
    assert ModelSettingsStore(resolve_paths().data_dir).get(tiny_model).chat_format is None


def test_after_load_panel_says_why_the_gpu_is_not_used(models: Models, qtbot: QtBot) -> None:
    _window, chat, _controller = models
    info = chat.session.info
    assert info is not None
    if info.gpu_offload_supported:
        pytest.skip("this llama.cpp build can offload to a GPU")
    panel = _page(models).loaded_panel
    assert panel.name_label.text() == "tiny-test · F32"  # the app's one name for it
    assert panel.backend_label.text() == "CPU (no GPU offload)"
    assert panel.layers_label.text() == "requested 0, offloaded 0 of 3"
    assert "RAM (weights" in panel.memory_label.text()
    assert "KV cache" in panel.memory_label.text()
    assert "engine process" in panel.memory_label.text()
    note = panel.gpu_note.text()
    assert "no GPU support" in note and 'CMAKE_ARGS="-DGGML_CUDA=on"' in note
    assert info.memory is not None and info.memory.kv_ram > 0 and info.memory.weights_ram > 0
    # On a CPU with AMX the engine loads without llama.cpp's AMX buffers, and says so.
    amx_cpu = (
        "AMX_INT8 = 1"
        in subprocess.run(
            [
                sys.executable,
                "-c",
                "from inference.process import llama_adapter as a; print(a.system_info())",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert info.amx_off == amx_cpu
    assert ("AMX kernels off" in panel.details_label.text()) == amx_cpu
    # Flash attention as llama.cpp resolved the default "auto" (issue 13).
    assert info.flash_attn in ("on", "off")
    assert f"flash attention {info.flash_attn}" in panel.details_label.text()


def test_loaded_panel_shows_the_cpu_threads_in_use_and_who_chose_them(
    models: Models, qtbot: QtBot, tiny_model: Path
) -> None:
    _window, chat, _controller = models
    page = _page(models)
    panel, form = page.loaded_panel, page.settings_form
    # tests/conftest.py sets HEARTH_THREADS (test_cpu_threads.py checks the real defaults).
    auto = default_thread_counts()
    assert panel.threads_label.text() == (
        f"{auto.n_threads} writing replies (automatic: from HEARTH_THREADS), "
        f"{auto.n_threads_batch} reading prompts (automatic: from HEARTH_THREADS)"
    )
    _select(qtbot, page, tiny_model)
    wait_fit(qtbot, form)
    # The form says what Automatic means here.
    assert form.threads_spin.text() == f"Automatic ({auto.n_threads})"
    assert form.batch_threads_spin.text() == f"Automatic ({auto.n_threads_batch})"
    form.threads_spin.selectAll()
    qtbot.keyClicks(form.threads_spin, "3")
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    assert ModelSettingsStore(resolve_paths().data_dir).get(tiny_model).n_threads == 3
    assert "CPU threads change takes effect after reload" in form.reload_bar.label.text()
    with qtbot.waitSignal(chat.session.loaded, timeout=60_000):
        qtbot.mouseClick(form.reload_bar.action_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "your setting" in panel.threads_label.text())
    assert panel.threads_label.text() == (
        f"3 writing replies (your setting), "
        f"{auto.n_threads_batch} reading prompts (automatic: from HEARTH_THREADS)"
    )


# ---- Hugging Face -----------------------------------------------------------------------


@pytest.fixture
def tiny_repo(hub: FakeHub, tiny_bytes: bytes) -> FakeHub:  # noqa: F811
    hub.add_repo(REPO, downloads=1234)
    hub.add_file(REPO, FILE, tiny_bytes)
    hub.add_file(REPO, "tiny-Q8_0.gguf", tiny_bytes)
    hub.add_file("someone/no-gguf-here", "model.safetensors", b"x")
    return hub


def _open_repo(qtbot: QtBot, page: ModelsPage, text: str = "tiny") -> None:
    hub_panel = page.hub
    page.tabs.setCurrentWidget(hub_panel)
    qtbot.keyClicks(hub_panel.search_edit, text)
    qtbot.keyClick(hub_panel.search_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: hub_panel.repo_table.rowCount() >= 1)
    rect = hub_panel.repo_table.visualRect(hub_panel.repo_table.model().index(0, 0))
    qtbot.mouseClick(hub_panel.repo_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: hub_panel.file_table.rowCount() >= 1)


def test_search_list_and_download_with_progress(
    models: Models,
    qtbot: QtBot,
    tiny_repo: FakeHub,
    tiny_bytes: bytes,  # noqa: F811
) -> None:
    _window, _chat, _controller = models
    page = _page(models)
    hub_panel = page.hub
    _open_repo(qtbot, page)
    wait_header_read(qtbot, hub_panel, FILE)
    assert hub_panel.repo_table.item(0, 0).text() == REPO
    assert hub_panel.repo_table.item(0, 1).text() == "1,234"
    assert hub_panel.file_table.item(0, 0).text() == FILE
    assert hub_panel.file_table.item(0, 1).text() == "Q4_K_M"
    assert hub_panel.file_table.item(0, 3).text().startswith("CPU only: ")

    tiny_repo.delay_per_chunk = 0.01
    qtbot.mouseClick(hub_panel.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "/s" in hub_panel.progress_label.text())
    qtbot.waitUntil(lambda: " left" in hub_panel.progress_label.text())
    text = hub_panel.progress_label.text()  # bytes, speed and time left
    assert re.search(r"of [\d.]+ \wB · [\d.]+ \wB/s · about \d+ (s|min) left", text), text
    assert not hub_panel.pause_button.isHidden()
    wait_download_ended(qtbot, hub_panel)
    path = model_folder(resolve_paths().models_dir, REPO) / FILE
    assert path.read_bytes() == tiny_bytes
    assert hub_panel.progress_label.text() == f"Installed {FILE}."
    qtbot.waitUntil(lambda: any(Path(r.path) == path for r in page.rows()))
    assert "✓ installed" in hub_panel.file_table.item(0, 0).text()


def test_pause_then_resume_completes_with_a_range_request(
    models: Models,
    qtbot: QtBot,
    tiny_repo: FakeHub,
    tiny_bytes: bytes,  # noqa: F811
) -> None:
    _window, _chat, _controller = models
    page = _page(models)
    hub_panel = page.hub
    _open_repo(qtbot, page)
    tiny_repo.delay_per_chunk = 0.02
    qtbot.mouseClick(hub_panel.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: hub_panel.progress.value() > 0)
    qtbot.mouseClick(hub_panel.pause_button, Qt.MouseButton.LeftButton)
    assert wait_download_ended(qtbot, hub_panel) == "Paused; Resume continues where it stopped."
    assert not hub_panel.resume_button.isHidden() and hub_panel.pause_button.isHidden()
    part = model_folder(resolve_paths().models_dir, REPO) / f"{FILE}.part"
    kept = part.stat().st_size
    assert 0 < kept < len(tiny_bytes)
    assert f"{human_size(kept)} of " in hub_panel.file_table.item(0, 0).text()
    tiny_repo.delay_per_chunk = 0
    qtbot.mouseClick(hub_panel.resume_button, Qt.MouseButton.LeftButton)
    assert wait_download_ended(qtbot, hub_panel) == f"Installed {FILE}."
    assert (part.parent / FILE).read_bytes() == tiny_bytes
    assert tiny_repo.file_requests(FILE)[-1].get("Range") == f"bytes={kept}-"


def test_cancel_deletes_the_partial_and_a_new_download_completes(
    models: Models,
    qtbot: QtBot,
    tiny_repo: FakeHub,
    tiny_bytes: bytes,  # noqa: F811
) -> None:
    _window, _chat, _controller = models
    page = _page(models)
    hub_panel = page.hub
    _open_repo(qtbot, page)
    tiny_repo.delay_per_chunk = 0.02
    qtbot.mouseClick(hub_panel.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: hub_panel.progress.value() > 0)
    qtbot.mouseClick(hub_panel.cancel_button, Qt.MouseButton.LeftButton)
    wait_download_ended(qtbot, hub_panel)
    folder = model_folder(resolve_paths().models_dir, REPO)
    assert list(folder.iterdir()) == []
    assert "Cancelled" in hub_panel.progress_label.text()
    assert "Download resumes" not in hub_panel.file_table.item(0, 0).text()
    tiny_repo.delay_per_chunk = 0
    qtbot.mouseClick(hub_panel.download_button, Qt.MouseButton.LeftButton)
    assert wait_download_ended(qtbot, hub_panel) == f"Installed {FILE}."
    assert (folder / FILE).read_bytes() == tiny_bytes


def test_hash_mismatch_is_refused_and_nothing_is_installed(
    models: Models, qtbot: QtBot, tiny_repo: FakeHub
) -> None:
    _window, _chat, controller = models
    page = _page(models)
    hub_panel = page.hub
    _open_repo(qtbot, page)
    tiny_repo.corrupt.add(FILE)
    before = len(page.rows())
    qtbot.mouseClick(hub_panel.download_button, Qt.MouseButton.LeftButton)
    assert not wait_download_ended(qtbot, hub_panel).startswith("Installed")
    text = hub_panel.progress_label.text()
    assert "SHA-256" in text and "nothing was installed" in text
    assert list(model_folder(resolve_paths().models_dir, REPO).iterdir()) == []
    controller.refresh()
    wait_page_tasks(qtbot)  # the listing shows nothing new: wait for it to end
    assert len(page.rows()) == before


def test_repo_without_gguf_and_gated_repo_in_plain_words(
    models: Models,
    qtbot: QtBot,
    tiny_repo: FakeHub,
    tiny_bytes: bytes,  # noqa: F811
) -> None:
    page = _page(models)
    hub_panel = page.hub
    page.tabs.setCurrentWidget(hub_panel)
    models[2].hub.open_repo("someone/no-gguf-here")
    qtbot.waitUntil(lambda: "has no GGUF files" in hub_panel.status_label.text())

    tiny_repo.add_repo("gated/model", gated=True)
    tiny_repo.add_file("gated/model", "m-Q4_K_M.gguf", tiny_bytes)
    tiny_repo.token = "hf_secret"
    hub_panel.search_edit.clear()
    qtbot.keyClicks(hub_panel.search_edit, "gated")
    qtbot.keyClick(hub_panel.search_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: hub_panel.repo_table.rowCount() == 1)
    assert hub_panel.repo_table.item(0, 2).text() == "gated: token"
    hub_panel.repo_table.selectRow(0)
    qtbot.waitUntil(lambda: "add an access token" in hub_panel.status_label.text())
    assert "Save token" in hub_panel.status_label.text()
    qtbot.keyClicks(hub_panel.token_edit, "hf_secret")
    qtbot.keyClick(hub_panel.token_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: hub_panel.file_table.rowCount() == 1)
    assert hub_panel.token_state.text() == "A token is stored in the keyring."
    assert hub_panel.token_edit.text() == ""  # not left on screen
    assert keyring.get_password("Hearth", "huggingface-token") == "hf_secret"
    # Never in Hearth's files: settings, database (and its WAL), per-model settings, imports.
    data = resolve_paths().data_dir
    files = [
        f for f in data.rglob("*") if f.is_file() and "models" not in f.relative_to(data).parts
    ]
    assert any(f.suffix == ".db" for f in files) and resolve_paths().settings_file in files
    assert [f for f in files if b"hf_secret" in f.read_bytes()] == []


def test_shutdown_during_a_download_keeps_it_resumable(
    models: Models, qtbot: QtBot, tiny_repo: FakeHub
) -> None:
    _window, _chat, controller = models
    page = _page(models)
    _open_repo(qtbot, page)
    tiny_repo.delay_per_chunk = 0.02
    qtbot.mouseClick(page.hub.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.hub.progress.value() > 0)
    controller.shutdown()
    part = model_folder(resolve_paths().models_dir, REPO) / f"{FILE}.part"
    assert part.exists() and part.stat().st_size > 0


def test_the_next_start_offers_to_resume_what_an_earlier_run_left(
    models: Models,
    qtbot: QtBot,
    tiny_repo: FakeHub,
    tiny_bytes: bytes,  # noqa: F811
) -> None:
    """A partial file from an earlier run (the app was closed or killed mid-download) is
    shown on its row, and Download continues it with a Range request."""
    window, chat, controller = models
    _open_repo(qtbot, controller.page)
    tiny_repo.delay_per_chunk = 0.02
    qtbot.mouseClick(controller.page.hub.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.page.hub.progress.value() > 0)
    controller.shutdown()
    part = model_folder(resolve_paths().models_dir, REPO) / f"{FILE}.part"
    kept = part.stat().st_size

    # The next start: a new page and controller, nothing remembered in memory.
    page = ModelsPage()
    window.add_page("Models again", page)
    again = ModelsController(
        window, chat.session, chat.store, chat.paths, page, machine=NO_GPU, progress_interval=0
    )
    try:
        window.show_page(page)
        _open_repo(qtbot, page)
        name = page.hub.file_table.item(0, 0).text()
        assert name.startswith(FILE) and "kept; Download resumes" in name
        assert f"{human_size(kept)} of {human_size(len(tiny_bytes))}" in name
        tiny_repo.delay_per_chunk = 0
        qtbot.mouseClick(page.hub.download_button, Qt.MouseButton.LeftButton)
        assert wait_download_ended(qtbot, page.hub) == f"Installed {FILE}."
        assert (part.parent / FILE).read_bytes() == tiny_bytes
        assert tiny_repo.file_requests(FILE)[-1].get("Range") == f"bytes={kept}-"
        name = page.hub.file_table.item(0, 0).text()
        assert "✓ installed" in name and "Download resumes" not in name
    finally:
        again.shutdown()


def test_install_models_adds_the_page(
    make_app: Callable[..., tuple], qtbot: QtBot, tiny_model: Path
) -> None:
    window, chat, _database = make_app(tiny_model)
    controller = install_models(window, chat.session, chat.store, chat.paths)
    try:
        titles = [window.pages.tabText(i) for i in range(window.pages.count())]
        assert "Models" in titles
        qtbot.waitUntil(lambda: bool(controller.page.rows()))
    finally:
        controller.shutdown()


def _local_verdict(path: Path, chat: ChatController, machine: MachineMemory) -> FitVerdict:
    """The estimate the Installed tab makes before a load, with GPU layers on Auto."""
    layout = read_layout(path)
    n_ctx = chat.store.settings.n_ctx
    return evaluate_fit(layout, n_ctx, auto_gpu_layers(layout, n_ctx, machine), machine)


def test_hub_file_fit_is_read_from_its_header_and_equals_the_local_estimate(
    models_with_gpu: Models,
    qtbot: QtBot,
    tiny_repo: FakeHub,
    tiny_bytes: bytes,  # noqa: F811
    tmp_path: Path,
) -> None:
    models = models_with_gpu
    _window, chat, _controller = models
    page = _page(models)
    hub_panel = page.hub
    _open_repo(qtbot, page)
    wait_header_read(qtbot, hub_panel, FILE)
    # The selected file only: one header read, not one per row.
    assert not header_read(hub_panel, "tiny-Q8_0.gguf")
    assert tiny_repo.file_requests(FILE)[0]["Range"].startswith("bytes=0-")
    assert tiny_repo.file_requests("tiny-Q8_0.gguf") == []
    local = tmp_path / FILE
    local.write_bytes(tiny_bytes)
    expected = _local_verdict(local, chat, WITH_GPU)
    assert expected.kind.value == "fits on GPU" and expected.estimate.kv_bytes > 0
    assert hub_panel.fit_text(FILE) == short_fit(expected)
    details = hub_panel.fit_details.text()
    assert details.startswith(f"{FILE} at {chat.store.settings.n_ctx:,} tokens of context: ")
    assert expected.text in details and "KV cache" in details
    assert hub_panel.file_table.item(0, 3).toolTip() == details

    # Selecting it again reads nothing more; the other file is read when selected.
    requests = len(tiny_repo.requests)
    hub_panel.file_table.selectRow(1)
    wait_header_read(qtbot, hub_panel, "tiny-Q8_0.gguf")
    assert hub_panel.selected_file() == "tiny-Q8_0.gguf"
    hub_panel.file_table.selectRow(0)
    assert hub_panel.fit_details.text() == details
    assert len([r for r in tiny_repo.requests[requests:] if r[1].endswith(FILE)]) == 0

    # Once downloaded, the Installed tab's estimate (Auto layers) says the same.
    qtbot.mouseClick(hub_panel.download_button, Qt.MouseButton.LeftButton)
    assert wait_download_ended(qtbot, hub_panel) == f"Installed {FILE}."
    installed = model_folder(resolve_paths().models_dir, REPO) / FILE
    page.tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: any(Path(r.path) == installed for r in page.rows()))
    _select(qtbot, page, installed)
    shown = wait_fit(qtbot, page.settings_form)
    qtbot.mouseClick(page.settings_form.auto_check, Qt.MouseButton.LeftButton)
    wait_fit(qtbot, page.settings_form, shown)
    shown_text = page.settings_form.fit_label.text()
    assert shown_text[0].lower() + shown_text[1:] == expected.text


def test_hub_file_whose_header_cannot_be_read_falls_back_to_its_size(
    models: Models, qtbot: QtBot, tiny_repo: FakeHub
) -> None:
    _window, _chat, controller = models
    page = _page(models)
    hub_panel = page.hub
    page.tabs.setCurrentWidget(hub_panel)
    tiny_repo.repos[REPO].files[FILE] = b"<html>Rate limited, try later</html>" * 50
    controller.hub.open_repo(REPO)
    wait_header_read(qtbot, hub_panel, FILE)
    cell = hub_panel.fit_text(FILE)
    assert cell.startswith("CPU only: ~") and cell.endswith(HEADER_NOT_READ)
    assert "not a GGUF model" in hub_panel.fit_details.text()
    # A file that went away between the listing and the read: the same fallback, in words.
    del tiny_repo.repos[REPO].files["tiny-Q8_0.gguf"]
    hub_panel.file_table.selectRow(1)
    wait_header_read(qtbot, hub_panel, "tiny-Q8_0.gguf")
    assert hub_panel.fit_text("tiny-Q8_0.gguf").endswith(HEADER_NOT_READ)
    assert "does not exist" in hub_panel.fit_details.text()


def test_search_while_offline_shows_progress_can_be_cancelled_and_fails_plainly(
    models: Models, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Hub that accepts the connection but never answers: the panel shows that it waits
    (busy bar, Cancel) and Cancel ends the wait at once. Without a network at all the
    search fails at once with one plain line and the busy bar goes away."""
    page = _page(models)
    hub_panel = page.hub
    page.tabs.setCurrentWidget(hub_panel)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{silent.getsockname()[1]}")
        qtbot.keyClicks(hub_panel.search_edit, "gemma")
        qtbot.keyClick(hub_panel.search_edit, Qt.Key.Key_Return)
        assert hub_panel.status_label.text() == "Searching Hugging Face for “gemma”…"
        assert hub_panel.is_waiting() and hub_panel.wait_cancel_button.isVisible()
        qtbot.mouseClick(hub_panel.wait_cancel_button, Qt.MouseButton.LeftButton)
        assert not hub_panel.is_waiting() and not hub_panel.wait_cancel_button.isVisible()
        assert hub_panel.status_label.text() == "Stopped waiting for Hugging Face."
    # The listening socket is closed: the abandoned request ends; its answer is dropped.
    qtbot.waitUntil(
        lambda: all(t.name != "models-search" for t in threading.enumerate()), timeout=30_000
    )
    QApplication.processEvents()  # its answer, queued before its thread ended, arrives
    assert hub_panel.status_label.text() == "Stopped waiting for Hugging Face."

    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")
    qtbot.mouseClick(hub_panel.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not hub_panel.is_waiting())
    assert hub_panel.status_label.text() == (
        "Cannot reach hub.invalid: no network connection (name lookup failed)."
    )
    assert hub_panel.repo_table.rowCount() == 0
