"""The status bar's live speed plot fed by a real reply from the tiny model."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.support.app_parts import MakeApp
from tests.support.chat_window import type_and_send


def test_the_speed_plot_follows_a_streaming_reply_and_stops_after(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    # Greedy decoding makes the tiny model ramble for ~3,000 tokens: over a second of
    # streaming, several live-stats ticks.
    window, controller, _db = make_app(tiny_model, n_ctx=4096, max_tokens=3000, temperature=0.0)
    plot = window.speed_plot
    assert plot.isHidden()  # nothing has streamed yet
    with qtbot.waitSignal(controller.replyFinished, timeout=60_000):
        type_and_send(qtbot, window, "hello world")
        qtbot.waitUntil(lambda: bool(plot.points()) and controller.generating, timeout=30_000)
        assert not plot.isHidden() and not plot.is_frozen()
        assert "being written" in plot.toolTip()
        assert all(speed >= 0 for _t, speed in plot.points())
    # Ended: the last curve stays, greyed, and no tick moves it any more.
    assert plot.is_frozen() and not plot.isHidden()
    final = plot.points()
    assert final and final[-1][1] > 0
    qtbot.wait(600)  # time passing: two live-stats ticks would have moved a live plot
    assert plot.points() == final
    # The next reply starts with an empty plot, not the last one's curve.
    with qtbot.waitSignal(controller.replyFinished, timeout=60_000):
        type_and_send(qtbot, window, "again")
        assert plot.isHidden() and plot.points() == []
    # Another chat: nothing said about this chat's replies stays on screen.
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: plot.isHidden())
    assert plot.points() == []
