"""The benchmark dialog's thread search (issue 13): a run in an engine of its own that shows
every count's speeds and each phase's verdict, and "Keep these" saving clear winners as the
model's settings, which the settings form then shows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.config.paths import resolve_paths
from app.gui.models.benchmark import BenchmarkPresenter
from app.models.bench_threads import thread_candidates
from app.models.settings import ModelSettings, ModelSettingsStore
from inference.process.cpu_threads import physical_cores, usable_cpus
from inference.protocol import EngineSettings
from storage.bench import BenchResultRepository
from tests.support.bench_engine import ThreadScaledBenchEngine
from ui.models.bench_dialog import BenchDialog
from ui.models.page import ModelsPage

RUN_TIMEOUT_MS = 60_000


def _threads_mode(qtbot: QtBot, dialog: BenchDialog, pp: int, tg: int, rounds: int) -> None:
    dialog.mode_combo.setCurrentIndex(dialog.mode_combo.findData("threads"))
    assert dialog.prompt_spin.value() == 128 and not dialog.depths_edit.isEnabled()
    dialog.prompt_spin.setValue(pp)
    dialog.gen_spin.setValue(tg)
    dialog.repetitions_spin.setValue(rounds)


def _run(qtbot: QtBot, dialog: BenchDialog, presenter: BenchmarkPresenter) -> None:
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert dialog.running
    qtbot.waitUntil(lambda: not presenter.busy() and not dialog.running, timeout=RUN_TIMEOUT_MS)


def test_a_real_search_runs_beside_the_chat_and_shows_each_count(
    qtbot: QtBot, make_app: Callable[..., tuple], tiny_model: Path
) -> None:
    window, chat, database = make_app(tiny_model, n_ctx=1024, pages=True)
    presenter = window.findChild(BenchmarkPresenter)
    assert presenter is not None
    engine_pid = chat.session.client.pid
    dialog = presenter.open(str(tiny_model))
    _threads_mode(qtbot, dialog, 16, 4, 2)
    _run(qtbot, dialog, presenter)
    text = dialog.status_label.text()
    for count in thread_candidates(physical_cores(), usable_cpus()):
        assert f"{count} threads: prompts " in text
    assert "decode: " in text and "prefill: " in text
    assert not dialog.error_label.isVisible()
    # The chat's engine kept its model; nothing was stored as a benchmark result.
    assert chat.session.client.pid == engine_pid and chat.session.info is not None
    assert BenchResultRepository(database).list() == []
    dialog.close()


def test_keep_these_saves_the_winners_and_the_form_shows_them(
    qtbot: QtBot, make_app: Callable[..., tuple], tiny_model: Path
) -> None:
    window, chat, database = make_app(tiny_model, n_ctx=1024, pages=True)
    page = window.findChild(ModelsPage)
    assert page is not None
    store = ModelSettingsStore(resolve_paths().data_dir)
    store.put(tiny_model, ModelSettings(n_ctx=1024, n_threads=1, n_threads_batch=1))
    engines: list[ThreadScaledBenchEngine] = []

    def make_engine() -> ThreadScaledBenchEngine:
        engines.append(ThreadScaledBenchEngine())
        return engines[-1]

    presenter = BenchmarkPresenter(
        page, chat.session,
        lambda path: EngineSettings(model_path=path, n_threads=1, n_threads_batch=1),
        BenchResultRepository(database), resolve_paths().models_dir,
        make_engine=make_engine, settings_store=store, parent=window,
    )  # fmt: skip
    kept: list[str] = []
    presenter.threadsKept.connect(kept.append)
    chat.session.on_shutdown(presenter.shutdown)  # as the app's own presenter is stopped
    dialog = presenter.open(str(tiny_model))
    _threads_mode(qtbot, dialog, 16, 4, 2)
    _run(qtbot, dialog, presenter)
    candidates = thread_candidates(physical_cores(), usable_cpus())
    best = candidates[-1]
    [engine] = engines
    assert engine.closed and {t for t, _ in engine.threads} == set(candidates)
    if best == 1:  # a one-CPU machine: nothing to win
        assert dialog.keep_button.isHidden()
        return
    assert dialog.keep_button.isVisible()
    assert f"threads={best} is fastest" in dialog.status_label.text()
    qtbot.mouseClick(dialog.keep_button, Qt.MouseButton.LeftButton)
    stored = store.get(tiny_model)
    assert (stored.n_threads, stored.n_threads_batch, stored.n_ctx) == (best, best, 1024)
    assert kept == [str(tiny_model)] and not dialog.keep_button.isEnabled()
    assert f"Kept threads={best}, batch threads={best}" in dialog.notes_label.text()
    dialog.close()
