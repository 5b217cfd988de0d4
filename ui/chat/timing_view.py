"""The timing view of one reply (issue 12): where its time went, from Enter pressed to the last
token painted. A passive dialog: the presenter (app/gui/chat/timing_view.py) hands it a
`TimingContent` of plain values, or None when no timing was recorded, and later the "Why is
this slow?" sentences.

From top to bottom: the heading's figures (each with its definition as tooltip), the
timeline (one horizontal bar per phase on a shared millisecond axis, and the same phases as a
table with their numbers and details), the time between tokens over the reply (a stall, a
slowdown or a thermal drop shows as a shape), llama.cpp's own counters beside Hearth's wall
clock, and the sentences. Esc closes (QDialog's own key). The plots (ui/chat/timing_plots.py)
import pyqtgraph when a trace is first shown, not when Hearth starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.widgets.eliding_label import ElidingLabel

if TYPE_CHECKING:  # the plots (pyqtgraph) are imported when a trace is first shown
    import pyqtgraph as pg

NO_TIMING = "No timing recorded for this reply."
NO_TIMING_DETAIL = (
    "Replies written before Hearth recorded timings, and replies whose timing could not be "
    "read back, have only the totals under the message."
)
WAITING_SENTENCES = "Looking at this machine…"
NOTHING_SLOW = "Nothing Hearth can see made this reply slower than this machine allows."
DEFAULT_SIZE = (860, 760)
NO_TIMING_HEIGHT = 170


@dataclass(frozen=True)
class PhaseBar:
    """One phase: where it starts on the timeline (ms since its origin: Enter pressed where
    that is known), how long it took, and what the table says beside it."""

    name: str
    start_ms: float
    ms: float
    detail: str = ""


@dataclass(frozen=True)
class CounterRow:
    """A phase as Hearth's wall clock and llama.cpp's own counter measured it."""

    phase: str
    hearth: str
    llama: str
    difference: str


@dataclass(frozen=True)
class HeadingFigure:
    """A figure under the heading, as shown, and its one written definition (the tooltip)."""

    text: str
    meaning: str


@dataclass(frozen=True)
class TimingContent:
    heading: str  # whose reply it is
    origin: str  # what 0 ms on the timeline is, in words
    bars: tuple[PhaseBar, ...]
    marks: tuple[tuple[str, float], ...]  # instants on the timeline: (name, ms)
    token_ms: tuple[float, ...]  # the gap before each token after the first
    counters: tuple[CounterRow, ...]
    counters_note: str
    notes: tuple[str, ...] = ()  # prompt tokens evaluated and reused, why not reused
    figures: tuple[HeadingFigure, ...] = ()  # beside the heading: first token, total, speed


def _ms(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 100 else f"{value:,.1f} ms"


def _label(text: str, *, bold: bool = False, muted: bool = False, section: bool = False) -> QLabel:
    label = QLabel(text)
    if section:  # a heading of its own part: room above it
        label.setContentsMargins(0, 10, 0, 0)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if bold:
        font = label.font()
        font.setBold(True)
        label.setFont(font)
    if muted:
        label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


class TimingDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Timing of this reply")
        self.resize(*DEFAULT_SIZE)
        self._scroll = QScrollArea(self)
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self._scroll)
        layout.addWidget(buttons)
        self.timeline_plot: pg.PlotWidget | None = None
        self.token_plot: pg.PlotWidget | None = None
        self.token_curve: pg.PlotDataItem | None = None
        self.phase_table: QTableWidget | None = None
        self.counter_table: QTableWidget | None = None
        self.sentences = _label("")
        self.message = _label("")
        self.figure_labels: list[QLabel] = []
        self.show_content(None)

    # ---- what the presenter calls ----------------------------------------------------

    def show_content(self, content: TimingContent | None) -> None:
        """The timing of one reply; None: "no timing recorded" (missing or damaged)."""
        self.timeline_plot = self.token_plot = self.token_curve = None
        self.phase_table = self.counter_table = None
        self.figure_labels = []
        page = QWidget()
        column = QVBoxLayout(page)
        self.sentences = _label(WAITING_SENTENCES)
        if content is None:
            self.message = _label(NO_TIMING, bold=True)
            column.addWidget(self.message)
            column.addWidget(_label(NO_TIMING_DETAIL, muted=True))
            # Two lines of text need no room for plots.
            self.resize(self.width(), NO_TIMING_HEIGHT)
        else:
            self.message = _label(content.heading, bold=True)
            self._fill(column, content)
            if self.height() < DEFAULT_SIZE[1]:
                self.resize(*DEFAULT_SIZE)
        column.addStretch(1)
        old = self._scroll.takeWidget()
        if old is not None:
            old.deleteLater()
        self._scroll.setWidget(page)

    def set_sentences(self, sentences: Sequence[str]) -> None:
        """The "Why is this slow?" sentences (none apply: says so)."""
        self.sentences.setText("\n\n".join(f"• {s}" for s in sentences) or NOTHING_SLOW)

    def sentences_text(self) -> str:
        return self.sentences.text()

    # ---- building ---------------------------------------------------------------------

    def _fill(self, column: QVBoxLayout, content: TimingContent) -> None:
        from ui.chat import timing_plots  # pyqtgraph: imported when a trace is first shown

        column.addWidget(self.message)
        if content.figures:
            column.addWidget(self._figures(content.figures))
        column.addWidget(_label(f"Timeline, {content.origin}", bold=True, section=True))
        self.timeline_plot = timing_plots.timeline_plot(
            [(b.name, b.start_ms, b.ms) for b in content.bars], content.marks
        )
        column.addWidget(self.timeline_plot)
        self.phase_table = self._phase_table(content.bars)
        column.addWidget(self.phase_table)
        for note in content.notes:
            column.addWidget(_label(note))
        column.addWidget(_label("Time between tokens", bold=True, section=True))
        if content.token_ms:
            self.token_plot, self.token_curve = timing_plots.token_plot(content.token_ms)
            column.addWidget(self.token_plot)
        else:
            column.addWidget(_label("The reply had a single token: nothing to plot.", muted=True))
        column.addWidget(
            _label("llama.cpp's own counters beside Hearth's clock", bold=True, section=True)
        )
        self.counter_table = self._counter_table(content.counters)
        column.addWidget(self.counter_table)
        column.addWidget(_label(content.counters_note, muted=True))
        column.addWidget(_label("Why is this slow?", bold=True, section=True))
        column.addWidget(self.sentences)

    def _figures(self, figures: Sequence[HeadingFigure]) -> QWidget:
        """The figures in one line, each with its definition as tooltip. The line never asks
        for width (it is cut short instead), so the page never scrolls sideways for it."""
        line = QWidget()
        line.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row = QHBoxLayout(line)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        for index, figure in enumerate(figures):
            if index:
                row.addWidget(_label(" · "))
            # One line each, cut short with "…" rather than wrapped when the dialog is narrow.
            label = ElidingLabel(figure.text)
            label.setToolTip(figure.meaning)
            self.figure_labels.append(label)
            row.addWidget(label)
        row.addStretch(1)
        return line

    def _table(
        self, headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int]
    ) -> QTableWidget:
        table = QTableWidget(len(rows), len(headers))
        table.setHorizontalHeaderLabels(list(headers))
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        table.setWordWrap(True)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                item = QTableWidgetItem(value)
                if c in right:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                table.setItem(r, c, item)
        header = table.horizontalHeader()
        for c in range(len(headers) - 1):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
        table.resizeRowsToContents()
        height = header.height() + sum(table.rowHeight(r) for r in range(len(rows))) + 4
        table.setMinimumHeight(height)
        table.setMaximumHeight(height)
        table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        return table

    def _phase_table(self, bars: tuple[PhaseBar, ...]) -> QTableWidget:
        rows = [(b.name, _ms(b.start_ms), _ms(b.ms), b.detail) for b in bars]
        return self._table(("Phase", "Starts at", "Took", "Details"), rows, (1, 2))

    def _counter_table(self, counters: tuple[CounterRow, ...]) -> QTableWidget:
        rows = [(c.phase, c.hearth, c.llama, c.difference) for c in counters]
        return self._table(("Phase", "Hearth's clock", "llama.cpp", "Difference"), rows, (1, 2))

    def phase_names(self) -> list[str]:
        table = self.phase_table
        if table is None:
            return []
        return [table.item(r, 0).text() for r in range(table.rowCount())]
