"""The timing view of a reply (issue 12), opened from its "Timing" link: a reply written by
the real engine (tiny model) shows its phases and one point per token; a reply without a
trace (from before traces) or with a damaged one says "no timing recorded"; Esc closes it.
And once (slow) with the real built-in Gemma model: every phase, its tokens and llama.cpp's
counters."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from app.chat import trace_marks as marks
from inference.protocol import Done
from storage.database import Database
from storage.records import TraceRecord
from storage.traces import TraceRepository
from tests.support.app_parts import AppParts
from tests.support.chat_window import click_link, type_and_send
from ui.chat.message_html import timing_url
from ui.chat.timing_view import DEFAULT_SIZE, NO_TIMING, WAITING_SENTENCES, TimingDialog
from ui.main_window import MainWindow

MakeApp = Callable[..., AppParts]


def reply(qtbot: QtBot, make_app: MakeApp, model: Path) -> tuple[MainWindow, Database, int, Done]:
    """A real reply of the tiny model: the window, the database, its message id and the
    engine's Done (with its trace)."""
    window, controller, db = make_app(model, n_ctx=1024, max_tokens=24)
    finished: list[Done] = []
    controller.client.generationFinished.connect(lambda _id, done: finished.append(done))
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000) as blocker:
        type_and_send(qtbot, window, "hello there, how are you")
    qtbot.waitUntil(lambda: bool(finished), timeout=10_000)
    assert finished[-1].trace is not None
    return window, db, blocker.args[0], finished[-1]


def open_timing(qtbot: QtBot, window: MainWindow, message_id: int) -> TimingDialog:
    assert timing_url(message_id) in window.chat_view.toHtml()  # the link under the reply
    click_link(window, timing_url(message_id))
    dialog = window.findChild(TimingDialog)
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def test_the_link_opens_the_timeline_and_one_point_per_token(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, db, message_id, done = reply(qtbot, make_app, tiny_model)
    trace = done.trace
    assert trace is not None
    phases = {
        **trace.phases(),
        marks.ENTER: -3.5,
        marks.FIRST_PAINT: trace.first_token_at_ms + 4.0,
        marks.LAST_PAINT: trace.end_at_ms + 4.0,
        marks.MODEL_PATH: str(tiny_model),
        marks.GPU_LAYERS_ACTUAL: 0,
        marks.N_LAYERS: 2,
    }
    TraceRepository(db).save(message_id, TraceRecord(phases, trace.token_ms))

    dialog = open_timing(qtbot, window, message_id)
    names = dialog.phase_names()
    for phase in ("Sent to the engine", "Waiting in the queue", "Building the prompt",
                  "Tokenizing", "Prefill", "Decode", "First token to screen"):  # fmt: skip
        assert phase in names
    assert "Model load" not in names  # the model was loaded before Enter
    assert dialog.token_curve is not None
    x, y = dialog.token_curve.xData, dialog.token_curve.yData  # all points, not as painted
    assert len(trace.token_ms) >= 1
    assert len(x) == len(y) == len(trace.token_ms)  # one point per token after the first
    assert list(y) == list(trace.token_ms)
    assert dialog.counter_table is not None and dialog.counter_table.rowCount() == 2
    qtbot.waitUntil(lambda: dialog.sentences_text() != WAITING_SENTENCES, timeout=10_000)
    assert "No timing recorded" not in dialog.message.text()

    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_a_reply_from_before_traces_shows_no_timing_recorded(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, db, message_id, _done = reply(qtbot, make_app, tiny_model)
    with db.session() as session:  # an older database: the reply has stats, no trace
        session.execute(text("DELETE FROM message_traces"))
    dialog = open_timing(qtbot, window, message_id)
    assert dialog.message.text() == NO_TIMING
    assert dialog.phase_table is None and dialog.token_plot is None
    assert dialog.height() < DEFAULT_SIZE[1] // 2  # two lines of text, no empty plot room


def test_a_damaged_trace_shows_no_timing_recorded(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, db, message_id, done = reply(qtbot, make_app, tiny_model)
    assert done.trace is not None
    phases = dict(done.trace.phases())
    # Readable by storage, but not a trace: the prefill batches are not a list.
    phases["prefill_batches"] = "{not json"
    TraceRepository(db).save(message_id, TraceRecord(phases, done.trace.token_ms))
    dialog = open_timing(qtbot, window, message_id)
    assert dialog.message.text() == NO_TIMING

    # Damaged in the file itself: half a float32 of token times.
    with db.session() as session:
        session.execute(text("UPDATE message_traces SET token_ms = x'0000'"))
    dialog.hide()
    dialog = open_timing(qtbot, window, message_id)
    assert dialog.message.text() == NO_TIMING


MS = re.compile(r"^[\d,]+(\.\d)? ms$")


@pytest.mark.slow
def test_a_real_gemma_reply_s_timing_view_shows_every_phase_its_tokens_and_llama_s_counters(
    qtbot: QtBot, make_app: MakeApp, gemma_model: Path
) -> None:
    """The built-in model, one short reply sent from the chat window, its timing opened from
    the "Timing" link under it as a person would."""
    window, db, message_id, done = reply(qtbot, make_app, gemma_model)
    stored = TraceRepository(db).get(message_id)
    assert stored is not None and stored.phases.get(marks.ENTER) is not None  # the GUI's marks
    dialog = open_timing(qtbot, window, message_id)
    assert dialog.message.text().startswith("Reply by gemma")

    # Every phase from Enter to the first paint, each with its start and its length in ms.
    table = dialog.phase_table
    assert table is not None
    rows = {
        table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text())
        for r in range(table.rowCount())
    }
    for phase in ("Sent to the engine", "Waiting in the queue", "Building the prompt",
                  "Tokenizing", "Prefill", "Decode", "First token to screen"):  # fmt: skip
        starts, took = rows[phase]
        assert MS.match(starts) and MS.match(took), (phase, starts, took)
    assert "Model load" not in rows  # loaded before Enter

    # The heading's figures: time to first token from Enter, the total, end-to-end speed.
    figures = [label.text() for label in dialog.figure_labels]
    assert figures[0].startswith("first token on screen") and figures[0].endswith("after Enter")
    assert figures[1].endswith("ms in all")
    assert figures[2].startswith("end-to-end ") and figures[2].endswith(" tok/s")

    # One point per decode gap (each token after the first), as the engine measured them.
    assert done.trace is not None and len(done.trace.token_ms) >= 2
    assert dialog.token_curve is not None
    assert len(dialog.token_curve.yData) == len(done.trace.token_ms) == len(stored.token_ms)

    # llama.cpp's own counters beside Hearth's clock, for prefill and decode.
    counters = dialog.counter_table
    assert counters is not None and counters.rowCount() == 2
    for row, name in enumerate(("Prefill", "Decode")):
        assert counters.item(row, 0).text().startswith(f"{name} (")
        assert MS.match(counters.item(row, 1).text()) and MS.match(counters.item(row, 2).text())
        assert counters.item(row, 3).text()  # the difference, named
    assert done.trace.llama_prefill_ms > 0 and done.trace.llama_decode_ms > 0
    qtbot.waitUntil(lambda: dialog.sentences_text() != WAITING_SENTENCES, timeout=30_000)
