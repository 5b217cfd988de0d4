"""The timing view's two plots (pyqtgraph): the timeline of a reply's phases and the time
between its tokens. A module of its own so that pyqtgraph (~0.1 s to import) is imported
when a timing view first shows a trace, not when Hearth starts (ui/chat/timing_view.py
imports this inside the method that builds a trace's page)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette, QPen

from ui.widgets.palette_plot import PalettePlot

# Bar colours readable on light and dark backgrounds alike (one per phase, in order).
BAR_COLOURS = (
    "#8c8c8c", "#9467bd", "#bcbd22", "#17becf", "#1f77b4",
    "#2ca02c", "#ff7f0e", "#d62728", "#e377c2", "#7f7f7f",
)  # fmt: skip
AXIS_WIDTH = 150


class TimingPlot(PalettePlot):
    """A plot of the timing view, in the palette's colours after a theme change too
    (ui/widgets/palette_plot.py): its mark lines and their names as well."""

    def __init__(self, height: int) -> None:
        super().__init__()
        self.marks: list[pg.InfiniteLine] = []
        self.setMinimumHeight(height)
        self.setMaximumHeight(height)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=True, y=False)

    def add_mark(self, name: str, at: float) -> None:
        """An instant as a dashed vertical line named at its top."""
        text = self.text_colour()
        line = pg.InfiniteLine(
            pos=at, angle=90, pen=_mark_pen(text),
            label=name, labelOpts={"position": 0.96, "color": text},
        )  # fmt: skip
        self.marks.append(line)
        self.addItem(line)

    def recolour(self, palette: QPalette) -> None:
        text = palette.color(QPalette.ColorRole.Text)
        for line in self.marks:
            line.setPen(_mark_pen(text))
            if line.label is not None:
                line.label.setColor(text)


def _mark_pen(text: QColor) -> QPen:
    return pg.mkPen(text, style=Qt.PenStyle.DashLine)


def timeline_plot(
    bars: Sequence[tuple[str, float, float]],
    marks: Sequence[tuple[str, float]],
) -> TimingPlot:
    """One horizontal bar per phase, `bars`: (name, start ms, ms), top to bottom, on a shared
    millisecond axis; `marks`: instants (name, ms) as dashed vertical lines."""
    plot = TimingPlot(36 + 26 * max(1, len(bars)))
    rows = np.arange(len(bars), dtype=float)
    # A phase of a fraction of a millisecond still shows as a sliver.
    total = max((start + ms for _name, start, ms in bars), default=1.0)
    widths = [max(ms, total / 400) for _name, _start, ms in bars]
    brushes = [pg.mkBrush(BAR_COLOURS[i % len(BAR_COLOURS)]) for i in range(len(bars))]
    plot.addItem(
        pg.BarGraphItem(
            x0=[start for _name, start, _ms in bars], y=rows, width=widths, height=0.6,
            brushes=brushes, pens=[pg.mkPen(None)] * len(bars),
        )
    )  # fmt: skip
    for name, at in marks:
        plot.add_mark(name, at)
    plot.getAxis("left").setTicks([[(float(i), name) for i, (name, _s, _m) in enumerate(bars)]])
    plot.getAxis("left").setWidth(AXIS_WIDTH)
    plot.getPlotItem().invertY(True)
    plot.setLabel("bottom", "ms")
    plot.setXRange(0, total * 1.02, padding=0)
    plot.setYRange(-0.6, len(bars) - 0.4, padding=0)
    return plot


def token_plot(token_ms: Sequence[float]) -> tuple[TimingPlot, pg.PlotDataItem]:
    """The gap before each token after the first, over the reply: the plot and its curve
    (whose data are every point, whatever is painted)."""
    plot = TimingPlot(220)
    x = np.arange(2, len(token_ms) + 2)
    y = np.asarray(token_ms, dtype=float)
    curve = plot.plot(
        x, y, pen=pg.mkPen("#1f77b4", width=1.5), symbol="o" if len(y) <= 200 else None,
        symbolSize=4, symbolBrush="#1f77b4", symbolPen=None,
    )  # fmt: skip
    # Peak downsampling keeps every stall visible on a 32k-token reply and paints fast.
    curve.setDownsampling(auto=True, method="peak")
    curve.setClipToView(True)
    plot.setLabel("bottom", "token of the reply")
    plot.setLabel("left", "ms since the one before")
    plot.getAxis("left").setWidth(AXIS_WIDTH)
    plot.setYRange(0, float(y.max()) * 1.08 if len(y) and y.max() > 0 else 1.0)
    plot.setXRange(1, len(token_ms) + 2, padding=0)
    return plot, curve
