"""Text colours that follow a theme change (issue 15): links in a notice bar (Qt colours a
link when the label's HTML is read, so the light theme's blue stayed on dark) and warnings
in a red that reads on the theme of the moment."""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from tests.support.themes import Themes, contrast, grabbed_colours, shoot, shows
from ui.widgets.message_bar import MessageBar
from ui.widgets.warning_text import show_warning

LINK = 'A smaller model: <a href="https://example.org/m">see the list</a>.'


def test_a_notice_bars_link_takes_the_new_themes_link_colour(qtbot: QtBot, themes: Themes) -> None:
    themes.choose("light")
    bar = MessageBar("Download")
    qtbot.addWidget(bar)
    bar.resize(500, 40)
    bar.show_message(LINK, rich=True)
    light_link = bar.palette().color(QPalette.ColorRole.Link)
    assert shows(grabbed_colours(bar.label), light_link)
    themes.choose("dark", widget=bar.label)
    dark_link = bar.label.palette().color(QPalette.ColorRole.Link)
    assert dark_link != light_link
    qtbot.waitUntil(lambda: shows(grabbed_colours(bar.label), dark_link))
    assert not shows(grabbed_colours(bar.label), light_link)
    assert bar.label.text() == LINK  # the same text, read again
    shoot(bar, "notice-bar-dark")
    themes.choose("light", widget=bar.label)
    qtbot.waitUntil(lambda: shows(grabbed_colours(bar.label), light_link))
    shoot(bar, "notice-bar-light")


def test_a_warning_is_red_enough_on_either_theme_and_plain_again_after(
    qtbot: QtBot, themes: Themes
) -> None:
    themes.choose("light")
    window = QWidget()
    qtbot.addWidget(window)
    label = QLabel("Too long for the model's context", window)
    QVBoxLayout(window).addWidget(label)
    window.show()
    show_warning(label, True)
    for theme in ("dark", "light", "dark"):
        themes.choose(theme, widget=window)
        palette = label.palette()
        red = palette.color(QPalette.ColorRole.WindowText)
        ground = palette.color(QPalette.ColorRole.Window)
        assert red.hsvHue() <= 15 and red.hsvSaturation() > 100  # a red still
        assert contrast(red, ground) >= 4.5, (theme, red.name())
        assert shows(grabbed_colours(label), red)
    show_warning(label, False)
    assert label.palette().color(QPalette.ColorRole.WindowText) == window.palette().color(
        QPalette.ColorRole.WindowText
    )
    themes.choose("light", widget=window)  # and it stays the palette's own text colour
    assert label.palette().color(QPalette.ColorRole.WindowText) == window.palette().color(
        QPalette.ColorRole.WindowText
    )
