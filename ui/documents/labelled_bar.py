"""The Documents page's progress bar, with its text beside it. GUI thread only."""

from __future__ import annotations

from PySide6.QtWidgets import QProgressBar, QWidget

from ui.widgets.eliding_label import ElidingLabel

# The bar is only a gauge; its text stands beside it, where the fill never covers it.
PROGRESS_BAR_WIDTH = 160


class LabelledBar(QProgressBar):
    """A progress bar whose text is drawn by a label beside it (`label`), never over the
    fill: over the fill the style's text colour loses its contrast ("30%" half hidden). The
    label follows the bar's format and visibility, so callers use the bar alone."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.label = ElidingLabel("", parent)
        self.setTextVisible(False)
        self.setFixedWidth(PROGRESS_BAR_WIDTH)

    def setFormat(self, text: str) -> None:
        super().setFormat(text)
        self._follow()

    def setValue(self, value: int) -> None:
        super().setValue(value)
        self._follow()

    def _follow(self) -> None:
        # A busy bar (no range yet) has no text() of its own: its format says it all.
        self.label.setText(self.text() or self.format())

    def setVisible(self, visible: bool) -> None:
        super().setVisible(visible)
        self.label.setVisible(visible)
