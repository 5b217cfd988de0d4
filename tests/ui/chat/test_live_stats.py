from __future__ import annotations

from dataclasses import replace

from pytestqt.qtbot import QtBot

from tests.support.factories import make_stats
from ui.chat.live_stats import LiveStatsLabel
from ui.chat.stats_format import (
    MIN_PREFILL_TOKENS,
    final_stats_text,
    format_ms,
    format_rate,
    stats_footer_text,
)


def test_live_final_and_clear(qtbot: QtBot) -> None:
    label = LiveStatsLabel()
    qtbot.addWidget(label)
    label.show_live(14.23, 310.4, 512, 4096)
    assert label.text() == "14.2 tok/s · TTFT 310 ms · context 512 / 4096"
    label.show_live(None, None, 12, 4096)
    assert label.text() == "context 12 / 4096"
    label.show_final(make_stats(), 151, 312.0, 280.0)
    assert label.text() == (
        "12.3 tok/s · TTFT 312 ms · 31 tokens · prompt 120 (96 evaluated) · "
        "prefill 850 tok/s · total 2800 ms · stop: eos · context 151 / 4096"
    )
    tip = label.toolTip()
    assert "gemma-3-270m-q4_k_m" in tip
    assert "pressing Enter" in tip and "312 ms" in tip and "engine part" in tip and "280 ms" in tip
    # A reply without a trace (from before timings, or none recorded): the engine's figure,
    # named for what it is.
    label.show_final(make_stats(), 151)
    assert label.text().startswith("12.3 tok/s · first token (engine) 245 ms · ")
    assert "pressing Enter" not in label.toolTip()
    label.clear_stats()
    assert label.text() == ""


def test_number_formats() -> None:
    assert format_rate(9.87) == "9.9 tok/s"
    assert format_rate(1234.5) == "1234 tok/s"
    assert format_ms(12_400) == "12.4 s"


def test_a_long_stats_line_is_shortened_not_widening_the_window(qtbot: QtBot) -> None:
    label = LiveStatsLabel()
    qtbot.addWidget(label)
    label.show_final(make_stats(), 151, 245.0)
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


def test_the_footer_names_its_time_to_first_token() -> None:
    stats = make_stats()
    assert "312 ms to first token (engine 280 ms) · " in stats_footer_text(stats, (312.0, 280.0))
    assert " engine 280 ms to first token · " in stats_footer_text(stats, (None, 280.0))
    assert " engine 245 ms to first token · " in stats_footer_text(stats)


def test_a_prefill_speed_is_shown_only_when_enough_tokens_were_evaluated() -> None:
    """ "prefill 850 tok/s" from 12 evaluated tokens measures overhead, not prefill: below
    MIN_PREFILL_TOKENS the line says where the prompt came from instead."""
    cached = replace(make_stats(), prompt_tokens=120, prompt_tokens_evaluated=3)
    for text in (stats_footer_text(cached), final_stats_text(cached, 151)):
        assert "prefill" not in text
        assert "prompt 120 (117 from cache, 3 new)" in text
    short = replace(make_stats(), prompt_tokens=9, prompt_tokens_evaluated=9)  # no cache, tiny
    for text in (stats_footer_text(short), final_stats_text(short, 40)):
        assert "prefill" not in text and "prompt 9 tokens" in text
    timed = replace(make_stats(), prompt_tokens=120, prompt_tokens_evaluated=MIN_PREFILL_TOKENS)
    assert f"prompt 120 (evaluated {MIN_PREFILL_TOKENS}) · prefill 850 tok/s" in (
        stats_footer_text(timed)
    )
    assert f"prompt 120 ({MIN_PREFILL_TOKENS} evaluated) · prefill 850 tok/s" in (
        final_stats_text(timed, 151)
    )


def test_a_prompt_nobody_counted_is_not_said_to_be_empty() -> None:
    """A remote server that sends no usage leaves the prompt uncounted (0): the line says
    nothing of the prompt rather than "prompt 0 tokens"."""
    uncounted = replace(make_stats(), prompt_tokens=0, prompt_tokens_evaluated=0)
    for text in (stats_footer_text(uncounted), final_stats_text(uncounted, 5)):
        assert "prompt" not in text and "prefill" not in text
