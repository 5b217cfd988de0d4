""" "Why is this slow?" on the Performance page (issue 12), over a real SQLite file: selecting
a reply shows its sentences (the real engine's trace of a reply the chat wrote with the
tiny model), a reply without a readable trace says "no timing recorded", a double-click opens
the reply's timing view, and a model whose decoding slows with depth gets a line over the
plots only when there is enough data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.chat import trace_marks as marks
from app.gui.performance.controller import PerformanceController
from app.gui.performance.why_slow import WhySlow
from app.models.machine import MachineMemory
from inference.protocol import Done
from storage.database import Database
from storage.performance import PerformanceRepository
from storage.records import TraceRecord
from storage.traces import TraceRepository
from tests.support.app_parts import AppParts
from tests.support.chat_window import type_and_send
from tests.support.factories import make_stats
from tests.support.performance_replies import store_reply
from ui.chat.timing_view import TimingDialog
from ui.performance.page import PerformancePage
from ui.performance.why_panel import HINT, NO_TIMING, WAITING

BASE = make_stats()
GIB = 1 << 30
MakeApp = Callable[..., AppParts]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database, _note = Database.open(tmp_path / "hearth.db")
    yield database
    database.close()


@pytest.fixture
def opened() -> list[int]:
    return []


@pytest.fixture
def parts(
    qtbot: QtBot, db: Database, opened: list[int]
) -> Iterator[tuple[PerformancePage, PerformanceController]]:
    page = PerformancePage()
    qtbot.addWidget(page)
    performance = PerformanceRepository(db)
    why = WhySlow(
        page,
        TraceRepository(db),
        performance,
        lambda: None,
        open_timing=opened.append,
        machine=MachineMemory(8 * GIB),  # no GPU: nvidia-smi is not asked
    )
    controller = PerformanceController(page, performance, why_slow=why)
    yield page, controller
    controller.shutdown()


@pytest.fixture
def page(parts: tuple[PerformancePage, PerformanceController]) -> PerformancePage:
    return parts[0]


def _show(qtbot: QtBot, page: PerformancePage, rows: int) -> None:
    page.resize(1100, 800)
    page.show()
    qtbot.waitUntil(lambda: page.table_model.rowCount() == rows)


def _row_of(page: PerformancePage, message_id: int) -> int:
    ids = [figures.message_id for figures in page.table_model.rows()]
    return ids.index(message_id)


def _click_row(qtbot: QtBot, page: PerformancePage, row: int, *, double: bool = False) -> None:
    centre = page.table.visualRect(page.table_model.index(row, 1)).center()
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    if double:
        qtbot.mouseDClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=centre)


def _answered(page: PerformancePage) -> Callable[[], bool]:
    return lambda: page.why.text() not in (WAITING, HINT)


def test_a_chat_reply_selected_on_the_page_shows_its_sentences_and_opens_its_timing(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, db = make_app(tiny_model, pages=True, n_ctx=1024, max_tokens=16)
    finished: list[Done] = []
    controller.client.generationFinished.connect(lambda _id, done: finished.append(done))
    with qtbot.waitSignal(controller.replyFinished, timeout=30_000) as blocker:
        type_and_send(qtbot, window, "hello there, how are you")
    qtbot.waitUntil(lambda: bool(finished), timeout=10_000)
    message_id, trace = blocker.args[0], finished[-1].trace
    assert trace is not None
    # The engine's trace of this reply as the chat stores it, with a thread count no machine
    # has: one sentence that applies for sure, whatever this machine is.
    phases = {**trace.phases(), marks.MODEL_PATH: str(tiny_model), marks.N_THREADS: 100_000}
    TraceRepository(db).save(message_id, TraceRecord(phases, trace.token_ms))

    page = window.findChild(PerformancePage)
    assert page is not None
    window.show_page(page)
    qtbot.waitUntil(lambda: page.table_model.rowCount() == 1)
    assert page.why.text() == HINT
    _click_row(qtbot, page, 0)
    qtbot.waitUntil(_answered(page), timeout=20_000)
    assert "The model wrote with 100000 threads on" in page.why.text()
    assert page.why.heading.text().startswith("Why is this slow? · ")

    _click_row(qtbot, page, 0, double=True)
    dialog = window.findChild(TimingDialog)
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    assert "Reply by" in dialog.message.text()  # this reply's timeline, not "no timing"


def test_a_reply_without_a_trace_or_with_a_damaged_one_says_no_timing_recorded(
    qtbot: QtBot, db: Database, page: PerformancePage, opened: list[int]
) -> None:
    older = store_reply(db, "before traces", BASE)
    damaged = store_reply(db, "damaged", BASE, {"prefill_batches": "{not json"})
    _show(qtbot, page, 2)
    for message_id in (older, damaged):
        _click_row(qtbot, page, _row_of(page, message_id))
        qtbot.waitUntil(_answered(page), timeout=20_000)
        assert page.why.text() == NO_TIMING
    _click_row(qtbot, page, _row_of(page, older), double=True)
    assert opened == [older]  # the timing view says "no timing recorded" itself


def test_a_new_listing_forgets_the_selected_reply(
    qtbot: QtBot, db: Database, page: PerformancePage
) -> None:
    store_reply(db, "one", BASE)
    store_reply(db, "two", replace(BASE, model="qwen"))
    _show(qtbot, page, 2)
    _click_row(qtbot, page, 0)
    qtbot.waitUntil(_answered(page), timeout=20_000)
    page.model_filter.setCurrentText("qwen")
    qtbot.waitUntil(lambda: page.table_model.rowCount() == 1)
    assert page.why.text() == HINT and page.selected_reply() is None


def _replies_slowing_with_depth(db: Database, model: str, count: int) -> None:
    """`count` replies of `model`: 10 ms a token at depth 0, +2 ms per 1,000 tokens."""
    for n in range(count):
        depth = 100 + 1000 * n
        stats = replace(
            BASE, model=model, prompt_tokens=depth, decode_tps=1000 / (10 + depth / 500)
        )
        store_reply(db, f"{model} {n}", stats)


def test_a_model_whose_decoding_slows_with_depth_gets_a_line_over_the_plots(
    qtbot: QtBot, db: Database, page: PerformancePage
) -> None:
    _replies_slowing_with_depth(db, "gemma", 6)
    for n in range(6):  # another model, as fast deep as shallow: no line
        store_reply(db, f"qwen {n}", replace(BASE, model="qwen", prompt_tokens=100 + 1000 * n))
    _show(qtbot, page, 12)
    qtbot.waitUntil(lambda: page.depth_notes.isVisible())
    text = page.depth_notes.text()
    assert text.startswith("gemma: decoding slows as the context fills")
    assert "+2.00 ms a token per 1,000 (6 replies)" in text
    assert "qwen" not in text


def test_too_few_replies_give_no_depth_line(
    qtbot: QtBot, db: Database, page: PerformancePage
) -> None:
    _replies_slowing_with_depth(db, "gemma", 4)
    _show(qtbot, page, 4)
    qtbot.waitUntil(lambda: page.count_label.text() == "4 replies")  # shown with the rows
    assert not page.depth_notes.isVisible() and page.depth_notes.text() == ""
