"""The Performance page: every reply's figures in one sortable, filterable table, the speed
plots per model under it, and export to CSV. Passive: the presenter
(app/gui/performance) fills it and answers its signals.

Benchmark results (`hearth bench`, stored by storage/bench.py) are meant to get their own
tab beside the replies' table (a QTabWidget around `content`), with the same plots fed
from the bench runs; nothing of them shows yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QDate, Qt, QTimer, Signal
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
    QVBoxLayout,
    QWidget,
)

from ui.performance.figures import COLUMNS
from ui.performance.plots import SpeedPlots
from ui.performance.table_model import PerformanceTableModel

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
    (the page came on screen: the presenter loads lazily)."""

    filtersChanged = Signal()
    exportRequested = Signal()
    shown = Signal()

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
        self.plots = SpeedPlots(self)

        self.content = QSplitter(Qt.Orientation.Vertical, self)
        self.content.addWidget(self.table)
        self.content.addWidget(self.plots)
        self.content.setStretchFactor(0, 3)
        self.content.setStretchFactor(1, 2)
        self.content.setChildrenCollapsible(False)
        self.empty_label = QLabel(EMPTY_TEXT, self)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.content)
        self.stack.addWidget(self.empty_label)

        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.stack, 1)

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

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.shown.emit()
