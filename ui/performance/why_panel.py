""" "Why is this slow?" on the Performance page (issue 12): the sentences for the reply
selected in the table, under it. Passive: the presenter (app/gui/performance/why_slow.py)
finds the sentences and hands them in; the texts for the states it does not know are here.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

TITLE = "Why is this slow?"
HINT = (
    "Select a reply to see what Hearth can tell about its speed; double-click it for its "
    "timing view."
)
WAITING = "Looking at this reply and this machine…"
NOTHING = (
    "Nothing stands out: nothing Hearth can see made this reply slower than this machine allows."
)
NO_TIMING = (
    "No timing recorded for this reply: replies written before Hearth recorded timings, and "
    "replies whose timing could not be read back, have only the totals in the table."
)


class WhyPanel(QFrame):
    """A heading naming the reply and the sentences under it, scrolled when they are long."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.heading = QLabel(TITLE, self)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        # Read-only text, not a label: it wraps and scrolls by itself (a word-wrapped label in
        # a scroll area kept the height of its first text).
        self.body = QPlainTextEdit(self)
        self.body.setReadOnly(True)
        self.body.setFrameShape(QFrame.Shape.NoFrame)
        self.body.viewport().setBackgroundRole(QPalette.ColorRole.Window)
        self.body.viewport().setAutoFillBackground(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.heading)
        layout.addWidget(self.body, 1)
        self.setMinimumHeight(self.fontMetrics().lineSpacing() * 5)
        self.setAccessibleName(TITLE)
        self.show_hint()

    def sizeHint(self) -> QSize:
        """Room for a few sentences (two lines each) before they scroll."""
        return QSize(super().sizeHint().width(), self.fontMetrics().lineSpacing() * 10)

    def _say(self, about: str | None, text: str) -> None:
        self.heading.setText(f"{TITLE} · {about}" if about else TITLE)
        self.body.setPlainText(text)

    def show_hint(self) -> None:
        """No reply selected."""
        self._say(None, HINT)

    def show_waiting(self, about: str) -> None:
        """`about`: the reply in a few words (its chat and date)."""
        self._say(about, WAITING)

    def show_sentences(self, about: str, sentences: Sequence[str]) -> None:
        """The sentences that apply, most likely cause first; none: says so."""
        self._say(about, "\n".join(f"• {s}" for s in sentences) or NOTHING)

    def show_no_timing(self, about: str) -> None:
        self._say(about, NO_TIMING)

    def show_failed(self, about: str, reason: str) -> None:
        self._say(about, f"Could not look at this reply: {reason}")

    def text(self) -> str:
        """What the panel says now (its body)."""
        return self.body.toPlainText()
