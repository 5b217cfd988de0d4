"""The Performance page with its presenter over a real SQLite file (issue 12): every reply's
figures, sorted and filtered by storage, plots per model, CSV export, the empty state and a
reply finishing while the page is open."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, Signal
from pytestqt.qtbot import QtBot

from app.chat import trace_marks
from app.gui.performance.controller import PerformanceController
from storage.database import Database
from storage.performance import PerformanceRepository
from tests.support.factories import make_stats
from tests.support.performance_replies import store_reply
from ui.performance.figures import COLUMNS
from ui.performance.page import EMPTY_TEXT, PerformancePage

BASE = make_stats()
COLUMN = {column.header: i for i, column in enumerate(COLUMNS)}


class Chat(QObject):
    """Stands in for the chat presenter: only its replyFinished signal."""

    replyFinished = Signal(int)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database, _note = Database.open(tmp_path / "hearth.db")
    yield database
    database.close()


@pytest.fixture
def chat() -> Chat:
    return Chat()


@pytest.fixture
def csv_path(tmp_path: Path) -> Path:
    return tmp_path / "export.csv"


@pytest.fixture
def open_page(
    qtbot: QtBot, db: Database, chat: Chat, csv_path: Path
) -> Iterator[tuple[PerformancePage, PerformanceController]]:
    page = PerformancePage()
    qtbot.addWidget(page)
    controller = PerformanceController(
        page,
        PerformanceRepository(db),
        chat.replyFinished,
        choose_path=lambda _parent: str(csv_path),
        page_size=3,
    )
    yield page, controller
    controller.shutdown()


def _texts(page: PerformancePage, header: str) -> list[str]:
    model, column = page.table_model, COLUMN[header]
    return [model.index(row, column).data() for row in range(model.rowCount())]


def _show(qtbot: QtBot, page: PerformancePage, rows: int, height: int = 700) -> None:
    page.resize(1100, height)
    page.show()
    qtbot.waitUntil(lambda: page.table_model.rowCount() == rows)


def _three(db: Database) -> tuple[int, int, int]:
    """Oldest first: gemma with a full trace, qwen with too short a prompt to time its
    prefill, gemma without a trace (an older reply)."""
    return (
        store_reply(
            db,
            "Été à Paris",
            replace(BASE, model="gemma", decode_tps=30.0, prompt_tokens=900),
            {
                trace_marks.QUANTIZATION: "Q4_K_M",
                trace_marks.GPU_LAYERS_REQUESTED: 99,
                trace_marks.GPU_LAYERS_ACTUAL: 19,
                trace_marks.ENTER: -12.0,
                trace_marks.FIRST_PAINT: 300.0,
            },
        ),
        store_reply(
            db,
            "Дом и сад",
            replace(BASE, model="qwen", decode_tps=55.5, prompt_tokens_evaluated=5),
        ),
        store_reply(db, "plain", replace(BASE, model="gemma", decode_tps=140.0)),
    )


def test_every_reply_shows_with_its_figures(
    qtbot: QtBot, db: Database, open_page: tuple[PerformancePage, PerformanceController]
) -> None:
    page, _controller = open_page
    _three(db)
    _show(qtbot, page, 3)
    assert _texts(page, "Chat") == ["plain", "Дом и сад", "Été à Paris"]  # newest first
    assert _texts(page, "Model") == ["gemma", "qwen", "gemma"]
    assert _texts(page, "Quant.") == ["", "", "Q4_K_M"]
    assert _texts(page, "GPU asked") == ["0", "0", "99"]  # the stats' when no trace
    assert _texts(page, "GPU used") == ["", "", "19"]
    assert _texts(page, "Depth") == ["120", "120", "900"]  # the whole prompt
    assert _texts(page, "Evaluated") == ["96", "5", "96"]
    # Enter -> first paint where the trace has both marks, else the engine's figure.
    assert _texts(page, "TTFT ms") == ["245", "245", "312"]
    ttft = page.table_model.index(0, COLUMN["TTFT ms"])
    assert "engine's part only" in ttft.data(Qt.ItemDataRole.ToolTipRole)
    # 5 evaluated tokens are too few to time a prefill: left out, not "850".
    assert _texts(page, "Prefill t/s") == ["850", "", "850"]
    assert _texts(page, "Decode t/s") == ["140", "55.5", "30.0"]
    assert _texts(page, "Stop") == ["eos"] * 3
    assert page.count_label.text() == "3 replies"
    assert page.stack.currentWidget() is page.content


def test_sorts_by_decode_speed_and_pages_in_more_rows(
    qtbot: QtBot, db: Database, open_page: tuple[PerformancePage, PerformanceController]
) -> None:
    page, _controller = open_page
    for n in range(5):
        store_reply(db, f"chat {n}", replace(BASE, decode_tps=10.0 + (n * 7) % 5))
    _show(qtbot, page, 3, height=260)  # the first page of 3, more than the table shows
    page.table.sortByColumn(COLUMN["Decode t/s"], Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: _texts(page, "Decode t/s")[:3] == ["10.0", "11.0", "12.0"])
    qtbot.waitUntil(lambda: page.table.verticalScrollBar().maximum() > 0)
    page.table.scrollToBottom()  # the view asks for the next page
    qtbot.waitUntil(lambda: page.table_model.rowCount() == 5)
    assert _texts(page, "Decode t/s") == ["10.0", "11.0", "12.0", "13.0", "14.0"]
    page.table.sortByColumn(COLUMN["Decode t/s"], Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: _texts(page, "Decode t/s")[:1] == ["14.0"])


def test_filters_by_model_table_and_plots_alike(
    qtbot: QtBot, db: Database, open_page: tuple[PerformancePage, PerformanceController]
) -> None:
    page, _controller = open_page
    _three(db)
    _show(qtbot, page, 3)
    # The plots are built once the page has painted (pyqtgraph is not imported before),
    # with the points already listed.
    qtbot.waitUntil(page.plots.is_built)
    # One series per model, in the same colour in both plots; the short prompt is not in
    # the prefill plot, so qwen has no prefill series.
    assert page.speed_plots().decode.series_names() == ["gemma", "qwen"]
    assert page.speed_plots().prefill.series_names() == ["gemma"]
    assert [page.model_filter.itemText(i) for i in range(page.model_filter.count())] == [
        "All models",
        "gemma",
        "qwen",
    ]
    page.model_filter.setCurrentText("qwen")
    qtbot.waitUntil(lambda: _texts(page, "Model") == ["qwen"])
    assert page.speed_plots().decode.series_names() == ["qwen"]
    assert page.count_label.text() == "1 reply"
    qtbot.keyClicks(page.title_filter, "ÉTÉ")  # no qwen chat has it
    qtbot.waitUntil(lambda: page.table_model.rowCount() == 0)
    assert page.count_label.text() == "No replies match these filters"
    assert page.stack.currentWidget() is page.content  # not the empty state: filters
    page.model_filter.setCurrentIndex(0)
    qtbot.waitUntil(lambda: _texts(page, "Chat") == ["Été à Paris"])


def test_export_writes_what_the_table_shows(
    qtbot: QtBot,
    db: Database,
    open_page: tuple[PerformancePage, PerformanceController],
    csv_path: Path,
) -> None:
    page, controller = open_page
    _three(db)
    for n in range(3):
        store_reply(db, f"more {n}", BASE)
    page.resize(1100, 700)
    page.show()
    # A page of 3 first; the view may fetch the next page to fill its room (more so before
    # the plots, built lazily, take their share of the height): either way not all 6.
    qtbot.waitUntil(lambda: page.table_model.rowCount() >= 3)
    page.model_filter.setCurrentText("gemma-3-270m-q4_k_m")
    qtbot.waitUntil(lambda: page.count_label.text() == "3 replies")
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not controller.exporting)
    with csv_path.open(encoding="utf-8", newline="") as file:
        written = list(csv.reader(file))
    model = page.table_model
    shown = [
        [model.index(row, col).data() for col in range(model.columnCount())]
        for row in range(model.rowCount())
    ]
    assert written[0] == [column.header for column in COLUMNS]
    assert written[1:] == shown and len(shown) == 3
    assert page.count_label.text() == "Exported 3 replies to export.csv"


def test_an_empty_history_says_what_the_page_will_show(
    qtbot: QtBot, open_page: tuple[PerformancePage, PerformanceController]
) -> None:
    page, _controller = open_page
    page.show()
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.empty_label)
    assert page.empty_label.text() == EMPTY_TEXT
    assert EMPTY_TEXT.startswith("No replies yet: ")
    assert page.filter_bar.isHidden()  # nothing to filter or export yet


def test_a_reply_finishing_while_open_shows_up(
    qtbot: QtBot,
    db: Database,
    chat: Chat,
    open_page: tuple[PerformancePage, PerformanceController],
) -> None:
    page, _controller = open_page
    page.show()
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.empty_label)
    reply = store_reply(db, "first chat", replace(BASE, model="llama"))
    chat.replyFinished.emit(reply)
    qtbot.waitUntil(lambda: _texts(page, "Chat") == ["first chat"])
    assert page.stack.currentWidget() is page.content
    assert page.speed_plots().decode.series_names() == ["llama"]
    # Hidden, the page refreshes when it shows again, not before.
    page.hide()
    second = store_reply(db, "second chat", BASE)
    chat.replyFinished.emit(second)
    page.show()
    qtbot.waitUntil(lambda: _texts(page, "Chat") == ["second chat", "first chat"])
