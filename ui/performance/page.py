"""The Performance page: every reply's figures in one sortable, filterable table, the speed
plots per model under it, and export to CSV. Passive: the presenter
(app/gui/performance) fills it and answers its signals.

Benchmark results (the Models page's Benchmark… button and `hearth bench`, stored by
storage/bench.py) have their own tab beside the replies' (`tabs`: "Replies", "Benchmarks";
ui/performance/bench_tab.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.performance.bench_tab import BenchTab
from ui.performance.figures import COLUMNS, ReplyFigures
from ui.performance.series import MIN_PLOT_HEIGHT, Series
from ui.performance.table_model import PerformanceTableModel
from ui.performance.why_panel import WhyPanel
from ui.widgets.lazy_widget import LazyWidget

if TYPE_CHECKING:
    from ui.performance.plots import SpeedPlots

ALL_MODELS = "All models"
TITLE_PAUSE_MS = 250  # typing in the title filter: wait for a pause before asking storage
EMPTY_TEXT = (
    "No replies yet: chat with a model and each reply's speed shows up here.\n"
    "Time to first token, prefill and decode speed, context depth: to sort, to compare "
    "models and settings, and to export."
)


@dataclass(frozen=True)
class PageFilters:
    """What the filter bar asks for; dates are local calendar days, both included."""

    model: str | None = None
    since: date | None = None
    until: date | None = None
    title: str = ""


class PerformancePage(QWidget):
    """Signals: ``filtersChanged()`` (read `filters()`), ``exportRequested()``, ``shown()``
    (the page came on screen: the presenter loads lazily), ``replySelected(message_id)``
    (answer with `explain`), ``replyActivated(message_id)`` (double-clicked: its timing)."""

    filtersChanged = Signal()
    exportRequested = Signal()
    shown = Signal()
    replySelected = Signal(int)
    replyActivated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_filter = QComboBox(self)
        self.model_filter.addItem(ALL_MODELS)
        self.model_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.dates = QCheckBox("From", self)
        self.dates.setToolTip("Only replies asked for between these days (both included)")
        today = QDate.currentDate()
        self.since_edit = self._date_edit(today.addDays(-30))
        self.until_edit = self._date_edit(today)
        self.title_filter = QLineEdit(self)
        self.title_filter.setPlaceholderText("Chat title contains…")
        self.title_filter.setClearButtonEnabled(True)
        self.count_label = QLabel("", self)
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setToolTip("Save the replies listed (all of them, filtered) as CSV")

        self.filter_bar = QWidget(self)
        bar = QHBoxLayout(self.filter_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Model:", self))
        bar.addWidget(self.model_filter)
        bar.addWidget(self.dates)
        bar.addWidget(self.since_edit)
        bar.addWidget(QLabel("to", self))
        bar.addWidget(self.until_edit)
        bar.addWidget(self.title_filter, 1)
        bar.addWidget(self.count_label)
        bar.addWidget(self.export_button)

        self.table_model = PerformanceTableModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.table_model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self._size_table()
        self.why = WhyPanel(self)
        self._selected: int | None = None
        # Built once there are points, after the table has painted them (the page's first
        # paint does not wait for the plots), or when asked for: pyqtgraph's import is not
        # paid by every start of Hearth (ui/widgets/lazy_widget.py).
        self.plots = LazyWidget(_build_speed_plots, self)
        self.plots.setMinimumHeight(MIN_PLOT_HEIGHT)  # the splitter keeps their room
        self._points: tuple[list[Series], list[Series], list[str]] | None = None
        self.plots.built.connect(lambda _plots: self._apply_points())
        # One line per model whose decoding slows with context depth, over the plots.
        self.depth_notes = QLabel("", self)
        self.depth_notes.setWordWrap(True)
        self.depth_notes.hide()
        plots_area = QWidget(self)
        plots_column = QVBoxLayout(plots_area)
        plots_column.setContentsMargins(0, 0, 0, 0)
        plots_column.addWidget(self.depth_notes)
        plots_column.addWidget(self.plots, 1)

        self.content = QSplitter(Qt.Orientation.Vertical, self)
        self.content.addWidget(self.table)
        self.content.addWidget(self.why)
        self.content.addWidget(plots_area)
        # The sentences get room for a few of them (more scroll in their panel); the sizes
        # are proportions, scaled to the page's height.
        self.content.setSizes([360, 190, 340])
        self.content.setStretchFactor(0, 4)
        self.content.setStretchFactor(1, 2)
        self.content.setStretchFactor(2, 4)
        self.content.setChildrenCollapsible(False)
        self.empty_label = QLabel(EMPTY_TEXT, self)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.content)
        self.stack.addWidget(self.empty_label)

        self.replies = QWidget(self)
        replies = QVBoxLayout(self.replies)
        replies.addWidget(self.filter_bar)
        replies.addWidget(self.stack, 1)
        self.bench_tab = BenchTab(self)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.replies, "Replies")
        self.tabs.addTab(self.bench_tab, "Benchmarks")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

        self._title_pause = QTimer(self)
        self._title_pause.setSingleShot(True)
        self._title_pause.setInterval(TITLE_PAUSE_MS)
        self._title_pause.timeout.connect(self.filtersChanged)
        self.title_filter.textChanged.connect(lambda _text: self._title_pause.start())
        self.model_filter.currentIndexChanged.connect(lambda _i: self.filtersChanged.emit())
        self.dates.toggled.connect(self._on_dates_toggled)
        self.since_edit.dateChanged.connect(lambda _d: self.filtersChanged.emit())
        self.until_edit.dateChanged.connect(lambda _d: self.filtersChanged.emit())
        self.export_button.clicked.connect(self.exportRequested)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row)
        self.table.doubleClicked.connect(self._on_double_click)
        self.table_model.modelReset.connect(self._forget_selection)
        self._on_dates_toggled(False, announce=False)

    def _size_table(self) -> None:
        """Row heights and column widths from the font, once: no pass over the rows to
        measure them (ResizeToContents would, on every page of rows)."""
        metrics = self.table.fontMetrics()
        rows = self.table.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(metrics.height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        for index, column in enumerate(COLUMNS):
            text = max(column.header, column.sample, key=metrics.horizontalAdvance)
            header.resizeSection(index, metrics.horizontalAdvance(text) + 28)  # + sort arrow

    def _date_edit(self, day: QDate) -> QDateEdit:
        edit = QDateEdit(day, self)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    def _on_dates_toggled(self, on: bool, announce: bool = True) -> None:
        self.since_edit.setEnabled(on)
        self.until_edit.setEnabled(on)
        if announce:
            self.filtersChanged.emit()

    # ---- the presenter's API -----------------------------------------------------------

    def filters(self) -> PageFilters:
        model = self.model_filter.currentText() if self.model_filter.currentIndex() > 0 else None
        on = self.dates.isChecked()
        return PageFilters(
            model=model,
            since=self.since_edit.date().toPython() if on else None,  # type: ignore[arg-type]
            until=self.until_edit.date().toPython() if on else None,  # type: ignore[arg-type]
            title=self.title_filter.text().strip(),
        )

    def set_models(self, models: list[str]) -> None:
        """The model filter's choices; the one chosen stays when it is still there."""
        chosen = self.model_filter.currentText()
        self.model_filter.blockSignals(True)
        self.model_filter.clear()
        self.model_filter.addItem(ALL_MODELS)
        self.model_filter.addItems(models)
        self.model_filter.setCurrentIndex(max(0, self.model_filter.findText(chosen)))
        self.model_filter.blockSignals(False)

    def show_count(self, listed: int, loading: bool = False) -> None:
        if loading:
            self.count_label.setText("Loading…")
        elif listed == 0:
            self.count_label.setText("No replies match these filters")
        else:
            self.count_label.setText(f"{listed:,} replies" if listed != 1 else "1 reply")
        self.export_button.setEnabled(listed > 0 and not loading)

    def show_empty(self, empty: bool) -> None:
        """The empty state (no reply stored at all) instead of the table and plots."""
        self.stack.setCurrentWidget(self.empty_label if empty else self.content)
        self.filter_bar.setVisible(not empty)

    def show_status(self, text: str) -> None:
        """A short note (an export written, or why it failed) where the count shows."""
        self.count_label.setText(text)
        self.count_label.setToolTip(text)

    def explain(self, message_id: int, sentences: Sequence[str] | None) -> None:
        """The "Why is this slow?" sentences of a reply (None: it has no timing recorded);
        ignored unless that reply is still the one selected."""
        if message_id != self._selected:
            return
        about = self._about()
        if sentences is None:
            self.why.show_no_timing(about)
        else:
            self.why.show_sentences(about, sentences)

    def explain_failed(self, message_id: int, reason: str) -> None:
        if message_id == self._selected:
            self.why.show_failed(self._about(), reason)

    def selected_reply(self) -> int | None:
        return self._selected

    def set_points(self, decode: list[Series], prefill: list[Series], models: list[str]) -> None:
        """The plots' points per model (`models`: the page's list, for stable colours); kept
        until the plots are built when they are not yet."""
        self._points = (decode, prefill, models)
        self._apply_points()
        self.plots.request()

    def speed_plots(self) -> SpeedPlots:
        """The two plots, built now if they were not yet (with the points last set)."""
        return self.plots.content()  # type: ignore[return-value]

    def _apply_points(self) -> None:
        if self._points is not None and self.plots.is_built():
            self.speed_plots().set_points(*self._points)

    def set_depth_notes(self, lines: Sequence[str]) -> None:
        """The lines over the plots (one per model whose decoding slows with depth)."""
        text = "\n".join(lines)
        if text != self.depth_notes.text():  # unchanged on most refreshes: no relayout
            self.depth_notes.setText(text)
            self.depth_notes.setVisible(bool(lines))

    # ---- selection -----------------------------------------------------------------------

    def _figures(self) -> ReplyFigures | None:
        row = self.table.currentIndex().row()
        return self.table_model.figures(row) if 0 <= row < self.table_model.rowCount() else None

    def _about(self) -> str:
        figures = self._figures()
        if figures is None:
            return ""
        when = figures.date.astimezone().strftime("%Y-%m-%d %H:%M")
        return f"{figures.title} · {figures.model} · {when}"

    def _on_current_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        figures = self._figures() if current.isValid() else None
        if figures is None:
            self._forget_selection()
            return
        if figures.message_id == self._selected:
            return
        self._selected = figures.message_id
        self.why.show_waiting(self._about())
        self.replySelected.emit(figures.message_id)

    def _forget_selection(self) -> None:
        """The rows were listed again (a filter, a sort, a refresh): nothing is selected."""
        if self._selected is not None:
            self._selected = None
            self.why.show_hint()

    def _on_double_click(self, index: QModelIndex) -> None:
        if 0 <= index.row() < self.table_model.rowCount():
            self.replyActivated.emit(self.table_model.figures(index.row()).message_id)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.shown.emit()


def _build_speed_plots(parent: QWidget) -> QWidget:
    from ui.performance.plots import SpeedPlots  # pyqtgraph: imported only now

    return SpeedPlots(parent)
