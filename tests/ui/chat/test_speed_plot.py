"""The live speed plot (ui/chat/speed_plot.py): what it shows while a reply streams, after it
ends, and before anything streamed."""

from __future__ import annotations

from PySide6.QtGui import QColor, QImage, QPalette
from pytestqt.qtbot import QtBot

from tests.support.themes import Themes, shoot
from ui.chat.speed_plot import PLOT_WIDTH, SpeedPlot

POINTS = [(i * 0.25, 20.0 + (i % 4)) for i in range(40)]


def coloured_columns(image: QImage, colour: QColor) -> set[int]:
    """The x positions where a pixel is close to `colour` (the curve's pen)."""
    found = set()
    for x in range(image.width()):
        for y in range(image.height()):
            pixel = image.pixelColor(x, y)
            if (
                abs(pixel.red() - colour.red())
                + abs(pixel.green() - colour.green())
                + abs(pixel.blue() - colour.blue())
                < 60
            ):
                found.add(x)
                break
    return found


def test_hidden_until_points_arrive_keeping_its_room(qtbot: QtBot) -> None:
    plot = SpeedPlot()
    qtbot.addWidget(plot)
    assert plot.isHidden() and plot.toolTip() == ""
    assert plot.sizePolicy().retainSizeWhenHidden()  # no shift in the status bar
    plot.show_points([])  # nothing computed yet: still hidden
    assert plot.isHidden()
    plot.show_points(POINTS[:1])
    assert not plot.isHidden() and plot.points() == POINTS[:1]
    assert plot.width() == PLOT_WIDTH


def test_the_curve_is_drawn_across_the_plot_and_said_in_the_tooltip(qtbot: QtBot) -> None:
    plot = SpeedPlot()
    qtbot.addWidget(plot)
    plot.resize(PLOT_WIDTH, 22)
    plot.show_points(POINTS)
    assert "Speed of the reply being written" in plot.toolTip()
    assert "Now 23.0 tok/s" in plot.toolTip() and "peak 23.0 tok/s" in plot.toolTip()
    image = plot.grab().toImage()
    pen = plot.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)
    columns = coloured_columns(image, pen)
    # 40 points at 4 Hz fill the 10 s shown: the line runs from near the left to the right.
    assert min(columns) < PLOT_WIDTH * 0.1 and max(columns) > PLOT_WIDTH * 0.9


def test_frozen_when_the_reply_ends_then_cleared_by_the_next(qtbot: QtBot) -> None:
    plot = SpeedPlot()
    qtbot.addWidget(plot)
    plot.resize(PLOT_WIDTH, 22)
    plot.freeze()  # nothing to freeze: stays hidden
    assert plot.isHidden() and not plot.is_frozen()
    plot.show_points(POINTS)
    plot.freeze()
    assert plot.is_frozen() and not plot.isHidden()
    assert "The last reply's speed" in plot.toolTip() and "Ended at 23.0 tok/s" in plot.toolTip()
    live = plot.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)
    assert not coloured_columns(plot.grab().toImage(), live)  # greyed, not the live colour
    plot.clear_points()
    assert plot.isHidden() and plot.points() == [] and plot.toolTip() == ""


def test_the_curve_takes_the_new_themes_colours(qtbot: QtBot, themes: Themes) -> None:
    """Issue 15: the plot reads its palette when it paints, so a theme change recolours it
    (checked here so that it stays so)."""
    themes.choose("light")
    plot = SpeedPlot()
    qtbot.addWidget(plot)
    plot.show_points(POINTS)
    plot.show()
    light = plot.palette().color(QPalette.ColorRole.Highlight)
    themes.choose("dark", widget=plot)
    dark = plot.palette().color(QPalette.ColorRole.Highlight)
    assert dark != light
    image = plot.grab().toImage()
    assert len(coloured_columns(image, dark)) > PLOT_WIDTH // 2
    shoot(plot, "live-speed-dark")
