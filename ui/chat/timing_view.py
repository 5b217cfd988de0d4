"""The timing view of one reply (issue 12): where its time went, from Enter pressed to the last
token painted. A passive dialog: the presenter (app/gui/chat/timing_view.py) hands it a
`TimingContent` of plain values, or None when no timing was recorded, and later the "Why is
this slow?" sentences.

From top to bottom: the timeline (one horizontal bar per phase on a shared millisecond axis,
and the same phases as a table with their numbers and details), the time between tokens over
the reply (pyqtgraph: a stall, a slowdown or a thermal drop shows as a shape), llama.cpp's own
counters beside Hearth's wall clock, and the sentences. Esc closes (QDialog's own key).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

NO_TIMING = "No timing recorded for this reply."
NO_TIMING_DETAIL = (
    "Replies written before Hearth recorded timings, and replies whose timing could not be "
    "read back, have only the totals under the message."
)
WAITING_SENTENCES = "Looking at this machine…"
NOTHING_SLOW = "Nothing Hearth can see made this reply slower than this machine allows."
# Bar colours readable on light and dark backgrounds alike (one per phase, in order).
BAR_COLOURS = (
    "#8c8c8c", "#9467bd", "#bcbd22", "#17becf", "#1f77b4",
    "#2ca02c", "#ff7f0e", "#d62728", "#e377c2", "#7f7f7f",
)  # fmt: skip
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
class TimingContent:
    heading: str
    origin: str  # what 0 ms on the timeline is, in words
    bars: tuple[PhaseBar, ...]
    marks: tuple[tuple[str, float], ...]  # instants on the timeline: (name, ms)
    token_ms: tuple[float, ...]  # the gap before each token after the first
    counters: tuple[CounterRow, ...]
    counters_note: str
    notes: tuple[str, ...] = ()  # prompt tokens evaluated and reused, why not reused


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
        self.show_content(None)

    # ---- what the presenter calls ----------------------------------------------------

    def show_content(self, content: TimingContent | None) -> None:
        """The timing of one reply; None: "no timing recorded" (missing or damaged)."""
        self.timeline_plot = self.token_plot = self.token_curve = None
        self.phase_table = self.counter_table = None
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
        column.addWidget(self.message)
        column.addWidget(_label(f"Timeline, {content.origin}", bold=True, section=True))
        self.timeline_plot = self._timeline(content)
        column.addWidget(self.timeline_plot)
        self.phase_table = self._phase_table(content.bars)
        column.addWidget(self.phase_table)
        for note in content.notes:
            column.addWidget(_label(note))
        column.addWidget(_label("Time between tokens", bold=True, section=True))
        if content.token_ms:
            self.token_plot = self._token_plot(content.token_ms)
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

    def _colours(self) -> tuple[QColor, QColor]:
        palette = self.palette()
        return palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)

    def _plot(self, height: int) -> pg.PlotWidget:
        background, text = self._colours()
        plot = pg.PlotWidget(background=background)
        plot.setMinimumHeight(height)
        plot.setMaximumHeight(height)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=True, y=False)
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))
        return plot

    def _timeline(self, content: TimingContent) -> pg.PlotWidget:
        bars = content.bars
        plot = self._plot(36 + 26 * max(1, len(bars)))
        rows = np.arange(len(bars), dtype=float)
        # A phase of a fraction of a millisecond still shows as a sliver.
        total = max((b.start_ms + b.ms for b in bars), default=1.0)
        widths = [max(b.ms, total / 400) for b in bars]
        brushes = [pg.mkBrush(BAR_COLOURS[i % len(BAR_COLOURS)]) for i in range(len(bars))]
        plot.addItem(
            pg.BarGraphItem(
                x0=[b.start_ms for b in bars], y=rows, width=widths, height=0.6,
                brushes=brushes, pens=[pg.mkPen(None)] * len(bars),
            )
        )  # fmt: skip
        _, text = self._colours()
        for name, at in content.marks:
            line = pg.InfiniteLine(
                pos=at, angle=90, pen=pg.mkPen(text, style=Qt.PenStyle.DashLine),
                label=name, labelOpts={"position": 0.96, "color": text},
            )  # fmt: skip
            plot.addItem(line)
        plot.getAxis("left").setTicks([[(float(i), b.name) for i, b in enumerate(bars)]])
        plot.getAxis("left").setWidth(150)
        plot.getPlotItem().invertY(True)
        plot.setLabel("bottom", "ms")
        plot.setXRange(0, total * 1.02, padding=0)
        plot.setYRange(-0.6, len(bars) - 0.4, padding=0)
        return plot

    def _token_plot(self, token_ms: tuple[float, ...]) -> pg.PlotWidget:
        plot = self._plot(220)
        x = np.arange(2, len(token_ms) + 2)
        y = np.asarray(token_ms, dtype=float)
        self.token_curve = plot.plot(
            x, y, pen=pg.mkPen("#1f77b4", width=1.5), symbol="o" if len(y) <= 200 else None,
            symbolSize=4, symbolBrush="#1f77b4", symbolPen=None,
        )  # fmt: skip
        # Peak downsampling keeps every stall visible on a 32k-token reply and paints fast.
        self.token_curve.setDownsampling(auto=True, method="peak")
        self.token_curve.setClipToView(True)
        plot.setLabel("bottom", "token of the reply")
        plot.setLabel("left", "ms since the one before")
        plot.getAxis("left").setWidth(150)
        plot.setYRange(0, float(y.max()) * 1.08 if len(y) and y.max() > 0 else 1.0)
        plot.setXRange(1, len(token_ms) + 2, padding=0)
        return plot

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
