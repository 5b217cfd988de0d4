"""The timing view's widget on its own (ui/chat/timing_view.py) and the "Timing" link under a
reply (ui/chat/message_html.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from pytestqt.qtbot import QtBot

from storage.records import Role
from tests.support.factories import make_message, make_stats
from tests.support.themes import Themes, shoot
from ui.chat.message_html import footer_html, timing_url
from ui.chat.timing_view import (
    DEFAULT_SIZE,
    NO_TIMING,
    NOTHING_SLOW,
    CounterRow,
    HeadingFigure,
    PhaseBar,
    TimingContent,
    TimingDialog,
)

CONTENT = TimingContent(
    heading="Reply by tiny.gguf",
    origin="from Enter pressed",
    bars=(
        PhaseBar("Waiting in the queue", 0.0, 10.0, "nothing else was running"),
        PhaseBar("Prefill", 10.0, 400.0, "600 prompt tokens read in 2 batches"),
        PhaseBar("Decode", 410.0, 1000.0, "100 tokens after the first; 100.0 tokens/s"),
    ),
    marks=(("first token", 410.0), ("end", 1410.0)),
    token_ms=(10.0, 11.0, 250.0, 10.0),  # a stall at the third token
    counters=(CounterRow("Prefill", "400 ms", "380 ms", "20.0 ms"),),
    counters_note="Hearth's clock runs around llama.cpp's own.",
    figures=(
        HeadingFigure("1,445 ms in all", "Total time: …"),
        HeadingFigure("end-to-end 69.2 tok/s", "End-to-end speed: …"),
    ),
)


def test_a_reply_with_stats_has_a_timing_link_and_a_user_message_none() -> None:
    reply = make_message(5, Role.ASSISTANT, "hi", stats=make_stats())
    assert timing_url(5) in footer_html(reply, show_regenerate=True)
    assert ">Timing</a>" in footer_html(reply, show_regenerate=False)
    no_stats = make_message(6, Role.ASSISTANT, "hi")  # never generated here (imported, failed)
    assert timing_url(6) not in footer_html(no_stats, show_regenerate=True)
    assert "timing" not in footer_html(make_message(7, Role.USER, "hi"), show_regenerate=False)


def test_the_dialog_shows_the_phases_the_tokens_and_the_sentences(qtbot: QtBot) -> None:
    dialog = TimingDialog()
    qtbot.addWidget(dialog)
    dialog.show_content(CONTENT)
    dialog.show()
    assert (dialog.width(), dialog.height()) == DEFAULT_SIZE
    assert dialog.phase_names() == ["Waiting in the queue", "Prefill", "Decode"]
    # The heading's figures, each with its definition to hover over.
    shown = [(label.text(), label.toolTip()) for label in dialog.figure_labels]
    assert shown == [
        ("1,445 ms in all", "Total time: …"),
        ("end-to-end 69.2 tok/s", "End-to-end speed: …"),
    ]
    assert dialog.token_curve is not None
    x, y = dialog.token_curve.xData, dialog.token_curve.yData  # all points, not as painted
    assert list(x) == [2, 3, 4, 5] and list(y) == [10.0, 11.0, 250.0, 10.0]
    dialog.set_sentences(["The reply got slower."])
    assert dialog.sentences_text() == "• The reply got slower."
    dialog.set_sentences([])
    assert dialog.sentences_text() == NOTHING_SLOW
    # The page fits the dialog's width: nothing to scroll sideways at the default size.
    assert not dialog._scroll.horizontalScrollBar().isVisible()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_no_content_says_no_timing_recorded(qtbot: QtBot) -> None:
    dialog = TimingDialog()
    qtbot.addWidget(dialog)
    dialog.show_content(CONTENT)
    dialog.show_content(None)
    assert dialog.message.text() == NO_TIMING
    assert dialog.phase_table is None and dialog.token_curve is None


def test_the_plots_follow_a_theme_change(qtbot: QtBot, themes: Themes) -> None:
    """Issue 15: the plots took the palette's colours when built and kept them, a white
    plot on a dark window; now their background, axes and mark lines follow the theme."""
    themes.choose("light")
    dialog = TimingDialog()
    qtbot.addWidget(dialog)
    dialog.show_content(CONTENT)
    dialog.set_sentences(["The prompt was long."])
    dialog.show()
    timeline, tokens = dialog.timeline_plot, dialog.token_plot
    assert timeline is not None and tokens is not None
    for theme in ("dark", "light"):
        themes.choose(theme, widget=timeline)
        palette = dialog.palette()
        base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
        for plot in (timeline, tokens):
            qtbot.waitUntil(lambda p=plot, b=base: p.backgroundBrush().color() == b)
            assert plot.getAxis("bottom").textPen().color() == text
            assert plot.getAxis("left").pen().color() == text
        assert [line.pen.color() for line in timeline.marks] == [text, text]
        assert all(line.label.color == text for line in timeline.marks)
        assert dialog.sentences_text() == "• The prompt was long."  # nothing was rebuilt
        shoot(dialog, f"timing-{theme}")
