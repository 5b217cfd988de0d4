from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.ui.factories import make_stats
from ui.live_stats import LiveStatsLabel
from ui.stats_format import format_ms, format_rate


def test_live_final_and_clear(qtbot: QtBot) -> None:
    label = LiveStatsLabel()
    qtbot.addWidget(label)
    label.show_live(14.23, 310.4, 512, 4096)
    assert label.text() == "14.2 tok/s · TTFT 310 ms · context 512 / 4096"
    label.show_live(None, None, 12, 4096)
    assert label.text() == "context 12 / 4096"
    label.show_final(make_stats(), 151)
    assert label.text() == (
        "12.3 tok/s · TTFT 245 ms · 31 tokens · prompt 120 (12 evaluated) · "
        "prefill 850 tok/s · total 2800 ms · stop: eos · context 151 / 4096"
    )
    assert "gemma-3-270m-q4_k_m" in label.toolTip()
    label.clear_stats()
    assert label.text() == ""


def test_number_formats() -> None:
    assert format_rate(9.87) == "9.9 tok/s"
    assert format_rate(1234.5) == "1234 tok/s"
    assert format_ms(12_400) == "12.4 s"


def test_a_long_stats_line_is_shortened_not_widening_the_window(qtbot: QtBot) -> None:
    label = LiveStatsLabel()
    qtbot.addWidget(label)
    label.show_final(make_stats(), 151)
    whole = label.text()
    assert label.minimumSizeHint().width() < label.fontMetrics().horizontalAdvance(whole) / 4
    label.resize(label.fontMetrics().horizontalAdvance(whole) // 2, 20)
    shown = label.shown_text()
    # Whole figures are left out from the least important end; the context figure stays.
    assert shown != whole and "…" not in shown, shown
    assert shown.startswith("12.3 tok/s · TTFT 245 ms · ") and shown.endswith(
        " · context 151 / 4096"
    )
    assert label.text() == whole  # what the user copies from the tooltip stays whole
    label.resize(label.fontMetrics().horizontalAdvance("context 151 / 4096") + 4, 20)
    assert label.shown_text() == "context 151 / 4096"
    assert label.minimumSizeHint().width() <= label.width()
    label.resize(label.fontMetrics().horizontalAdvance(whole) + 20, 20)
    assert label.shown_text() == whole
