"""What the Performance page's plots draw, as plain values, and each model's colour: kept
apart from the plots themselves (ui/performance/plots.py, bench_plots.py), which import
pyqtgraph, so that the presenters and the page can name them without importing it (the page
builds its plots only when they first show: ui/widgets/lazy_widget.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QColor

# The least height a plot is given: its place on the page keeps it before the plot is built.
MIN_PLOT_HEIGHT = 180
# Distinguishable on the light and the dark palette alike (matplotlib's tab10); a model keeps
# its colour in both plots: the colour goes by its place in the page's list of models.
COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip


@dataclass(frozen=True)
class Series:
    """One model's points in one plot."""

    model: str
    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class BarSeries:
    """One model's bars: a mean and its spread per category (None: not measured there)."""

    model: str
    means: tuple[float | None, ...]
    spreads: tuple[float | None, ...]


def colour_of(model: str, models: list[str]) -> QColor:
    index = models.index(model) if model in models else len(models)
    return QColor(COLOURS[index % len(COLOURS)])
