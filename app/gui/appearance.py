"""The window's theme and text size (issue 15), applied to the whole application at once and
again whenever the settings change. GUI thread only.

Light and dark go through Qt's colour scheme first (Qt 6.8+: native styles on Windows, macOS
and current Linux desktops switch their own palette); where the platform cannot switch (older
desktops, the offscreen platform of the tests) an explicit palette does it. "system" drops
both, so the desktop's own palette and its later changes apply again.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from app.config.settings import FONT_SIZES, THEMES, Settings

Role = QPalette.ColorRole
Group = QPalette.ColorGroup

# (role, dark, light): the few roles Qt's styles and Hearth's widgets read; the rest follow.
_COLOURS: tuple[tuple[QPalette.ColorRole, str, str], ...] = (
    (Role.Window, "#2b2b2b", "#efefef"),
    (Role.WindowText, "#e6e6e6", "#1e1e1e"),
    (Role.Base, "#1f1f1f", "#ffffff"),
    (Role.AlternateBase, "#333333", "#f3f3f3"),
    (Role.ToolTipBase, "#3a3a3a", "#ffffdc"),
    (Role.ToolTipText, "#e6e6e6", "#1e1e1e"),
    (Role.PlaceholderText, "#9a9a9a", "#7a7a7a"),
    (Role.Text, "#e6e6e6", "#1e1e1e"),
    (Role.Button, "#353535", "#efefef"),
    (Role.ButtonText, "#e6e6e6", "#1e1e1e"),
    (Role.BrightText, "#ff6b6b", "#d00000"),
    (Role.Light, "#4a4a4a", "#ffffff"),
    (Role.Midlight, "#3e3e3e", "#e3e3e3"),
    (Role.Mid, "#5a5a5a", "#b8b8b8"),
    (Role.Dark, "#1a1a1a", "#9f9f9f"),
    (Role.Shadow, "#000000", "#767676"),
    (Role.Highlight, "#3d7fd9", "#308cc6"),
    (Role.HighlightedText, "#ffffff", "#ffffff"),
    (Role.Link, "#6fa8ff", "#0b57d0"),
    (Role.LinkVisited, "#b18cff", "#6b2fb3"),
)
_DISABLED: tuple[tuple[QPalette.ColorRole, str, str], ...] = (
    (Role.WindowText, "#7f7f7f", "#9a9a9a"),
    (Role.Text, "#7f7f7f", "#9a9a9a"),
    (Role.ButtonText, "#7f7f7f", "#9a9a9a"),
    (Role.HighlightedText, "#bdbdbd", "#e0e0e0"),
)


def themed_palette(dark: bool) -> QPalette:
    palette = QPalette()
    for role, dark_colour, light_colour in _COLOURS:
        palette.setColor(role, QColor(dark_colour if dark else light_colour))
    for role, dark_colour, light_colour in _DISABLED:
        palette.setColor(Group.Disabled, role, QColor(dark_colour if dark else light_colour))
    return palette


def is_dark(palette: QPalette) -> bool:
    return palette.color(Role.Window).lightness() < 128


class Appearance(QObject):
    """Applies `Settings.theme` and `Settings.font_size` to `app`. It remembers the desktop's
    font at construction: size 0 goes back to it."""

    def __init__(self, app: QApplication, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._desktop_font = QFont(app.font())
        self._applied: tuple[str, int] | None = None

    @property
    def desktop_point_size(self) -> int:
        return max(1, self._desktop_font.pointSize())

    def apply(self, settings: Settings) -> None:
        theme = settings.theme if settings.theme in THEMES else "system"
        size = effective_font_size(settings.font_size)
        if self._applied == (theme, size):
            return  # most settings changes are about something else
        if self._applied is None or self._applied[0] != theme:
            self._apply_theme(theme)
        if self._applied is None or self._applied[1] != size:
            font = QFont(self._desktop_font)
            if size:
                font.setPointSize(size)
            self._app.setFont(font)
        self._applied = (theme, size)

    def point_size(self, settings: Settings) -> int:
        """The text size shown now, in points (the desktop's when the setting is 0)."""
        return effective_font_size(settings.font_size) or self.desktop_point_size

    def _apply_theme(self, theme: str) -> None:
        hints = QGuiApplication.styleHints()
        self._app.setPalette(QPalette())  # drop an explicit palette: the platform's again
        if theme == "system":
            hints.unsetColorScheme()
            return
        dark = theme == "dark"
        hints.setColorScheme(Qt.ColorScheme.Dark if dark else Qt.ColorScheme.Light)
        if is_dark(self._app.palette()) != dark:  # the platform did not switch
            self._app.setPalette(themed_palette(dark))


def effective_font_size(size: int) -> int:
    """A stored size clamped to FONT_SIZES; 0 (the desktop's size) stays 0."""
    if size <= 0:
        return 0
    return min(max(size, FONT_SIZES.start), FONT_SIZES.stop - 1)
