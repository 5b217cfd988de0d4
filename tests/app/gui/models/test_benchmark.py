"""The Models page's Benchmark… button in the real app (engine process, SQLite file, every
page): a short run on the chat's loaded model and on a model it has not loaded, Stop, a
model that fails to load, and the results listed on the Performance page's Benchmarks tab."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.config.paths import resolve_paths
from app.gui.models.benchmark import BenchmarkPresenter
from app.models.settings import ModelSettings, ModelSettingsStore
from storage.bench import BenchResultRepository
from tests.support.chat_window import type_and_send
from tests.support.models_page import wait_listed
from tests.support.tiny_gguf import build_corrupt_variants, build_tiny_model
from ui.models.bench_dialog import BenchDialog
from ui.models.page import ModelsPage
from ui.performance.page import PerformancePage

RUN_TIMEOUT_MS = 60_000


def _parts(window: object) -> tuple[ModelsPage, BenchmarkPresenter, PerformancePage]:
    page = window.findChild(ModelsPage)  # type: ignore[attr-defined]
    presenter = window.findChild(BenchmarkPresenter)  # type: ignore[attr-defined]
    performance = window.findChild(PerformancePage)  # type: ignore[attr-defined]
    assert page is not None and presenter is not None and performance is not None
    return page, presenter, performance


def _open_for(qtbot: QtBot, page: ModelsPage, presenter: BenchmarkPresenter, path: Path):
    wait_listed(qtbot, page, path)
    page.table.clearSelection()
    page.select_path(next(r.path for r in page.rows() if Path(r.path).resolve() == path.resolve()))
    assert page.benchmark_button.isEnabled()
    qtbot.mouseClick(page.benchmark_button, Qt.MouseButton.LeftButton)
    dialog = presenter.dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def _fill(qtbot: QtBot, dialog: BenchDialog, pp: int, tg: int, depths: str, reps: int) -> None:
    dialog.prompt_spin.setValue(pp)
    dialog.gen_spin.setValue(tg)
    dialog.depths_edit.clear()
    qtbot.keyClicks(dialog.depths_edit, depths)
    dialog.repetitions_spin.setValue(reps)


def _run(qtbot: QtBot, dialog: BenchDialog, presenter: BenchmarkPresenter) -> None:
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert dialog.running and dialog.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not presenter.busy() and not dialog.running, timeout=RUN_TIMEOUT_MS)


@pytest.fixture
def other_model() -> Path:
    """A second tiny model in the models folder: listed, never loaded by the chat."""
    folder = resolve_paths().ensure().models_dir
    return build_tiny_model(folder / "other-tiny.gguf")


def test_the_loaded_model_runs_on_the_chat_engine_and_see_results_lists_it(
    qtbot: QtBot, make_app: Callable[..., tuple], tiny_model: Path
) -> None:
    window, chat, database = make_app(tiny_model, n_ctx=1024, pages=True)
    page, presenter, performance = _parts(window)
    window.show_page(page)
    engine_pid = chat.session.client.pid
    dialog = _open_for(qtbot, page, presenter, tiny_model)
    assert "chat's engine" in dialog.engine_note.text()
    _fill(qtbot, dialog, 32, 4, "0, 64", 2)
    _run(qtbot, dialog, presenter)

    records = BenchResultRepository(database).list()
    assert [r.depth for r in records] == [0, 64]
    for record in records:
        assert record.error is None and record.repetitions == 2
        assert record.pp_tps and record.tg_tps and record.llama_tg_tps
        assert Path(record.model_path).resolve() == tiny_model.resolve()
    assert dialog.results_label.isVisible() and "tg4" in dialog.status_label.text()
    # No second engine, no reload: the chat's model is still the one loaded.
    assert chat.session.client.pid == engine_pid
    assert chat.session.info is not None and chat.session.info.path == str(tiny_model)

    dialog.results_label.linkActivated.emit("results")
    assert window.pages.currentWidget() is performance
    assert performance.tabs.currentWidget() is performance.bench_tab
    qtbot.waitUntil(lambda: performance.bench_tab.table.rowCount() == 2)
    texts = {performance.bench_tab.table.item(r, 2).text() for r in range(2)}
    assert texts == {"pp32 + tg4", "pp32 + tg4 @ d64"}
    assert performance.bench_tab.bench_plots().tg.bars  # one model's bars drawn

    # Another run: the Benchmarks tab lists it without being asked.
    _fill(qtbot, dialog, 16, 2, "0", 1)
    _run(qtbot, dialog, presenter)
    qtbot.waitUntil(lambda: performance.bench_tab.table.rowCount() == 3)
    dialog.close()


def test_a_model_the_chat_has_not_loaded_gets_an_engine_of_its_own(
    qtbot: QtBot, make_app: Callable[..., tuple], tiny_model: Path, other_model: Path
) -> None:
    window, chat, database = make_app(tiny_model, n_ctx=1024, pages=True)
    page, presenter, _performance = _parts(window)
    window.show_page(page)
    dialog = _open_for(qtbot, page, presenter, other_model)
    qtbot.waitUntil(lambda: "RAM" in dialog.engine_note.text())
    assert "second time" in dialog.engine_note.text()
    # 4096 does not fit the model's 2,048-token context: lowered, with a note.
    _fill(qtbot, dialog, 32, 4, "0, 4096", 1)
    _run(qtbot, dialog, presenter)

    records = BenchResultRepository(database).list()
    assert [r.depth for r in records] == [0, 2048 - 36]
    assert all(r.error is None and r.tg_tps for r in records)
    assert all(Path(r.model_path).resolve() == other_model.resolve() for r in records)
    assert "lowered" in dialog.notes_label.text()
    assert chat.session.info is not None and chat.session.info.path == str(tiny_model)
    dialog.close()


def test_stop_ends_the_run_and_keeps_what_was_measured(
    qtbot: QtBot, make_app: Callable[..., tuple], tiny_model: Path
) -> None:
    window, _chat, database = make_app(tiny_model, n_ctx=2048, pages=True)
    page, presenter, _performance = _parts(window)
    window.show_page(page)
    dialog = _open_for(qtbot, page, presenter, tiny_model)
    _fill(qtbot, dialog, 32, 1800, "0", 50)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Repetition 2 of 50" in dialog.status_label.text(), timeout=30_000)
    qtbot.mouseClick(dialog.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not presenter.busy() and not dialog.running, timeout=RUN_TIMEOUT_MS)

    [record] = BenchResultRepository(database).list()
    assert 1 <= record.repetitions < 50 and record.tg_tps
    assert "Stopped" in dialog.status_label.text()
    dialog.close()


def test_a_model_that_fails_to_load_gives_one_line(
    qtbot: QtBot, make_app: Callable[..., tuple], tiny_model: Path, tmp_path: Path
) -> None:
    window, chat, database = make_app(tiny_model, n_ctx=1024, pages=True)
    _page, presenter, _performance = _parts(window)
    broken = build_corrupt_variants(tmp_path)["bad_heads"]
    dialog = presenter.open(str(broken))
    _fill(qtbot, dialog, 32, 4, "0", 1)
    _run(qtbot, dialog, presenter)

    assert dialog.error_label.isVisible()
    line = dialog.error_label.text()
    assert line and "\n" not in line
    assert not dialog.results_label.isVisible() and not dialog.notes_label.isVisible()
    [record] = BenchResultRepository(database).list()
    assert record.error == line
    assert chat.session.info is not None  # the chat's model is untouched
    dialog.close()


def test_a_chat_message_during_a_benchmark_goes_first_and_the_run_still_completes(
    qtbot: QtBot, make_app: Callable[..., tuple], tiny_model: Path
) -> None:
    window, chat, database = make_app(tiny_model, n_ctx=2048, max_tokens=4, pages=True)
    page, presenter, _performance = _parts(window)
    window.show_page(page)
    dialog = _open_for(qtbot, page, presenter, tiny_model)
    _fill(qtbot, dialog, 32, 1800, "0", 3)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Repetition 1 of 3" in dialog.status_label.text(), timeout=30_000)
    window.show_page(window.pages.widget(0))
    with qtbot.waitSignal(chat.replyFinished, timeout=RUN_TIMEOUT_MS):
        type_and_send(qtbot, window, "hello")
    assert presenter.busy()  # the reply did not wait for the benchmark to end
    qtbot.waitUntil(lambda: not presenter.busy() and not dialog.running, timeout=RUN_TIMEOUT_MS)

    [record] = BenchResultRepository(database).list()
    assert record.error is None and record.repetitions == 3 and record.tg_tps
    dialog.close()


@pytest.mark.parametrize("loaded", [True, False], ids=["chat-engine", "own-engine"])
def test_closing_hearth_during_a_run_stops_it(
    qtbot: QtBot, make_app: Callable[..., tuple], tiny_model: Path, other_model: Path, loaded: bool
) -> None:
    window, chat, _database = make_app(tiny_model, n_ctx=2048, pages=True)
    page, presenter, _performance = _parts(window)
    window.show_page(page)
    dialog = _open_for(qtbot, page, presenter, tiny_model if loaded else other_model)
    _fill(qtbot, dialog, 32, 1800, "0", 50)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Repetition 1 of 50" in dialog.status_label.text(), timeout=30_000)
    chat.shutdown()  # the app's close; the conftest also fails a test that leaves a process
    assert not any(t.name == "models-benchmark" for t in threading.enumerate())


def test_the_loaded_model_is_recorded_with_the_settings_it_was_loaded_with(
    qtbot: QtBot, make_app: Callable[..., tuple], tiny_model: Path
) -> None:
    window, chat, database = make_app(tiny_model, n_ctx=1024, n_batch=256, pages=True)
    page, presenter, _performance = _parts(window)
    window.show_page(page)
    # Changed after the load, not reloaded: the engine still holds the model as loaded.
    ModelSettingsStore(resolve_paths().data_dir).put(
        tiny_model, ModelSettings(n_batch=64, n_threads=1, type_k="q8_0")
    )
    chat.store.update(n_batch=128)  # the app-wide settings change too
    assert chat.session.choices()[0].n_batch == 64  # what a reload would use
    dialog = _open_for(qtbot, page, presenter, tiny_model)
    _fill(qtbot, dialog, 16, 2, "0", 1)
    _run(qtbot, dialog, presenter)
    [record] = BenchResultRepository(database).list()
    assert record.error is None
    assert (record.n_batch, record.type_k, record.type_v) == (256, "f16", "f16")
    info = chat.session.info
    assert info is not None and record.threads == info.n_threads
    dialog.close()
