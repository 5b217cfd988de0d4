"""The Performance page's plots (pyqtgraph): decode speed against context depth and prefill
speed against prompt length, one colour per model, with a legend, so two models or two
settings show side by side. Passive: the presenter hands the points per model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QWidget

# Distinguishable on the light and the dark palette alike (matplotlib's tab10); a model keeps
# its colour in both plots: the colour goes by its place in the page's list of models.
COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
POINT_SIZE = 5


@dataclass(frozen=True)
class Series:
    """One model's points in one plot."""

    model: str
    x: np.ndarray
    y: np.ndarray


def colour_of(model: str, models: list[str]) -> QColor:
    index = models.index(model) if model in models else len(models)
    return QColor(COLOURS[index % len(COLOURS)])


class SpeedPlot(pg.PlotWidget):
    """One scatter plot of tokens/s against tokens, a series per model."""

    def __init__(self, title: str, x_label: str, y_label: str, parent: QWidget | None = None):
        palette = parent.palette() if parent is not None else QPalette()
        super().__init__(parent, background=palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        item = self.getPlotItem()
        item.setTitle(title, color=text.name())
        for name, label in (("bottom", x_label), ("left", y_label)):
            axis = item.getAxis(name)
            axis.setLabel(label, color=text.name())
            axis.setTextPen(text)
            axis.setPen(text)
        item.showGrid(x=True, y=True, alpha=0.2)
        item.setMenuEnabled(False)
        self.legend = item.addLegend(offset=(-10, 10), labelTextColor=text)
        self.setMinimumHeight(180)

    def set_series(self, series: list[Series], models: list[str]) -> None:
        item = self.getPlotItem()
        item.clear()  # the legend's entries too
        for one in series:
            colour = colour_of(one.model, models)
            item.addItem(
                pg.ScatterPlotItem(
                    x=one.x,
                    y=one.y,
                    size=POINT_SIZE,
                    pen=None,
                    brush=pg.mkBrush(colour),
                    name=one.model,
                )
            )
        item.enableAutoRange()

    def series_names(self) -> list[str]:
        """The models plotted, in the legend's order."""
        return [data.name() for data in self.getPlotItem().listDataItems()]


class SpeedPlots(QWidget):
    """The two plots side by side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.decode = SpeedPlot(
            "Decode speed against context depth",
            "context depth at start (tokens)",
            "decode tok/s",
            self,
        )
        self.prefill = SpeedPlot(
            "Prefill speed against prompt length",
            "prompt tokens evaluated",
            "prefill tok/s",
            self,
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.decode)
        layout.addWidget(self.prefill)

    def set_points(self, decode: list[Series], prefill: list[Series], models: list[str]) -> None:
        """`models`: every model of the page (its filter's list), for stable colours."""
        self.decode.set_series(decode, models)
        self.prefill.set_series(prefill, models)
