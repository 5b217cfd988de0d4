"""Warnings in red that reads on the palette of the moment (issue 15). GUI thread only.

One red cannot serve both themes: the dark reds the labels used (#c0392b, #b00020) have a
contrast of 2.6:1 and 1.9:1 on the dark theme's window (#2b2b2b), under the 4.5:1 that small
text needs (WCAG 2 contrast ratio, tests/support/themes.py). `show_warning` gives the label the
red for its palette's window colour and picks it again whenever the palette changes (the
Settings dialog's theme, the desktop switching).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel

# WCAG contrast against the themes' windows (app/gui/appearance.py): 5.5:1 and 5.8:1.
ON_LIGHT = "#b03020"  # on #efefef
ON_DARK = "#ff8070"  # on #2b2b2b
_FOLLOWER = "hearth-warning-colour"


def warning_colour(palette: QPalette) -> QColor:
    """The red for text on `palette`'s window."""
    dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
    return QColor(ON_DARK if dark else ON_LIGHT)


def show_warning(label: QLabel, warning: bool) -> None:
    """`label`'s text in the warning red (`warning`) or in its palette's own text colour."""
    follower = label.findChild(_WarningColour, _FOLLOWER)
    if follower is None:
        if not warning:
            return  # never red: nothing to undo
        follower = _WarningColour(label)
    follower.set_on(warning)


class _WarningColour(QObject):
    """Sets its label's WindowText, and sets it again after each palette change."""

    def __init__(self, label: QLabel) -> None:
        super().__init__(label)
        self.setObjectName(_FOLLOWER)
        self._label = label
        self._on = False
        self._coloured = False  # its WindowText is set on the label's own palette
        label.installEventFilter(self)

    def set_on(self, on: bool) -> None:
        self._on = on
        self._apply()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._label and event.type() == QEvent.Type.PaletteChange:
            self._apply()
        return False

    def _apply(self) -> None:
        label = self._label
        if not self._on:
            if self._coloured:
                self._coloured = False
                label.setPalette(QPalette())  # inherit every colour again (it set no other)
            return
        palette = label.palette()
        role = QPalette.ColorRole.WindowText
        red = warning_colour(palette)
        if self._coloured and palette.color(role) == red:
            return  # already right: setting it again would send another PaletteChange
        palette.setColor(role, red)
        self._coloured = True
        label.setPalette(palette)
