"""A one-line label for the status bar that never widens the window. GUI thread only."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QWidget


class ElidingLabel(QLabel):
    """Shows as much of its text as fits and ends it with "…"; `text()` stays whole.

    A plain QLabel's minimum width is its whole text, so a long stats line pushed the
    main window wider than the screen and cut the end off instead of shortening it.
    """

    def __init__(
        self, text: str = "", parent: QWidget | None = None, *, whole_in_tooltip: bool = False
    ) -> None:
        """`whole_in_tooltip`: the whole text is its tooltip too, set with each text."""
        self._whole_in_tooltip = whole_in_tooltip
        super().__init__(text, parent)
        if whole_in_tooltip:
            self.setToolTip(text)

    def setText(self, text: str) -> None:
        super().setText(text)
        if self._whole_in_tooltip:
            self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        narrow = self.fontMetrics().horizontalAdvance("M" * 6)
        return QSize(min(hint.width(), narrow), hint.height())

    def shown_text(self) -> str:
        """The text as painted, elided to the current width."""
        width = self.contentsRect().width()
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, width)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.drawText(self.contentsRect(), self.alignment(), self.shown_text())


SEP = " · "
Pinned = Callable[[int, str], bool]


class PartsLabel(ElidingLabel):
    """A status-bar line of parts joined by " · ", listed most important first. When it does
    not fit, whole parts are left out from the end, but never a pinned one (the context
    figure, a model's name); only when the pinned parts alone do not fit are they cut with
    "…". `text()` stays whole, for the tooltip and for copying.

    Its minimum width is what the pinned parts need (at most `max_pinned` characters'
    worth), so the status bar's layout shortens the others first. With `widest` (a width in
    pixels, asked each time) its size hint is the parts that fit in that width, not the
    whole line: a layout then gives it no more than it shows, and a long line cannot take
    its neighbours' room (call updateGeometry when that width changes).
    """

    def __init__(
        self,
        text: str = "",
        parent: QWidget | None = None,
        *,
        pinned: Pinned = lambda _index, _part: False,
        max_pinned: int = 40,
        widest: Callable[[], int] | None = None,
    ) -> None:
        super().__init__("", parent)
        self._pinned = pinned
        self._max_pinned = max_pinned
        self._widest = widest
        self._part_list: list[str] = []
        self.setText(text)

    def setText(self, text: str) -> None:
        """The whole line; its parts are what " · " separates."""
        self.set_parts(text.split(SEP) if text else [])

    def set_parts(self, parts: list[str]) -> None:
        """The parts, most important first (a part may itself contain " · ")."""
        self._part_list = [p for p in parts if p]
        super().setText(SEP.join(self._part_list))
        self.updateGeometry()

    def clear(self) -> None:
        self.set_parts([])

    def _parts(self) -> list[str]:
        return list(self._part_list)

    def _kept(self) -> list[str]:
        return [p for i, p in enumerate(self._parts()) if self._pinned(i, p)]

    def minimumSizeHint(self) -> QSize:
        hint = QLabel.minimumSizeHint(self)
        metrics = self.fontMetrics()
        kept = metrics.horizontalAdvance(SEP.join(self._kept()))
        cap = metrics.horizontalAdvance("M" * 6) + metrics.averageCharWidth() * self._max_pinned
        width = min(kept, cap) + self.contentsMargins().left() + self.contentsMargins().right()
        return QSize(max(width, metrics.horizontalAdvance("M" * 6)), hint.height())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        if self._widest is None:
            return hint
        metrics = self.fontMetrics()
        margins = self.contentsMargins().left() + self.contentsMargins().right()
        shown = self._fit(self._widest() - margins)
        # + 2: horizontalAdvance rounds, and elidedText cuts a text a fraction too wide.
        width = max(metrics.horizontalAdvance(shown) + margins + 2, self.minimumSizeHint().width())
        return QSize(min(hint.width(), width), hint.height())

    def shown_text(self) -> str:
        return self._fit(self.contentsRect().width())

    def _fit(self, width: int) -> str:
        """The line as shown in `width` pixels: parts left out from the end, pinned ones
        kept, and "…" only when the pinned parts alone do not fit."""
        metrics = self.fontMetrics()
        parts = list(enumerate(self._parts()))
        while metrics.horizontalAdvance(SEP.join(p for _, p in parts)) > width:
            droppable = [n for n, (i, p) in enumerate(parts) if not self._pinned(i, p)]
            if not droppable:
                break
            del parts[droppable[-1]]
        text = SEP.join(p for _, p in parts)
        return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
