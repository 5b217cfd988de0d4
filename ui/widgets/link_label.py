"""A rich-text label whose links take the palette's link colour after a theme change too (issue
15). GUI thread only.

Qt colours a link when the label's HTML is read (its text is set), with the application
palette's Link colour of that moment, and keeps it: after a switch to dark the links stayed the
light theme's blue (#0000ff on #2b2b2b: a WCAG contrast of 1.7:1). This label reads its text
again when its palette changes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QLabel


class LinkLabel(QLabel):
    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        text = self.text()
        if event.type() == QEvent.Type.PaletteChange and "<a" in text:
            # setText with the same text does nothing: clear it first (no signal is sent).
            self.clear()
            self.setText(text)
