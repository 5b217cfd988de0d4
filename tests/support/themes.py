"""Switching the whole application's theme in a widget test the way the Settings dialog does
(app/gui/appearance.py: the application's palette), and back afterwards; plus screenshots of
a widget under each theme for a person to look at (issue 15)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QAbstractItemView, QApplication, QStyleOptionViewItem, QWidget
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


def near(a: QColor, b: QColor, tolerance: int = 3) -> bool:
    """Colours within `tolerance` on each channel (rounding in blending)."""
    return all(abs(x - y) <= tolerance for x, y in zip(a.getRgb()[:3], b.getRgb()[:3], strict=True))


def on(colour: QColor, background: QColor) -> QColor:
    """`colour` as it shows painted over `background` (a palette's colour may be translucent:
    Qt's default placeholder text is half-transparent black)."""
    alpha = colour.alphaF()
    channels = zip(colour.getRgb()[:3], background.getRgb()[:3], strict=True)
    return QColor(*(round(c * alpha + b * (1 - alpha)) for c, b in channels))


def shows(colours: set[str], colour: QColor) -> bool:
    """Whether a set of pixel colours holds `colour` (within rounding)."""
    return any(near(QColor(name), colour) for name in colours)


def item_text_colour(view: QAbstractItemView, row: int, column: int) -> QColor:
    """The colour the view's delegate gives an item's text if it painted now."""
    index = view.model().index(row, column)
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.palette = view.palette()
    view.itemDelegateForIndex(index).initStyleOption(option, index)
    return option.palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Text)


def cell_colours(view: QAbstractItemView, row: int, column: int) -> set[str]:
    """Every colour the cell shows on screen now."""
    rect = view.visualRect(view.model().index(row, column))
    return pixel_colours(view.viewport().grab(rect).toImage())


def grabbed_colours(widget: QWidget) -> set[str]:
    """Every colour the widget shows on screen now."""
    return pixel_colours(widget.grab().toImage())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio of two opaque colours (1 to 21; small text wants 4.5)."""

    def luminance(colour: QColor) -> float:
        def linear(c: float) -> float:
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (linear(c) for c in colour.getRgbF()[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def reads_as_warning(label: QWidget) -> bool:
    """The label's text shows in a red that reads on its window (contrast 4.5:1 or more)."""
    palette = label.palette()
    red = palette.color(QPalette.ColorRole.WindowText)
    ground = palette.color(QPalette.ColorRole.Window)
    is_red = red.hsvHue() <= 15 and red.hsvSaturation() > 100
    return is_red and contrast(red, ground) >= 4.5 and shows(grabbed_colours(label), red)


def shows_link(label: QWidget) -> bool:
    """The label shows its palette's link colour (and so the theme's, not an older one)."""
    return shows(grabbed_colours(label), label.palette().color(QPalette.ColorRole.Link))
