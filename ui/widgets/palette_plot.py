"""A pyqtgraph plot in the widget palette's colours, now and after every theme change
(issue 15). GUI thread only.

pyqtgraph takes colours as values when a plot is built (its background brush, the axes' pens,
the title's and the labels' HTML, the legend's brush), so a plot built under the light theme
stayed white on a dark window until it was built again. Qt tells every widget that its
palette changed (the Settings dialog's theme, or the desktop switching light/dark) with a
PaletteChange event; this plot paints its parts again from the new palette then.

Imports pyqtgraph: import this module only where pyqtgraph is already imported (the plot
modules, themselves imported when a plot is first needed: ui/widgets/lazy_widget.py).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

AXES = ("left", "bottom", "right", "top")
LEGEND_ALPHA = 210  # the points under the legend show through, faintly


class PalettePlot(pg.PlotWidget):
    """Background: the palette's Base; axes, ticks, grid, axis labels, title and legend text:
    its Text. Subclasses recolour what else they drew from the palette in `recolour`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        palette = parent.palette() if parent is not None else QPalette()
        super().__init__(parent, background=palette.color(QPalette.ColorRole.Base))
        self._title = ""
        self._paint_frame()
        self._built = True

    def set_title(self, title: str) -> None:
        """The title, in the palette's text colour (kept to be coloured again later)."""
        self._title = title
        self.getPlotItem().setTitle(title, color=self.text_colour().name())

    def text_colour(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.Text)

    def base_colour(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.Base)

    def add_legend(self) -> pg.LegendItem:
        item = self.getPlotItem()
        return item.addLegend(
            offset=(-10, 10), labelTextColor=self.text_colour(), brush=self._legend_brush()
        )

    def apply_palette(self) -> None:
        """Every part drawn from the palette, from the palette the widget has now."""
        self._paint_frame()
        self.recolour(self.palette())

    def _paint_frame(self) -> None:
        text = self.text_colour()
        self.setBackground(self.base_colour())
        item = self.getPlotItem()
        for name in AXES:
            axis = item.getAxis(name)
            axis.setPen(text)
            axis.setTextPen(text)  # the axis label's colour too
        if self._title:
            item.setTitle(self._title, color=text.name())
        legend = item.legend
        if legend is not None:
            legend.setBrush(self._legend_brush())
            legend.setLabelTextColor(text)
            for _sample, label in legend.items:  # their HTML holds the old colour
                label.setText(label.text, color=text)

    def recolour(self, palette: QPalette) -> None:
        """What a subclass drew from the palette besides the frame (marks, whiskers)."""

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # Qt sends palette changes while the plot is being built and after it closed too.
        built = getattr(self, "_built", False) and self.getPlotItem() is not None
        if built and event.type() == QEvent.Type.PaletteChange:
            self.apply_palette()

    def _legend_brush(self) -> QColor:
        backdrop = self.base_colour()
        backdrop.setAlpha(LEGEND_ALPHA)
        return backdrop
