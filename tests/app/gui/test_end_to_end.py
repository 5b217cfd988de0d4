"""End to end with the real built-in Gemma model, driven as a person would."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.config.paths import resolve_paths
from app.config.settings import Settings, save_settings
from app.gui.chat.controller import ChatController
from app.gui.main import build_app
from storage.database import Database
from ui.main_window import MainWindow


@pytest.fixture
def first_start(qtbot: QtBot) -> Iterator[tuple[MainWindow, ChatController, Database]]:
    """A first start with no model chosen: the built-in model is assembled and loaded."""
    paths = resolve_paths()
    save_settings(paths.settings_file, Settings(n_ctx=1024, max_tokens=48, temperature=0.0))
    window, controller, database = build_app(paths)
    qtbot.addWidget(window)
    window.show()
    yield window, controller, database
    controller.shutdown()
    database.close()


@pytest.mark.slow
def test_first_start_type_a_message_and_watch_it_stream(
    qtbot: QtBot, first_start: tuple[MainWindow, ChatController, Database], hearth_home: Path
) -> None:
    window, controller, database = first_start
    with qtbot.waitSignal(controller.session.loaded, timeout=120_000) as ready:
        controller.start()
        # The window stays responsive while the model is prepared and loaded.
        qtbot.waitUntil(lambda: window.load_progress.isVisible(), timeout=10_000)
    info = ready.args[0]
    assert info.architecture == "gemma3"
    assert info.chat_format == "gemma"  # no template in the file: chosen from the architecture
    assert "gemma" in window.model_label.text().lower()
    assert (hearth_home / "models" / "gemma-3-270m-q4_k_m.gguf").exists()
    # The first-run notice says plainly that this is a tiny base model.
    assert window.banner.isVisible()

    box = window.message_input
    qtbot.keyClicks(box, "Write a short poem about the sea.")
    speeds: list[str] = []
    with qtbot.waitSignal(controller.replyFinished, timeout=120_000) as finished:
        qtbot.keyClick(box, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: len(window.chat_view.reply_text()) > 0, timeout=30_000)

        def speed_changed() -> bool:
            text = window.live_stats.text()
            if "tok/s" in text and (not speeds or speeds[-1] != text):
                speeds.append(text)
            return len(speeds) >= 2

        qtbot.waitUntil(speed_changed, timeout=30_000)
    reply_id = finished.args[0]
    assert "Write a short poem about the sea." in window.chat_view.toPlainText()

    # What is on screen is in the SQLite file, with its stats.
    with sqlite3.connect(database.path) as raw:
        content, status = raw.execute(
            "SELECT content, status FROM messages WHERE id = ?", (reply_id,)
        ).fetchone()
        stats = raw.execute(
            "SELECT model, prompt_tokens, completion_tokens, decode_tps, ttft_ms, stop_reason "
            "FROM generation_stats WHERE message_id = ?",
            (reply_id,),
        ).fetchone()
    assert status == "complete" and content
    model, prompt_tokens, completion_tokens, decode_tps, ttft_ms, stop_reason = stats
    assert "Gemma" in model
    assert prompt_tokens > 5 and 0 < completion_tokens <= 48
    assert decode_tps > 0 and ttft_ms > 0
    assert stop_reason in ("eos", "length")
