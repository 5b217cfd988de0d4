"""The Benchmarks tab's plots (pyqtgraph): prompt speed (pp) and generation speed (tg), one
group of bars per configuration and depth, one bar per model in the model's colour (the
replies' plots' colours), a whisker of ± one standard deviation: two models or two
settings show side by side. Passive: the presenter hands the bars."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPalette, QPen
from PySide6.QtWidgets import QHBoxLayout, QWidget

from ui.performance.series import MIN_PLOT_HEIGHT, BarSeries, colour_of
from ui.widgets.palette_plot import PalettePlot

GROUP_WIDTH = 0.8  # of one category's unit: the rest is the gap between groups
WHISKER_ALPHA = 150


class BarPlot(PalettePlot):
    """Bars per model with ± one standard deviation whiskers, in the palette's colours after
    a theme change too (ui/widgets/palette_plot.py)."""

    def __init__(self, title: str, y_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        item = self.getPlotItem()
        self.set_title(title)
        item.getAxis("left").setLabel(y_label)  # coloured by the axis's text pen
        item.showGrid(y=True, alpha=0.2)
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=False, y=False)
        self.legend = self.add_legend()
        self.setMinimumHeight(MIN_PLOT_HEIGHT)
        self.bars: list[pg.BarGraphItem] = []
        self.whiskers: list[pg.ErrorBarItem] = []

    def whisker_pen(self) -> QPen:
        """The text colour, half strength: a whisker over any bar colour on either theme."""
        colour = self.text_colour()
        colour.setAlpha(WHISKER_ALPHA)
        return pg.mkPen(colour, width=1)

    def recolour(self, palette: QPalette) -> None:
        pen = self.whisker_pen()
        for whiskers in self.whiskers:
            whiskers.setData(pen=pen)

    def set_bars(self, categories: list[str], series: list[BarSeries], models: list[str]) -> None:
        item = self.getPlotItem()
        item.clear()
        self.bars = []
        self.whiskers = []
        width = GROUP_WIDTH / max(1, len(series))
        for place, one in enumerate(series):
            shown = [
                (i, m, s) for i, (m, s) in enumerate(zip(one.means, one.spreads, strict=True)) if m
            ]
            if not shown:
                continue
            x = np.array([i - GROUP_WIDTH / 2 + (place + 0.5) * width for i, _m, _s in shown])
            means = np.array([m for _i, m, _s in shown], dtype=float)
            spreads = np.array([s or 0.0 for _i, _m, s in shown], dtype=float)
            colour = colour_of(one.model, models)
            bars = pg.BarGraphItem(x=x, height=means, width=width * 0.9, brush=colour, pen=None)
            bars.opts["name"] = one.model  # the legend names it from this
            item.addItem(bars)
            whiskers = pg.ErrorBarItem(
                x=x, y=means, height=2 * spreads, beam=width * 0.3, pen=self.whisker_pen()
            )
            item.addItem(whiskers)
            self.whiskers.append(whiskers)
            self.bars.append(bars)
        item.getAxis("bottom").setTicks([list(enumerate(categories))])
        item.setXRange(-0.6, max(0, len(categories) - 1) + 0.6, padding=0)
        item.enableAutoRange(axis="y")


class BenchPlots(QWidget):
    """pp and tg side by side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pp = BarPlot("Prompt processing (pp)", "tokens/s", self)
        self.tg = BarPlot("Generation (tg)", "tokens/s", self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pp)
        layout.addWidget(self.tg)

    def set_bars(
        self,
        pp_categories: list[str],
        pp: list[BarSeries],
        tg_categories: list[str],
        tg: list[BarSeries],
        models: list[str],
    ) -> None:
        self.pp.set_bars(pp_categories, pp, models)
        self.tg.set_bars(tg_categories, tg, models)
