"""The Performance page's plots (pyqtgraph): decode speed against context depth and prefill
speed against prompt length, one colour per model, with a legend, so two models or two
settings show side by side. Passive: the presenter hands the points per model."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pyqtgraph.functions as fn
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QWidget

from ui.performance.series import MIN_PLOT_HEIGHT, Series, colour_of
from ui.widgets.palette_plot import PalettePlot

POINT_SIZE = 5


class Dots(pg.GraphicsObject):
    """One model's points as round dots of a fixed size on screen.

    pyqtgraph's ScatterPlotItem keeps a record per point (for hovering and clicking each
    point, which these plots do not offer): ~25 ms to set 10,000 points, and the page's
    first paint has 200 ms in all (bench/performance_page.py). This draws one pre-rendered
    dot at every point in one call, the way ScatterPlotItem paints from its atlas
    (drawPixmapFragments over pyqtgraph's PrimitiveArray), for ~1 ms to set and a few to
    paint; QPainter.drawPoints with a round pen took ~25 ms to paint 10,000.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, colour: QColor, name: str) -> None:
        super().__init__()
        self._name = name
        self._xy = np.vstack([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)])
        self._colour = colour
        self._dot: QPixmap | None = None
        self._fragments = PrimitiveArray(QPainter.PixmapFragment, 10)
        n = self._xy.shape[1]
        low, high = (self._xy.min(axis=1), self._xy.max(axis=1)) if n else ((0, 0), (0, 0))
        self._rect = QRectF(low[0], low[1], high[0] - low[0], high[1] - low[1])
        # What the legend's sample draws (pyqtgraph's ItemSample reads `opts`).
        self.opts = {"pen": None, "symbol": "o", "size": POINT_SIZE + 2, "brush": colour}

    def implements(self, interface: str | None = None) -> bool | list[str]:
        """A data item for the PlotItem (its legend and listDataItems)."""
        return ["plotData"] if interface is None else interface == "plotData"

    def name(self) -> str:
        return self._name

    def dataBounds(
        self, ax: int, frac: float = 1.0, orthoRange: object = None
    ) -> tuple[float, float] | tuple[None, None]:
        values = self._xy[ax]
        if not len(values):
            return None, None
        return float(values.min()), float(values.max())

    def pixelPadding(self) -> float:
        return POINT_SIZE / 2 + 1

    def boundingRect(self) -> QRectF:
        return self._rect

    def _dot_for(self, ratio: float) -> QPixmap:
        if self._dot is None or self._dot.devicePixelRatio() != ratio:
            side = round(POINT_SIZE * ratio)
            dot = QPixmap(side, side)
            dot.fill(Qt.GlobalColor.transparent)
            painter = QPainter(dot)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._colour)
            painter.drawEllipse(QRectF(0, 0, side, side))
            painter.end()
            dot.setDevicePixelRatio(ratio)
            self._dot = dot
        return self._dot

    def paint(self, painter: QPainter, _option: object, widget: QWidget | None = None) -> None:
        n = self._xy.shape[1]
        if not n:
            return
        ratio = widget.devicePixelRatioF() if widget is not None else 1.0
        dot = self._dot_for(ratio)
        on_screen = fn.clip_array(
            fn.transformCoordinates(painter.transform(), self._xy), -(2**30), 2**30
        )
        painter.resetTransform()
        self._fragments.resize(n)
        fragments = self._fragments.ndarray()
        fragments[:, 0:2] = on_screen.T  # the dot's centre
        fragments[:, 2:6] = (0, 0, dot.width(), dot.height())  # its source rect, pixels
        fragments[:, 6:10] = (1 / ratio, 1 / ratio, 0.0, 1.0)  # scale x, y, rotation, opacity
        painter.drawPixmapFragments(*self._fragments.drawargs(), dot)


class SpeedPlot(PalettePlot):
    """One scatter plot of tokens/s against tokens, a series per model, in the palette's
    colours after a theme change too (ui/widgets/palette_plot.py)."""

    def __init__(self, title: str, x_label: str, y_label: str, parent: QWidget | None = None):
        super().__init__(parent)
        item = self.getPlotItem()
        self.set_title(title)
        for name, label in (("bottom", x_label), ("left", y_label)):
            item.getAxis(name).setLabel(label)  # coloured by the axis's text pen
        item.showGrid(x=True, y=True, alpha=0.2)
        item.setMenuEnabled(False)
        self.legend = self.add_legend()
        self.setMinimumHeight(MIN_PLOT_HEIGHT)

    def set_series(self, series: list[Series], models: list[str]) -> None:
        item = self.getPlotItem()
        item.clear()  # the legend's entries too
        for one in series:
            colour = colour_of(one.model, models)
            item.addItem(Dots(one.x, one.y, colour, one.model))
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
