""" "Why is this slow?" on the Performance page (issue 12): the sentences for the reply
selected in the table, under it. Passive: the presenter (app/gui/performance/why_slow.py)
finds the sentences and hands them in; the texts for the states it does not know are here.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

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
        self.body = QLabel(HINT, self)
        self.body.setWordWrap(True)
        self.body.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.heading)
        layout.addWidget(scroll, 1)
        self.setMinimumHeight(self.fontMetrics().height() * 5)
        self.setAccessibleName(TITLE)

    def _say(self, about: str | None, text: str) -> None:
        self.heading.setText(f"{TITLE} · {about}" if about else TITLE)
        self.body.setText(text)

    def show_hint(self) -> None:
        """No reply selected."""
        self._say(None, HINT)

    def show_waiting(self, about: str) -> None:
        """`about`: the reply in a few words (its chat and date)."""
        self._say(about, WAITING)

    def show_sentences(self, about: str, sentences: Sequence[str]) -> None:
        """The sentences that apply, most likely cause first; none: says so."""
        self._say(about, "\n\n".join(f"• {s}" for s in sentences) or NOTHING)

    def show_no_timing(self, about: str) -> None:
        self._say(about, NO_TIMING)

    def show_failed(self, about: str, reason: str) -> None:
        self._say(about, f"Could not look at this reply: {reason}")

    def text(self) -> str:
        """What the panel says now (its body)."""
        return self.body.text()
