"""A place in a layout for a widget that is costly to build, built only once it is needed.
GUI thread only.

The plots (pyqtgraph) are the reason: importing pyqtgraph costs ~0.1 s, which every start of
Hearth paid before its window first painted, for pages and dialogs most starts never open
(issue 12). A page now asks for its plots when it has something to plot (`request`); they
are built after the next paint of their place, so the window first paints what is ready (a
table's rows) without waiting for them; or at once when something needs them (`content`).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget


class LazyWidget(QWidget):
    """Holds the widget `build(parent)` makes. Signal ``built(widget)`` once it is."""

    built = Signal(QWidget)

    def __init__(self, build: Callable[[QWidget], QWidget], parent: QWidget | None = None):
        super().__init__(parent)
        self._build = build
        self._content: QWidget | None = None
        self._requested = False
        self._pending = False
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        # On this widget's own paints: an event filter rather than paintEvent, so that a
        # subclass's painting never has to remember it.
        self.installEventFilter(self)

    def is_built(self) -> bool:
        return self._content is not None

    def content(self) -> QWidget:
        """The widget, built now if it was not yet."""
        if self._content is None:
            self._content = self._build(self)
            self._layout.addWidget(self._content)
            self._content.show()  # the layout alone would show it a turn later
            self.removeEventFilter(self)
            self.built.emit(self._content)
        return self._content

    def request(self) -> None:
        """Build it one turn after this place next paints: at once on screen, when it is
        shown if it is not (a hidden page costs nothing). A place of no size never paints:
        give it room (a splitter's pane, a stretch)."""
        if self._content is None and not self._requested:
            self._requested = True
            self.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        painted = watched is self and event.type() == QEvent.Type.Paint
        if painted and self._requested and not self._pending:
            self._pending = True
            # After this paint is on screen; the timer's context (self) drops the call when
            # the widget is deleted first.
            QTimer.singleShot(0, self, self._build_if_shown)
        return False

    def _build_if_shown(self) -> None:
        self._pending = False
        if self._content is None and self.isVisible():
            self.content()
