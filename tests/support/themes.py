"""Switching the whole application's theme in a widget test the way the Settings dialog does
(app/gui/appearance.py: the application's palette), and back afterwards; plus screenshots of
a widget under each theme for a person to look at (issue 15)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.config.settings import Settings
from app.gui.appearance import Appearance, is_dark

# Where `shoot` writes when HEARTH_THEME_SHOTS names a folder (nothing is written otherwise).
SHOTS_VARIABLE = "HEARTH_THEME_SHOTS"


class Themes:
    """The application's theme, chosen as in Settings; `restore` gives the desktop's back."""

    def __init__(self, app: QApplication, qtbot: QtBot) -> None:
        self._app = app
        self._qtbot = qtbot
        self._appearance = Appearance(app)

    def choose(self, theme: str, *, widget: QWidget | None = None) -> None:
        """Apply `theme`; with `widget`, wait until the change reached it (Qt may deliver
        palette changes to widgets a turn of the event loop later)."""
        self._appearance.apply(Settings(theme=theme))
        dark = is_dark(self._app.palette())
        assert dark == (theme == "dark"), theme
        if widget is not None:
            self._qtbot.waitUntil(lambda: is_dark(widget.palette()) == dark)

    def restore(self) -> None:
        self._appearance.apply(Settings(theme="light"))  # forces a change, then the desktop's
        self._appearance.apply(Settings())


def shoot(widget: QWidget, name: str) -> None:
    """widget.grab() to $HEARTH_THEME_SHOTS/i15-theme2-<name>.png when that is set."""
    folder = os.environ.get(SHOTS_VARIABLE)
    if folder:
        widget.grab().save(str(Path(folder) / f"i15-theme2-{name}.png"))


def pixel_colours(image: QImage) -> set[str]:
    """Every colour an image shows, as #rrggbb names."""
    return {
        image.pixelColor(x, y).name() for x in range(image.width()) for y in range(image.height())
    }


def near(a: QColor, b: QColor, tolerance: int = 24) -> bool:
    """Colours within `tolerance` on each channel (antialiasing blends edges)."""
    return all(abs(x - y) <= tolerance for x, y in zip(a.getRgb()[:3], b.getRgb()[:3], strict=True))
