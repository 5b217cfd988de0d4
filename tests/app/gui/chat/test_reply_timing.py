"""A reply's timings through the real app (engine process, SQLite file, widgets): its trace
is stored with the GUI's marks, time to first token means Enter -> first paint, and a long
prompt shows how far the engine has read it, and can be stopped while it is read."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.chat import trace_marks
from storage.chats import MessageRepository
from storage.traces import TraceRepository
from tests.support.app_parts import MakeApp
from tests.support.chat_window import type_and_send


def test_a_replys_trace_is_stored_with_the_gui_marks_and_the_model_facts(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, n_ctx=1024, max_tokens=12)
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000) as finished:
        type_and_send(qtbot, window, "hello world")
    reply_id = finished.args[0]
    record = TraceRepository(db).get(reply_id)
    assert record is not None
    p = record.phases
    assert p["tokens_evaluated"] > 0 and p["first_token_at_ms"] >= 0  # the engine's phases
    enter, first, last = p[trace_marks.ENTER], p[trace_marks.FIRST_PAINT], p[trace_marks.LAST_PAINT]
    assert isinstance(enter, float) and isinstance(first, float) and isinstance(last, float)
    assert enter <= 0 <= first <= last  # Enter before the engine's receipt, paints after
    assert first >= p["first_token_at_ms"]  # painted after the engine sampled it
    assert p[trace_marks.MODEL_PATH] == str(tiny_model)
    assert p[trace_marks.N_LAYERS] > 0 and p[trace_marks.BACKEND]
    assert p[trace_marks.GPU_LAYERS_ACTUAL] == 0
    # The stats say what time to first token is: Enter -> first paint, and its engine part.
    footer = window.chat_view.message_text(reply_id)
    assert "to first token (engine " in footer
    assert window.live_stats.text().split(" · ")[1].startswith("TTFT ")
    assert "pressing Enter" in window.live_stats.toolTip()
    # Shown again from the stored trace (a fresh read, as after a restart).
    controller.first_tokens._known.clear()
    controller.open_conversation(controller.current_conversation)
    assert "to first token (engine " in window.chat_view.message_text(reply_id)


def test_a_long_prompt_shows_its_progress_and_stop_ends_it_while_it_is_read(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    # A tiny batch: the prompt takes about 1,500 steps, each reported.
    window, controller, db = make_app(tiny_model, n_ctx=4096, n_batch=2, max_tokens=4)
    long_prompt = " ".join(["the"] * 3000)
    controller.send(long_prompt)
    qtbot.waitUntil(lambda: "reading the prompt:" in window.chat_view.toPlainText(), timeout=30_000)
    assert "of 3," in window.chat_view.toPlainText()
    controller.stop()
    qtbot.waitUntil(lambda: not controller.generating, timeout=30_000)
    shown = window.chat_view.toPlainText()
    assert "reading the prompt" not in shown
    assert "Stopped before the reply began." in shown
    path = MessageRepository(db).active_path(controller.current_conversation)
    assert [m.content for m in path] == [long_prompt]  # no empty reply kept
    # The engine serves the next request.
    with qtbot.waitSignal(controller.replyFinished, timeout=60_000):
        type_and_send(qtbot, window, "hi")
