"""The live speed plot in the status bar: a small line of tokens/s over the last seconds of
the reply being written. Passive: it draws the (seconds, tokens/s) points it is given
(app/chat/live_speed.py defines them). GUI thread only.

Drawn with QPainter, not pyqtgraph: at this size (120 × ~20 px, at most 40 points, 4 updates
a second) a pyqtgraph PlotWidget (a QGraphicsView with a view box and deferred auto-range)
costs ~3.5× as much per update (0.95 against 0.27 ms, median) and its import ~0.3 s at
start-up, for a plot with no axes to read and nothing to zoom (bench/speed_plot_paint.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QSize
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.chat.stats_format import format_rate

PLOT_WIDTH = 120


class SpeedPlot(QWidget):
    """Tokens/s over the last `shown_s` seconds, newest at the right edge; hidden (its room
    kept, so the status bar does not shift) until a reply has given it a point. When the
    reply ends the curve stays, greyed, until the next reply starts or another chat opens:
    the user glancing down after the reply still sees how it went."""

    def __init__(self, parent: QWidget | None = None, shown_s: float = 10.0) -> None:
        super().__init__(parent)
        self._shown_s = shown_s
        self._points: list[tuple[float, float]] = []
        self._frozen = False
        policy = QSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        policy.setRetainSizeWhenHidden(True)
        self.setSizePolicy(policy)
        self.setFixedWidth(PLOT_WIDTH)
        self.setAccessibleName("Live generation speed")
        self.hide()

    def sizeHint(self) -> QSize:
        return QSize(PLOT_WIDTH, self.fontMetrics().height() + 4)

    def points(self) -> list[tuple[float, float]]:
        return list(self._points)

    def is_frozen(self) -> bool:
        return self._frozen

    def show_points(self, points: Sequence[tuple[float, float]]) -> None:
        """The reply's points so far, oldest first; none keeps the plot as it is."""
        if not points:
            return
        self._points = list(points)
        self._frozen = False
        self.setToolTip(self._tooltip())
        self.show()
        self.update()

    def freeze(self) -> None:
        """The reply ended: its last curve stays, greyed, until `clear_points`."""
        if not self._points:
            return
        self._frozen = True
        self.setToolTip(self._tooltip())
        self.update()

    def clear_points(self) -> None:
        self._points = []
        self._frozen = False
        self.setToolTip("")
        self.hide()

    def _tooltip(self) -> str:
        latest = self._points[-1][1]
        peak = max(speed for _t, speed in self._points)
        what = (
            "Tokens received per second, each point counting the last second, "
            f"over the last {self._shown_s:.0f} s"
        )
        if self._frozen:
            return (
                f"The last reply's speed: {what} of it.\n"
                f"Ended at {format_rate(latest)} · peak {format_rate(peak)}"
            )
        return (
            f"Speed of the reply being written: {what}.\n"
            f"Now {format_rate(latest)} · peak {format_rate(peak)}"
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._points:
            return
        palette = self.palette()
        # Greyed once the reply ended, readable still (placeholder text is made to be).
        role = QPalette.ColorRole.PlaceholderText if self._frozen else QPalette.ColorRole.Highlight
        line = palette.color(role)
        rect = self.rect().adjusted(1, 3, -1, -3)
        newest = self._points[-1][0]
        # The first seconds grow from the left edge; past `shown_s` the curve scrolls left.
        oldest = max(newest - self._shown_s, self._points[0][0])
        # Headroom above the peak so a flat line does not sit on the top edge.
        top = max(speed for _t, speed in self._points) * 1.15 or 1.0

        def at(t: float, speed: float) -> QPointF:
            x = rect.left() + (t - oldest) / self._shown_s * rect.width()
            y = rect.bottom() - speed / top * rect.height()
            return QPointF(x, y)

        path = QPainterPath(at(*self._points[0]))
        for t, speed in self._points[1:]:
            path.lineTo(at(t, speed))
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        baseline = palette.color(QPalette.ColorRole.Mid)
        painter.setPen(QPen(baseline, 1))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        fill = QPainterPath(path)
        fill.lineTo(at(newest, 0))
        fill.lineTo(at(self._points[0][0], 0))
        fill.closeSubpath()
        shade = QColor(line)
        shade.setAlpha(50)
        painter.fillPath(fill, shade)
        painter.setPen(QPen(line, 1.5))
        if len(self._points) == 1:
            painter.drawEllipse(at(*self._points[0]), 1.5, 1.5)
        else:
            painter.drawPath(path)
        painter.end()
